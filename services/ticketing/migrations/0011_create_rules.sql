-- Rules (triggers, docs/ticketing.md): conditions and actions as the JSON of
-- their protobuf messages, tried in position order; and the audit of each
-- firing, kept when its rule is deleted.
CREATE TABLE ticketing.rules (
  tenant_id      text        NOT NULL,
  id             uuid        NOT NULL DEFAULT gen_random_uuid(),
  display_name   text        NOT NULL,
  position       integer     NOT NULL CHECK (position >= 0),
  disabled       boolean     NOT NULL DEFAULT false,
  triggers       text[]      NOT NULL,
  all_conditions jsonb       NOT NULL DEFAULT '[]',
  any_conditions jsonb       NOT NULL DEFAULT '[]',
  actions        jsonb       NOT NULL,
  create_time    timestamptz NOT NULL DEFAULT now(),
  update_time    timestamptz NOT NULL DEFAULT now(),
  version        bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rules_order_idx ON ticketing.rules (tenant_id, position, create_time, id);

CREATE TABLE ticketing.rule_firings (
  tenant_id         text        NOT NULL,
  id                bigserial   NOT NULL,
  rule_id           uuid        NOT NULL,
  rule_display_name text        NOT NULL,
  ticket_id         uuid        NOT NULL,
  trigger           text        NOT NULL,
  method            text        NOT NULL,
  changes           jsonb       NOT NULL,
  skipped           text[]      NOT NULL DEFAULT '{}',
  fire_time         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rule_firings_ticket_idx ON ticketing.rule_firings (tenant_id, ticket_id, id);
CREATE INDEX rule_firings_rule_idx ON ticketing.rule_firings (tenant_id, rule_id, id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['rules', 'rule_firings'] LOOP
    EXECUTE format('ALTER TABLE ticketing.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE ticketing.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON ticketing.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
END $$;
