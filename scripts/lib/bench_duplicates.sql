-- Precision and recall of the latest duplicate scan of tenant 'bench' (pairs
-- scoring at least :min_score; ListDuplicateCandidates lists from 0.5 by
-- default) against the pairs scripts/lib/bench_customers.sql planted: dup-g
-- is ext-(97g).
-- Prints: pairs found, planted pairs found, planted pairs.
WITH scan AS (SELECT scan_id FROM customer.duplicate_scans WHERE tenant_id = 'bench'
              ORDER BY create_time DESC LIMIT 1),
found AS (SELECT a.external_id AS ea, b.external_id AS eb
          FROM customer.duplicate_scans d JOIN scan USING (scan_id)
          JOIN customer.customers a ON a.tenant_id = 'bench' AND a.id = d.customer_a
          JOIN customer.customers b ON b.tenant_id = 'bench' AND b.id = d.customer_b
          WHERE d.tenant_id = 'bench' AND d.score >= :min_score),
judged AS (SELECT (ea LIKE 'dup-%' AND eb = 'ext-' || (substr(ea, 5)::bigint * 97)) OR
                  (eb LIKE 'dup-%' AND ea = 'ext-' || (substr(eb, 5)::bigint * 97)) AS planted
           FROM found)
SELECT count(*), count(*) FILTER (WHERE planted),
       (SELECT count(*) FROM customer.customers WHERE tenant_id = 'bench'
          AND external_id LIKE 'dup-%')
FROM judged;
