CREATE TABLE orchard (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE variety (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orchard_id bigint NOT NULL REFERENCES orchard (id),
    name       text NOT NULL,
    net_price  numeric(10, 2) NOT NULL CHECK (net_price >= 0)
);

-- Which version of price_with_tax each migration installed, and what it computed.
CREATE TABLE pricing_log (
    migration        text PRIMARY KEY,
    function_comment text NOT NULL,
    price_of_100     numeric NOT NULL
);

{% include "functions/price_with_tax.sql" %}

{% include "views/orchard_prices.sql" %}

{% if env == "dev" %}
-- Seed data for development only.
{% include "seed/dev.sql" %}
{% endif %}

INSERT INTO pricing_log
VALUES ('create-orchard', obj_description('price_with_tax(numeric)'::regprocedure), price_with_tax(100));
