# Reads the UCI Online Retail CSV and prints its orders as order lines in
# crmctl's order import format (docs/demo-data.md):
#   order_id,customer_external_id,order_time,status,currency_code,
#   refunded_minor,sales_channel,sku,product_name,category,quantity,unit_price_minor
#
# - An invoice is an order ("uci-<InvoiceNo>") of customer "uci-<CustomerID>";
#   an invoice without a CustomerID is a guest checkout of customer
#   "uci-guest-<InvoiceNo>" (uci_customers.awk makes those customers).
# - A cancellation invoice ("C…") names no original invoice. Each of its lines
#   is a return: it refunds the same customer's latest earlier invoice that
#   bought that StockCode and still has value of it left, then the one
#   before, and so on. What finds no purchase in the data (bought before
#   2010-12-01) is counted on stderr, not recorded.
# - Invoices with refunds become REFUNDED or PARTIALLY_REFUNDED, the others
#   FULFILLED. Lines with a non-positive quantity or a negative price outside
#   cancellations (stock adjustments, bad-debt entries) are counted and left
#   out. Prices are GBP; times are taken as UTC.
BEGIN { FS = "," }
NR == 1 { next }
{
  inv = $1; code = $2; qty = $(NF - 4) + 0; date = $(NF - 3); price = $(NF - 2) + 0
  cust = $(NF - 1)
  sub(/\.0$/, "", cust)
  desc = $3
  for (i = 4; i <= NF - 5; i++) desc = desc "," $i
  if (desc ~ /^".*"$/) { desc = substr(desc, 2, length(desc) - 2); gsub(/""/, "\"", desc) }
  gsub(/^ +| +$/, "", desc)
  pm = int(price * 100 + 0.5)
  if (inv ~ /^C/) {
    n_ret_lines++
    want = -qty * pm
    if (cust == "") { lost_minor += want; next }
    list = bought[cust SUBSEP code]
    k = split(list, cands, " ")
    for (j = k; j >= 1 && want > 0; j--) {
      o = cands[j]
      left = itemval[o SUBSEP code] - itemref[o SUBSEP code]
      if (total[o] - refunded[o] < left) left = total[o] - refunded[o]
      if (left <= 0) continue
      r = (want < left) ? want : left
      itemref[o SUBSEP code] += r; refunded[o] += r; want -= r; refunded_minor += r
      matched[NR] = 1
    }
    if (NR in matched) n_matched++
    lost_minor += want
    next
  }
  if (qty <= 0 || pm < 0) { skipped++; next }
  if (cust == "") cust = "guest-" inv
  if (!(inv in owner)) { order[++n] = inv; owner[inv] = cust; when[inv] = date }
  nl[inv]++; n_lines++
  line[inv, nl[inv]] = code "\t" desc "\t" qty "\t" pm
  total[inv] += qty * pm
  if (!((inv SUBSEP code) in itemval)) bought[cust SUBSEP code] = bought[cust SUBSEP code] " " inv
  itemval[inv SUBSEP code] += qty * pm
}
END {
  print "order_id,customer_external_id,order_time,status,currency_code,refunded_minor," \
        "sales_channel,sku,product_name,category,quantity,unit_price_minor"
  for (i = 1; i <= n; i++) {
    inv = order[i]
    status = refunded[inv] == 0 ? "fulfilled" : (refunded[inv] >= total[inv] ? "refunded" : "partially_refunded")
    t = when[inv]; sub(/ /, "T", t); t = t "Z"
    for (k = 1; k <= nl[inv]; k++) {
      split(line[inv, k], f, "\t")
      d = f[2]; gsub(/"/, "\"\"", d)
      printf "uci-%s,uci-%s,%s,%s,GBP,%d,web,%s,\"%s\",,%d,%d\n", inv, owner[inv], t, status,
             refunded[inv], f[1], d, f[3], f[4]
    }
    if (refunded[inv] > 0) n_refunded++
  }
  printf "uci orders: %d orders from %d lines, %d with refunds; %d return lines, %d of them " \
         "refunded (%.2f GBP), %.2f GBP of returns without a purchase in the data; %d " \
         "adjustment lines left out\n", n, n_lines, n_refunded, n_ret_lines, n_matched,
         refunded_minor / 100, lost_minor / 100, skipped > "/dev/stderr"
}
