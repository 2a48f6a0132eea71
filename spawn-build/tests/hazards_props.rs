//! Property tests of the hazard classifier (`spawn_build::analyze::hazards`): on statements
//! its rules match cut anywhere, and on soups of their keywords and punctuation (unclosed
//! parentheses, missing names), it never panics; and every finding is at a line that exists, of a statement
//! that exists, and accepted exactly when a `-- spawn:allow` of its hazard precedes it.
//!
//! Reproducing a failure: see `support/mod.rs`.

mod support;

use proptest::prelude::*;
use spawn_build::analyze::hazards::{sql_hazards, Hazard};

/// What the rules look at.
const PIECES: &[&str] = &[
    " ALTER",
    " TABLE",
    " ADD",
    " COLUMN",
    " DROP",
    " TYPE",
    " SET",
    " NOT",
    " NULL",
    " DEFAULT",
    " CHECK",
    " CONSTRAINT",
    " FOREIGN",
    " KEY",
    " REFERENCES",
    " PRIMARY",
    " UNIQUE",
    " USING",
    " INDEX",
    " CONCURRENTLY",
    " ON",
    " ONLY",
    " CREATE",
    " VALID",
    " VALIDATE",
    " RENAME",
    " TO",
    " TRUNCATE",
    " DELETE",
    " FROM",
    " WHERE",
    " UPDATE",
    " VACUUM",
    " FULL",
    " CLUSTER",
    " REFRESH",
    " MATERIALIZED",
    " VIEW",
    " LOCK",
    " IN",
    " MODE",
    " ACCESS",
    " EXCLUSIVE",
    " REINDEX",
    " WITH",
    " AS",
    " GENERATED",
    " STORED",
    " IDENTITY",
    " TRIGGER",
    " POLICY",
    " RULE",
    " IF",
    " EXISTS",
    " varchar",
    " numeric",
    " timestamp",
    " time",
    " zone",
    " int",
    " text",
    " t",
    " a",
    "\"T\"",
    " random()",
    " now()",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "::",
    ";",
    ";\n",
    "\n",
    " 10",
    " 'x'",
    " *",
    " varchar(",
    " numeric(10,",
    " CHECK (",
    " (a",
    " TYPE varchar(",
    "\n-- spawn:allow table-rewrite\n",
    "\n-- spawn:lock-timeout 1s\n",
    " -- c\n",
    "/* c */",
];

/// Statements every rule matches, to be cut anywhere and followed by soup.
const STATEMENTS: &[&str] = &[
    "ALTER TABLE IF EXISTS ONLY s.t * ADD COLUMN IF NOT EXISTS a varchar(10) DEFAULT random() CHECK (a IS NOT NULL) REFERENCES u",
    "ALTER TABLE t ALTER COLUMN a SET DATA TYPE numeric(10, 2)[] USING a::numeric(10,2), ALTER b SET NOT NULL",
    "ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES u (id) NOT VALID, VALIDATE CONSTRAINT d",
    "ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX i, RENAME COLUMN a TO b",
    "ALTER TABLE t ADD a timestamp(3) with time zone GENERATED ALWAYS AS (now()) STORED",
    "CREATE TABLE IF NOT EXISTS t (a varchar(10) CONSTRAINT n CHECK (a IS NOT NULL), CONSTRAINT m CHECK (b IS NOT NULL))",
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t USING btree (a)",
    "WITH RECURSIVE a (n) AS NOT MATERIALIZED (SELECT 1), b AS (SELECT 2) DELETE FROM ONLY t USING u",
    "VACUUM (FULL, ANALYZE) t, u",
    "CLUSTER VERBOSE t USING i",
    "LOCK TABLE ONLY t, u IN ACCESS EXCLUSIVE MODE NOWAIT",
    "DROP TRIGGER IF EXISTS x ON s.t CASCADE",
    "CREATE OR REPLACE RULE r AS ON INSERT TO t DO NOTHING",
    "TRUNCATE TABLE ONLY t, u RESTART IDENTITY CASCADE",
    "REFRESH MATERIALIZED VIEW v WITH NO DATA",
];

/// One of [`STATEMENTS`] cut at any byte, then soup.
fn cut_statement() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(STATEMENTS),
        any::<proptest::sample::Index>(),
        support::text_of(PIECES, 6),
    )
        .prop_map(|(statement, cut, soup)| {
            format!("{}{soup}", &statement[..cut.index(statement.len() + 1)])
        })
}

proptest! {
    #![proptest_config(support::config(2048))]

    #[test]
    fn cut_statements_never_panic(sql in cut_statement()) {
        let _ = sql_hazards(&sql);
    }
}

proptest! {
    #![proptest_config(support::config(2048))]

    #[test]
    fn never_panics_and_places_findings_where_they_can_be(sql in support::text_of(PIECES, 40)) {
        let findings = sql_hazards(&sql);
        let lines = sql.split('\n').count() as u32;
        for f in &findings {
            prop_assert!(f.line >= 1 && f.line <= lines, "{:?}: {:?}", sql, f);
            prop_assert!(!f.message.is_empty());
            prop_assert!(!f.allowed || f.hazard == Hazard::TableRewrite, "{:?}: {:?}", sql, f);
        }
        let mut order: Vec<(usize, u32)> = findings.iter().map(|f| (f.statement, f.line)).collect();
        let sorted = { let mut o = order.clone(); o.sort(); o };
        prop_assert_eq!(&order, &sorted);
        order.dedup();
    }
}
