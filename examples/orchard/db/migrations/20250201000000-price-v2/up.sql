-- The function changed: re-include the edited component. The first migration is pinned
-- to version 1, so on a fresh database it still creates version 1 first.
{% include "functions/price_with_tax.sql" %}

INSERT INTO tax_rate (currency, rate) VALUES ({{ variables.currency }}, 0.20);

INSERT INTO pricing_log
VALUES ('price-v2', obj_description('price_with_tax(numeric)'::regprocedure), price_with_tax(100));
