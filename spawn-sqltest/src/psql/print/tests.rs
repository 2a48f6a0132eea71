//! Result printing compared with psql 15: every expected output below was captured by piping
//! the script in the comment to `psql -X` (after `\set QUIET on`, `\pset pager off`), and
//! the columns (name, type OID) and values by asking the same server for them.

use super::{print_result, pset_listing, PrintOptions};
use crate::message::Column;

/// Applies the `\pset`s, prints the result and compares with psql's output.
fn check(
    psets: &[(&str, Option<&str>)],
    columns: &[(&str, u32)],
    rows: &[&[Option<&str>]],
    expected: &str,
) {
    let mut options = PrintOptions::default();
    for (option, value) in psets {
        options
            .set(option, *value)
            .unwrap_or_else(|error| panic!("\\pset {option} {value:?}: {error}"));
    }
    let columns: Vec<Column> = columns
        .iter()
        .map(|(name, type_oid)| Column {
            name: (*name).to_owned(),
            type_oid: *type_oid,
            type_modifier: -1,
        })
        .collect();
    let rows: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|row| row.iter().map(|value| value.map(str::to_owned)).collect())
        .collect();
    let mut out = String::new();
    print_result(&mut out, &columns, &rows, &options);
    assert_eq!(out, expected, "\nprinted:\n{out}\npsql:\n{expected}");
}

#[test]
fn aligned_basic() {
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        " n  | word \n----+------\n  1 | one\n 22 | \n(2 rows)\n\n",
    );
}

#[test]
fn aligned_zero_rows() {
    // select 1 as a, 'b'::text as b where false;
    check(
        &[],
        &[("a", 23), ("b", 25)],
        &[],
        " a | b \n---+---\n(0 rows)\n\n",
    );
}

#[test]
fn aligned_zero_columns() {
    // select;
    check(&[], &[], &[&[]], "--\n(1 row)\n\n");
}

#[test]
fn aligned_zero_columns_zero_rows() {
    // select where false;
    check(&[], &[], &[], "--\n(0 rows)\n\n");
}

#[test]
fn aligned_many_rows() {
    // select g as n, repeat('x', g) as s from generate_series(1, 12) g;
    check(
        &[],
        &[("n", 23), ("s", 25)],
        &[&[Some("1"), Some("x")], &[Some("2"), Some("xx")], &[Some("3"), Some("xxx")], &[Some("4"), Some("xxxx")], &[Some("5"), Some("xxxxx")], &[Some("6"), Some("xxxxxx")], &[Some("7"), Some("xxxxxxx")], &[Some("8"), Some("xxxxxxxx")], &[Some("9"), Some("xxxxxxxxx")], &[Some("10"), Some("xxxxxxxxxx")], &[Some("11"), Some("xxxxxxxxxxx")], &[Some("12"), Some("xxxxxxxxxxxx")]],
        " n  |      s       \n----+--------------\n  1 | x\n  2 | xx\n  3 | xxx\n  4 | xxxx\n  5 | xxxxx\n  6 | xxxxxx\n  7 | xxxxxxx\n  8 | xxxxxxxx\n  9 | xxxxxxxxx\n 10 | xxxxxxxxxx\n 11 | xxxxxxxxxxx\n 12 | xxxxxxxxxxxx\n(12 rows)\n\n",
    );
}

#[test]
fn aligned_null_display() {
    // \pset null '(null)'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("null", Some("(null)"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        " n  |  word  \n----+--------\n  1 | one\n 22 | (null)\n(2 rows)\n\n",
    );
}

#[test]
fn aligned_numeric_alignment() {
    // select 1::int2 as i2, -2::int4 as i4, 30000000000::int8 as i8, 1.5::float4 as f4, 2.25::float8 as f8, 3.14159::numeric as num, 26::oid as o, '5'::xid as x, '7'::cid as c, '9'::xid8 as x8, 12.5::money as m, true as b, 'txt' as t;
    check(
        &[],
        &[("i2", 21), ("i4", 23), ("i8", 20), ("f4", 700), ("f8", 701), ("num", 1700), ("o", 26), ("x", 28), ("c", 29), ("x8", 5069), ("m", 790), ("b", 16), ("t", 25)],
        &[&[Some("1"), Some("-2"), Some("30000000000"), Some("1.5"), Some("2.25"), Some("3.14159"), Some("26"), Some("5"), Some("7"), Some("9"), Some("$12.50"), Some("t"), Some("txt")]],
        " i2 | i4 |     i8      | f4  |  f8  |   num   | o  | x | c | x8 |   m    | b |  t  \n----+----+-------------+-----+------+---------+----+---+---+----+--------+---+-----\n  1 | -2 | 30000000000 | 1.5 | 2.25 | 3.14159 | 26 | 5 | 7 |  9 | $12.50 | t | txt\n(1 row)\n\n",
    );
}

#[test]
fn aligned_header_centring() {
    // select 'abcd' as ab, 'abcde' as abc;
    check(
        &[],
        &[("ab", 25), ("abc", 25)],
        &[&[Some("abcd"), Some("abcde")]],
        "  ab  |  abc  \n------+-------\n abcd | abcde\n(1 row)\n\n",
    );
}

#[test]
fn aligned_long_header() {
    // select 1 as a_very_long_column_name, 'v' as b;
    check(
        &[],
        &[("a_very_long_column_name", 23), ("b", 25)],
        &[&[Some("1"), Some("v")]],
        " a_very_long_column_name | b \n-------------------------+---\n                       1 | v\n(1 row)\n\n",
    );
}

#[test]
fn aligned_multiline_values() {
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        " id |    body     | tail  \n----+-------------+-------\n  1 | first      +| x\n    | second line+| \n    | third       | \n  2 | short       | two  +\n    |             | lines\n(2 rows)\n\n",
    );
}

#[test]
fn aligned_multiline_last_column() {
    // select 'ab' as a, E'x\ny' as b;
    check(
        &[],
        &[("a", 25), ("b", 25)],
        &[&[Some("ab"), Some("x\ny")]],
        " a  | b \n----+---\n ab | x+\n    | y\n(1 row)\n\n",
    );
}

#[test]
fn aligned_multiline_header() {
    // select 1 as "multi
    // line", 2 as "x";
    check(
        &[],
        &[("multi\nline", 23), ("x", 23)],
        &[&[Some("1"), Some("2")]],
        " multi+| x \n line  |   \n-------+---\n     1 | 2\n(1 row)\n\n",
    );
}

#[test]
fn aligned_multiline_header_and_data() {
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        " h1+| n \n h2 |   \n----+---\n a +| 3\n b +| \n c  | \n(1 row)\n\n",
    );
}

#[test]
fn aligned_empty_and_null() {
    // select '' as e, null::text as n, ' padded ' as p;
    check(
        &[],
        &[("e", 25), ("n", 25), ("p", 25)],
        &[&[Some(""), None, Some(" padded ")]],
        " e | n |    p     \n---+---+----------\n   |   |  padded \n(1 row)\n\n",
    );
}

