-- What every service keeps in its own schema, created by the kit after the
-- service's own migrations ({schema} is the service's schema). IF NOT EXISTS:
-- services older than the kit (customer) made some of these themselves, in
-- migrations that cannot change.

-- Transactional outbox served by crm.<svc>.v1.EventFeedService (docs/events.md).
CREATE TABLE IF NOT EXISTS {schema}.outbox (
  tenant_id   text        NOT NULL,
  tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id(),
  seq         bigint      GENERATED ALWAYS AS IDENTITY,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  type        text        NOT NULL,
  subject     text        NOT NULL,
  payload     bytea       NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, tx_id, seq)
);
-- Retention prunes by age. Rows arrive in time order, so a BRIN index finds
-- the old ones at almost no cost per insert (a B-tree would add an index
-- entry to every event of every import).
CREATE INDEX IF NOT EXISTS outbox_create_time_idx ON {schema}.outbox USING brin (create_time);

-- The newest event retention removed, per tenant: a consumer whose cursor is
-- older has missed events and is told so (OUT_OF_RANGE), never given a gap.
CREATE TABLE IF NOT EXISTS {schema}.outbox_pruned (
  tenant_id   text        NOT NULL PRIMARY KEY,
  tx_id       xid8        NOT NULL,
  seq         bigint      NOT NULL,
  update_time timestamptz NOT NULL DEFAULT now()
);

-- Responses of idempotent writes by the caller's request_id (AIP-155),
-- replayed for 24 hours, then pruned.
CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
  tenant_id    text        NOT NULL,
  method       text        NOT NULL,
  request_id   text        NOT NULL,
  request_hash text        NOT NULL,
  response     bytea       NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, method, request_id)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_create_time_idx
  ON {schema}.idempotency_keys (create_time);

-- Where each of this service's feed consumers is (common/events/consumer.h).
CREATE TABLE IF NOT EXISTS {schema}.consumer_cursors (
  tenant_id   text        NOT NULL,
  consumer    text        NOT NULL,
  cursor      text        NOT NULL,
  update_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, consumer)
);

-- Row-level security by tenant on all of them; the housekeeping policy lets
-- the service's own pruning (which sets app.housekeeping, and only ever
-- deletes by age) work across tenants.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['outbox', 'outbox_pruned', 'idempotency_keys', 'consumer_cursors'] LOOP
    EXECUTE format('ALTER TABLE {schema}.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE {schema}.%I FORCE ROW LEVEL SECURITY', t);
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = '{schema}' AND tablename = t
                   AND policyname = 'tenant_isolation') THEN
      EXECUTE format('CREATE POLICY tenant_isolation ON {schema}.%I '
                     'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                     'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END IF;
    IF t <> 'consumer_cursors' THEN
      EXECUTE format('CREATE POLICY housekeeping ON {schema}.%I '
                     'USING (current_setting(''app.housekeeping'', true) = ''on'') '
                     'WITH CHECK (current_setting(''app.housekeeping'', true) = ''on'')', t);
    END IF;
  END LOOP;
END $$;
