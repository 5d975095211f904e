-- The conversation a ticket was opened from, found when an agent's public
-- comment on the ticket arrives on the ticketing feed.
CREATE INDEX conversations_ticket_idx
  ON interaction.conversations (tenant_id, ticket, create_time DESC)
  WHERE ticket <> '';
