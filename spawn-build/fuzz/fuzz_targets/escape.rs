//! Escaped text stays one token: `SELECT <quoted>; SELECT 2` is two statements to the SQL
//! analyser, the first ending with the quoted text, for both `quote_literal` and
//! `quote_identifier`. (That PostgreSQL reads the value back is the property test
//! `spawn-build/tests/escape_pg_props.rs`, which needs a server.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use spawn_build::analyze::analyze;
use spawn_build::render::escape::{quote_identifier, quote_literal};

fuzz_target!(|text: &str| {
    for quoted in [quote_literal(text), quote_identifier(text)] {
        let first = format!("SELECT {quoted}");
        let sql = format!("{first}; SELECT 2");
        let analysis = analyze(&sql).expect("escaped text analyses");
        let statements: Vec<&str> = analysis.statements.iter().map(|s| s.text(&sql)).collect();
        assert_eq!(statements, [first.as_str(), "SELECT 2"]);
    }
});
