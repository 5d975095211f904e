-- What one service gets in the suite's database: its own login role, owning
-- nothing but its own schema, and the extensions it uses (created by the
-- database owner, as the role cannot). Run as the owner with psql variables
-- svc, schema and extensions (comma-separated, or '-'); the e2e suite runs
-- it too (tests/testing/suite.cc).
SELECT set_config('crm.svc', :'svc', false), set_config('crm.schema', :'schema', false),
       set_config('crm.extensions', :'extensions', false);
DO $$
DECLARE
  svc text := current_setting('crm.svc');
  schema text := current_setting('crm.schema');
  ext text;
BEGIN
  BEGIN
    EXECUTE format('CREATE ROLE %I LOGIN', 'crm_' || svc);
  EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another run (or a concurrent test) made it
  END;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), 'crm_' || svc);
  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', schema, 'crm_' || svc);
  FOREACH ext IN ARRAY string_to_array(current_setting('crm.extensions'), ',') LOOP
    IF ext <> '-' THEN
      EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I', ext);
    END IF;
  END LOOP;
END $$;
