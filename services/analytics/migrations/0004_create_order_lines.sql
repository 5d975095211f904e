-- The lines of each order (products, categories, prices and costs as the
-- order carried them), for pricing insight and forecasts by category.
CREATE TABLE analytics.order_lines (
  tenant_id        text   NOT NULL,
  order_id         uuid   NOT NULL,
  line             int    NOT NULL,
  sku              text   NOT NULL,
  category         text   NOT NULL,
  quantity         bigint NOT NULL,
  unit_price_minor bigint NOT NULL,
  unit_cost_minor  bigint NOT NULL,  -- 0: not given
  PRIMARY KEY (tenant_id, order_id, line)
);
CREATE INDEX order_lines_category_idx ON analytics.order_lines (tenant_id, category);

ALTER TABLE analytics.order_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.order_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.order_lines
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
