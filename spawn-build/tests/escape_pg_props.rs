//! Property test of the renderer's SQL escaping against a real PostgreSQL
//! (`spawn_build::render::escape`): for random strings — any Unicode but NUL, heavy in
//! backslashes, quotes, `$`, comment markers and line breaks — the server reads back exactly
//! the value that was escaped:
//!
//! * `SELECT <quote_literal(s)>` returns `s`;
//! * `SELECT … AS <quote_identifier(s)>` names its column `s`, or, for an `s` longer than
//!   63 bytes, its longest prefix of at most 63 bytes that ends on a character boundary
//!   (PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes, keeping whole characters);
//!
//! both with `standard_conforming_strings` on (the default) and off, since `quote_literal`
//! writes `E'…'` for text with a backslash precisely so that it reads the same under both.
//! NUL is left out because PostgreSQL text cannot hold it, and the empty identifier because
//! PostgreSQL has none (`""` is a syntax error whatever the quoting).
//!
//! Each case sends one query per setting with a batch of values, as `SELECT <literal> AS
//! <identifier>, …`. The server is the harness's (`spawn_tests`); reproducing a failure: see
//! `support/mod.rs`.

mod support;

use std::cell::RefCell;

use proptest::collection::vec;
use proptest::prelude::*;
use spawn_build::render::escape::{quote_identifier, quote_literal};
use sqlx::{Column, PgConnection, Row};

/// PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Text that escaping has to get right.
#[rustfmt::skip]
const TRICKY: &[&str] = &[
    "\\", "\\\\", "'", "''", "\\'", "\"", "\"\"", "$", "$$", "$a$", "E'", "U&'", "\n", "\r\n",
    "\r", "\t", "--", "/*", "*/", ";", " ", "é", "日本", "😀", "\u{feff}", "\u{7f}", "\u{1b}",
    "\u{2028}", "\\x41", "\\u0041", "%s", "?", "$1",
];

/// Any text without NUL, often full of [`TRICKY`] pieces.
fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    support::text_of(TRICKY, max_pieces).prop_map(|text| text.replace('\0', ""))
}

/// The name PostgreSQL gives an identifier: at most 63 bytes, cut at a character boundary.
fn truncated(identifier: &str) -> &str {
    let mut end = identifier.len().min(MAX_IDENTIFIER_BYTES);
    while !identifier.is_char_boundary(end) {
        end -= 1;
    }
    &identifier[..end]
}

/// Values and names for one batch: short names mostly, and some too long to keep.
fn batch() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        4 => text(8),
        1 => text(40),
    ]
    .prop_filter("PostgreSQL has no empty identifier", |name| {
        !name.is_empty()
    });
    vec((text(12), name), 1..16)
}

/// Runs the batch as one `SELECT` and checks every value and column name.
async fn check_batch(
    connection: &mut PgConnection,
    batch: &[(String, String)],
) -> Result<(), TestCaseError> {
    let columns: Vec<String> = batch
        .iter()
        .map(|(value, name)| format!("{} AS {}", quote_literal(value), quote_identifier(name)))
        .collect();
    let sql = format!("SELECT {}", columns.join(", "));
    let row = sqlx::raw_sql(&sql)
        .fetch_one(&mut *connection)
        .await
        .map_err(|e| TestCaseError::fail(format!("{sql}: {e}")))?;
    for (i, (value, name)) in batch.iter().enumerate() {
        let read: String = row
            .try_get(i)
            .map_err(|e| TestCaseError::fail(format!("column {i} of {sql}: {e}")))?;
        prop_assert_eq!(&read, value, "literal {}", quote_literal(value));
        prop_assert_eq!(
            row.columns()[i].name(),
            truncated(name),
            "identifier {}",
            quote_identifier(name)
        );
    }
    Ok(())
}

async fn set_standard_conforming_strings(connection: &mut PgConnection, on: bool) {
    let value = if on { "on" } else { "off" };
    sqlx::raw_sql(&format!("SET standard_conforming_strings = {value}"))
        .execute(connection)
        .await
        .expect("set standard_conforming_strings");
}

#[test]
fn postgres_reads_back_escaped_literals_and_identifiers() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let connection = runtime.block_on(async {
        let db = spawn_tests::TestDb::new("escape_props").await;
        db.pool.acquire().await.expect("a connection").detach()
    });
    // `Fn` closures cannot hold the connection mutably: it is lent out for each case.
    let connection = RefCell::new(Some(connection));
    support::run(256, file!(), batch(), |batch| {
        let mut lent = connection.take().expect("the connection is back");
        let result = runtime.block_on(async {
            for on in [true, false] {
                set_standard_conforming_strings(&mut lent, on).await;
                check_batch(&mut lent, &batch).await?;
            }
            Ok(())
        });
        connection.replace(Some(lent));
        result
    });
}

#[test]
fn truncation_keeps_whole_characters() {
    assert_eq!(truncated("short"), "short");
    let long = "é".repeat(40); // 80 bytes: 31 characters (62 bytes) fit.
    assert_eq!(truncated(&long), "é".repeat(31));
    let exact = "a".repeat(63);
    assert_eq!(truncated(&format!("{exact}b")), exact);
}
