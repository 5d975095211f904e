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
-- The per-customer summaries the feed's effects keep (FactStore::Resummarize).
INSERT INTO analytics.customer_summaries (tenant_id, currency_code, customer, orders, spent_minor,
                                          first_order, last_order, purchase_days, first_day,
                                          last_day, first_day_minor)
SELECT tenant_id, currency_code, customer, sum(n), sum(v), min(first_t), max(last_t), count(*),
       min(d), max(d), (array_agg(v ORDER BY d))[1]
FROM (SELECT tenant_id, currency_code, customer,
             (order_time AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS d, count(*) AS n,
             sum(total_minor - refunded_minor) AS v, min(order_time) AS first_t,
             max(order_time) AS last_t
      FROM analytics.orders WHERE tenant_id = 'abench' AND status NOT IN ('CANCELLED', 'REFUNDED')
      GROUP BY tenant_id, currency_code, customer, d) days
GROUP BY tenant_id, currency_code, customer;
INSERT INTO analytics.currencies (tenant_id, currency_code, orders)
SELECT 'abench', 'GBP', count(*) FROM analytics.orders WHERE tenant_id = 'abench';
INSERT INTO analytics.source_freshness (tenant_id, source, last_event_time, apply_time)
VALUES ('abench', 'customer', now(), now());
-- Due for the kept scores' run, as the feed's effects would queue it.
INSERT INTO analytics.score_queue (tenant_id, currency_code) VALUES ('abench', 'GBP');
ANALYZE analytics.orders;
ANALYZE analytics.customer_summaries;
