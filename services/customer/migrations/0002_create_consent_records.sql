-- Consent decisions, append-only: the latest consent_time per channel and
-- purpose is the current choice; every row stays as the proof.
CREATE TABLE customer.consent_records (
  tenant_id    text        NOT NULL,
  customer_id  uuid        NOT NULL,
  id           bigint      GENERATED ALWAYS AS IDENTITY,
  channel      smallint    NOT NULL CHECK (channel BETWEEN 1 AND 4),
  purpose      smallint    NOT NULL CHECK (purpose BETWEEN 1 AND 2),
  status       smallint    NOT NULL CHECK (status BETWEEN 1 AND 2),
  source       text        NOT NULL,
  text_version text        NOT NULL,
  consent_time timestamptz NOT NULL,
  record_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customer.customers (tenant_id, id)
);

-- The current decision per channel and purpose, and the history in order.
CREATE INDEX consent_records_latest_idx
  ON customer.consent_records (tenant_id, customer_id, channel, purpose, consent_time DESC, id DESC);
CREATE INDEX consent_records_history_idx
  ON customer.consent_records (tenant_id, customer_id, consent_time DESC, id DESC);

ALTER TABLE customer.consent_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.consent_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.consent_records
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
