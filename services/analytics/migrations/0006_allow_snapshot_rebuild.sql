-- The snapshot rebuild (services/analytics/snapshot_rebuild.h) replaces
-- every tenant's customer facts in one transaction with app.housekeeping
-- on.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['orders', 'order_lines', 'order_moves', 'customers', 'currencies'] LOOP
    EXECUTE format('CREATE POLICY housekeeping ON analytics.%I '
                   'USING (current_setting(''app.housekeeping'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.housekeeping'', true) = ''on'')', t);
  END LOOP;
END $$;
