#!/usr/bin/env bash
# The demo support desk for scripts/up: a Berlin office calendar (Mon-Fri
# 09:00-18:00, the German public holidays of late 2026 and 2027), a VIP SLA
# policy for customers tagged vip (around the clock) and a standard one on
# office hours; two groups (a round-robin front desk, and payments and
# refunds routed by skills) and five agents; two rules (refunds go to
# payments, urgent VIP tickets get a note).
#   scripts/lib/demo_desk.sh <crmctl command and flags...>
# Each part is skipped when it exists, so scripts/up runs it every time.
set -euo pipefail
CRMCTL=("$@")

if ! "${CRMCTL[@]}" sla calendars | grep -q "Berlin office"; then
  hours=""
  for day in 1 2 3 4 5; do
    hours="$hours${hours:+,}{\"dayOfWeek\": $day, \"start\": \"09:00\", \"end\": \"18:00\"}"
  done
  holidays=""
  for d in 2026-12-25 2026-12-26 2027-01-01 2027-03-26 2027-03-29 2027-05-01 2027-05-06 \
    2027-05-17 2027-10-03 2027-12-25 2027-12-26; do
    holidays="$holidays${holidays:+,}{\"date\": \"$d\"}"
  done
  calendar="$("${CRMCTL[@]}" sla new-calendar --json "{\"displayName\": \"Berlin office\",
    \"timeZone\": \"Europe/Berlin\", \"hours\": [$hours], \"holidays\": [$holidays]}" |
    grep -o '"name": "calendars/[0-9a-f-]\{36\}"' | cut -d'"' -f4)"
  "${CRMCTL[@]}" sla new-policy --json '{"displayName": "VIP customers", "position": 0,
    "conditions": {"requesterTags": ["vip"]}, "warnBeforeMinutes": 10, "targets": [
    {"priority": "PRIORITY_URGENT", "firstReplyMinutes": 30, "nextReplyMinutes": 30,
     "resolutionMinutes": 240},
    {"priority": "PRIORITY_HIGH", "firstReplyMinutes": 60, "nextReplyMinutes": 60,
     "resolutionMinutes": 480},
    {"priority": "PRIORITY_NORMAL", "firstReplyMinutes": 120, "resolutionMinutes": 1440},
    {"priority": "PRIORITY_LOW", "firstReplyMinutes": 240, "resolutionMinutes": 2880}]}' \
    >/dev/null
  "${CRMCTL[@]}" sla new-policy --json "{\"displayName\": \"Standard (office hours)\",
    \"position\": 10, \"calendar\": \"$calendar\", \"warnBeforeMinutes\": 30, \"targets\": [
    {\"priority\": \"PRIORITY_URGENT\", \"firstReplyMinutes\": 60, \"periodicUpdateMinutes\": 120,
     \"resolutionMinutes\": 480},
    {\"priority\": \"PRIORITY_HIGH\", \"firstReplyMinutes\": 120, \"resolutionMinutes\": 960},
    {\"priority\": \"PRIORITY_NORMAL\", \"firstReplyMinutes\": 480, \"nextReplyMinutes\": 480,
     \"resolutionMinutes\": 2400},
    {\"priority\": \"PRIORITY_LOW\", \"firstReplyMinutes\": 960, \"resolutionMinutes\": 4800}]}" \
    >/dev/null
fi

if ! "${CRMCTL[@]}" routing groups | grep -q "Front desk"; then
  "${CRMCTL[@]}" routing new-group --json '{"displayName": "Front desk",
    "strategy": "ROUTING_STRATEGY_ROUND_ROBIN"}' >/dev/null
  "${CRMCTL[@]}" routing new-group --json '{"displayName": "Payments and refunds",
    "strategy": "ROUTING_STRATEGY_SKILLS", "skillTags": ["refund", "payment", "billing"]}' \
    >/dev/null
  front="$("${CRMCTL[@]}" routing groups | awk '/Front desk/ {print $1}')"
  money="$("${CRMCTL[@]}" routing groups | awk '/Payments and refunds/ {print $1}')"
  agent() {  # agent <name> <capacity> <groups json> <skills json> <languages json>
    "${CRMCTL[@]}" routing new-agent --json "{\"displayName\": \"$1\", \"capacity\": $2,
      \"available\": true, \"groups\": $3, \"skills\": $4, \"languages\": $5}" >/dev/null
  }
  agent Ann 12 "[\"$front\"]" '[]' '["en", "de"]'
  agent Lee 12 "[\"$front\"]" '[]' '["en", "fr"]'
  agent Mia 10 "[\"$front\", \"$money\"]" '["refund", "payment"]' '["en", "de", "fr"]'
  agent Raj 10 "[\"$money\"]" '["refund", "billing", "payment"]' '["en", "fr"]'
  agent Sue 8 "[\"$money\"]" '["refund"]' '["en", "de"]'
fi
if ! "${CRMCTL[@]}" rules list | grep -q "Refunds to payments"; then
  money="$("${CRMCTL[@]}" routing groups | awk '/Payments and refunds/ {print $1}')"
  "${CRMCTL[@]}" rules new --json "{\"displayName\": \"Refunds to payments\", \"position\": 0,
    \"triggers\": [\"RULE_TRIGGER_CREATED\"], \"anyConditions\": [
    {\"field\": \"subject\", \"operator\": \"RULE_OPERATOR_CONTAINS\", \"value\": \"refund\"},
    {\"field\": \"description\", \"operator\": \"RULE_OPERATOR_CONTAINS\", \"value\": \"refund\"}],
    \"actions\": [{\"setGroup\": \"$money\"}, {\"addTags\": {\"tags\": [\"refund\"]}}]}" \
    >/dev/null
  "${CRMCTL[@]}" rules new --json '{"displayName": "Urgent VIP tickets get a note", "position": 10,
    "triggers": ["RULE_TRIGGER_CREATED", "RULE_TRIGGER_UPDATED"], "allConditions": [
    {"field": "priority", "operator": "RULE_OPERATOR_CHANGED_TO", "value": "URGENT"},
    {"field": "requester_tags", "operator": "RULE_OPERATOR_CONTAINS", "value": "vip"}],
    "actions": [{"addInternalNote": "Urgent VIP ticket: first reply within 30 minutes."}]}' \
    >/dev/null
fi
echo "demo desk in place"
