-- A tenant's own statuses, each within one fixed category (docs/ticketing.md).
CREATE TABLE ticketing.custom_statuses (
  tenant_id   text        NOT NULL,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  label       text        NOT NULL,
  category    text        NOT NULL CHECK (category IN ('OPEN', 'PENDING', 'ON_HOLD', 'SOLVED',
                                                       'CLOSED')),
  description text        NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX custom_statuses_label_key ON ticketing.custom_statuses (tenant_id, lower(label));

ALTER TABLE ticketing.custom_statuses ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.custom_statuses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.custom_statuses
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE ticketing.tickets ADD COLUMN custom_status uuid;
