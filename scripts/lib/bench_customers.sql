-- Benchmark customers for tenant 'bench' (scripts/bench):
--   psql -v customers=1000000 -v dupes=10000 -f scripts/lib/bench_customers.sql
-- Names, phones and addresses as a shop has them: 40 common given names x 97
-- common UK family names, one of 250,000 postal codes (about four customers each), every other
-- customer with a phone. The last :dupes rows are second profiles of earlier
-- customers (dup-g of ext-(97g)): the e-mail in other case, a typo in the
-- given name, the same address. scripts/lib/bench_duplicates.sql scores a
-- duplicate scan against exactly these pairs. Ends with a checkpoint, so measurements start from a quiet disk.
CREATE TEMP TABLE names AS SELECT
  ARRAY['Oliver','Amelia','George','Isla','Harry','Ava','Noah','Mia','Jack','Ivy','Leo',
        'Lily','Arthur','Freya','Muhammad','Florence','Oscar','Grace','Charlie','Sophia',
        'Jacob','Evie','Thomas','Emily','Henry','Ella','William','Poppy','Alfie','Isabella',
        'Theo','Willow','Joshua','Rosie','Freddie','Sienna','Archie','Daisy','Lucas','Alice'] AS given,
  ARRAY['Smith','Jones','Williams','Taylor','Brown','Davies','Evans','Wilson','Thomas',
        'Johnson','Roberts','Robinson','Thompson','Wright','Walker','White','Edwards','Hughes',
        'Green','Hall','Lewis','Harris','Clarke','Patel','Jackson','Wood','Turner','Martin',
        'Cooper','Hill','Ward','Morris','Moore','Clark','Lee','King','Baker','Harrison',
        'Morgan','Allen','James','Scott','Phillips','Watson','Davis','Parker','Price','Bennett',
        'Young','Griffiths','Mitchell','Kelly','Cook','Carter','Richardson','Bailey','Collins',
        'Bell','Shaw','Murphy','Miller','Cox','Richards','Khan','Marshall','Anderson','Simpson',
        'Ellis','Adams','Singh','Begum','Wilkinson','Foster','Chapman','Powell','Webb','Rogers',
        'Gray','Mason','Ali','Hunt','Hussain','Campbell','Matthews','Owen','Palmer','Holmes',
        'Mills','Barnes','Knight','Lloyd','Butler','Russell','Barker','Fisher','Stevens',
        'Jenkins'] AS family;
INSERT INTO customer.customers (tenant_id, external_id, email, phone, given_name, family_name,
                                country, tags, attributes, addresses, create_time)
SELECT 'bench', 'ext-' || g, 'user' || g || '@example.com',
       CASE WHEN g % 2 = 0 THEN '+4477' || lpad(g::text, 8, '0') END,
       n.given[1 + g % 40], n.family[1 + (g / 40) % 97],
       (ARRAY['GB','FR','DE','ES','US'])[1 + g % 5],
       CASE WHEN g % 7 = 0 THEN ARRAY['vip'] ELSE ARRAY[]::text[] END,
       jsonb_build_object('tier', jsonb_build_object('stringValue', 'gold')),
       jsonb_build_array(jsonb_build_object('kind', 'ADDRESS_KIND_SHIPPING', 'address',
         jsonb_build_object('lines', jsonb_build_array((1 + g % 180) || ' High Street'),
                            'postalCode', 'P' || ((g::bigint * 7919) % 250000), 'country', 'GB'))),
       timestamptz '2024-01-01' + g * interval '1 second'
FROM generate_series(1, :customers - :dupes) g, names n;
INSERT INTO customer.customers (tenant_id, external_id, email, given_name, family_name,
                                country, addresses, create_time)
SELECT 'bench', 'dup-' || g, replace(replace(c.email, 'user', 'USER'), 'example', 'Example'),
       left(c.given_name, -1), c.family_name, c.country, c.addresses,
       timestamptz '2025-01-01' + g * interval '1 second'
FROM generate_series(1, :dupes) g
JOIN customer.customers c ON c.tenant_id = 'bench' AND c.external_id = 'ext-' || (g * 97);
VACUUM ANALYZE customer.customers;
VACUUM ANALYZE customer.customer_tags;
CHECKPOINT;
