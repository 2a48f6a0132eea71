--- case: null_display
\pset null '(null)'
SELECT NULL AS n, 1 AS one, NULL::text AS t;
--- case: null_display_quiet_off
\set QUIET off
\pset null X
SELECT NULL AS n;
--- case: unaligned
\pset format unaligned
SELECT * FROM fruit ORDER BY id;
--- case: unaligned_fieldsep
\pset format unaligned
\pset fieldsep ','
SELECT 1 AS a, 'b' AS b, NULL AS c;
--- case: unaligned_multiline
\pset format unaligned
SELECT E'a\nb' AS v, 2 AS n;
--- case: tuples_only_aligned
\pset tuples_only on
SELECT name, price FROM fruit ORDER BY id;
--- case: tuples_only_unaligned
\pset format unaligned
\pset tuples_only
SELECT name FROM fruit ORDER BY id;
--- case: border_zero
\pset border 0
SELECT name, price FROM fruit ORDER BY id;
--- case: border_two
\pset border 2
SELECT name, price, E'x\ny' AS m FROM fruit ORDER BY id;
--- case: border_two_zero_rows
\pset border 2
SELECT 1 AS a WHERE false;
--- case: expanded_on
\x
SELECT * FROM fruit ORDER BY id;
--- case: expanded_multiline
\x on
SELECT E'one\ntwo' AS text, 5 AS num;
--- case: expanded_zero_rows
\x on
SELECT 1 AS a WHERE false;
--- case: expanded_border_two
\x on
\pset border 2
SELECT name, price FROM fruit ORDER BY id LIMIT 2;
--- case: expanded_toggle_quiet_off
\set QUIET off
\x
\x
SELECT 1 AS a;
--- case: footer_off
\pset footer off
SELECT 1 AS a;
--- case: title
\pset title 'My fruit'
SELECT name FROM fruit ORDER BY id;
--- case: pset_messages_quiet_off
\set QUIET off
\pset border 2
\pset format unaligned
\pset tuples_only on
\pset fieldsep ';'
\pset footer off
SELECT 1;
--- case: pset_unknown_option
\pset bogus 1
SELECT 'not reached';
--- case: expanded_unaligned
\x on
\pset format unaligned
SELECT 1 AS a, 'b' AS b;
--- case: gx
SELECT 1 AS a, 2 AS b \gx
SELECT 3 AS c;
