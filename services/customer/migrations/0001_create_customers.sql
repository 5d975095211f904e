-- Customers of every tenant; tenant_id leads every key so the table can be
-- distributed by tenant without code changes.
CREATE TABLE customer.customers (
  tenant_id   text        NOT NULL,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  external_id text,
  email       text,
  phone       text,
  given_name  text,
  family_name text,
  locale      text,
  country     text,
  tags        text[]      NOT NULL DEFAULT '{}',
  attributes  jsonb       NOT NULL DEFAULT '{}',
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  delete_time timestamptz,
  version     bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);

-- external_id is unique among a tenant's active customers only: deleting a
-- customer frees it.
CREATE UNIQUE INDEX customers_external_id_key
  ON customer.customers (tenant_id, external_id)
  WHERE external_id IS NOT NULL AND delete_time IS NULL;

-- Keyset pagination in create_time order over active customers.
CREATE INDEX customers_create_time_idx
  ON customer.customers (tenant_id, create_time, id)
  WHERE delete_time IS NULL;

CREATE INDEX customers_email_idx
  ON customer.customers (tenant_id, lower(email))
  WHERE delete_time IS NULL;

CREATE INDEX customers_tags_idx ON customer.customers USING gin (tags);

-- Responses of idempotent creates, by the caller's request_id.
CREATE TABLE customer.idempotency_keys (
  tenant_id    text        NOT NULL,
  method       text        NOT NULL,
  request_id   text        NOT NULL,
  request_hash text        NOT NULL,
  response     bytea       NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, method, request_id)
);

-- Transactional outbox served by crm.events.v1.EventFeed (docs/events.md).
CREATE TABLE customer.outbox (
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

-- Second wall behind the tenant predicate in every statement: a session sees
-- only the rows of the tenant it set in app.tenant_id.
ALTER TABLE customer.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.customers
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE customer.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.idempotency_keys
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE customer.outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.outbox
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
