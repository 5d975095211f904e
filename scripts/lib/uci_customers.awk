# Reads the UCI Online Retail CSV and prints one customer per CustomerID (and
# one guest customer per invoice without a CustomerID) in
# crmctl's import format: external_id,email,given_name,family_name,country,phone,tags
# The country is the first one the customer appears with, as ISO-3166 alpha-2
# (empty where the data says "Unspecified", "European Community" or
# "Channel Islands", which have no single code).
BEGIN {
  FS = ","
  split("United Kingdom=GB|France=FR|Australia=AU|Netherlands=NL|Germany=DE|Norway=NO|" \
        "EIRE=IE|Switzerland=CH|Spain=ES|Poland=PL|Portugal=PT|Italy=IT|Belgium=BE|" \
        "Lithuania=LT|Japan=JP|Iceland=IS|Denmark=DK|Cyprus=CY|Sweden=SE|Austria=AT|" \
        "Israel=IL|Finland=FI|Bahrain=BH|Greece=GR|Hong Kong=HK|Singapore=SG|Lebanon=LB|" \
        "United Arab Emirates=AE|Saudi Arabia=SA|Czech Republic=CZ|Canada=CA|Brazil=BR|" \
        "USA=US|Malta=MT|RSA=ZA", pairs, "|")
  for (i in pairs) { split(pairs[i], kv, "="); iso[kv[1]] = kv[2] }
  print "external_id,email,given_name,family_name,country,phone,tags"
}
NR > 1 {
  # Descriptions may contain quoted commas: CustomerID and Country are the
  # last two fields either way.
  id = $(NF - 1); country = $NF
  gsub(/\r/, "", country)
  tags = "demo;uci"
  if (id == "") {
    # A guest checkout (no CustomerID): one customer per invoice, as
    # uci_orders.awk expects; cancellations and adjustments make none.
    if ($1 ~ /^C/ || $(NF - 4) + 0 <= 0 || $(NF - 2) + 0 < 0) next
    id = "guest-" $1; tags = "demo;uci;guest"
  }
  if (seen[id]++) next
  sub(/\.0$/, "", id)
  printf "uci-%s,,,,%s,,%s\n", id, (country in iso) ? iso[country] : "", tags
}
