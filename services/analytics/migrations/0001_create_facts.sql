-- The analytics facts, from the feeds the service follows: orders as the
-- reports count them (no personal data: customers are resource names), the
-- moves merges made, how fresh each source is, and the kept model fits.

CREATE TABLE analytics.orders (
  tenant_id      text        NOT NULL,
  order_id       uuid        NOT NULL,
  -- customers/{uuid}; erased/{uuid} once the customer is erased (one
  -- pseudonym per customer, so the figures keep their shape).
  customer       text        NOT NULL,
  currency_code  text        NOT NULL,
  order_time     timestamptz NOT NULL,
  status         text        NOT NULL,
  total_minor    bigint      NOT NULL,
  refunded_minor bigint      NOT NULL DEFAULT 0,
  discounted     boolean     NOT NULL DEFAULT false,
  update_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX orders_customer_idx ON analytics.orders (tenant_id, customer);
CREATE INDEX orders_currency_time_idx ON analytics.orders (tenant_id, currency_code, order_time);

-- Orders a customer merge moved to the survivor, until an unmerge moves
-- them back.
CREATE TABLE analytics.order_moves (
  tenant_id     text NOT NULL,
  merge_id      text NOT NULL,
  order_id      uuid NOT NULL,
  from_customer text NOT NULL,
  PRIMARY KEY (tenant_id, merge_id, order_id)
);

-- Per tenant and source feed: the last event applied.
CREATE TABLE analytics.source_freshness (
  tenant_id       text        NOT NULL,
  source          text        NOT NULL,
  last_event_time timestamptz NOT NULL,
  apply_time      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, source)
);

-- The kept lifetime-value fit per tenant and currency: the ValueModel
-- message's JSON.
CREATE TABLE analytics.value_models (
  tenant_id     text        NOT NULL,
  currency_code text        NOT NULL,
  model         jsonb       NOT NULL,
  fit_time      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, currency_code)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['orders', 'order_moves', 'source_freshness', 'value_models'] LOOP
    EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
END $$;
