//! TOML-like text for the property tests of TOML parsers: lines of keys, tables and values of
//! every kind, valid or not (bad escapes, unterminated strings, stray brackets), comments and
//! junk, so that a parser sees whole documents as well as near misses.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Pieces of text that mean something to a TOML lexer.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "=", "[", "]", "[[", "]]", "{", "}", ",", ".", "\"", "'", "\"\"\"", "'''", "\\", "\\u",
    "\\U0001F600", "\\x", "#", "\n", "\r", "\r\n", "\t", " ", "é", "😀", "\u{feff}", "\0",
    "\u{7f}", "\u{1b}", "1979-05-27", "T07:32:00Z", "inf", "nan", "0x1F", "1e3", "+", "-", "_",
];

fn junk() -> impl Strategy<Value = String> {
    super::text_of(PIECES, 6)
}

/// A string value: basic, literal or multi-line, with valid and invalid escapes.
fn string() -> impl Strategy<Value = String> {
    let escape = select(
        &[
            "\\\"",
            "\\\\",
            "\\n",
            "\\t",
            "\\u00e9",
            "\\U0001F600",
            "\\q",
            "\\u12",
        ][..],
    );
    let basic = vec(prop_oneof![junk(), escape.prop_map(str::to_owned)], 0..3)
        .prop_map(|parts| format!("\"{}\"", parts.concat().replace(['"', '\n', '\r'], "")));
    prop_oneof![
        2 => basic,
        1 => junk().prop_map(|j| format!("'{}'", j.replace(['\'', '\n', '\r'], ""))),
        1 => junk().prop_map(|j| format!("\"\"\"{j}\"\"\"")),
        1 => junk().prop_map(|j| format!("'''{j}'''")),
        1 => "[0-9a-fA-F]{32}|[0-9a-f]{64}".prop_map(|hex| format!("\"{hex}\"")),
        1 => select(&["\"Blob\"", "\"Tree\"", "\"prod\"", "\".\"", "\"/abs\""][..]).prop_map(str::to_owned),
    ]
}

/// A value of any kind, arrays and inline tables included, or junk.
fn value(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => string(),
        1 => "-?[0-9_]{1,6}(\\.[0-9]{1,3})?",
        1 => select(&["true", "false", "1979-05-27T07:32:00Z", "inf", "[]", "{}"][..]).prop_map(str::to_owned),
        1 => junk(),
    ];
    leaf.prop_recursive(3, 12, 3, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
            vec((key(keys), inner), 0..3).prop_map(|pairs| {
                let pairs: Vec<_> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            }),
        ]
    })
}

/// A key: one of `keys`, a bare or quoted key, or a dotted one.
fn key(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(keys).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_-]{1,6}",
        1 => junk().prop_map(|j| format!("\"{}\"", j.replace(['"', '\\', '\n', '\r'], ""))),
        1 => (select(keys), "[a-z]{1,4}").prop_map(|(k, sub)| format!("{k}.{sub}")),
    ]
}

/// A document of lines built from `keys` (which the parser under test knows) and junk.
pub fn toml_text(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => (key(keys), select(&[" = ", "=", " ", " == "][..]), value(keys))
            .prop_map(|(k, eq, v)| format!("{k}{eq}{v}")),
        2 => key(keys).prop_map(|k| format!("[{k}]")),
        1 => key(keys).prop_map(|k| format!("[[{k}]]")),
        1 => junk().prop_map(|j| format!("# {}", j.replace(['\n', '\r'], ""))),
        1 => junk(),
    ];
    (vec(line, 0..10), select(&["\n", "\r\n"][..])).prop_map(|(lines, newline)| lines.join(newline))
}
