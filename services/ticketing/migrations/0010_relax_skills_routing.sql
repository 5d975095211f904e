-- Skills routing relaxes: after a ticket waited relax_after_min minutes with
-- nobody qualified, any agent of the group may take it. The relaxing loop
-- finds such tickets across tenants, so it may read groups there too (the
-- housekeeping policy; it changes tickets only in their own tenant).
ALTER TABLE ticketing.groups ADD COLUMN relax_after_min integer NOT NULL DEFAULT 0
  CHECK (relax_after_min BETWEEN 0 AND 10080);
CREATE POLICY housekeeping ON ticketing.groups
  USING (current_setting('app.housekeeping', true) = 'on');
