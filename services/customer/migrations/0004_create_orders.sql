-- Orders as the shop reports them, one row per shop order id.
CREATE TABLE customer.orders (
  tenant_id      text        NOT NULL,
  id             uuid        NOT NULL DEFAULT gen_random_uuid(),
  customer_id    uuid        NOT NULL,
  order_id       text        NOT NULL,
  status         smallint    NOT NULL CHECK (status BETWEEN 1 AND 6),
  currency_code  text        NOT NULL,
  total_minor    bigint      NOT NULL CHECK (total_minor >= 0),
  refunded_minor bigint      NOT NULL DEFAULT 0 CHECK (refunded_minor BETWEEN 0 AND total_minor),
  details        jsonb       NOT NULL DEFAULT '{}',  -- line items and discount codes
  sales_channel  text,
  order_time     timestamptz NOT NULL,
  request_hash   text        NOT NULL,  -- what RecordOrder was given, for idempotent retries
  create_time    timestamptz NOT NULL DEFAULT now(),
  update_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, order_id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customer.customers (tenant_id, id)
);

CREATE INDEX orders_customer_idx ON customer.orders (tenant_id, customer_id, order_time DESC, id DESC);
CREATE INDEX orders_time_idx ON customer.orders (tenant_id, order_time DESC, id DESC);

ALTER TABLE customer.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer.orders
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Facts kept current from the orders (CustomerFacts), so reads and filters
-- never aggregate.
ALTER TABLE customer.customers
  ADD COLUMN first_order_time   timestamptz,
  ADD COLUMN last_order_time    timestamptz,
  ADD COLUMN order_count        bigint NOT NULL DEFAULT 0,
  ADD COLUMN total_spent_minor  bigint NOT NULL DEFAULT 0,
  ADD COLUMN orders_in_currency bigint NOT NULL DEFAULT 0,
  ADD COLUMN facts_currency     text,
  ADD COLUMN last_seen_time     timestamptz;
