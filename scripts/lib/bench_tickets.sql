-- Benchmark tickets for tenant 'bench' (scripts/bench):
--   psql -v tickets=1000000 -f scripts/lib/bench_tickets.sql
-- Spread over the bench customers (every 7919th customer in turn, so some
-- have many), over two years, most of them long closed, as a support desk's
-- history is: 70% closed, 10% solved, 8% open, 5% pending, 3% on hold, 4%
-- new; priorities 25% low, 50% normal, 20% high, 5% urgent.
CREATE TEMP TABLE bench_requesters AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, 'customers/' || id AS name
  FROM customer.customers WHERE tenant_id = 'bench' AND delete_time IS NULL;
CREATE INDEX ON bench_requesters (n);
SELECT count(*) AS requesters FROM bench_requesters \gset
INSERT INTO ticketing.tickets (tenant_id, requester, subject, description, channel, type,
                               priority, status, tags, create_time, update_time, solve_time,
                               close_time)
SELECT 'bench', r.name,
       (ARRAY['Where is my order?', 'Item arrived damaged', 'Wrong size delivered',
              'Refund not received yet', 'Discount code not working',
              'Missing item in my parcel'])[1 + g % 6],
       'Ticket ' || g,
       (ARRAY['EMAIL', 'EMAIL', 'CHAT', 'WEB_FORM', 'PHONE'])[1 + g % 5],
       (ARRAY['QUESTION', 'QUESTION', 'INCIDENT', 'TASK'])[1 + g % 4],
       CASE WHEN g % 20 = 0 THEN 'URGENT' WHEN g % 5 = 1 THEN 'HIGH'
            WHEN g % 4 = 2 THEN 'LOW' ELSE 'NORMAL' END,
       s.status,
       CASE WHEN g % 10 = 0 THEN ARRAY['refund'] ELSE '{}'::text[] END,
       t.created, t.created + interval '1 hour',
       -- Solved ones were solved within the last three days (older ones would
       -- be closed already, --close_solved_after_hours).
       CASE WHEN s.status = 'SOLVED' THEN GREATEST(t.created, now() - (g % 72) * interval '1 hour')
            WHEN s.status = 'CLOSED' THEN t.created + interval '1 day' END,
       CASE WHEN s.status = 'CLOSED' THEN t.created + interval '5 days' END
FROM generate_series(0, :tickets - 1) AS g
JOIN bench_requesters r ON r.n = (g::bigint * 7919) % :requesters
CROSS JOIN LATERAL (SELECT now() - (g::bigint * interval '1 second' * (63072000.0 / :tickets))
                    AS created) t
CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 < 70 THEN 'CLOSED' WHEN g % 100 < 80 THEN 'SOLVED'
                                WHEN g % 100 < 88 THEN 'OPEN' WHEN g % 100 < 93 THEN 'PENDING'
                                WHEN g % 100 < 96 THEN 'ON_HOLD' ELSE 'NEW' END AS status) s;
VACUUM ANALYZE ticketing.tickets;
CHECKPOINT;
