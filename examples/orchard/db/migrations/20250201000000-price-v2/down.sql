-- Undoes price-v2: back to version 1 of price_with_tax. Written out here, because this
-- migration is pinned to the components with version 2.
CREATE OR REPLACE FUNCTION price_with_tax(net numeric) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN round(net * (1 + {{ variables.tax_rate }}), 2);
END;
$$;
COMMENT ON FUNCTION price_with_tax(numeric) IS 'price_with_tax version 1';

DELETE FROM pricing_log WHERE migration = 'price-v2';
DROP TABLE tax_rate;