#[test]
fn aligned_tabs() {
    // select E'a\tb' as t1, E'\tlead' as t2, E'abcdefgh\ti' as t3, E'1234567\tx' as t4;
    check(
        &[],
        &[("t1", 25), ("t2", 25), ("t3", 25), ("t4", 25)],
        &[&[Some("a\tb"), Some("\tlead"), Some("abcdefgh\ti"), Some("1234567\tx")]],
        "    t1     |      t2      |        t3         |    t4     \n-----------+--------------+-------------------+-----------\n a       b |         lead | abcdefgh        i | 1234567 x\n(1 row)\n\n",
    );
}

#[test]
fn aligned_control_characters() {
    // select E'a\x01b' as c1, E'cr\rhere' as c2, chr(127) as del, chr(128) as c1ctl, E'\x1b[0m' as esc;
    check(
        &[],
        &[("c1", 25), ("c2", 25), ("del", 25), ("c1ctl", 25), ("esc", 25)],
        &[&[Some("a\u{1}b"), Some("cr\rhere"), Some("\u{7f}"), Some("\u{80}"), Some("\u{1b}[0m")]],
        "   c1   |    c2    | del  | c1ctl  |   esc   \n--------+----------+------+--------+---------\n a\\x01b | cr\\rhere | \\x7F | \\u0080 | \\x1B[0m\n(1 row)\n\n",
    );
}

#[test]
fn aligned_wide_characters() {
    // select '日本語' as jp, 'ascii' as a union all select 'x', '中文字符';
    check(
        &[],
        &[("jp", 25), ("a", 25)],
        &[&[Some("日本語"), Some("ascii")], &[Some("x"), Some("中文字符")]],
        "   jp   |    a     \n--------+----------\n 日本語 | ascii\n x      | 中文字符\n(2 rows)\n\n",
    );
}

#[test]
fn aligned_wide_header() {
    // select 1 as "名前", 'データ' as "値";
    check(
        &[],
        &[("名前", 23), ("値", 25)],
        &[&[Some("1"), Some("データ")]],
        " 名前 |   値   \n------+--------\n    1 | データ\n(1 row)\n\n",
    );
}

#[test]
fn aligned_combining_marks() {
    // select E'e\u0301te\u0301' as word, E'a\u0308' as b;
    check(
        &[],
        &[("word", 25), ("b", 25)],
        &[&[Some("été"), Some("ä")]],
        " word | b \n------+---\n été  | ä\n(1 row)\n\n",
    );
}

#[test]
fn aligned_emoji() {
    // select '😀' as e, 'ok' as o union all select 'ab😀cd', '👍';
    check(
        &[],
        &[("e", 25), ("o", 25)],
        &[&[Some("😀"), Some("ok")], &[Some("ab😀cd"), Some("👍")]],
        "   e    | o  \n--------+----\n 😀     | ok\n ab😀cd | 👍\n(2 rows)\n\n",
    );
}

#[test]
fn border0_basic() {
    // \pset border '0'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("border", Some("0"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n  word \n-- ----\n 1 one\n22 \n(2 rows)\n\n",
    );
}

#[test]
fn border0_multiline() {
    // \pset border '0'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("border", Some("0"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "id    body     tail  \n-- ----------- -----\n 1 first      +x\n   second line+\n   third       \n 2 short       two  +\n               lines\n(2 rows)\n\n",
    );
}

#[test]
fn border0_multiline_header() {
    // \pset border '0'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("border", Some("0"))],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "h1+n \nh2   \n-- -\na +3\nb +\nc  \n(1 row)\n\n",
    );
}

#[test]
fn border0_zero_columns() {
    // \pset border '0'
    // select;
    check(&[("border", Some("0"))], &[], &[&[]], "\n(1 row)\n\n");
}

#[test]
fn border0_single_column() {
    // \pset border '0'
    // select 'abc' as x;
    check(
        &[("border", Some("0"))],
        &[("x", 25)],
        &[&[Some("abc")]],
        " x  \n---\nabc\n(1 row)\n\n",
    );
}

#[test]
fn border2_basic() {
    // \pset border '2'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("border", Some("2"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "+----+------+\n| n  | word |\n+----+------+\n|  1 | one  |\n| 22 |      |\n+----+------+\n(2 rows)\n\n",
    );
}

#[test]
fn border2_multiline() {
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "+----+-------------+-------+\n| id |    body     | tail  |\n+----+-------------+-------+\n|  1 | first      +| x     |\n|    | second line+|       |\n|    | third       |       |\n|  2 | short       | two  +|\n|    |             | lines |\n+----+-------------+-------+\n(2 rows)\n\n",
    );
}

#[test]
fn border2_multiline_header() {
    // \pset border '2'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("border", Some("2"))],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "+----+---+\n| h1+| n |\n| h2 |   |\n+----+---+\n| a +| 3 |\n| b +|   |\n| c  |   |\n+----+---+\n(1 row)\n\n",
    );
}

#[test]
fn border2_zero_rows() {
    // \pset border '2'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("border", Some("2"))],
        &[("a", 23), ("b", 25)],
        &[],
        "+---+---+\n| a | b |\n+---+---+\n+---+---+\n(0 rows)\n\n",
    );
}

#[test]
fn border2_zero_columns() {
    // \pset border '2'
    // select;
    check(
        &[("border", Some("2"))],
        &[],
        &[&[]],
        "+--+\n+--+\n+--+\n(1 row)\n\n",
    );
}

#[test]
fn border3_prints_like_2() {
    // \pset border '3'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("border", Some("3"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "+----+------+\n| n  | word |\n+----+------+\n|  1 | one  |\n| 22 |      |\n+----+------+\n(2 rows)\n\n",
    );
}

#[test]
fn tuples_only_aligned() {
    // \pset tuples_only
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("tuples_only", None)],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "  1 | one\n 22 | \n\n",
    );
}

#[test]
fn tuples_only_border2() {
    // \pset tuples_only 'on'
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("tuples_only", Some("on")), ("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "|  1 | first      +| x     |\n|    | second line+|       |\n|    | third       |       |\n|  2 | short       | two  +|\n|    |             | lines |\n+----+-------------+-------+\n\n",
    );
}

#[test]
fn tuples_only_zero_rows() {
    // \pset tuples_only 'on'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("tuples_only", Some("on"))],
        &[("a", 23), ("b", 25)],
        &[],
        "\n",
    );
}

#[test]
fn footer_off() {
    // \pset footer 'off'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("footer", Some("off"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        " n  | word \n----+------\n  1 | one\n 22 | \n\n",
    );
}

#[test]
fn title_centred() {
    // \pset title 'Two'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("title", Some("Two"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "    Two\n n  | word \n----+------\n  1 | one\n 22 | \n(2 rows)\n\n",
    );
}

#[test]
fn title_wider_than_table() {
    // \pset title 'A rather long title'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("title", Some("A rather long title"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "A rather long title\n n  | word \n----+------\n  1 | one\n 22 | \n(2 rows)\n\n",
    );
}

#[test]
fn title_border2() {
    // \pset title 'T'
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("title", Some("T")), ("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "             T\n+----+-------------+-------+\n| id |    body     | tail  |\n+----+-------------+-------+\n|  1 | first      +| x     |\n|    | second line+|       |\n|    | third       |       |\n|  2 | short       | two  +|\n|    |             | lines |\n+----+-------------+-------+\n(2 rows)\n\n",
    );
}

