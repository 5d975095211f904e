-- Outbound messages: the tenant's channel accounts, the suppression list,
-- and the delivery queue.

-- A channel account's settings are the ChannelAccount message's JSON
-- (without name, times and etag); secrets are only named there.
CREATE TABLE interaction.channel_accounts (
  tenant_id   text        NOT NULL,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  channel     text        NOT NULL,
  is_default  boolean     NOT NULL DEFAULT false,
  settings    jsonb       NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  version     bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX channel_accounts_default_idx
  ON interaction.channel_accounts (tenant_id, channel) WHERE is_default;
ALTER TABLE interaction.channel_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.channel_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.channel_accounts
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- The delivery queue reads the accounts of every tenant's due messages.
CREATE POLICY housekeeping ON interaction.channel_accounts
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');

-- kind is EMAIL or PHONE; address normalised as contacts' are.
CREATE TABLE interaction.suppressions (
  tenant_id   text        NOT NULL,
  kind        text        NOT NULL,
  address     text        NOT NULL,
  reason      text        NOT NULL CHECK (reason IN ('UNSUBSCRIBED', 'HARD_BOUNCE', 'COMPLAINED',
                                                     'MANUAL')),
  source      text        NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, kind, address)
);
CREATE INDEX suppressions_create_time_idx
  ON interaction.suppressions (tenant_id, create_time DESC, kind, address);
ALTER TABLE interaction.suppressions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.suppressions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.suppressions
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY housekeeping ON interaction.suppressions
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');

ALTER TABLE interaction.messages
  ADD COLUMN purpose text NOT NULL DEFAULT '' CHECK (purpose IN ('', 'TRANSACTIONAL', 'MARKETING')),
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN channel_account text NOT NULL DEFAULT '';
CREATE POLICY housekeeping ON interaction.messages
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');

-- One row per outbound message until it is sent or given up: due at
-- next_attempt_time; a worker that takes it holds it until lease_until, so
-- a worker that dies leaves it to another after the lease.
CREATE TABLE interaction.deliveries (
  tenant_id         text        NOT NULL,
  message_id        uuid        NOT NULL,
  next_attempt_time timestamptz NOT NULL DEFAULT now(),
  lease_until       timestamptz,
  last_error        text        NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, message_id),
  FOREIGN KEY (tenant_id, message_id) REFERENCES interaction.messages (tenant_id, id)
);
CREATE INDEX deliveries_due_idx ON interaction.deliveries (next_attempt_time);
ALTER TABLE interaction.deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.deliveries
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY housekeeping ON interaction.deliveries
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');
