//! [`Migration`]: one migration rendered for one environment, with everything the migrator
//! needs to apply it.

use std::borrow::Cow;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::checksum;
use crate::origin::{component_of_line, LineOrigin};
use crate::statement::{Statement, TransactionMode};

/// One migration rendered for one environment: everything the migrator needs.
///
/// Its text fields are `Cow<'static, …>`: the set embedded by `embed_migrations!()` borrows
/// static data from the binary (so choosing an environment costs a few pointer copies), and
/// the CLI owns what it rendered at run time. The same type serves both, so the two can never
/// disagree about what is applied or how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// The migration folder name, e.g. `20250301080000-create-orchard`.
    pub name: Cow<'static, str>,
    /// The rendered SQL exactly as the template produced it.
    pub sql: Cow<'static, str>,
    /// The part of `sql` that is executed (a migration wrapped in its own `BEGIN; … COMMIT;`
    /// runs without the wrapper, inside the migrator's transaction).
    pub body: Range<usize>,
    /// SHA-256 of `sql` after CRLF→LF and without a BOM (what spawn records); see
    /// [`checksum::sha256_normalized`].
    pub sha256: [u8; 32],
    /// XXH3-128 of `sql` as rendered (what the original spawn CLI recorded); see
    /// [`checksum::xxh3_128`].
    pub xxh3_128: [u8; 16],
    /// The root hash of the pin the migration was rendered from, if pinned.
    pub pin_hash: Option<Cow<'static, str>>,
    /// Whether the migration runs in one transaction or statement by statement.
    pub mode: TransactionMode,
    /// Statements of the body, in order (filled for every migration; required for
    /// no-transaction ones).
    pub statements: Cow<'static, [Statement]>,
    /// Which component produced which lines, for error messages, in line order. May be empty.
    pub origins: Cow<'static, [LineOrigin]>,
    /// `lock_timeout` for this migration, from a `-- spawn:lock-timeout` directive.
    pub lock_timeout: Option<Cow<'static, str>>,
    /// `statement_timeout` for this migration, from a `-- spawn:statement-timeout` directive.
    pub statement_timeout: Option<Cow<'static, str>>,
    /// The migration's `down.sql`, rendered from the same pin as its `up.sql`, if it has
    /// one: what a rollback runs to undo it.
    #[serde(default)]
    pub down: Option<Down>,
    /// A repeatable migration (`-- spawn:repeatable`): rendered from the working tree's
    /// components (never pinned) and applied again whenever its checksum differs from the
    /// one last applied, after the versioned migrations of the run, in name order.
    #[serde(default)]
    pub repeatable: bool,
}

/// A migration's `down.sql`, rendered for the same environment and from the same pin as its
/// `up.sql`: what a rollback runs, in one transaction with the migration's `REVERT` history
/// row.
///
/// Like [`Migration`], it holds `Cow<'static, …>` data, so an embedded set borrows it from
/// the binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Down {
    /// The rendered SQL exactly as the template produced it.
    pub sql: Cow<'static, str>,
    /// The part of `sql` that is executed (without a `BEGIN; … COMMIT;` wrapper of its own).
    pub body: Range<usize>,
    /// SHA-256 of `sql` (CRLF→LF, no BOM): the checksum of its `REVERT` history row.
    pub sha256: [u8; 32],
    /// Statements of the body, in order (used to name the one that fails).
    pub statements: Cow<'static, [Statement]>,
    /// Which component produced which lines of `sql`, in line order. May be empty.
    pub origins: Cow<'static, [LineOrigin]>,
}

impl Down {
    /// A `down.sql` executing the whole of `sql`, whose `statements` are given, with its
    /// checksum computed and no line origins.
    #[must_use]
    pub fn new(
        sql: impl Into<Cow<'static, str>>,
        statements: impl Into<Cow<'static, [Statement]>>,
    ) -> Self {
        let sql = sql.into();
        Self {
            body: 0..sql.len(),
            sha256: checksum::sha256_normalized(&sql),
            sql,
            statements: statements.into(),
            origins: Cow::Borrowed(&[]),
        }
    }

    /// The body: the part of [`Down::sql`] that is executed (the whole SQL when `body` is
    /// not a valid range of it).
    #[must_use]
    pub fn body_sql(&self) -> &str {
        self.sql.get(self.body.clone()).unwrap_or(&self.sql)
    }

    /// The migration that runs this `down.sql` in place of `up`'s SQL: named like `up`, with
    /// its timeouts and pin, transactional (what a rollback executes and diagnoses).
    #[must_use]
    pub fn as_migration(&self, up: &Migration) -> Migration {
        Migration {
            name: up.name.clone(),
            sql: self.sql.clone(),
            body: self.body.clone(),
            sha256: self.sha256,
            xxh3_128: checksum::xxh3_128(&self.sql),
            pin_hash: up.pin_hash.clone(),
            mode: TransactionMode::Transactional,
            statements: self.statements.clone(),
            origins: self.origins.clone(),
            lock_timeout: up.lock_timeout.clone(),
            statement_timeout: up.statement_timeout.clone(),
            down: None,
            repeatable: false,
        }
    }
}

