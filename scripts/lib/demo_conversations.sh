#!/usr/bin/env bash
# Demo conversations for scripts/up: 60 customers with orders write in on
# every channel (e-mail, SMS, WhatsApp, live chat, Messenger), one to three
# messages each, threaded into conversations; an agent answers the e-mails
# (sent through the demo SMTP sink), and some e-mails open support tickets;
# some are labelled, snoozed or closed;
# and two e-mails come from addresses nobody has yet (the customer service
# creates those customers).
#   scripts/lib/demo_conversations.sh <crmctl command and flags...>
# Safe to rerun (messages are idempotent by their external ids and request
# ids).
set -euo pipefail
CRMCTL=("$@")

channels=(email sms whatsapp live_chat messenger)
openers=("Hi, where is my parcel? It has been a week." "Can I still change my delivery address?"
  "The mug arrived broken, what now?" "Do you ship to Norway?" "I was charged twice for my order.")
follow_ups=("Any news?" "Thanks, that helps!" "I attached a photo.")
states=("" "" closed snoozed "" label)

mapfile -t customers < <("${CRMCTL[@]}" customers list --page_size 60 \
  --filter 'facts.order_count > 2' | grep -o '"name": "customers/[0-9a-f-]\{36\}"' |
  cut -d'"' -f4)
[ "${#customers[@]}" -gt 0 ] || { echo "no demo customers with orders" >&2; exit 1; }

n=0
for customer in "${customers[@]}"; do
  channel="${channels[$((n % ${#channels[@]}))]}"
  case "$channel" in
    email) from="customer$n@example.com" ;;
    messenger) from="55$((1000000000 + n))" ;;
    *) from="+4477009$(printf '%05d' "$n")" ;;
  esac
  out=""
  for k in $(seq 0 $((n % 3))); do
    if [ "$k" -eq 0 ]; then text="${openers[$((n % ${#openers[@]}))]}"; else text="${follow_ups[$((k - 1))]}"; fi
    out="$("${CRMCTL[@]}" conversations receive --channel="$channel" --requester="$customer" \
      --from="$from" --subject="$([ "$channel" = email ] && echo "Order question")" \
      --thread_id="$([ "$channel" = messenger ] && echo "demo-thread-$n")" \
      --body="$text" --external_id="demo-msg-$n-$k")"
  done
  conversation="$(grep -o 'conversations/[0-9a-f-]\{36\}' <<<"$out" | head -n1)"
  if [ "$channel" = email ] && [ $((n % 10)) -eq 0 ]; then
    # Some e-mails become support tickets: agents' public replies on them
    # go back to the customer by e-mail.
    "${CRMCTL[@]}" conversations open-ticket "$conversation" >/dev/null
  fi
  if [ "$channel" = email ]; then
    # An agent answers by e-mail: it goes out through the demo SMTP sink.
    "${CRMCTL[@]}" conversations send "$conversation" --author=agents/demo --request_id="demo-reply-$n" \
      --body="Thank you for writing. We have looked into it and will update you today." >/dev/null
  fi
  case "${states[$((n % ${#states[@]}))]}" in
    closed) "${CRMCTL[@]}" conversations status "$conversation" --status=closed >/dev/null ;;
    snoozed) "${CRMCTL[@]}" conversations status "$conversation" --status=snoozed \
      --snooze_minutes=1440 >/dev/null ;;
    label) "${CRMCTL[@]}" conversations label "$conversation" --tags=vip,returns >/dev/null ;;
  esac
  n=$((n + 1))
done
# Unknown senders: the customer service creates them from the address.
for who in "Nora Nilsen <nora.nilsen@example.com>" "Omar Haddad <omar.haddad@example.com>"; do
  printf 'From: %s\r\nTo: support@shop.example\r\nSubject: Gift wrapping?\r\nMessage-ID: <demo-%s>\r\n\r\nDo you offer gift wrapping?\r\n' \
    "$who" "$(tr -dc '[:lower:]' <<<"$who")@example.com" |
    "${CRMCTL[@]}" conversations receive --raw_file=- >/dev/null
done
echo "$n demo conversations"
