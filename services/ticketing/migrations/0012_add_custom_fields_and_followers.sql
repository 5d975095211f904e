-- Typed custom ticket fields (docs/ticketing.md): the tenant's definitions,
-- and each ticket's values as the JSON of its custom_fields map; and the
-- agents who follow a ticket, by resource name (`agents/{id}`), which the
-- filter `followers:"agents/…"` tests.
CREATE TABLE ticketing.ticket_fields (
  tenant_id    text        NOT NULL,
  key          text        NOT NULL,
  display_name text        NOT NULL,
  type         text        NOT NULL CHECK (type IN ('TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'DROPDOWN')),
  options      text[]      NOT NULL DEFAULT '{}',
  description  text        NOT NULL DEFAULT '',
  create_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
ALTER TABLE ticketing.ticket_fields ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.ticket_fields FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.ticket_fields
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE ticketing.tickets
  ADD COLUMN custom_fields jsonb  NOT NULL DEFAULT '{}',
  ADD COLUMN followers     text[] NOT NULL DEFAULT '{}';
