--- case: integers
SELECT 1 AS one, -2::int2 AS small, 3000000000::int8 AS big, 42::oid AS an_oid;
--- case: numerics
SELECT 1.5::numeric AS n, 'NaN'::numeric AS nan, 12345678901234567890.123::numeric AS long, -0.001::numeric(10,4) AS neg;
--- case: floats
SELECT 1.5::float8 AS f8, 0.1::float4 AS f4, 'Infinity'::float8 AS inf, '-Infinity'::float4 AS ninf, 1e100::float8 AS huge;
--- case: booleans_and_text
SELECT true AS t, false AS f, 'text'::text AS x, 'pad'::char(6) AS c, 'v'::varchar(3) AS v;
--- case: dates_and_times
SET TimeZone = 'UTC';
SELECT '2024-02-29'::date AS d, '2024-02-29 13:14:15.5'::timestamp AS ts, '2024-02-29 13:14:15+02'::timestamptz AS tstz, '1 day 2 hours'::interval AS i, '13:00'::time AS t;
--- case: uuid_json_arrays
SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '{"a": [1, 2, {"b": null}]}'::json AS j, '{"b": 1, "a": 2}'::jsonb AS jb, ARRAY[1,2,3] AS arr, ARRAY['a b', NULL, 'c"d'] AS tarr;
--- case: bytea_money_inet
SELECT '\xdeadbeef'::bytea AS b, 12.5::money AS m, '192.168.0.1/24'::inet AS ip, '(1,2)'::point AS p, int4range(1, 10) AS r;
--- case: enum_and_composite
SELECT 'happy'::mood AS m, ROW(1, 'a', NULL) AS rec, (1, 2.5)::record AS r2;
--- case: nulls
SELECT NULL AS n, NULL::int AS ni, '' AS empty, ' ' AS space;
--- case: table_data
SELECT * FROM fruit ORDER BY id;
--- case: view_data
SELECT * FROM cheap_fruit ORDER BY name;
--- case: numeric_right_aligned_mixed
SELECT name, price, id, picked FROM fruit ORDER BY price DESC;
--- case: negative_and_wide_numbers
SELECT -1 AS a, 123456789 AS b UNION ALL SELECT 22, -3;
--- case: xid_and_cid_types
SELECT '5'::xid AS x, '7'::cid AS c, '9'::xid8 AS x8;
--- case: aggregate_and_grouping
SELECT count(*) AS n, sum(price) AS total, avg(price)::numeric(6,3) AS mean, max(name) AS last FROM fruit;
--- case: generate_series_many_rows
SELECT g AS n, g * g AS square FROM generate_series(1, 25) AS g;
--- case: function_call_with_notice
SELECT shout('hi') AS loud;
--- case: sequence_values_start_fresh
SELECT nextval('ticket') AS first, nextval('ticket') AS second;
--- case: serial_insert_returning
INSERT INTO fruit (name, price) VALUES ('date', 3.10) RETURNING id, name;
--- case: identity_insert_returning
INSERT INTO basket (fruit_id, qty) VALUES (1, 2), (2, 5) RETURNING id, qty;
