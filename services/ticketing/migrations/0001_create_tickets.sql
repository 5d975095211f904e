-- Support tickets. Enumerations are stored by name (status 'OPEN', priority
-- 'URGENT', ...) so that ListTickets' filters compare columns directly and
-- an index can answer them; the CHECKs hold them to the proto's values.
-- requester and order_name are resource names of the customer service.
CREATE TABLE ticketing.tickets (
  tenant_id           text        NOT NULL,
  id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
  requester           text        NOT NULL,
  order_name          text,
  subject             text        NOT NULL,
  description         text        NOT NULL DEFAULT '',
  channel             text        NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'CHAT', 'PHONE',
                                                  'WEB_FORM', 'SOCIAL', 'API')),
  source_conversation text,
  type                text        NOT NULL CHECK (type IN ('QUESTION', 'INCIDENT', 'PROBLEM',
                                                           'TASK')),
  priority            text        NOT NULL CHECK (priority IN ('LOW', 'NORMAL', 'HIGH',
                                                               'URGENT')),
  status              text        NOT NULL CHECK (status IN ('NEW', 'OPEN', 'PENDING',
                                                             'ON_HOLD', 'SOLVED', 'CLOSED')),
  tags                text[]      NOT NULL DEFAULT '{}',
  create_time         timestamptz NOT NULL DEFAULT now(),
  update_time         timestamptz NOT NULL DEFAULT now(),
  first_response_time timestamptz,
  solve_time          timestamptz,
  close_time          timestamptz,
  version             bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id)
);

-- Newest first, alone and within the common selective filters.
CREATE INDEX tickets_create_time_idx ON ticketing.tickets (tenant_id, create_time DESC, id DESC);
CREATE INDEX tickets_requester_idx
  ON ticketing.tickets (tenant_id, requester, create_time DESC, id DESC);
CREATE INDEX tickets_status_idx
  ON ticketing.tickets (tenant_id, status, create_time DESC, id DESC);

ALTER TABLE ticketing.tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.tickets
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Replies and internal notes, append-only, in the order they were added.
CREATE TABLE ticketing.ticket_comments (
  tenant_id   text        NOT NULL,
  ticket_id   uuid        NOT NULL,
  id          bigint      GENERATED ALWAYS AS IDENTITY,
  author_kind text        NOT NULL CHECK (author_kind IN ('AGENT', 'CUSTOMER', 'SYSTEM')),
  author      text        NOT NULL,
  body        text        NOT NULL,
  public      boolean     NOT NULL,
  attachments jsonb       NOT NULL DEFAULT '{}',
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ticket_id, id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES ticketing.tickets (tenant_id, id)
);

ALTER TABLE ticketing.ticket_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.ticket_comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.ticket_comments
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
