//! The migrator's view of one migration, already rendered for one environment.
//!
//! Both the embedded set (static data in the binary) and the CLI (rendering from a project
//! folder at run time) hand the migrator a slice of [`Migration`]s, so the two can never
//! disagree about what is applied or how.

/// How a migration is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionMode {
    /// The whole migration and its history row run in one transaction.
    Transactional,
    /// Opted out with `-- spawn:no-transaction`: statements run one by one, progress is
    /// recorded after each, and a rerun resumes after the last one that succeeded.
    NoTransaction,
}

/// One statement of a rendered migration, as found by the build-time SQL lexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the statement's first character in the rendered SQL.
    pub start: usize,
    /// Byte offset one past the statement's last character (before its `;`).
    pub end: usize,
    /// 1-based line number of `start` in the rendered SQL.
    pub line: u32,
}

/// Where a run of rendered lines came from: lines `first_line..` (1-based, up to the next
/// origin) were produced by the component `component` (a path relative to `components/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineOrigin<'a> {
    pub first_line: u32,
    /// `None` for lines produced by the migration's own `up.sql`.
    pub component: Option<&'a str>,
}

/// One migration rendered for one environment: everything the migrator needs.
#[derive(Debug, Clone)]
pub struct Migration<'a> {
    /// The migration folder name, e.g. `20250301080000-create-orchard`.
    pub name: &'a str,
    /// The rendered SQL exactly as the template produced it.
    pub sql: &'a str,
    /// The part of `sql` that is executed (a migration wrapped in its own `BEGIN; … COMMIT;`
    /// runs without the wrapper, inside the migrator's transaction).
    pub body: std::ops::Range<usize>,
    /// SHA-256 of `sql` after CRLF→LF and without a BOM (what spawn records).
    pub sha256: [u8; 32],
    /// XXH3-128 of `sql` as rendered (what the original spawn CLI recorded).
    pub xxh3_128: [u8; 16],
    /// The root hash of the pin the migration was rendered from, if pinned.
    pub pin_hash: Option<&'a str>,
    pub mode: TransactionMode,
    /// Statements of the body, in order (filled for every migration; required for
    /// no-transaction ones).
    pub statements: &'a [Statement],
    /// Which component produced which lines, for error messages. May be empty.
    pub origins: &'a [LineOrigin<'a>],
    /// `lock_timeout` for this migration, from a `-- spawn:lock-timeout` directive.
    pub lock_timeout: Option<&'a str>,
    /// `statement_timeout` for this migration, from a `-- spawn:statement-timeout` directive.
    pub statement_timeout: Option<&'a str>,
}

impl Migration<'_> {
    /// The two checksums of a rendered migration: `(sha256, xxh3_128)`.
    ///
    /// * SHA-256 is taken of `sql` without a leading byte-order mark and with every CRLF
    ///   turned into LF, so a checkout with other line endings does not look "changed". It is
    ///   what spawn records in `migration_history.checksum` (32 bytes).
    /// * XXH3-128 (seed 0) is taken of the raw bytes, high 64 bits first (as `xxh128sum`
    ///   prints it): what the original spawn CLI recorded (16 bytes). It is only compared
    ///   with rows that the original wrote.
    pub fn checksums_of(sql: &str) -> ([u8; 32], [u8; 16]) {
        use sha2::{Digest, Sha256};
        let body = sql.strip_prefix('\u{feff}').unwrap_or(sql);
        let mut hasher = Sha256::new();
        let mut rest = body;
        while let Some(i) = rest.find("\r\n") {
            hasher.update(&rest.as_bytes()[..i]);
            hasher.update(b"\n");
            rest = &rest[i + 2..];
        }
        hasher.update(rest.as_bytes());
        let sha256: [u8; 32] = hasher.finalize().into();
        let xxh3 = xxhash_rust::xxh3::xxh3_128(sql.as_bytes()).to_be_bytes();
        (sha256, xxh3)
    }

    /// The body: the part of [`Migration::sql`] that is executed.
    ///
    /// Falls back to the whole SQL when `body` is not a valid range of it.
    pub fn body_sql(&self) -> &str {
        self.sql.get(self.body.clone()).unwrap_or(self.sql)
    }

    /// The text of one statement (without its `;`), or `""` for a span outside the SQL.
    pub fn statement_sql(&self, statement: &Statement) -> &str {
        self.sql.get(statement.start..statement.end).unwrap_or("")
    }

    /// The component that produced `line` (1-based, of the rendered SQL), if known:
    /// `Some(None)` for the migration's own `up.sql`, `None` when there are no origins.
    pub fn origin_of_line(&self, line: u32) -> Option<Option<&str>> {
        self.origins
            .iter()
            .rev()
            .find(|o| o.first_line <= line)
            .map(|o| o.component)
    }
}
