-- SLA scheduler benchmark (scripts/bench): :tickets open tickets in tenant
-- 'slabench', each with a running first-reply clock due a week or more
-- ahead, as a busy desk's open queue is. scripts/bench then brings every
-- 50th clock due within the measured minute.
INSERT INTO ticketing.tickets (tenant_id, id, requester, subject, channel, type, priority,
                               status, sla_due_time)
SELECT 'slabench', md5('sla' || g)::uuid, 'customers/bench-' || (g % 1000), 'Waiting ' || g,
       'EMAIL', 'QUESTION', 'NORMAL', 'OPEN', now() + interval '7 days' + g * interval '1 second'
FROM generate_series(1, :tickets) AS g;
INSERT INTO ticketing.sla_clocks (tenant_id, ticket_id, metric, policy_id, target_min,
                                  warn_before_min, start_time, counted_us, running_since,
                                  paused_us, warned, due_time, fire_time)
SELECT 'slabench', md5('sla' || g)::uuid, 'FIRST_REPLY', md5('bench-policy')::uuid, 480, 0,
       now(), 0, now(), 0, false, d.t, d.t
FROM generate_series(1, :tickets) AS g
CROSS JOIN LATERAL (SELECT now() + interval '7 days' + g * interval '1 second' AS t) d;
VACUUM ANALYZE ticketing.tickets;
VACUUM ANALYZE ticketing.sla_clocks;
CHECKPOINT;
