--- case: transaction_tags_quiet_off
\set QUIET off
BEGIN;
INSERT INTO fruit (name) VALUES ('fig');
COMMIT;
START TRANSACTION;
ROLLBACK;
SELECT count(*) FROM fruit;
--- case: savepoints_in_transaction
\set QUIET off
BEGIN;
INSERT INTO fruit (name) VALUES ('grape');
SAVEPOINT s1;
DELETE FROM fruit;
ROLLBACK TO SAVEPOINT s1;
RELEASE s1;
COMMIT;
SELECT count(*) FROM fruit;
--- case: rollback_discards
BEGIN;
DELETE FROM fruit;
ROLLBACK;
SELECT count(*) FROM fruit;
--- case: end_and_abort
\set QUIET off
BEGIN;
END;
BEGIN;
ABORT;
--- case: commit_without_transaction
\set QUIET off
COMMIT;
SELECT 1;
--- case: begin_twice
\set QUIET off
BEGIN;
BEGIN;
COMMIT;
--- case: savepoint_outside_transaction
SAVEPOINT nope;
--- case: begin_isolation_level
\set QUIET off
BEGIN ISOLATION LEVEL SERIALIZABLE;
SHOW transaction_isolation;
COMMIT;
--- case: vacuum_needs_autocommit
\set QUIET off
VACUUM fruit;
SELECT count(*) FROM fruit;
--- case: create_index_concurrently
\set QUIET off
CREATE INDEX CONCURRENTLY fruit_price_idx ON fruit (price);
SELECT indexname FROM pg_indexes WHERE tablename = 'fruit' ORDER BY 1;
--- case: temp_table
CREATE TEMP TABLE scratch (a int);
INSERT INTO scratch VALUES (1);
SELECT * FROM scratch;
--- case: session_setting
SET search_path = pg_catalog;
SHOW search_path;
--- case: prepared_statement
PREPARE q(int) AS SELECT $1 * 2 AS doubled;
EXECUTE q(21);
--- case: sequence_in_transaction_test
SELECT nextval('ticket') AS n;
INSERT INTO fruit (name) VALUES ('melon') RETURNING id;
--- case: sequence_again_same_values
SELECT nextval('ticket') AS n;
INSERT INTO fruit (name) VALUES ('melon') RETURNING id;
--- case: copy_to_stdout
COPY (SELECT id, name FROM fruit ORDER BY id) TO STDOUT;
--- case: copy_csv_header
COPY (SELECT id, name, price FROM fruit ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
--- case: empty_statement
;
SELECT 'after empty' AS a;
--- case: comment_only_script
-- nothing but a comment
/* and a block */
--- case: no_trailing_semicolon
SELECT 'no semicolon' AS a
--- case: combined_queries
SELECT 1 AS a \; SELECT 2 AS b;
--- case: dollar_quoted_function
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS $body$ SELECT x * 2; $body$;
SELECT twice(21) AS answer;
--- case: begin_atomic_body
CREATE FUNCTION thrice(x int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT x * 3;
END;
SELECT thrice(3) AS answer;
--- case: semicolon_in_strings_and_comments
SELECT 'a;b' AS s, "?column?" FROM (SELECT 1) AS t /* ; */ -- ;
;
--- case: set_local_rolled_back
BEGIN;
SET LOCAL work_mem = '1MB';
SHOW work_mem;
COMMIT;
SHOW work_mem;
--- case: deferred_constraint_in_transaction
BEGIN;
INSERT INTO ledger VALUES (1, 2);
INSERT INTO ledger VALUES (2, 1);
COMMIT;
SELECT * FROM ledger ORDER BY id;
--- case: explain_plain
EXPLAIN (COSTS OFF) SELECT * FROM fruit WHERE id = 1;
--- case: values_and_cte
WITH x AS (SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(n, l)) SELECT * FROM x ORDER BY n DESC;
