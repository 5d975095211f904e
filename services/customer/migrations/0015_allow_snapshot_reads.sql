-- ExportOrders for every tenant (the suite's own services rebuilding from a
-- snapshot, through the kit's all-tenants header) reads these tables across
-- tenants with app.housekeeping on; reads only.
CREATE POLICY housekeeping_read ON customer.customers FOR SELECT
  USING (current_setting('app.housekeeping', true) = 'on');
CREATE POLICY housekeeping_read ON customer.orders FOR SELECT
  USING (current_setting('app.housekeeping', true) = 'on');
CREATE POLICY housekeeping_read ON customer.merges FOR SELECT
  USING (current_setting('app.housekeeping', true) = 'on');
