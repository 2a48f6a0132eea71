--- case: echo_plain
\echo hello world
\echo 'quoted  spaces' "double" end
--- case: echo_no_newline
\echo -n no newline
\echo
\echo next
--- case: echo_escapes
\echo 'tab\there' 'new\nline' 'it''s'
--- case: qecho_and_warn
\qecho to query output
\warn to stderr
--- case: set_and_interpolate
\set name apple
\set price 1.20
SELECT :'name' AS literal, :price AS number, :"name" FROM (SELECT 1 AS apple) AS t;
--- case: set_concatenates
\set x a b c
\echo :x
\set y 'one' 'two'
\echo :y
--- case: unset
\set v 1
\unset v
\echo :v
--- case: unknown_variable_left_alone
SELECT ':nothing' AS s, 1 AS n;
\echo :nothing
--- case: interpolation_not_in_quotes
\set x 5
SELECT ':x' AS q, $$:x$$ AS d, :x AS v;
--- case: cast_not_interpolated
\set int 7
SELECT '3'::int AS a, :int::text AS b;
--- case: gset_basic
SELECT 1 AS a, 'two' AS b \gset
\echo :a :b
--- case: gset_prefix
SELECT 10 AS n \gset p_
\echo :p_n
--- case: gset_null_unsets
\set n keep
SELECT NULL AS n \gset
\echo :n
--- case: gset_no_rows
SELECT 1 AS a WHERE false \gset
\echo not reached
--- case: gset_many_rows
SELECT g FROM generate_series(1, 2) g \gset
--- case: gset_then_use
SELECT count(*) AS n FROM fruit \gset
SELECT :n * 2 AS doubled;
--- case: g_reexecutes
SELECT 'once' AS v;
\g
--- case: if_true
\if true
\echo yes
\else
\echo no
\endif
--- case: if_false_elif
\set flag off
\if :flag
\echo a
\elif 1
\echo b
\else
\echo c
\endif
--- case: if_nested_inactive
\if false
  \if true
    \echo never
  \endif
  SELECT 'skipped';
\else
  \echo outer else
\endif
--- case: if_variable_from_gset
SELECT count(*) > 2 AS many FROM fruit \gset
\if :many
\echo many fruit
\endif
--- case: if_invalid_expression
\if maybe
\echo x
\endif
--- case: set_on_error_stop_invalid
\set ON_ERROR_STOP maybe
SELECT 'still stops?' AS q;
SELECT 1/0;
SELECT 'after' AS a;
--- case: quiet_off_tags
\set QUIET off
CREATE TABLE t (a int);
INSERT INTO t VALUES (1), (2), (3);
UPDATE t SET a = a + 1 WHERE a > 1;
DELETE FROM t WHERE a = 1;
CREATE TABLE t2 AS SELECT * FROM t;
SELECT * FROM t ORDER BY a;
DROP TABLE t2;
--- case: row_count_variable
INSERT INTO fruit (name) VALUES ('kiwi'), ('lime');
\echo :ROW_COUNT :ERROR :SQLSTATE
--- case: error_variables
\set ON_ERROR_STOP off
SELECT 1/0;
\echo :ERROR :SQLSTATE :LAST_ERROR_SQLSTATE
\echo :LAST_ERROR_MESSAGE
--- case: echo_variables_defaults
\echo :QUIET :ON_ERROR_STOP :VERBOSITY :SHOW_CONTEXT :AUTOCOMMIT
