#!/usr/bin/env bash
# Demo tickets for scripts/up: 300 support tickets on the demo tenant's
# customers with orders, as a shop's support desk would have them: the usual
# e-commerce questions, every priority, agent replies and internal notes,
# and a spread of statuses (new, open, pending, on hold, solved, closed),
# each with the SLA clocks of the demo policies and routed to the demo
# agents by the groups of scripts/lib/demo_desk.sh (money matters to
# payments and refunds, the rest to the front desk).
#   scripts/lib/demo_tickets.sh <crmctl command and flags...>
# Safe to rerun within 24 hours (request ids); scripts/up runs it once.
set -euo pipefail
CRMCTL=("$@")

subjects=("Where is my order?" "Item arrived damaged" "Wrong size delivered"
  "Refund not received yet" "Please change my delivery address" "Discount code not working"
  "Missing item in my parcel" "Cancel my order, please" "Need an invoice for my company"
  "Is this available in blue?" "Charged twice for one order" "Return label request")
priorities=(normal normal high low urgent normal high normal)
channels=(email email chat web_form phone email sms social)
tags=("delivery" "damage" "returns" "refund" "delivery" "payment" "delivery" "cancellation"
  "billing" "product" "payment" "returns")
statuses=("" open pending solved open on_hold solved "" solved closed)

front="$("${CRMCTL[@]}" routing groups | awk '/Front desk/ {print $1}')"
money="$("${CRMCTL[@]}" routing groups | awk '/Payments and refunds/ {print $1}')"

mapfile -t requesters < <("${CRMCTL[@]}" customers list --page_size 300 \
  --filter 'facts.order_count > 1' | grep -o '"name": "customers/[0-9a-f-]\{36\}"' |
  cut -d'"' -f4)
[ "${#requesters[@]}" -gt 0 ] || { echo "no demo customers with orders" >&2; exit 1; }

n=0
for requester in "${requesters[@]}"; do
  s=$((n % ${#subjects[@]}))
  out="$("${CRMCTL[@]}" tickets create --requester="$requester" --subject="${subjects[$s]}" \
    --priority="${priorities[$((n % ${#priorities[@]}))]}" \
    --channel="${channels[$((n % ${#channels[@]}))]}" --tags="${tags[$s]}" \
    --group="$(case "${tags[$s]}" in refund | payment | billing) echo "$money" ;; *) echo "$front" ;; esac)" \
    --request_id="demo-ticket-$n")"
  ticket="$(grep -o '"name": "tickets/[0-9a-f-]\{36\}"' <<<"$out" | cut -d'"' -f4)"
  status="${statuses[$((n % ${#statuses[@]}))]}"
  if [ -n "$status" ]; then
    if [ $((n % 4)) -eq 0 ]; then
      "${CRMCTL[@]}" tickets comment "$ticket" --internal --author=lee \
        --body="Checked with the warehouse." --request_id="demo-note-$n" >/dev/null
    fi
    "${CRMCTL[@]}" tickets comment "$ticket" --author=ann --request_id="demo-reply-$n" \
      --body="Thank you for writing to us. We are on it and will update you shortly." >/dev/null
    if [ "$status" = closed ]; then
      "${CRMCTL[@]}" tickets status "$ticket" --status=solved >/dev/null
    fi
    "${CRMCTL[@]}" tickets status "$ticket" --status="$status" >/dev/null
  fi
  n=$((n + 1))
done
echo "$n demo tickets"
