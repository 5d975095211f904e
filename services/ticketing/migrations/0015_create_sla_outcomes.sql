-- Every SLA target a ticket met or missed, one row per clock cycle. A
-- ticket's clocks (sla_clocks) hold only the current cycle of each metric: a
-- next-reply clock starts again with each customer comment, and the cycle
-- before is gone from them. Reports on past cycles (the analytics service's
-- SLA compliance) and ExportTickets' snapshot read them here. Kept by a
-- trigger on every write of sla_clocks, so that no writer (a ticket's
-- change, the scheduler marking a breach) can miss one.
CREATE TABLE ticketing.sla_outcomes (
  tenant_id    text        NOT NULL,
  ticket_id    uuid        NOT NULL,
  metric       text        NOT NULL,
  start_time   timestamptz NOT NULL,
  -- When the target was met, or when it fell due if it was missed.
  outcome_time timestamptz NOT NULL,
  breached     boolean     NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, metric, start_time),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES ticketing.tickets (tenant_id, id)
);

ALTER TABLE ticketing.sla_outcomes ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.sla_outcomes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.sla_outcomes
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- The scheduler marks breaches across tenants.
CREATE POLICY housekeeping ON ticketing.sla_outcomes
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');

-- A cycle's outcome as its clock shows it now: a target changed after the
-- fact (a new priority) changes the outcome of the same cycle.
CREATE FUNCTION ticketing.record_sla_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.achieved_time IS NULL AND NEW.breach_time IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO ticketing.sla_outcomes (tenant_id, ticket_id, metric, start_time, outcome_time,
                                      breached)
  VALUES (NEW.tenant_id, NEW.ticket_id, NEW.metric, NEW.start_time,
          COALESCE(NEW.breach_time, NEW.achieved_time), NEW.breach_time IS NOT NULL)
  ON CONFLICT (tenant_id, ticket_id, metric, start_time) DO UPDATE
    SET outcome_time = excluded.outcome_time, breached = excluded.breached;
  RETURN NULL;
END
$$;

CREATE TRIGGER sla_clocks_record_outcome
  AFTER INSERT OR UPDATE OF achieved_time, breach_time ON ticketing.sla_clocks
  FOR EACH ROW EXECUTE FUNCTION ticketing.record_sla_outcome();

-- The outcomes the clocks show today (earlier cycles were not kept), read
-- and written across tenants.
SELECT set_config('app.housekeeping', 'on', true);
INSERT INTO ticketing.sla_outcomes (tenant_id, ticket_id, metric, start_time, outcome_time,
                                    breached)
SELECT tenant_id, ticket_id, metric, start_time, COALESCE(breach_time, achieved_time),
       breach_time IS NOT NULL
  FROM ticketing.sla_clocks
 WHERE achieved_time IS NOT NULL OR breach_time IS NOT NULL;
SELECT set_config('app.housekeeping', '', true);

-- ExportTickets for every tenant (the suite's own services rebuilding from
-- a snapshot) reads these across tenants; tickets and sla_clocks have a
-- housekeeping policy already.
