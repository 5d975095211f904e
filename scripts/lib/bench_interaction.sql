-- The interaction benchmark's timeline data (psql variables:
-- conversations, messages, customers). Tenant bench: :conversations conversations
-- of :customers customers on four channels and :messages messages spread
-- over a year, so a customer has about :messages / :customers of them.
-- Customer n is customers/00000000-0000-4000-8000-<n, 12 digits>, as
-- tools/loadgen's list_timeline asks for them.
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO interaction.conversations (tenant_id, id, customer, channel, subject, token,
                                       message_count, create_time, update_time, last_message_time)
SELECT 'bench', ('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))::uuid,
       'customers/00000000-0000-4000-8000-' || lpad((g % :customers)::text, 12, '0'),
       (ARRAY['EMAIL', 'SMS', 'WHATSAPP', 'LIVE_CHAT'])[1 + g % 4], 'About order ' || g,
       lpad(to_hex(g), 10, '0'), :messages / :conversations,
       now() - interval '1 year' + interval '30 seconds' * (g % 1000000), now(), now()
FROM generate_series(1, :conversations) AS g;

-- In slices of a million, each its own transaction.
SELECT format(
  'INSERT INTO interaction.messages (tenant_id, conversation_id, customer, channel, direction, '
  'author_kind, text_body, delivery_status, sent_time, create_time) '
  'SELECT ''bench'', (''00000000-0000-4000-9000-'' || lpad((1 + m %% %1$s)::text, 12, ''0''))::uuid, '
  '''customers/00000000-0000-4000-8000-'' || lpad(((1 + m %% %1$s) %% %2$s)::text, 12, ''0''), '
  '(ARRAY[''EMAIL'', ''SMS'', ''WHATSAPP'', ''LIVE_CHAT''])[1 + (1 + m %% %1$s) %% 4], '
  'CASE WHEN m %% 2 = 0 THEN ''INBOUND'' ELSE ''OUTBOUND'' END, '
  'CASE WHEN m %% 2 = 0 THEN ''CUSTOMER'' ELSE ''AGENT'' END, '
  '''Message '' || m || '' about my order, could you have a look?'', '
  'CASE WHEN m %% 2 = 0 THEN ''RECEIVED'' ELSE ''DELIVERED'' END, t, t '
  'FROM generate_series(%3$s, %4$s) AS m, '
  'LATERAL (SELECT now() - interval ''1 year'' + interval ''3 seconds'' * m) AS x(t)',
  :conversations, :customers, s, LEAST(s + 999999, :messages))
FROM generate_series(1, :messages, 1000000) AS s
\gexec

VACUUM ANALYZE interaction.conversations;
VACUUM ANALYZE interaction.messages;
