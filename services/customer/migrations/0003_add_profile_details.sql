-- Addresses, demographics and preferences, stored as the protobuf JSON of
-- their messages (lowerCamelCase keys, enum names as strings).
ALTER TABLE customer.customers
  ADD COLUMN addresses    jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN demographics jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN preferences  jsonb NOT NULL DEFAULT '{}';

-- Segments by interest ("who likes shoes?") stay fast.
CREATE INDEX customers_categories_idx
  ON customer.customers USING gin ((preferences -> 'categories'));
