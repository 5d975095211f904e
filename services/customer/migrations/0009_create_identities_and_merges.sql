-- Identity graph, merges and duplicate scans (issue 4).
--
-- pg_trgm is a trusted extension; where the service role may not create it,
-- the database owner runs `CREATE EXTENSION pg_trgm` once (scripts/up and
-- the deploy notes do) and this statement is a no-op.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Further identifiers of customers; one identifier names one customer.
CREATE TABLE customer.identities (
  tenant_id   text        NOT NULL,
  kind        smallint    NOT NULL CHECK (kind BETWEEN 1 AND 4),
  source      text        NOT NULL DEFAULT '',
  value       text        NOT NULL,
  customer_id uuid        NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind, source, value),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customer.customers (tenant_id, id)
);
CREATE INDEX identities_customer_idx ON customer.identities (tenant_id, customer_id);

-- Lookups of the customers' own e-mail and phone as identifiers.
CREATE INDEX customers_phone_idx ON customer.customers (tenant_id, phone)
  WHERE delete_time IS NULL AND phone IS NOT NULL;

ALTER TABLE customer.customers ADD COLUMN merged_into uuid;

-- Each merge with what it moved and both profiles before it, so that
-- UnmergeCustomer can undo it until expire_time.
CREATE TABLE customer.merges (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL DEFAULT gen_random_uuid(),
  survivor_id     uuid        NOT NULL,
  merged_id       uuid        NOT NULL,
  survivor_before bytea       NOT NULL,  -- crm.customer.v1.Customer
  merged_before   bytea       NOT NULL,
  survivor_after  bytea       NOT NULL,
  moved           jsonb       NOT NULL,  -- ids of moved orders, events, consents, identities
  merge_time      timestamptz NOT NULL DEFAULT now(),
  expire_time     timestamptz NOT NULL,
  unmerge_time    timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX merges_survivor_idx ON customer.merges (tenant_id, survivor_id);
CREATE INDEX merges_merged_idx ON customer.merges (tenant_id, merged_id);

-- Result of a duplicate scan, paged by ListDuplicateCandidates.
CREATE TABLE customer.duplicate_scans (
  tenant_id   text        NOT NULL,
  scan_id     uuid        NOT NULL,
  customer_a  uuid        NOT NULL,
  customer_b  uuid        NOT NULL,
  score       real        NOT NULL,
  reasons     text[]      NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scan_id, score, customer_a, customer_b)
);

-- Fuzzy blocking: customers sharing a default postal code.
CREATE INDEX customers_postal_code_idx ON customer.customers
  (tenant_id, upper(replace(addresses -> 0 -> 'address' ->> 'postalCode', ' ', '')))
  WHERE delete_time IS NULL;

ALTER TABLE customer.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.identities
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE customer.merges ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.merges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.merges
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE customer.duplicate_scans ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.duplicate_scans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.duplicate_scans
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
