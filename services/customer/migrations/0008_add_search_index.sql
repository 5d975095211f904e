-- Free-text search over names, e-mail and phone (SearchCustomers), with the
-- built-in 'simple' configuration: no stemming, no extension needed.
CREATE INDEX customers_search_idx ON customer.customers USING gin (
  to_tsvector('simple',
    coalesce(given_name, '') || ' ' || coalesce(family_name, '') || ' ' ||
    coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(external_id, '')))
  WHERE delete_time IS NULL;
