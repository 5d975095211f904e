-- Each customer's kept scores per currency (ListCustomerScores, and the
-- changes `analytics.scores_changed` announces), what is waiting to be
-- scored, and when each tenant and currency was last scored.
CREATE TABLE analytics.customer_scores (
  tenant_id      text        NOT NULL,
  currency_code  text        NOT NULL,
  customer       text        NOT NULL,
  recency_days   bigint      NOT NULL,
  frequency      bigint      NOT NULL,
  monetary_minor bigint      NOT NULL,
  r              smallint    NOT NULL,
  f              smallint    NOT NULL,
  m              smallint    NOT NULL,
  segment        text        NOT NULL,  -- CHAMPIONS, ...
  churn_risk     double precision,      -- NULL before the first fit
  churn_band     text        NOT NULL,  -- LOW, MEDIUM, HIGH; '' before a fit
  score_time     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, currency_code, customer)
);
CREATE INDEX customer_scores_segment_idx
  ON analytics.customer_scores (tenant_id, currency_code, segment, customer);
CREATE INDEX customer_scores_band_idx
  ON analytics.customer_scores (tenant_id, currency_code, churn_band, customer);

-- A tenant and currency whose scores are due: queued by the effects that
-- change its orders or model; `version` grows with each, so the scorer
-- removes the row only if nothing was queued while it scored.
CREATE TABLE analytics.score_queue (
  tenant_id     text        NOT NULL,
  currency_code text        NOT NULL,
  version       bigint      NOT NULL DEFAULT 1,
  queued_time   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, currency_code)
);

CREATE TABLE analytics.score_runs (
  tenant_id     text        NOT NULL,
  currency_code text        NOT NULL,
  score_time    timestamptz NOT NULL,
  customers     bigint      NOT NULL,
  changed       bigint      NOT NULL,
  PRIMARY KEY (tenant_id, currency_code)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customer_scores', 'score_queue', 'score_runs'] LOOP
    EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I '
                   'USING (tenant_id = current_setting(''app.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
  END LOOP;
  -- The scorer finds due work across tenants.
  FOREACH t IN ARRAY ARRAY['score_queue', 'score_runs'] LOOP
    EXECUTE format('CREATE POLICY housekeeping ON analytics.%I '
                   'USING (current_setting(''app.housekeeping'', true) = ''on'') '
                   'WITH CHECK (current_setting(''app.housekeeping'', true) = ''on'')', t);
  END LOOP;
END $$;
