-- Country is the most common segment filter. With the keyset order alone a
-- country with few or no customers made ListCustomers read the whole tenant
-- (0.8 s at 1M customers); with this index it answers in a millisecond,
-- while common countries still page along create_time. Facts updates do not
-- change the country, so they stay HOT updates.
CREATE INDEX customers_country_idx
  ON customer.customers (tenant_id, country)
  WHERE delete_time IS NULL;