#[test]
fn wrapped_prints_like_aligned() {
    // \pset format 'wrapped'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("format", Some("wrapped"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        " id |    body     | tail  \n----+-------------+-------\n  1 | first      +| x\n    | second line+| \n    | third       | \n  2 | short       | two  +\n    |             | lines\n(2 rows)\n\n",
    );
}

#[test]
fn expanded_auto_prints_like_aligned() {
    // \pset expanded 'auto'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("expanded", Some("auto"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        " id |    body     | tail  \n----+-------------+-------\n  1 | first      +| x\n    | second line+| \n    | third       | \n  2 | short       | two  +\n    |             | lines\n(2 rows)\n\n",
    );
}

#[test]
fn unaligned_basic() {
    // \pset format 'unaligned'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|word\n1|one\n22|\n(2 rows)\n",
    );
}

#[test]
fn unaligned_zero_rows() {
    // \pset format 'unaligned'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("format", Some("unaligned"))],
        &[("a", 23), ("b", 25)],
        &[],
        "a|b\n(0 rows)\n",
    );
}

#[test]
fn unaligned_zero_columns() {
    // \pset format 'unaligned'
    // select;
    check(&[("format", Some("unaligned"))], &[], &[&[]], "\n(1 row)\n");
}

#[test]
fn unaligned_zero_columns_zero_rows() {
    // \pset format 'unaligned'
    // select where false;
    check(&[("format", Some("unaligned"))], &[], &[], "\n(0 rows)\n");
}

#[test]
fn unaligned_multiline() {
    // \pset format 'unaligned'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("format", Some("unaligned"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[
            &[Some("1"), Some("first\nsecond line\nthird"), Some("x")],
            &[Some("2"), Some("short"), Some("two\nlines")],
        ],
        "id|body|tail\n1|first\nsecond line\nthird|x\n2|short|two\nlines\n(2 rows)\n",
    );
}

#[test]
fn unaligned_tuples_only() {
    // \pset format 'unaligned'
    // \pset tuples_only 'on'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("tuples_only", Some("on"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "1|one\n22|\n",
    );
}

#[test]
fn unaligned_tuples_only_zero_rows() {
    // \pset format 'unaligned'
    // \pset tuples_only 'on'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("format", Some("unaligned")), ("tuples_only", Some("on"))],
        &[("a", 23), ("b", 25)],
        &[],
        "",
    );
}

#[test]
fn unaligned_separators() {
    // \pset format 'unaligned'
    // \pset fieldsep ','
    // \pset recordsep ';'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[
            ("format", Some("unaligned")),
            ("fieldsep", Some(",")),
            ("recordsep", Some(";")),
        ],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n,word;1,one;22,;(2 rows)\n",
    );
}

#[test]
fn unaligned_fieldsep_zero() {
    // \pset format 'unaligned'
    // \pset fieldsep_zero
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("fieldsep_zero", None)],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n\u{0}word\n1\u{0}one\n22\u{0}\n(2 rows)\n",
    );
}

#[test]
fn unaligned_recordsep_zero() {
    // \pset format 'unaligned'
    // \pset recordsep_zero
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("recordsep_zero", None)],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|word\u{0}1|one\u{0}22|\u{0}(2 rows)\u{0}",
    );
}

#[test]
fn unaligned_null_display() {
    // \pset format 'unaligned'
    // \pset null 'NULL'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("null", Some("NULL"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|word\n1|one\n22|NULL\n(2 rows)\n",
    );
}

#[test]
fn unaligned_title() {
    // \pset format 'unaligned'
    // \pset title 'T'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("title", Some("T"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "T\nn|word\n1|one\n22|\n(2 rows)\n",
    );
}

#[test]
fn unaligned_footer_off() {
    // \pset format 'unaligned'
    // \pset footer 'off'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("footer", Some("off"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|word\n1|one\n22|\n",
    );
}

#[test]
fn unaligned_expanded() {
    // \pset format 'unaligned'
    // \pset expanded 'on'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("unaligned")), ("expanded", Some("on"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|1\nword|one\n\nn|22\nword|\n",
    );
}

#[test]
fn unaligned_expanded_title() {
    // \pset format 'unaligned'
    // \pset expanded 'on'
    // \pset title 'T'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[
            ("format", Some("unaligned")),
            ("expanded", Some("on")),
            ("title", Some("T")),
        ],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "T\n\nn|1\nword|one\n\nn|22\nword|\n",
    );
}

#[test]
fn unaligned_expanded_zero_rows() {
    // \pset format 'unaligned'
    // \pset expanded 'on'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("format", Some("unaligned")), ("expanded", Some("on"))],
        &[("a", 23), ("b", 25)],
        &[],
        "",
    );
}

#[test]
fn unaligned_expanded_tuples_only() {
    // \pset format 'unaligned'
    // \pset x
    // \pset t
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("format", Some("unaligned")), ("x", None), ("t", None)],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[
            &[Some("1"), Some("first\nsecond line\nthird"), Some("x")],
            &[Some("2"), Some("short"), Some("two\nlines")],
        ],
        "id|1\nbody|first\nsecond line\nthird\ntail|x\n\nid|2\nbody|short\ntail|two\nlines\n",
    );
}

#[test]
fn unaligned_expanded_recordsep() {
    // \pset format 'unaligned'
    // \pset expanded 'on'
    // \pset recordsep '~'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[
            ("format", Some("unaligned")),
            ("expanded", Some("on")),
            ("recordsep", Some("~")),
        ],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n|1~word|one~~n|22~word|\n",
    );
}

#[test]
fn csv_basic() {
    // \pset format 'csv'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("csv"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n,word\n1,one\n22,\n",
    );
}

#[test]
fn csv_quoting() {
    // \pset format 'csv'
    // select 1 as a, E'x,y' as "b,c", E'q"q' as d, E'l1\nl2' as e, null as f, '\.' as g, E'cr\r' as h;
    check(
        &[("format", Some("csv"))],
        &[
            ("a", 23),
            ("b,c", 25),
            ("d", 25),
            ("e", 25),
            ("f", 25),
            ("g", 25),
            ("h", 25),
        ],
        &[&[
            Some("1"),
            Some("x,y"),
            Some("q\"q"),
            Some("l1\nl2"),
            None,
            Some("\\."),
            Some("cr\r"),
        ]],
        "a,\"b,c\",d,e,f,g,h\n1,\"x,y\",\"q\"\"q\",\"l1\nl2\",,\"\\.\",\"cr\r\"\n",
    );
}

#[test]
fn csv_multiline() {
    // \pset format 'csv'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("format", Some("csv"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[
            &[Some("1"), Some("first\nsecond line\nthird"), Some("x")],
            &[Some("2"), Some("short"), Some("two\nlines")],
        ],
        "id,body,tail\n1,\"first\nsecond line\nthird\",x\n2,short,\"two\nlines\"\n",
    );
}

#[test]
fn csv_zero_rows() {
    // \pset format 'csv'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("format", Some("csv"))],
        &[("a", 23), ("b", 25)],
        &[],
        "a,b\n",
    );
}

