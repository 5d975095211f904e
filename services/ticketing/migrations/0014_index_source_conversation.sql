-- The ticket a conversation of the interaction service opened, found when
-- the customer writes in that conversation again (the interaction feed).
CREATE INDEX tickets_source_conversation_idx
  ON ticketing.tickets (tenant_id, source_conversation, create_time DESC)
  WHERE source_conversation IS NOT NULL;
