-- Facts from the ticketing and interaction feeds, and the customers the
-- customer feed created. Tickets and messages name no customer: support
-- and engagement are counted per group, agent, channel and template. The
-- customers table is pseudonymised on erasure like the orders.

-- A ticket as its latest event showed it.
CREATE TABLE analytics.tickets (
  tenant_id             text        NOT NULL,
  ticket_id             uuid        NOT NULL,
  group_name            text        NOT NULL,   -- groups/{id} or ''
  assignee              text        NOT NULL,   -- agents/{id} or ''
  priority              text        NOT NULL,
  channel               text        NOT NULL,
  status                text        NOT NULL,
  merged                boolean     NOT NULL,
  create_time           timestamptz NOT NULL,
  first_response_time   timestamptz,
  solve_time            timestamptz,
  close_time            timestamptz,
  -- Business seconds the SLA engine counted until the first reply and
  -- until solving, when a policy's clock measured them.
  first_reply_business_seconds bigint,
  resolution_business_seconds  bigint,
  -- The CSAT rating: satisfied is good, or a score of 4 or 5.
  csat_satisfied        boolean,
  csat_score            integer,
  csat_time             timestamptz,
  PRIMARY KEY (tenant_id, ticket_id)
);
CREATE INDEX tickets_create_time_idx ON analytics.tickets (tenant_id, create_time);
CREATE INDEX tickets_open_idx ON analytics.tickets (tenant_id)
  WHERE NOT merged AND status NOT IN ('SOLVED', 'CLOSED');

-- Each SLA target a ticket met or missed: one row per clock and cycle.
CREATE TABLE analytics.sla_outcomes (
  tenant_id    text        NOT NULL,
  ticket_id    uuid        NOT NULL,
  metric       text        NOT NULL,
  start_time   timestamptz NOT NULL,
  -- When it was met, or when it fell due if it was missed.
  outcome_time timestamptz NOT NULL,
  breached     boolean     NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, metric, start_time)
);
CREATE INDEX sla_outcomes_time_idx ON analytics.sla_outcomes (tenant_id, outcome_time);

-- sla.breached as it happened (the ticket's own events show a breach only
-- when the ticket next changes).
CREATE TABLE analytics.sla_breaches (
  tenant_id  text        NOT NULL,
  ticket_id  uuid        NOT NULL,
  metric     text        NOT NULL,
  due_time   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, metric, due_time)
);
CREATE INDEX sla_breaches_time_idx ON analytics.sla_breaches (tenant_id, due_time);

-- Messages on every channel, with the furthest delivery steps reached.
CREATE TABLE analytics.messages (
  tenant_id    text        NOT NULL,
  message_id   uuid        NOT NULL,
  channel      text        NOT NULL,
  direction    text        NOT NULL,   -- INBOUND, OUTBOUND
  purpose      text        NOT NULL,   -- TRANSACTIONAL, MARKETING, '' inbound
  template     text        NOT NULL,   -- templates/{uuid} or ''
  create_time  timestamptz NOT NULL,
  sent         boolean     NOT NULL DEFAULT false,
  delivered    boolean     NOT NULL DEFAULT false,
  opened       boolean     NOT NULL DEFAULT false,
  clicked      boolean     NOT NULL DEFAULT false,
  bounced      boolean     NOT NULL DEFAULT false,
  failed       boolean     NOT NULL DEFAULT false,
  complained   boolean     NOT NULL DEFAULT false,
  unsubscribed boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX messages_create_time_idx ON analytics.messages (tenant_id, create_time);

-- When each customer was created (new customers per day).
CREATE TABLE analytics.customers (
  tenant_id   text        NOT NULL,
  customer    text        NOT NULL,
  create_time timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, customer)
);
CREATE INDEX customers_create_time_idx ON analytics.customers (tenant_id, create_time);

-- Today's orders in every currency (the dashboard).
CREATE INDEX orders_time_idx ON analytics.orders (tenant_id, order_time);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tickets', 'sla_outcomes', 'sla_breaches', 'messages', 'customers'] LOOP
    EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
END $$;