#[test]
fn csv_zero_columns() {
    // \pset format 'csv'
    // select;
    check(&[("format", Some("csv"))], &[], &[&[]], "\n");
}

#[test]
fn csv_tuples_only() {
    // \pset format 'csv'
    // \pset tuples_only 'on'
    // select 1 as a, E'x,y' as "b,c", E'q"q' as d, E'l1\nl2' as e, null as f, '\.' as g, E'cr\r' as h;
    check(
        &[("format", Some("csv")), ("tuples_only", Some("on"))],
        &[
            ("a", 23),
            ("b,c", 25),
            ("d", 25),
            ("e", 25),
            ("f", 25),
            ("g", 25),
            ("h", 25),
        ],
        &[&[
            Some("1"),
            Some("x,y"),
            Some("q\"q"),
            Some("l1\nl2"),
            None,
            Some("\\."),
            Some("cr\r"),
        ]],
        "1,\"x,y\",\"q\"\"q\",\"l1\nl2\",,\"\\.\",\"cr\r\"\n",
    );
}

#[test]
fn csv_separator() {
    // \pset format 'csv'
    // \pset csv_fieldsep ';'
    // select 1 as a, E'x,y' as "b,c", E'q"q' as d, E'l1\nl2' as e, null as f, '\.' as g, E'cr\r' as h;
    check(
        &[("format", Some("csv")), ("csv_fieldsep", Some(";"))],
        &[
            ("a", 23),
            ("b,c", 25),
            ("d", 25),
            ("e", 25),
            ("f", 25),
            ("g", 25),
            ("h", 25),
        ],
        &[&[
            Some("1"),
            Some("x,y"),
            Some("q\"q"),
            Some("l1\nl2"),
            None,
            Some("\\."),
            Some("cr\r"),
        ]],
        "a;b,c;d;e;f;g;h\n1;x,y;\"q\"\"q\";\"l1\nl2\";;\"\\.\";\"cr\r\"\n",
    );
}

#[test]
fn csv_separator_dot_quotes_all() {
    // \pset format 'csv'
    // \pset csv_fieldsep '.'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("format", Some("csv")), ("csv_fieldsep", Some("."))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "\"n\".\"word\"\n\"1\".\"one\"\n\"22\".\"\"\n",
    );
}

#[test]
fn csv_null_title_footer_ignored() {
    // \pset format 'csv'
    // \pset null 'N'
    // \pset title 'T'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[
            ("format", Some("csv")),
            ("null", Some("N")),
            ("title", Some("T")),
        ],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n,word\n1,one\n22,N\n",
    );
}

#[test]
fn csv_expanded() {
    // \pset format 'csv'
    // \pset expanded 'on'
    // select 1 as a, E'x,y' as "b,c", E'q"q' as d, E'l1\nl2' as e, null as f, '\.' as g, E'cr\r' as h;
    check(
        &[("format", Some("csv")), ("expanded", Some("on"))],
        &[
            ("a", 23),
            ("b,c", 25),
            ("d", 25),
            ("e", 25),
            ("f", 25),
            ("g", 25),
            ("h", 25),
        ],
        &[&[
            Some("1"),
            Some("x,y"),
            Some("q\"q"),
            Some("l1\nl2"),
            None,
            Some("\\."),
            Some("cr\r"),
        ]],
        "a,1\n\"b,c\",\"x,y\"\nd,\"q\"\"q\"\ne,\"l1\nl2\"\nf,\ng,\"\\.\"\nh,\"cr\r\"\n",
    );
}

#[test]
fn csv_expanded_zero_columns() {
    // \pset format 'csv'
    // \pset expanded 'on'
    // select;
    check(
        &[("format", Some("csv")), ("expanded", Some("on"))],
        &[],
        &[&[]],
        "",
    );
}

#[test]
fn unicode_basic() {
    // \pset linestyle 'unicode'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("linestyle", Some("unicode"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        " n  │ word \n────┼──────\n  1 │ one\n 22 │ \n(2 rows)\n\n",
    );
}

#[test]
fn unicode_multiline() {
    // \pset linestyle 'unicode'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("linestyle", Some("unicode"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        " id │    body     │ tail  \n────┼─────────────┼───────\n  1 │ first      ↵│ x\n    │ second line↵│ \n    │ third       │ \n  2 │ short       │ two  ↵\n    │             │ lines\n(2 rows)\n\n",
    );
}

#[test]
fn unicode_multiline_header() {
    // \pset linestyle 'unicode'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("linestyle", Some("unicode"))],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        " h1↵│ n \n h2 │   \n────┼───\n a ↵│ 3\n b ↵│ \n c  │ \n(1 row)\n\n",
    );
}

#[test]
fn unicode_border0() {
    // \pset linestyle 'unicode'
    // \pset border '0'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("linestyle", Some("unicode")), ("border", Some("0"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "id    body     tail  \n── ─────────── ─────\n 1 first      ↵x\n   second line↵\n   third       \n 2 short       two  ↵\n               lines\n(2 rows)\n\n",
    );
}

#[test]
fn unicode_border2() {
    // \pset linestyle 'unicode'
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("linestyle", Some("unicode")), ("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "┌────┬─────────────┬───────┐\n│ id │    body     │ tail  │\n├────┼─────────────┼───────┤\n│  1 │ first      ↵│ x     │\n│    │ second line↵│       │\n│    │ third       │       │\n│  2 │ short       │ two  ↵│\n│    │             │ lines │\n└────┴─────────────┴───────┘\n(2 rows)\n\n",
    );
}

#[test]
fn unicode_border2_zero_columns() {
    // \pset linestyle 'unicode'
    // \pset border '2'
    // select;
    check(
        &[("linestyle", Some("unicode")), ("border", Some("2"))],
        &[],
        &[&[]],
        "┌──┐\n├──┤\n└──┘\n(1 row)\n\n",
    );
}

#[test]
fn unicode_border2_tuples_only() {
    // \pset linestyle 'unicode'
    // \pset border '2'
    // \pset t
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[
            ("linestyle", Some("unicode")),
            ("border", Some("2")),
            ("t", None),
        ],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "│  1 │ one  │\n│ 22 │      │\n└────┴──────┘\n\n",
    );
}

#[test]
fn unicode_expanded() {
    // \pset linestyle 'unicode'
    // \pset x
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("linestyle", Some("unicode")), ("x", None)],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "─[ RECORD 1 ]─────\nid   │ 1\nbody │ first      ↵\n     │ second line↵\n     │ third\ntail │ x\n─[ RECORD 2 ]─────\nid   │ 2\nbody │ short\ntail │ two        ↵\n     │ lines\n\n",
    );
}

#[test]
fn unicode_expanded_multiline_header() {
    // \pset linestyle 'unicode'
    // \pset x
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("linestyle", Some("unicode")), ("x", None)],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "─[ RECORD 1 ]\nh1↵│ a↵\nh2 │ b↵\n   │ c\nn  │ 3\n\n",
    );
}

#[test]
fn unicode_expanded_border0() {
    // \pset linestyle 'unicode'
    // \pset x
    // \pset border '0'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[
            ("linestyle", Some("unicode")),
            ("x", None),
            ("border", Some("0")),
        ],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "* Record 1\nh1↵ a↵\nh2  b↵\n    c\nn   3\n\n",
    );
}

