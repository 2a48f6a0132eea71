--- case: syntax_error_caret
SELECT 1 +;
--- case: syntax_error_later_line
SELECT 1,
  2,
  3 4 5;
--- case: undefined_column_position
SELECT nope FROM fruit;
--- case: undefined_table
SELECT * FROM missing_table;
--- case: division_by_zero_stops
SELECT 1/0;
SELECT 'not reached';
--- case: unique_violation_detail
INSERT INTO fruit (name) VALUES ('apple');
--- case: check_violation_detail
INSERT INTO basket (fruit_id, qty) VALUES (1, 0);
--- case: fk_violation
INSERT INTO basket (fruit_id, qty) VALUES (999, 1);
--- case: function_hint
SELECT no_such_function(1);
--- case: plpgsql_exception_with_context
SELECT nested_fail();
--- case: raise_detail_hint
SELECT fail_with('P0001');
--- case: long_line_caret
SELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AS x, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' AS y, nope FROM fruit;
--- case: long_line_caret_end
SELECT 1 AS aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, 2 +;
--- case: tab_before_caret
SELECT	1,	nope;
--- case: unicode_before_caret
SELECT '日本語' AS jp, nope;
--- case: comment_before_error
/* a block comment */ SELECT nope;
--- case: line_comment_before_error
-- a line comment
SELECT
  nope;
--- case: verbosity_verbose
\set VERBOSITY verbose
SELECT fail_with('P0001');
--- case: verbosity_terse
\set VERBOSITY terse
SELECT nope FROM fruit;
--- case: verbosity_sqlstate
\set VERBOSITY sqlstate
SELECT 1/0;
--- case: show_context_never
\set SHOW_CONTEXT never
SELECT nested_fail();
--- case: show_context_always
\set SHOW_CONTEXT always
SELECT shout('x');
--- case: on_error_stop_off
\set ON_ERROR_STOP off
SELECT 1/0;
SELECT 'reached' AS after;
--- case: error_in_transaction_stops
BEGIN;
INSERT INTO fruit (name) VALUES ('fig');
SELECT 1/0;
COMMIT;
--- case: error_mid_script_after_output
SELECT name FROM fruit ORDER BY id LIMIT 1;
SELECT nope;
--- case: type_error_detail
SELECT 'abc'::int;
--- case: deferred_constraint_at_commit
INSERT INTO ledger VALUES (1, 2);
