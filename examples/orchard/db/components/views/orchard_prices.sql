-- Every variety with its gross price.
CREATE OR REPLACE VIEW orchard_prices AS
SELECT o.name AS orchard,
       v.name AS variety,
       v.net_price,
       price_with_tax(v.net_price) AS gross_price,
       {{ variables.currency }}::text AS currency
FROM variety v
JOIN orchard o ON o.id = v.orchard_id;