#[test]
fn unicode_expanded_border2() {
    // \pset linestyle 'unicode'
    // \pset x
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("linestyle", Some("unicode")), ("x", None), ("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "┌─[ RECORD 1 ]───────┐\n│ id   │ 1           │\n│ body │ first      ↵│\n│      │ second line↵│\n│      │ third       │\n│ tail │ x           │\n├─[ RECORD 2 ]───────┤\n│ id   │ 2           │\n│ body │ short       │\n│ tail │ two        ↵│\n│      │ lines       │\n└──────┴─────────────┘\n\n",
    );
}

#[test]
fn unicode_expanded_border2_multiline_header() {
    // \pset linestyle 'unicode'
    // \pset x
    // \pset border '2'
    // select 1 as "multi
    // line", 2 as "x";
    check(
        &[
            ("linestyle", Some("unicode")),
            ("x", None),
            ("border", Some("2")),
        ],
        &[("multi\nline", 23), ("x", 23)],
        &[&[Some("1"), Some("2")]],
        "┌─[ RECORD 1 ]─┐\n│ multi↵│ 1 │\n│ line  │   │\n│ x     │ 2 │\n└───────┴───┘\n\n",
    );
}

#[test]
fn unicode_expanded_border2_tuples_only() {
    // \pset linestyle 'unicode'
    // \pset x
    // \pset border '2'
    // \pset t
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("linestyle", Some("unicode")), ("x", None), ("border", Some("2")), ("t", None)],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "┌──────┬─────┐\n│ n    │ 1   │\n│ word │ one │\n├──────┼─────┤\n│ n    │ 22  │\n│ word │     │\n└──────┴─────┘\n\n",
    );
}

#[test]
fn expanded_basic() {
    // \pset expanded 'on'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "-[ RECORD 1 ]\nn    | 1\nword | one\n-[ RECORD 2 ]\nn    | 22\nword | \n\n",
    );
}

#[test]
fn expanded_zero_rows() {
    // \pset expanded 'on'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("expanded", Some("on"))],
        &[("a", 23), ("b", 25)],
        &[],
        "(0 rows)\n\n",
    );
}

#[test]
fn expanded_zero_columns() {
    // \pset expanded 'on'
    // select;
    check(&[("expanded", Some("on"))], &[], &[&[]], "(1 row)\n\n");
}

#[test]
fn expanded_zero_columns_zero_rows() {
    // \pset expanded 'on'
    // select where false;
    check(&[("expanded", Some("on"))], &[], &[], "(0 rows)\n\n");
}

#[test]
fn expanded_multiline_values() {
    // \pset expanded 'on'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("expanded", Some("on"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "-[ RECORD 1 ]-----\nid   | 1\nbody | first      +\n     | second line+\n     | third\ntail | x\n-[ RECORD 2 ]-----\nid   | 2\nbody | short\ntail | two        +\n     | lines\n\n",
    );
}

#[test]
fn expanded_multiline_header() {
    // \pset expanded 'on'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("expanded", Some("on"))],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "-[ RECORD 1 ]\nh1+| a+\nh2 | b+\n   | c\nn  | 3\n\n",
    );
}

#[test]
fn expanded_multiline_header_short_data() {
    // \pset expanded 'on'
    // select 1 as "multi
    // line", 2 as "x";
    check(
        &[("expanded", Some("on"))],
        &[("multi\nline", 23), ("x", 23)],
        &[&[Some("1"), Some("2")]],
        "-[ RECORD 1 ]\nmulti+| 1\nline  |\nx     | 2\n\n",
    );
}

#[test]
fn expanded_narrow_data_many_rows() {
    // \pset expanded 'on'
    // select g as n from generate_series(1, 11) g;
    check(
        &[("expanded", Some("on"))],
        &[("n", 23)],
        &[&[Some("1")], &[Some("2")], &[Some("3")], &[Some("4")], &[Some("5")], &[Some("6")], &[Some("7")], &[Some("8")], &[Some("9")], &[Some("10")], &[Some("11")]],
        "-[ RECORD 1 ]\nn | 1\n-[ RECORD 2 ]\nn | 2\n-[ RECORD 3 ]\nn | 3\n-[ RECORD 4 ]\nn | 4\n-[ RECORD 5 ]\nn | 5\n-[ RECORD 6 ]\nn | 6\n-[ RECORD 7 ]\nn | 7\n-[ RECORD 8 ]\nn | 8\n-[ RECORD 9 ]\nn | 9\n-[ RECORD 10 ]\nn | 10\n-[ RECORD 11 ]\nn | 11\n\n",
    );
}

#[test]
fn expanded_wrapped_narrow_data() {
    // \pset format 'wrapped'
    // \pset expanded 'on'
    // select 1 as n;
    check(
        &[("format", Some("wrapped")), ("expanded", Some("on"))],
        &[("n", 23)],
        &[&[Some("1")]],
        "-[ RECORD 1 ]\nn | 1\n\n",
    );
}

#[test]
fn expanded_wrapped_narrow_data_border2() {
    // \pset format 'wrapped'
    // \pset expanded 'on'
    // \pset border '2'
    // select 1 as n;
    check(
        &[
            ("format", Some("wrapped")),
            ("expanded", Some("on")),
            ("border", Some("2")),
        ],
        &[("n", 23)],
        &[&[Some("1")]],
        "+-[ RECORD 1 ]-+\n| n | 1        |\n+---+----------+\n\n",
    );
}

#[test]
fn expanded_wrapped_narrow_data_border0() {
    // \pset format 'wrapped'
    // \pset expanded 'on'
    // \pset border '0'
    // select g as n from generate_series(1, 10) g;
    check(
        &[("format", Some("wrapped")), ("expanded", Some("on")), ("border", Some("0"))],
        &[("n", 23)],
        &[&[Some("1")], &[Some("2")], &[Some("3")], &[Some("4")], &[Some("5")], &[Some("6")], &[Some("7")], &[Some("8")], &[Some("9")], &[Some("10")]],
        "* Record 1\nn 1\n* Record 2\nn 2\n* Record 3\nn 3\n* Record 4\nn 4\n* Record 5\nn 5\n* Record 6\nn 6\n* Record 7\nn 7\n* Record 8\nn 8\n* Record 9\nn 9\n* Record 10\nn 10\n\n",
    );
}

#[test]
fn expanded_long_values() {
    // \pset expanded 'on'
    // select 1 as a_very_long_column_name, 'v' as b;
    check(
        &[("expanded", Some("on"))],
        &[("a_very_long_column_name", 23), ("b", 25)],
        &[&[Some("1"), Some("v")]],
        "-[ RECORD 1 ]-----------+--\na_very_long_column_name | 1\nb                       | v\n\n",
    );
}

#[test]
fn expanded_wide_characters() {
    // \pset expanded 'on'
    // select '日本語' as jp, 'ascii' as a union all select 'x', '中文字符';
    check(
        &[("expanded", Some("on"))],
        &[("jp", 25), ("a", 25)],
        &[
            &[Some("日本語"), Some("ascii")],
            &[Some("x"), Some("中文字符")],
        ],
        "-[ RECORD 1 ]\njp | 日本語\na  | ascii\n-[ RECORD 2 ]\njp | x\na  | 中文字符\n\n",
    );
}

