-- Tuning found by the 1M-customer benchmark (docs/benchmarks.md).

-- Room on each page for the new version of a row, so that the frequent
-- facts updates (every order) can be HOT updates that add no entries to the
-- table's indexes. Applies to pages written from now on.
ALTER TABLE customer.customers SET (fillfactor = 80);

-- ListDuplicateCandidates pages in (score DESC, customer_a, customer_b)
-- order; this index serves each page without sorting the whole scan.
CREATE INDEX duplicate_scans_page_idx
  ON customer.duplicate_scans (tenant_id, scan_id, score DESC, customer_a, customer_b);
