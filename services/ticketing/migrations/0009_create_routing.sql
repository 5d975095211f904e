-- Routing (docs/ticketing.md): groups (queues) with a strategy, agents with
-- skills, capacity and availability, and who works which group. A ticket
-- has a group and an assignee; queue_time is when it last started waiting
-- in its group (oldest first when capacity frees up).
CREATE TABLE ticketing.groups (
  tenant_id    text        NOT NULL,
  id           uuid        NOT NULL DEFAULT gen_random_uuid(),
  display_name text        NOT NULL,
  strategy     text        NOT NULL CHECK (strategy IN ('ROUND_ROBIN', 'LEAST_LOADED', 'SKILLS')),
  skill_tags   text[]      NOT NULL DEFAULT '{}',
  last_agent   uuid,
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now(),
  version      bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_idx ON ticketing.groups (tenant_id, lower(display_name));

CREATE TABLE ticketing.agents (
  tenant_id    text        NOT NULL,
  id           uuid        NOT NULL DEFAULT gen_random_uuid(),
  display_name text        NOT NULL,
  email        text        NOT NULL DEFAULT '',
  skills       text[]      NOT NULL DEFAULT '{}',
  capacity     integer     NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
  available    boolean     NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now(),
  version      bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX agents_email_idx ON ticketing.agents (tenant_id, lower(email))
  WHERE email <> '';

CREATE TABLE ticketing.group_members (
  tenant_id text NOT NULL,
  group_id  uuid NOT NULL,
  agent_id  uuid NOT NULL,
  PRIMARY KEY (tenant_id, group_id, agent_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES ticketing.groups (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES ticketing.agents (tenant_id, id)
);
CREATE INDEX group_members_agent_idx ON ticketing.group_members (tenant_id, agent_id);

ALTER TABLE ticketing.tickets
  ADD COLUMN group_id    uuid,
  ADD COLUMN assignee_id uuid,
  ADD COLUMN queue_time  timestamptz;
-- An agent's open tickets (capacity), and a group's waiting ones.
CREATE INDEX tickets_assignee_open_idx ON ticketing.tickets (tenant_id, assignee_id)
  WHERE assignee_id IS NOT NULL AND status IN ('NEW', 'OPEN', 'PENDING', 'ON_HOLD');
CREATE INDEX tickets_queue_idx ON ticketing.tickets (tenant_id, group_id, queue_time, id)
  WHERE assignee_id IS NULL AND group_id IS NOT NULL
    AND status IN ('NEW', 'OPEN', 'PENDING', 'ON_HOLD');

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['groups', 'agents', 'group_members'] LOOP
    EXECUTE format('ALTER TABLE ticketing.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE ticketing.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON ticketing.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
END $$;