#[test]
fn expanded_null_display() {
    // \pset expanded 'on'
    // \pset null '<null>'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("null", Some("<null>"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "-[ RECORD 1 ]\nn    | 1\nword | one\n-[ RECORD 2 ]\nn    | 22\nword | <null>\n\n",
    );
}

#[test]
fn expanded_title() {
    // \pset expanded 'on'
    // \pset title 'T'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("title", Some("T"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "T\n-[ RECORD 1 ]\nn    | 1\nword | one\n-[ RECORD 2 ]\nn    | 22\nword | \n\n",
    );
}

#[test]
fn expanded_footer_off_zero_rows() {
    // \pset expanded 'on'
    // \pset footer 'off'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("expanded", Some("on")), ("footer", Some("off"))],
        &[("a", 23), ("b", 25)],
        &[],
        "\n",
    );
}

#[test]
fn expanded_border0() {
    // \pset expanded 'on'
    // \pset border '0'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("border", Some("0"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "* Record 1\nn    1\nword one\n* Record 2\nn    22\nword \n\n",
    );
}

#[test]
fn expanded_border0_multiline() {
    // \pset expanded 'on'
    // \pset border '0'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("expanded", Some("on")), ("border", Some("0"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "* Record 1     \nid   1\nbody first      +\n     second line+\n     third\ntail x\n* Record 2     \nid   2\nbody short\ntail two        +\n     lines\n\n",
    );
}

#[test]
fn expanded_border0_multiline_header() {
    // \pset expanded 'on'
    // \pset border '0'
    // select E'a\nb\nc' as "h1
    // h2", 3 as n;
    check(
        &[("expanded", Some("on")), ("border", Some("0"))],
        &[("h1\nh2", 25), ("n", 23)],
        &[&[Some("a\nb\nc"), Some("3")]],
        "* Record 1\nh1+ a+\nh2  b+\n    c\nn   3\n\n",
    );
}

#[test]
fn expanded_border2() {
    // \pset expanded 'on'
    // \pset border '2'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("border", Some("2"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "+-[ RECORD 1 ]-+\n| n    | 1   |\n| word | one |\n+-[ RECORD 2 ]-+\n| n    | 22  |\n| word |     |\n+------+-----+\n\n",
    );
}

#[test]
fn expanded_border2_multiline() {
    // \pset expanded 'on'
    // \pset border '2'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("expanded", Some("on")), ("border", Some("2"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "+-[ RECORD 1 ]-------+\n| id   | 1           |\n| body | first      +|\n|      | second line+|\n|      | third       |\n| tail | x           |\n+-[ RECORD 2 ]-------+\n| id   | 2           |\n| body | short       |\n| tail | two        +|\n|      | lines       |\n+------+-------------+\n\n",
    );
}

#[test]
fn expanded_border2_multiline_header() {
    // \pset expanded 'on'
    // \pset border '2'
    // select 1 as "multi
    // line", 2 as "x";
    check(
        &[("expanded", Some("on")), ("border", Some("2"))],
        &[("multi\nline", 23), ("x", 23)],
        &[&[Some("1"), Some("2")]],
        "+-[ RECORD 1 ]-+\n| multi+| 1 |\n| line  |   |\n| x     | 2 |\n+-------+---+\n\n",
    );
}

#[test]
fn expanded_border2_zero_rows() {
    // \pset expanded 'on'
    // \pset border '2'
    // select 1 as a, 'b'::text as b where false;
    check(
        &[("expanded", Some("on")), ("border", Some("2"))],
        &[("a", 23), ("b", 25)],
        &[],
        "(0 rows)\n\n",
    );
}

#[test]
fn expanded_tuples_only() {
    // \pset expanded 'on'
    // \pset tuples_only 'on'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("tuples_only", Some("on"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "n    | 1\nword | one\n-----+----\nn    | 22\nword | \n\n",
    );
}

#[test]
fn expanded_tuples_only_border2() {
    // \pset expanded 'on'
    // \pset tuples_only 'on'
    // \pset border '2'
    // select 1 as n, 'one' as word union all select 22, null;
    check(
        &[("expanded", Some("on")), ("tuples_only", Some("on")), ("border", Some("2"))],
        &[("n", 23), ("word", 25)],
        &[&[Some("1"), Some("one")], &[Some("22"), None]],
        "+------+-----+\n| n    | 1   |\n| word | one |\n+------+-----+\n| n    | 22  |\n| word |     |\n+------+-----+\n\n",
    );
}

#[test]
fn expanded_tuples_only_border0() {
    // \pset expanded 'on'
    // \pset tuples_only 'on'
    // \pset border '0'
    // select 1 as id, E'first\nsecond line\nthird' as body, 'x' as tail union all select 2, 'short', E'two\nlines';
    check(
        &[("expanded", Some("on")), ("tuples_only", Some("on")), ("border", Some("0"))],
        &[("id", 23), ("body", 25), ("tail", 25)],
        &[&[Some("1"), Some("first\nsecond line\nthird"), Some("x")], &[Some("2"), Some("short"), Some("two\nlines")]],
        "id   1\nbody first      +\n     second line+\n     third\ntail x\n               \nid   2\nbody short\ntail two        +\n     lines\n\n",
    );
}

#[test]
fn expanded_tabs_and_controls() {
    // \pset expanded 'on'
    // select E'a\x01b' as c1, E'cr\rhere' as c2, chr(127) as del, chr(128) as c1ctl, E'\x1b[0m' as esc;
    check(
        &[("expanded", Some("on"))],
        &[("c1", 25), ("c2", 25), ("del", 25), ("c1ctl", 25), ("esc", 25)],
        &[&[Some("a\u{1}b"), Some("cr\rhere"), Some("\u{7f}"), Some("\u{80}"), Some("\u{1b}[0m")]],
        "-[ RECORD 1 ]---\nc1    | a\\x01b\nc2    | cr\\rhere\ndel   | \\x7F\nc1ctl | \\u0080\nesc   | \\x1B[0m\n\n",
    );
}

#[test]
fn expanded_border0_single_space_name() {
    // \pset expanded 'on'
    // \pset border '0'
    // select 1 as " ", E'a\nb' as "x";
    check(
        &[("expanded", Some("on")), ("border", Some("0"))],
        &[(" ", 23), ("x", 25)],
        &[&[Some("1"), Some("a\nb")]],
        "* Record 1\n  1\nx a+\n  b\n\n",
    );
}

/// Applies each `\pset` and compares what psql prints for them when `QUIET` is off.
fn check_pset(commands: &[(&str, Option<&str>)], expected: &str) {
    let mut options = PrintOptions::default();
    let mut out = String::new();
    for (option, value) in commands {
        match options.set(option, *value) {
            Ok(Some(status)) => out.push_str(&status),
            Ok(None) => continue,
            Err(error) => out.push_str(&error.to_string()),
        }
        out.push('\n');
    }
    assert_eq!(out, expected, "\nspawn:\n{out}\npsql:\n{expected}");
}

