-- Tickets re-pointed to the survivor when the customer service merged their
-- requester (customer.merged), by merge, so that customer.unmerged puts back
-- exactly these.
CREATE TABLE ticketing.requester_moves (
  tenant_id      text        NOT NULL,
  merge_id       text        NOT NULL,
  ticket_id      uuid        NOT NULL,
  from_requester text        NOT NULL,
  create_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, merge_id, ticket_id)
);
ALTER TABLE ticketing.requester_moves ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticketing.requester_moves FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticketing.requester_moves
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
