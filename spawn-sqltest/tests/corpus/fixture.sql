CREATE TABLE fruit (id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(6,2), picked date);
INSERT INTO fruit (name, price, picked) VALUES
  ('apple', 1.20, '2024-09-01'), ('banana', 0.35, NULL), ('cherry', 12.00, '2024-06-15');
CREATE TABLE basket (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, fruit_id int REFERENCES fruit, qty int CHECK (qty > 0));
CREATE TABLE ledger (id int PRIMARY KEY, parent int REFERENCES ledger DEFERRABLE INITIALLY DEFERRED);
CREATE SEQUENCE ticket START 100;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE VIEW cheap_fruit AS SELECT name, price FROM fruit WHERE price < 2;
CREATE FUNCTION shout(msg text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'shouting %', msg;
  RETURN upper(msg);
END $$;
CREATE FUNCTION fail_with(code text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'failing with %', code USING DETAIL = 'some detail', HINT = 'some hint', ERRCODE = code;
END $$;
CREATE FUNCTION nested_fail() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fail_with('P0001');
  RETURN 1;
END $$;
