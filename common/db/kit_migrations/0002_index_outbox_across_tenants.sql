-- Services that follow another's feed for every tenant (x-crm-all-tenants,
-- docs/events.md) read the outbox in (tx_id, seq) order across tenants.
CREATE INDEX IF NOT EXISTS outbox_tx_seq_idx ON {schema}.outbox (tx_id, seq);
