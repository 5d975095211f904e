-- When the recipient of an outbound message unsubscribed through its link
-- (RFC 8058 one-click), kept on the message: the suppression that the
-- unsubscribe adds names only the latest message of its address and goes
-- when an operator deletes it, and ExportMessages' snapshot must give every
-- unsubscribe that unsubscribe.recorded announced.
ALTER TABLE interaction.messages ADD COLUMN unsubscribe_time timestamptz;

-- The unsubscribes the suppressions still show (earlier ones were not
-- kept), across tenants.
SELECT set_config('app.housekeeping', 'on', true);
UPDATE interaction.messages m SET unsubscribe_time = s.create_time
  FROM interaction.suppressions s
 WHERE s.reason = 'UNSUBSCRIBED' AND s.source LIKE 'conversations/%/messages/%'
   AND m.tenant_id = s.tenant_id
   AND m.id::text = substring(s.source FROM '/messages/([0-9a-f-]{36})$');
SELECT set_config('app.housekeeping', '', true);

-- ExportMessages pages through them by (tenant_id, id).
CREATE INDEX messages_unsubscribed_idx ON interaction.messages (tenant_id, id)
  WHERE unsubscribe_time IS NOT NULL;
