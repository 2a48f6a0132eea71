-- Undoes seed-price-list: the price list's varieties, then the orchards only it added (the
-- ones the dev seed made stay). Rendered from the same pin as up.sql, so it reads the same
-- CSV.
{% set rows = "data/price-list.csv"|read_csv -%}
{% for row in rows -%}
DELETE FROM variety
WHERE name = {{ row.variety }} AND orchard_id = (SELECT id FROM orchard WHERE name = {{ row.orchard }});
{% endfor -%}
DELETE FROM orchard
WHERE name IN ({% for name in rows|map(attribute="orchard")|unique %}{{ name }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- if env == "dev" %}
{%- for name in variables.seed_orchards %}
  AND name <> {{ name }}
{%- endfor %}
{%- endif %};
