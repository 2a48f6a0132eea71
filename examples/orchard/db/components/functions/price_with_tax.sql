-- Version 2: the rate is looked up per currency, with the variables file's rate as fallback.
CREATE TABLE IF NOT EXISTS tax_rate (
    currency text PRIMARY KEY,
    rate     numeric NOT NULL
);

CREATE OR REPLACE FUNCTION price_with_tax(net numeric) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r numeric;
BEGIN
    SELECT rate INTO r FROM tax_rate WHERE currency = {{ variables.currency }};
    RETURN round(net * (1 + coalesce(r, {{ variables.tax_rate }})), 2);
END;
$$;
COMMENT ON FUNCTION price_with_tax(numeric) IS 'price_with_tax version 2';
