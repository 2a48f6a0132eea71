--- case: zero_columns
SELECT;
--- case: zero_columns_two_rows
SELECT FROM generate_series(1, 2);
--- case: zero_rows
SELECT * FROM fruit WHERE false;
--- case: one_row_footer
SELECT 'x' AS only;
--- case: long_header_short_values
SELECT 1 AS "a rather long column header", 'v' AS "another long one";
--- case: short_header_long_values
SELECT repeat('x', 40) AS a, repeat('y', 3) AS b;
--- case: header_centering_odd_even
SELECT 'abcdef' AS ab, 'abcdefg' AS abc, 1234567 AS n;
--- case: multiline_values
SELECT E'line one\nline two\nthree' AS text, 1 AS n, E'a\nb' AS other;
--- case: multiline_last_column
SELECT 1 AS n, E'first\nsecond' AS last;
--- case: multiline_header
SELECT 1 AS "two
lines";
--- case: empty_lines_in_value
SELECT E'\n\nx\n' AS v;
--- case: unicode_wide_cjk
SELECT '日本語' AS jp, 'abc' AS latin, '한국어 텍스트' AS kr;
--- case: unicode_combining_and_emoji
SELECT 'e' || U&'\0301' AS combining, '🙂' AS emoji, 'ÅÄÖ' AS nordic;
--- case: tabs_in_values
SELECT E'a\tb' AS tab, E'\tlead' AS leading, E'x\ty\tz' AS many;
--- case: control_characters
SELECT E'a\rb' AS cr, E'bell\x07' AS bell, E'esc\x1b[0m' AS esc;
--- case: empty_string_header
SELECT 1 AS "";
--- case: many_columns
SELECT 1 AS a, 2 AS b, 3 AS c, 4 AS d, 5 AS e, 6 AS f, 7 AS g, 8 AS h, 9 AS i, 10 AS j, 11 AS k, 12 AS l;
--- case: null_and_empty_mixed
SELECT x FROM (VALUES ('a'), (NULL), (''), ('b')) AS v(x);
--- case: same_column_names
SELECT 1 AS x, 2 AS x;
--- case: quoted_identifiers
SELECT 1 AS "Mixed Case", 2 AS "with""quote";