impl Migration {
    /// A transactional migration `name` executing the whole of `sql`, whose `statements` are
    /// given, with its checksums computed; not pinned, no line origins, no timeouts. Set the
    /// other fields with struct update syntax (`Migration { mode, ..Migration::new(…) }`).
    #[must_use]
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        sql: impl Into<Cow<'static, str>>,
        statements: impl Into<Cow<'static, [Statement]>>,
    ) -> Self {
        let sql = sql.into();
        let (sha256, xxh3_128) = Self::checksums_of(&sql);
        Self {
            name: name.into(),
            body: 0..sql.len(),
            sql,
            sha256,
            xxh3_128,
            pin_hash: None,
            mode: TransactionMode::Transactional,
            statements: statements.into(),
            origins: Cow::Borrowed(&[]),
            lock_timeout: None,
            statement_timeout: None,
            down: None,
            repeatable: false,
        }
    }

    /// The two checksums of a rendered migration: `(sha256, xxh3_128)`.
    ///
    /// * SHA-256 is taken of `sql` without a leading byte-order mark and with every CRLF
    ///   turned into LF, so a checkout with other line endings does not look "changed". It is
    ///   what spawn records in `migration_history.checksum` (32 bytes).
    /// * XXH3-128 (seed 0) is taken of the raw bytes, high 64 bits first (as `xxh128sum`
    ///   prints it): what the original spawn CLI recorded (16 bytes). It is only compared
    ///   with rows that the original wrote.
    #[must_use]
    pub fn checksums_of(sql: &str) -> ([u8; 32], [u8; 16]) {
        (checksum::sha256_normalized(sql), checksum::xxh3_128(sql))
    }

    /// The body: the part of [`Migration::sql`] that is executed.
    ///
    /// Falls back to the whole SQL when `body` is not a valid range of it.
    #[must_use]
    pub fn body_sql(&self) -> &str {
        self.sql.get(self.body.clone()).unwrap_or(&self.sql)
    }

    /// The text of one statement (without its `;`), or `""` for a span outside the SQL.
    #[must_use]
    pub fn statement_sql(&self, statement: &Statement) -> &str {
        statement.text(&self.sql)
    }

    /// The component that produced `line` (1-based, of the rendered SQL), if known:
    /// `Some(None)` for the migration's own `up.sql`, `None` when there are no origins.
    #[must_use]
    pub fn origin_of_line(&self, line: u32) -> Option<Option<&str>> {
        component_of_line(&self.origins, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::Recovery;

    const STATEMENTS: &[Statement] = &[
        Statement {
            start: 7,
            end: 30,
            line: 2,
            recovery: Recovery::Transactional,
        },
        Statement {
            start: 32,
            end: 40,
            line: 3,
            recovery: Recovery::Transactional,
        },
    ];
    const SQL: &str = "BEGIN;\nCREATE TABLE t (id int);\nSELECT 1;\nCOMMIT;\n";

    /// A migration built from static data only, as the embedded set does.
    static STATIC: Migration = Migration {
        name: Cow::Borrowed("20250101000000-t"),
        sql: Cow::Borrowed(SQL),
        body: 6..42,
        sha256: [0; 32],
        xxh3_128: [0; 16],
        pin_hash: Some(Cow::Borrowed("9d05484214dd6d3964fd0f2f434f873a")),
        mode: TransactionMode::NoTransaction,
        statements: Cow::Borrowed(STATEMENTS),
        origins: Cow::Borrowed(&[LineOrigin::from_up_sql(1)]),
        lock_timeout: None,
        statement_timeout: Some(Cow::Borrowed("10min")),
        down: None,
        repeatable: false,
    };

    #[test]
    fn new_computes_the_checksums_and_runs_the_whole_sql() {
        let m = Migration::new("20250101000000-t", SQL, STATEMENTS);
        assert_eq!(m.sha256, checksum::sha256_normalized(SQL));
        assert_eq!(m.xxh3_128, checksum::xxh3_128(SQL));
        assert_eq!(m.body_sql(), SQL);
        assert_eq!(m.mode, TransactionMode::Transactional);
        assert!(m.origins.is_empty() && m.pin_hash.is_none());
        assert_eq!(
            Migration::checksums_of(SQL),
            (m.sha256, m.xxh3_128),
            "checksums_of is what new records"
        );
    }

    #[test]
    fn a_down_runs_as_a_transactional_migration_named_like_its_up() {
        let down = Down::new("DROP TABLE t;\n", STATEMENTS);
        let with_down = Migration {
            down: Some(down.clone()),
            ..STATIC.clone()
        };
        let m = down.as_migration(&with_down);
        assert_eq!(m.name, STATIC.name);
        assert_eq!(m.sql, "DROP TABLE t;\n");
        assert_eq!(m.sha256, checksum::sha256_normalized("DROP TABLE t;\n"));
        assert_eq!(m.mode, TransactionMode::Transactional);
        assert_eq!(m.statement_timeout, STATIC.statement_timeout);
        assert_eq!(down.body_sql(), "DROP TABLE t;\n");
        let json = serde_json::to_string(&with_down).expect("serialize");
        let back: Migration = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, with_down);
    }

    #[test]
    fn body_statements_and_origins_read_the_sql() {
        assert_eq!(STATIC.body_sql(), "\nCREATE TABLE t (id int);\nSELECT 1;\n");
        assert_eq!(
            STATIC.statement_sql(&STATIC.statements[0]),
            "CREATE TABLE t (id int)"
        );
        assert_eq!(STATIC.statement_sql(&STATIC.statements[1]), "SELECT 1");
        assert_eq!(STATIC.origin_of_line(3), Some(None));
        let broken = Migration {
            body: 5..500,
            ..STATIC.clone()
        };
        assert_eq!(
            broken.body_sql(),
            SQL,
            "an invalid body falls back to the SQL"
        );
    }

    #[test]
    fn owned_and_borrowed_migrations_compare_equal_and_round_trip_through_serde() {
        let owned = Migration {
            name: Cow::Owned(STATIC.name.to_string()),
            sql: Cow::Owned(SQL.to_owned()),
            statements: Cow::Owned(STATEMENTS.to_vec()),
            ..STATIC.clone()
        };
        assert_eq!(owned, STATIC);
        let json = serde_json::to_string(&STATIC).expect("serialize");
        let back: Migration = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, STATIC);
    }
}
