-- One-click unsubscribes (RFC 8058) whose consent denial the customer
-- service has not confirmed yet: recorded here with the suppression in one
-- transaction, so that none is lost while the customer service is away;
-- housekeeping retries them.
CREATE TABLE interaction.pending_consent_denials (
  tenant_id   text        NOT NULL,
  message_id  uuid        NOT NULL,
  customer    text        NOT NULL,
  channel     text        NOT NULL,
  attempts    integer     NOT NULL DEFAULT 0,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, message_id)
);
ALTER TABLE interaction.pending_consent_denials ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.pending_consent_denials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.pending_consent_denials
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY housekeeping ON interaction.pending_consent_denials
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');
