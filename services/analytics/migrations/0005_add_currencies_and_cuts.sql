-- How many orders each tenant has per currency (the default currency of a
-- report without a scan of the orders), and the RFM cuts of each scoring
-- run (a single customer's scores without scoring everyone).
CREATE TABLE analytics.currencies (
  tenant_id     text   NOT NULL,
  currency_code text   NOT NULL,
  orders        bigint NOT NULL,
  PRIMARY KEY (tenant_id, currency_code)
);
ALTER TABLE analytics.currencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.currencies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.currencies
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The quintile cuts of the run, four each (services/analytics/rfm.h).
ALTER TABLE analytics.score_runs ADD COLUMN recency_cuts bigint[];
ALTER TABLE analytics.score_runs ADD COLUMN frequency_cuts bigint[];
ALTER TABLE analytics.score_runs ADD COLUMN monetary_cuts bigint[];
