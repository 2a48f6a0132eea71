{% for name in variables.seed_orchards -%}
INSERT INTO orchard (name) VALUES ({{ name }});
{% endfor -%}
INSERT INTO variety (orchard_id, name, net_price)
SELECT id, 'Cox', 2.50 FROM orchard WHERE name = {{ variables.seed_orchards[0] }};
