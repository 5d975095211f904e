-- Solved tickets close on their own after a while (--close_solved_after_hours):
-- the ticketing service's housekeeping finds them across tenants through
-- this index and the housekeeping policy (only sessions that set
-- app.housekeeping, which only that job does, see other tenants' rows).
CREATE INDEX tickets_solved_idx ON ticketing.tickets (solve_time) WHERE status = 'SOLVED';
CREATE POLICY housekeeping ON ticketing.tickets
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');
