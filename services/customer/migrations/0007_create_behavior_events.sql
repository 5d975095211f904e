-- Behavioural events of known customers, one row per caller event id.
CREATE TABLE customer.behavior_events (
  tenant_id   text        NOT NULL,
  event_id    text        NOT NULL,
  customer_id uuid        NOT NULL,
  type        smallint    NOT NULL CHECK (type BETWEEN 1 AND 8),
  custom_name text,
  event_time  timestamptz NOT NULL,
  properties  jsonb       NOT NULL DEFAULT '{}',
  record_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);

CREATE INDEX behavior_events_customer_idx
  ON customer.behavior_events (tenant_id, customer_id, event_time DESC);

ALTER TABLE customer.behavior_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.behavior_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.behavior_events
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
