-- The SLA engine (docs/ticketing.md): business-hours calendars, ordered
-- policies, and each ticket's clocks. Calendars' hours and holidays and
-- policies' conditions and targets are kept as the proto's JSON: the
-- service reads them whole and never filters on their parts.
CREATE TABLE ticketing.business_calendars (
  tenant_id    text        NOT NULL,
  id           uuid        NOT NULL DEFAULT gen_random_uuid(),
  display_name text        NOT NULL,
  time_zone    text        NOT NULL,
  hours        jsonb       NOT NULL,
  holidays     jsonb       NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now(),
  version      bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE ticketing.sla_policies (
  tenant_id       text        NOT NULL,
  id              uuid        NOT NULL DEFAULT gen_random_uuid(),
  display_name    text        NOT NULL,
  position        integer     NOT NULL,
  conditions      jsonb       NOT NULL,
  targets         jsonb       NOT NULL,
  calendar_id     uuid,
  warn_before_min integer     NOT NULL DEFAULT 0,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now(),
  version         bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES ticketing.business_calendars (tenant_id, id)
);
CREATE INDEX sla_policies_order_idx ON ticketing.sla_policies (tenant_id, position, create_time);

-- One row per target of a ticket. Durations in microseconds. fire_time is
-- what the scheduler waits for (the warning, else the breach), NULL when
-- nothing is left to fire; the scheduler takes due rows across tenants
-- through sla_clocks_fire_idx with FOR UPDATE SKIP LOCKED.
CREATE TABLE ticketing.sla_clocks (
  tenant_id      text        NOT NULL,
  ticket_id      uuid        NOT NULL,
  metric         text        NOT NULL CHECK (metric IN ('FIRST_REPLY', 'NEXT_REPLY',
                                                      'PERIODIC_UPDATE', 'RESOLUTION')),
  policy_id      uuid        NOT NULL,
  target_min     integer     NOT NULL,
  warn_before_min integer    NOT NULL,
  start_time     timestamptz NOT NULL,
  counted_us     bigint      NOT NULL,
  running_since  timestamptz,
  paused_since   timestamptz,
  paused_us      bigint      NOT NULL,
  achieved_time  timestamptz,
  breach_time    timestamptz,
  warned         boolean     NOT NULL,
  due_time       timestamptz,
  warn_time      timestamptz,
  fire_time      timestamptz,
  PRIMARY KEY (tenant_id, ticket_id, metric),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES ticketing.tickets (tenant_id, id)
);
CREATE INDEX sla_clocks_fire_idx ON ticketing.sla_clocks (fire_time) WHERE fire_time IS NOT NULL;

-- What ListTickets filters on, kept with the ticket by the same
-- transactions that move its clocks.
ALTER TABLE ticketing.tickets
  ADD COLUMN requester_tags text[]  NOT NULL DEFAULT '{}',
  ADD COLUMN sla_policy_id  uuid,
  ADD COLUMN sla_due_time   timestamptz,
  ADD COLUMN sla_breached   boolean NOT NULL DEFAULT false;
CREATE INDEX tickets_sla_due_idx ON ticketing.tickets (tenant_id, sla_due_time)
  WHERE sla_due_time IS NOT NULL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['business_calendars', 'sla_policies', 'sla_clocks'] LOOP
    EXECUTE format('ALTER TABLE ticketing.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE ticketing.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON ticketing.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
END $$;
CREATE POLICY housekeeping ON ticketing.sla_clocks
  USING (current_setting('app.housekeeping', true) = 'on')
  WITH CHECK (current_setting('app.housekeeping', true) = 'on');
