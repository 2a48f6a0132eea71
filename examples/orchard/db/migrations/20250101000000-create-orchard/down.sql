-- Undoes create-orchard: what it created, dependants first.
DROP VIEW orchard_prices;
DROP FUNCTION price_with_tax(numeric);
DROP TABLE pricing_log;
DROP TABLE variety;
DROP TABLE orchard;