#[test]
fn pset_border() {
    // \pset border '2'
    // \pset border
    // \pset border '0'
    // \pset border '7'
    // \pset border 'x'
    // \pset border '1x'
    // \pset border '-1'
    // \pset border ' 3'
    check_pset(&[("border", Some("2")), ("border", None), ("border", Some("0")), ("border", Some("7")), ("border", Some("x")), ("border", Some("1x")), ("border", Some("-1")), ("border", Some(" 3"))], "Border style is 2.\nBorder style is 2.\nBorder style is 0.\nBorder style is 7.\nBorder style is 0.\nBorder style is 1.\nBorder style is 65535.\nBorder style is 3.\n");
}

#[test]
fn pset_format() {
    // \pset format 'unaligned'
    // \pset format
    // \pset format 'u'
    // \pset format 'ALIGNED'
    // \pset format 'w'
    // \pset format 'Un'
    check_pset(&[("format", Some("unaligned")), ("format", None), ("format", Some("u")), ("format", Some("ALIGNED")), ("format", Some("w")), ("format", Some("Un"))], "Output format is unaligned.\nOutput format is unaligned.\nOutput format is unaligned.\nOutput format is aligned.\nOutput format is wrapped.\nOutput format is unaligned.\n");
}

#[test]
fn pset_format_errors() {
    // \pset format 'a'
    // \pset format 'bogus'
    // \pset format ''
    // \pset format 'x'
    check_pset(&[("format", Some("a")), ("format", Some("bogus")), ("format", Some("")), ("format", Some("x"))], "\\pset: ambiguous abbreviation \"a\" matches both \"aligned\" and \"asciidoc\"\n\\pset: allowed formats are aligned, asciidoc, csv, html, latex, latex-longtable, troff-ms, unaligned, wrapped\n\\pset: ambiguous abbreviation \"\" matches both \"aligned\" and \"asciidoc\"\n\\pset: allowed formats are aligned, asciidoc, csv, html, latex, latex-longtable, troff-ms, unaligned, wrapped\n");
}

#[test]
fn pset_expanded() {
    // \pset expanded
    // \pset expanded
    // \pset expanded 'auto'
    // \pset expanded
    // \pset expanded 'on'
    // \pset expanded 'off'
    // \pset expanded 'AUTO'
    // \pset expanded 'TRUE'
    // \pset expanded '0'
    // \pset expanded 'of'
    // \pset x 'yes'
    check_pset(&[("expanded", None), ("expanded", None), ("expanded", Some("auto")), ("expanded", None), ("expanded", Some("on")), ("expanded", Some("off")), ("expanded", Some("AUTO")), ("expanded", Some("TRUE")), ("expanded", Some("0")), ("expanded", Some("of")), ("x", Some("yes"))], "Expanded display is on.\nExpanded display is off.\nExpanded display is used automatically.\nExpanded display is off.\nExpanded display is on.\nExpanded display is off.\nExpanded display is used automatically.\nExpanded display is on.\nExpanded display is off.\nExpanded display is off.\nExpanded display is on.\n");
}

#[test]
fn pset_expanded_errors() {
    // \pset expanded 'bogus'
    // \pset expanded 'o'
    // \pset expanded ''
    check_pset(&[("expanded", Some("bogus")), ("expanded", Some("o")), ("expanded", Some(""))], "unrecognized value \"bogus\" for \"expanded\"\nAvailable values are: on, off, auto.\nunrecognized value \"o\" for \"expanded\"\nAvailable values are: on, off, auto.\nunrecognized value \"\" for \"expanded\"\nAvailable values are: on, off, auto.\n");
}

#[test]
fn backslash_x() {
    // \x
    // \x 'auto'
    // \x
    // \x 'on'
    // \x 'bogus'
    check_pset(&[("expanded", None), ("expanded", Some("auto")), ("expanded", None), ("expanded", Some("on")), ("expanded", Some("bogus"))], "Expanded display is on.\nExpanded display is used automatically.\nExpanded display is off.\nExpanded display is on.\nunrecognized value \"bogus\" for \"expanded\"\nAvailable values are: on, off, auto.\n");
}

#[test]
fn pset_null() {
    // \pset null
    // \pset null '(null)'
    // \pset null
    // \pset null 'a"b'
    // \pset null ''
    check_pset(&[("null", None), ("null", Some("(null)")), ("null", None), ("null", Some("a\"b")), ("null", Some(""))], "Null display is \"\".\nNull display is \"(null)\".\nNull display is \"(null)\".\nNull display is \"a\"b\".\nNull display is \"\".\n");
}

#[test]
fn pset_separators() {
    // \pset fieldsep ','
    // \pset fieldsep
    // \pset fieldsep ''
    // \pset fieldsep_zero
    // \pset fieldsep '|'
    // \pset recordsep ';'
    // \pset recordsep '\n'
    // \pset recordsep
    // \pset recordsep_zero
    // \pset recordsep 'x'
    check_pset(&[("fieldsep", Some(",")), ("fieldsep", None), ("fieldsep", Some("")), ("fieldsep_zero", None), ("fieldsep", Some("|")), ("recordsep", Some(";")), ("recordsep", Some("\n")), ("recordsep", None), ("recordsep_zero", None), ("recordsep", Some("x"))], "Field separator is \",\".\nField separator is \",\".\nField separator is \"\".\nField separator is zero byte.\nField separator is \"|\".\nRecord separator is \";\".\nRecord separator is <newline>.\nRecord separator is <newline>.\nRecord separator is zero byte.\nRecord separator is \"x\".\n");
}

#[test]
fn pset_tuples_only() {
    // \pset tuples_only
    // \pset tuples_only
    // \pset tuples_only 'on'
    // \pset t
    // \pset tuples_only 'off'
    // \pset t
    // \pset tuples_only 'maybe'
    // \pset tuples_only ''
    check_pset(&[("tuples_only", None), ("tuples_only", None), ("tuples_only", Some("on")), ("t", None), ("tuples_only", Some("off")), ("t", None), ("tuples_only", Some("maybe")), ("tuples_only", Some(""))], "Tuples only is on.\nTuples only is off.\nTuples only is off.\nTuples only is on.\nunrecognized value \"maybe\" for \"tuples_only\": Boolean expected\nunrecognized value \"\" for \"tuples_only\": Boolean expected\n");
}

#[test]
fn backslash_t() {
    // \t
    // \t
    // \t 'on'
    // \t 'nope'
    check_pset(&[("tuples_only", None), ("tuples_only", None), ("tuples_only", Some("on")), ("tuples_only", Some("nope"))], "Tuples only is on.\nTuples only is off.\nunrecognized value \"nope\" for \"tuples_only\": Boolean expected\n");
}

#[test]
fn pset_footer() {
    // \pset footer
    // \pset footer
    // \pset footer 'off'
    // \pset footer
    // \pset footer 'nah'
    check_pset(&[("footer", None), ("footer", None), ("footer", Some("off")), ("footer", None), ("footer", Some("nah"))], "Default footer is off.\nDefault footer is on.\nDefault footer is on.\nunrecognized value \"nah\" for \"footer\": Boolean expected\n");
}

