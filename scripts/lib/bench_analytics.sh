# The analytics section of scripts/bench (sourced after the services are
# up; uses $WORK, $BIN, $PG_PORT, url, since and the ports). Sets
# ANALYTICS_MD, the section of docs/benchmarks.md:
#   the UCI demo tenant through the import RPCs and the customer feed: RFM,
#   the value model's fit, the cohort matrix (and the other reports), each
#   timed; a synthetic tenant of 1M customers and about 10M orders: the RFM
#   recompute, the kept scores' run, the fit; a new order's delay to its
#   customer's figure; StreamKpis to 1,000 subscribers.
bench_analytics() {
  local aport cport uci_key t0 want have run_ms rows=()
  aport="$(crm_port analytics)"
  cport="$(crm_port customer)"
  local AB=("$BIN/tools/analytics_bench" --addr "127.0.0.1:$aport" --customer_addr "127.0.0.1:$cport" --markdown)

  crm_log "analytics: the UCI Online Retail data into tenant ucibench (import RPCs, then the feed)"
  uci_key="$("$BIN/services/gateway/crm-gateway" --db_url="$(url gateway)" --create_api_key \
    --tenant=ucibench --scopes='*' 2>/dev/null)"
  zcat data/online_retail_uci_2010-12-01_2011-12-09.csv.gz | awk -f scripts/lib/uci_customers.awk \
    > "$WORK/uci-customers.csv"
  zcat data/online_retail_uci_2010-12-01_2011-12-09.csv.gz | awk -f scripts/lib/uci_orders.awk \
    > "$WORK/uci-orders.csv" 2>/dev/null
  "$BIN/tools/crmctl" --addr "127.0.0.1:$GATEWAY_PORT" --key "$uci_key" customers import \
    --csv="$WORK/uci-customers.csv" >/dev/null
  "$BIN/tools/crmctl" --addr "127.0.0.1:$GATEWAY_PORT" --key "$uci_key" orders import \
    --parallel 2 --csv="$WORK/uci-orders.csv" >/dev/null
  want="$(crm_psql "$WORK/pg" "$PG_PORT" -d crm -tAc "SELECT count(*) FROM customer.orders WHERE tenant_id = 'ucibench'")"
  t0=$(date +%s.%N)
  for _ in $(seq 600); do
    have="$(crm_psql "$WORK/pg" "$PG_PORT" -d crm -tAc "SELECT count(*) FROM analytics.orders WHERE tenant_id = 'ucibench'")"
    [ "$have" -ge "$want" ] && break
    sleep 0.5
  done
  crm_log "  $have of $want orders in the analytics facts (${want} orders; caught up $(since "$t0")s after the import)"
  rows+=("$("${AB[@]}" --mode reports --tenant ucibench --repeat 5 --label "UCI ($want orders): ")")
  printf '%s\n' "${rows[-1]}"

  # Snapshot-then-stream: analytics restarted without its cursor rebuilds
  # every customer fact from ExportOrders (before abench, which only the
  # analytics facts hold).
  crm_log "analytics: a rebuild of the customer facts from the customer service's snapshot"
  local before after rebuild_ms
  before="$(crm_psql "$WORK/pg" "$PG_PORT" -d crm -tAc "SELECT count(*) || ' orders, ' || sum(total_minor) || ' minor' FROM analytics.orders WHERE tenant_id = 'ucibench'")"
  pkill -f "$BIN/services/analytics/crm-analytics" || true
  # (it drains for up to its grace period first)
  for _ in $(seq 600); do pgrep -f "$BIN/services/analytics/crm-analytics" >/dev/null || break; sleep 0.1; done
  crm_psql "$WORK/pg" "$PG_PORT" -d crm -c "DELETE FROM analytics.consumer_cursors WHERE consumer = 'analytics.orders'" >/dev/null
  start_service analytics --services="$(crm_service_directory '127.0.0.1:{port}')"
  rebuild_ms=""
  for _ in $(seq 600); do
    rebuild_ms="$( (grep '"msg":"event consumer rebuilt"' "$WORK/analytics.log" || true) | tail -1 \
      | sed -n 's/.*"ms":"\([0-9]*\)".*/\1/p')"
    [ -n "$rebuild_ms" ] && break
    sleep 0.5
  done
  after="$(crm_psql "$WORK/pg" "$PG_PORT" -d crm -tAc "SELECT count(*) || ' orders, ' || sum(total_minor) || ' minor' FROM analytics.orders WHERE tenant_id = 'ucibench'")"
  rows+=("| UCI ($want orders): rebuild of the customer facts from ExportOrders (orders and sum before / after: $before / $after) | ${rebuild_ms:-not seen} ms | seconds |")
  printf '%s\n' "${rows[-1]}"

  local customers="${CRM_BENCH_ANALYTICS_CUSTOMERS:-1000000}" orders load_s
  crm_log "analytics: $customers synthetic customers with about 10 orders each (tenant abench)"
  t0=$(date +%s.%N)
  crm_psql "$WORK/pg" "$PG_PORT" -d crm -v customers="$customers" \
    < scripts/lib/bench_analytics.sql >/dev/null
  load_s=$(since "$t0")
  orders="$(crm_psql "$WORK/pg" "$PG_PORT" -d crm -tAc "SELECT count(*) FROM analytics.orders WHERE tenant_id = 'abench'")"
  crm_log "  $orders orders in ${load_s}s"
  crm_psql "$WORK/pg" "$PG_PORT" -d crm -c CHECKPOINT >/dev/null
  rows+=("$("${AB[@]}" --mode reports --tenant abench --repeat 3 --label "1M customers ($orders orders): ")")
  printf '%s\n' "${rows[-1]}"
  # The kept scores: the fit queued the tenant; its run's time is in the log.
  crm_log "waiting for the kept scores' run over abench"
  run_ms=""
  for _ in $(seq 600); do
    run_ms="$( (grep '"msg":"scores kept"' "$WORK/analytics.log" || true) | (grep '"tenant":"abench"' || true) | tail -1 \
      | sed -n 's/.*"ms":"\([0-9]*\)".*/\1/p')"
    [ -n "$run_ms" ] && break
    sleep 1
  done
  rows+=("| 1M customers ($orders orders): kept scores' run (RFM + churn of everyone, written, events) | ${run_ms:-not seen} ms | - |")
  printf '%s\n' "${rows[-1]}"
  crm_log "analytics: order -> customer figure, and StreamKpis fan-out (tenant abench)"
  rows+=("$("${AB[@]}" --mode latency --tenant abench --samples "${CRM_BENCH_ANALYTICS_SAMPLES:-200}" --label "1M customers: " || true)")
  printf '%s\n' "${rows[-1]}"
  rows+=("$("${AB[@]}" --mode kpis --tenant abench --streams 1000 --rounds 20 --label "1M customers: " || true)")
  printf '%s\n' "${rows[-1]}"

  ANALYTICS_MD="$(cat <<MD
## Analytics

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, commit $(git rev-parse --short HEAD),
\`CRM_BENCH_ONLY=analytics ./scripts/bench\`: one crm-analytics process
(Release) and the customer service, Postgres 15 on the same machine. Times
are of one call at a time from \`tools/analytics_bench\`, including the
database work the call does (every report reads the facts afresh).

- UCI: the whole UCI Online Retail data set imported into tenant ucibench
  through the gateway (crmctl customers/orders import), followed by
  analytics over the customer feed.
- 1M customers: tenant abench, written straight into analytics' facts
  (\`scripts/lib/bench_analytics.sql\`); the delay figure goes through the
  customer service and the feed: a new customer and an order, then
  GetCustomerValue every 2 ms until it shows the order.
- StreamKpis: 1,000 subscribers on 8 connections (callback API); per round
  one order through the customer service; the delay is from RecordOrder's
  answer to each subscriber's first snapshot counting it.

| figure | measured | goal |
|---|---|---|
$(printf '%s\n' "${rows[@]}")
MD
)"
}
