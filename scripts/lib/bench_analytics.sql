-- A synthetic analytics tenant, `abench`: :customers customers with about
-- ten orders each (1 + a geometric number, so the counts vary), at random
-- times after each customer's first order over two years up to now, in
-- GBP, a fifth of them with a discount code. Written straight into the
-- analytics facts (the feed path is measured by the latency figure).
\set ON_ERROR_STOP on
INSERT INTO analytics.orders (tenant_id, order_id, customer, currency_code, order_time, status,
                              total_minor, refunded_minor, discounted)
SELECT 'abench', gen_random_uuid(),
       'customers/00000000-0000-4000-8000-' || lpad(c::text, 12, '0'), 'GBP',
       now() - interval '730 days' + (p.start + (1 - p.start) * random()) * interval '730 days',
       'PAID', 500 + floor(random() * random() * 20000)::bigint, 0, random() < 0.2
FROM generate_series(1, :customers) AS c
CROSS JOIN LATERAL (SELECT 1 + floor(-ln(1 - random()) * 9 + c * 0)::int AS n,
                           random() * 0.9 + c * 0 AS start) AS p
CROSS JOIN LATERAL generate_series(1, p.n) AS k;
INSERT INTO analytics.currencies (tenant_id, currency_code, orders)
SELECT 'abench', 'GBP', count(*) FROM analytics.orders WHERE tenant_id = 'abench';
INSERT INTO analytics.source_freshness (tenant_id, source, last_event_time, apply_time)
VALUES ('abench', 'customer', now(), now());
-- Due for the kept scores' run, as the feed's effects would queue it.
INSERT INTO analytics.score_queue (tenant_id, currency_code) VALUES ('abench', 'GBP');
ANALYZE analytics.orders;