#[test]
fn pset_title() {
    // \pset title 'hello'
    // \pset title
    // \pset title
    // \pset title 'a b'
    check_pset(
        &[
            ("title", Some("hello")),
            ("title", None),
            ("title", None),
            ("title", Some("a b")),
        ],
        "Title is \"hello\".\nTitle is unset.\nTitle is unset.\nTitle is \"a b\".\n",
    );
}

#[test]
fn pset_tableattr() {
    // \pset tableattr 'x=1'
    // \pset T
    // \pset tableattr
    check_pset(
        &[("tableattr", Some("x=1")), ("T", None), ("tableattr", None)],
        "Table attributes are \"x=1\".\nTable attributes unset.\nTable attributes unset.\n",
    );
}

#[test]
fn pset_pager() {
    // \pset pager 'off'
    // \pset pager 'on'
    // \pset pager 'always'
    // \pset pager
    // \pset pager
    // \pset pager 'bad'
    check_pset(&[("pager", Some("off")), ("pager", Some("on")), ("pager", Some("always")), ("pager", None), ("pager", None), ("pager", Some("bad"))], "Pager usage is off.\nPager is used for long output.\nPager is always used.\nPager is used for long output.\nPager usage is off.\nunrecognized value \"bad\" for \"pager\"\nAvailable values are: on, off, always.\n");
}

#[test]
fn pset_csv_fieldsep() {
    // \pset csv_fieldsep ';'
    // \pset csv_fieldsep
    // \pset csv_fieldsep ';;'
    // \pset csv_fieldsep '"'
    // \pset csv_fieldsep ''
    // \pset csv_fieldsep 'é'
    // \pset csv_fieldsep '\n'
    // \pset format 'csv'
    // \pset format 'c'
    check_pset(&[("csv_fieldsep", Some(";")), ("csv_fieldsep", None), ("csv_fieldsep", Some(";;")), ("csv_fieldsep", Some("\"")), ("csv_fieldsep", Some("")), ("csv_fieldsep", Some("é")), ("csv_fieldsep", Some("\n")), ("format", Some("csv")), ("format", Some("c"))], "Field separator for CSV is \";\".\nField separator for CSV is \";\".\n\\pset: csv_fieldsep must be a single one-byte character\n\\pset: csv_fieldsep cannot be a double quote, a newline, or a carriage return\n\\pset: csv_fieldsep must be a single one-byte character\n\\pset: csv_fieldsep must be a single one-byte character\n\\pset: csv_fieldsep cannot be a double quote, a newline, or a carriage return\nOutput format is csv.\nOutput format is csv.\n");
}

#[test]
fn pset_linestyle() {
    // \pset linestyle 'u'
    // \pset linestyle
    // \pset linestyle ''
    // \pset linestyle 'x'
    // \pset linestyle 'UNICODE'
    // \pset linestyle 'ascii'
    check_pset(&[("linestyle", Some("u")), ("linestyle", None), ("linestyle", Some("")), ("linestyle", Some("x")), ("linestyle", Some("UNICODE")), ("linestyle", Some("ascii"))], "Line style is unicode.\nLine style is unicode.\nLine style is ascii.\n\\pset: allowed line styles are ascii, old-ascii, unicode\nLine style is unicode.\nLine style is ascii.\n");
}

#[test]
fn pset_unknown_options() {
    // \pset bogus '1'
    // \pset Border '2'
    // \pset tuples 'on'
    check_pset(&[("bogus", Some("1")), ("Border", Some("2")), ("tuples", Some("on"))], "\\pset: unknown option: bogus\n\\pset: unknown option: Border\n\\pset: unknown option: tuples\n");
}

#[test]
fn pset_listing_defaults() {
    // \pset pager off
    // \pset
    let mut options = PrintOptions::default();
    options.set("pager", Some("off")).expect("pager off");
    for (option, value) in [] {
        options.set(option, value).expect("a valid \\\\pset");
    }
    assert_eq!(pset_listing(&options), "border                   1\ncolumns                  0\ncsv_fieldsep             ','\nexpanded                 off\nfieldsep                 '|'\nfieldsep_zero            off\nfooter                   on\nformat                   aligned\nlinestyle                ascii\nnull                     ''\nnumericlocale            off\npager                    0\npager_min_lines          0\nrecordsep                '\\n'\nrecordsep_zero           off\ntableattr                \ntitle                    \ntuples_only              off\nunicode_border_linestyle single\nunicode_column_linestyle single\nunicode_header_linestyle single\n");
}

#[test]
fn pset_listing_changed() {
    // \pset pager off
    // \pset fieldsep ';'
    // \pset fieldsep_zero
    // \pset null 'a\'b\\c'
    // \pset title 'x\ny'
    // \pset tableattr 't'
    // \pset x 'auto'
    // \pset linestyle 'unicode'
    // \pset format 'csv'
    // \pset recordsep_zero
    // \pset border '2'
    // \pset t
    // \pset footer 'off'
    // \pset csv_fieldsep ';'
    // \pset
    let mut options = PrintOptions::default();
    options.set("pager", Some("off")).expect("pager off");
    for (option, value) in [
        ("fieldsep", Some(";")),
        ("fieldsep_zero", None),
        ("null", Some("a'b\\c")),
        ("title", Some("x\ny")),
        ("tableattr", Some("t")),
        ("x", Some("auto")),
        ("linestyle", Some("unicode")),
        ("format", Some("csv")),
        ("recordsep_zero", None),
        ("border", Some("2")),
        ("t", None),
        ("footer", Some("off")),
        ("csv_fieldsep", Some(";")),
    ] {
        options.set(option, value).expect("a valid \\\\pset");
    }
    assert_eq!(pset_listing(&options), "border                   2\ncolumns                  0\ncsv_fieldsep             ';'\nexpanded                 auto\nfieldsep                 ''\nfieldsep_zero            on\nfooter                   off\nformat                   csv\nlinestyle                unicode\nnull                     'a\\'b\\c'\nnumericlocale            off\npager                    0\npager_min_lines          0\nrecordsep                ''\nrecordsep_zero           on\ntableattr                't'\ntitle                    'x\\ny'\ntuples_only              on\nunicode_border_linestyle single\nunicode_column_linestyle single\nunicode_header_linestyle single\n");
}

#[test]
fn pset_listing_separators() {
    // \pset pager off
    // \pset fieldsep ','
    // \pset recordsep 'x\n'
    // \pset
    let mut options = PrintOptions::default();
    options.set("pager", Some("off")).expect("pager off");
    for (option, value) in [("fieldsep", Some(",")), ("recordsep", Some("x\n"))] {
        options.set(option, value).expect("a valid \\\\pset");
    }
    assert_eq!(pset_listing(&options), "border                   1\ncolumns                  0\ncsv_fieldsep             ','\nexpanded                 off\nfieldsep                 ','\nfieldsep_zero            off\nfooter                   on\nformat                   aligned\nlinestyle                ascii\nnull                     ''\nnumericlocale            off\npager                    0\npager_min_lines          0\nrecordsep                'x\\n'\nrecordsep_zero           off\ntableattr                \ntitle                    \ntuples_only              off\nunicode_border_linestyle single\nunicode_column_linestyle single\nunicode_header_linestyle single\n");
}
