-- Audit history of every change of a customer (HistoryEntry). Append-only;
-- erasure redacts personal values in place.
CREATE TABLE customer.audit_log (
  tenant_id   text        NOT NULL,
  customer_id uuid        NOT NULL,
  id          bigint      GENERATED ALWAYS AS IDENTITY,
  action      text        NOT NULL,
  actor       text        NOT NULL,
  request_id  text        NOT NULL,
  changes     jsonb       NOT NULL,  -- [{"field": ..., "oldValue": ..., "newValue": ...}]
  change_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id, id)
);

ALTER TABLE customer.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.audit_log
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
