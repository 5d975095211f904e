-- GDPR erasure marker (Customer.erase_time).
ALTER TABLE customer.customers ADD COLUMN erase_time timestamptz;
