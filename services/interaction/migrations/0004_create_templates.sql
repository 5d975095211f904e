-- Message templates per key, channel and locale, and canned responses. A
-- template's body is the Template message's JSON (without name, times and
-- etag).
CREATE TABLE interaction.templates (
  tenant_id   text        NOT NULL,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  key         text        NOT NULL,
  channel     text        NOT NULL,
  locale      text        NOT NULL,
  body        jsonb       NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  version     bigint      NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key, channel, locale)
);
ALTER TABLE interaction.templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.templates
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE interaction.canned_responses (
  tenant_id   text        NOT NULL,
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  shortcut    text        NOT NULL,
  title       text        NOT NULL,
  text_body   text        NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, shortcut)
);
ALTER TABLE interaction.canned_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE interaction.canned_responses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interaction.canned_responses
  USING (tenant_id = current_setting('app.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
