-- The desk's most common selective list, open work by urgency
-- (status = 'OPEN' AND priority = 'URGENT'), answered by one index range
-- instead of the status index and a filter over every open ticket.
CREATE INDEX tickets_status_priority_idx
  ON ticketing.tickets (tenant_id, status, priority, create_time DESC, id DESC);
