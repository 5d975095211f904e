-- Per tenant, currency and customer: what the value reports need of the
-- customer's orders that count (not CANCELLED, not fully REFUNDED), kept
-- current by the feed's effects (services/analytics/fact_store.h), so that
-- RFM, churn and the value model's fit read one row per customer instead
-- of every order. Days are UTC days since 1970-01-01.
CREATE TABLE analytics.customer_summaries (
  tenant_id       text        NOT NULL,
  currency_code   text        NOT NULL,
  customer        text        NOT NULL,
  orders          bigint      NOT NULL,
  spent_minor     bigint      NOT NULL,  -- totals less refunds
  first_order     timestamptz NOT NULL,
  last_order      timestamptz NOT NULL,
  purchase_days   int         NOT NULL,  -- distinct days with an order
  first_day       int         NOT NULL,
  last_day        int         NOT NULL,
  first_day_minor bigint      NOT NULL,  -- spent on the first day
  PRIMARY KEY (tenant_id, currency_code, customer)
);
CREATE INDEX customer_summaries_customer_idx ON analytics.customer_summaries (tenant_id, customer);
ALTER TABLE analytics.customer_summaries ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.customer_summaries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.customer_summaries
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY housekeeping ON analytics.customer_summaries
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');

-- The orders already applied, summarised once (the same statement as
-- FactStore::ResummarizeAll).
SELECT set_config('app.housekeeping', 'on', true);
INSERT INTO analytics.customer_summaries (tenant_id, currency_code, customer, orders, spent_minor,
                                          first_order, last_order, purchase_days, first_day,
                                          last_day, first_day_minor)
SELECT tenant_id, currency_code, customer, sum(n), sum(v), min(first_t), max(last_t), count(*),
       min(d), max(d), (array_agg(v ORDER BY d))[1]
FROM (SELECT tenant_id, currency_code, customer,
             (order_time AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS d, count(*) AS n,
             sum(total_minor - refunded_minor) AS v, min(order_time) AS first_t,
             max(order_time) AS last_t
      FROM analytics.orders WHERE status NOT IN ('CANCELLED', 'REFUNDED')
      GROUP BY tenant_id, currency_code, customer, d) days
GROUP BY tenant_id, currency_code, customer;
SELECT set_config('app.housekeeping', '', true);
