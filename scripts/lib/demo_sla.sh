#!/usr/bin/env bash
# The demo support desk's SLA setup for scripts/up: a Berlin office
# calendar (Mon-Fri 09:00-18:00, the German public holidays of late 2026 and
# 2027), a VIP policy for customers tagged vip (around the clock) and a
# standard policy on office hours.
#   scripts/lib/demo_sla.sh <crmctl command and flags...>
# Does nothing when the calendar exists, so scripts/up runs it every time.
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

echo "demo SLA policies in place"
