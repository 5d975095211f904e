-- API keys of every tenant. Looked up by hash across tenants at the front
-- door, so this one table is keyed by id rather than (tenant_id, id).
CREATE TABLE gateway.api_keys (
  id          uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  tenant_id   text        NOT NULL,
  key_hash    text        NOT NULL,
  prefix      text        NOT NULL,
  scopes      text[]      NOT NULL,
  description text        NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  revoke_time timestamptz
);

CREATE UNIQUE INDEX api_keys_key_hash_key ON gateway.api_keys (key_hash);
CREATE INDEX api_keys_tenant_idx ON gateway.api_keys (tenant_id, create_time DESC, id);
