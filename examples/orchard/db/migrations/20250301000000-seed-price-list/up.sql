-- Seed the price list from a CSV data file, components/data/price-list.csv: read_csv gives
-- one map per row, keyed by the header, and every value is auto-escaped as a SQL literal.
-- The file is pinned with this migration like any component, so a later edit of the CSV
-- (for a later migration) never changes what this one inserts.
{% set rows = "data/price-list.csv"|read_csv -%}
INSERT INTO orchard (name) VALUES
{% for name in rows|map(attribute="orchard")|unique -%}
({{ name }}){% if not loop.last %},{% endif %}
{% endfor -%}
ON CONFLICT (name) DO NOTHING;

{% for row in rows -%}
INSERT INTO variety (orchard_id, name, net_price)
SELECT id, {{ row.variety }}, {{ row.net_price }}::numeric FROM orchard WHERE name = {{ row.orchard }};
{% endfor %}
