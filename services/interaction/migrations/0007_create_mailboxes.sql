-- The IMAP mailboxes of e-mail accounts: how far the service has read each
-- one (the last UID taken under the mailbox's UIDVALIDITY), when to poll it
-- next, and which replica polls it now (a lease).
CREATE TABLE interaction.mailboxes (
  tenant_id      text        NOT NULL,
  account_id     uuid        NOT NULL,
  -- host:port/username/mailbox the cursor belongs to: another one starts over.
  mailbox_key    text        NOT NULL DEFAULT '',
  uid_validity   bigint      NOT NULL DEFAULT 0,
  last_uid       bigint      NOT NULL DEFAULT 0,
  next_poll_time timestamptz NOT NULL DEFAULT now(),
  lease_owner    text        NOT NULL DEFAULT '',
  lease_until    timestamptz NOT NULL DEFAULT '-infinity',
  last_poll_time timestamptz,
  last_error     text        NOT NULL DEFAULT '',
  received       bigint      NOT NULL DEFAULT 0,
  skipped        bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, account_id),
  FOREIGN KEY (tenant_id, account_id) REFERENCES interaction.channel_accounts (tenant_id, id)
    ON DELETE CASCADE
);
ALTER TABLE interaction.mailboxes ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.mailboxes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.mailboxes
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- The pollers take the due mailboxes of every tenant.
CREATE POLICY housekeeping ON interaction.mailboxes
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');
