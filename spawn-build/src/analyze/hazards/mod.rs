//! Hazards: what a migration's statements do to a live database, from the lock each takes
//! and the work it does.
//!
//! Each statement is classified on its own tokens (the same lexer as the rest of
//! [`analyze`](super), no SQL parser: see `rules` and `alter_table`), with what the
//! statements before it established: tables created in the same migration, on which nothing
//! is hazardous (nobody else uses them yet), and the column types and validated
//! `CHECK (c IS NOT NULL)` constraints of earlier statements and migrations ([`Scanner`]), which
//! tell a type change that rewrites the table from one that does not, and a `SET NOT NULL`
//! that scans from one PostgreSQL proves with the constraint.
//!
//! The hazards, by [name](Hazard::name):
//!
//! | name | what |
//! |---|---|
//! | `access-exclusive-lock` | an ACCESS EXCLUSIVE lock on an existing table: no reads or writes while it is held, and every query queues behind it while it waits. A brief one (a catalog change) is not reported when the migration sets `-- spawn:lock-timeout`. |
//! | `table-rewrite` | every row written again (volatile or identity default, stored generated column, type change, `SET TABLESPACE`, `VACUUM FULL`, `CLUSTER`, …) |
//! | `validation-scan` | a full scan to validate a new constraint (`CHECK`/`FOREIGN KEY` without `NOT VALID`, `SET NOT NULL`, `ATTACH PARTITION`) |
//! | `blocking-index-build` | an index built while writes wait (`CREATE INDEX` without `CONCURRENTLY`, `ADD PRIMARY KEY`/`UNIQUE`, `REINDEX`) |
//! | `data-loss` | `DROP TABLE`, `DROP COLUMN`, `DROP SCHEMA`, `TRUNCATE`, `DELETE` without `WHERE` |
//! | `non-transactional` | cannot run in a transaction, so a failure leaves part of it done (`CREATE INDEX CONCURRENTLY`, …) |
//! | `long-running` | `UPDATE` without `WHERE`: every row rewritten and locked in one transaction |
//! | `fails-on-existing-rows` | fails on a table that has rows, though it passes on an empty one (a new column `NOT NULL` or `PRIMARY KEY` without a default) |
//!
//! `-- spawn:allow <name> [<name> …]`, on the lines before a statement, inside it, or after
//! its `;` on the same line, accepts those hazards for that statement ([`Finding::allowed`]).
//!
//! ```
//! use spawn_build::analyze::hazards::{sql_hazards, Hazard};
//!
//! let findings = sql_hazards(
//!     "ALTER TABLE account ADD COLUMN created timestamptz DEFAULT now();\n\
//!      ALTER TABLE account ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
//! );
//! let line_2: Vec<Hazard> = findings.iter().filter(|f| f.line == 2).map(|f| f.hazard).collect();
//! assert_eq!(line_2, [Hazard::AccessExclusiveLock, Hazard::TableRewrite]);
//! // A constant or stable default rewrites nothing (PostgreSQL 11+): only the brief lock.
//! assert!(findings.iter().all(|f| f.line == 2 || f.hazard == Hazard::AccessExclusiveLock));
//!
//! // Nothing on a table the same SQL created.
//! assert!(sql_hazards("CREATE TABLE t (id int);\nCREATE INDEX ON t (id);\n").is_empty());
//! ```
//!
//! A tool that knows the current schema (a migration generator, say) feeds its
//! `CREATE TABLE` statements to a [`Scanner`] first, so that type changes are judged from the
//! columns' actual types:
//!
//! ```
//! use spawn_build::analyze::hazards::{Hazard, Scanner};
//!
//! let mut scanner = Scanner::new();
//! scanner.sql("CREATE TABLE account (id int, name varchar(50));");
//! let generated = "ALTER TABLE account ALTER name TYPE text;\n\
//!                  ALTER TABLE account ALTER id TYPE bigint;\n";
//! let rewrites: Vec<u32> = scanner
//!     .sql(generated)
//!     .iter()
//!     .filter(|f| f.hazard == Hazard::TableRewrite)
//!     .map(|f| f.line)
//!     .collect();
//! assert_eq!(rewrites, [2]); // varchar(50) → text keeps the rows; int → bigint rewrites
//! ```

mod alter_table;
mod catalog;
mod rules;
mod tokens;
mod types;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;

use super::directives::directive_text;
use super::lexer::{Lexer, TokenKind};
use super::position::LineIndex;
use super::statements;
use super::Analysis;
use catalog::Catalog;
use tokens::Tokens;

/// What a statement does to a live database that a migration's author should know about.
/// More may come: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Hazard {
    AccessExclusiveLock,
    TableRewrite,
    ValidationScan,
    BlockingIndexBuild,
    DataLoss,
    NonTransactional,
    LongRunning,
    FailsOnExistingRows,
}

impl Hazard {
    /// Every hazard, in the order of the table in the module documentation.
    pub const ALL: [Hazard; 8] = [
        Hazard::AccessExclusiveLock,
        Hazard::TableRewrite,
        Hazard::ValidationScan,
        Hazard::BlockingIndexBuild,
        Hazard::DataLoss,
        Hazard::NonTransactional,
        Hazard::LongRunning,
        Hazard::FailsOnExistingRows,
    ];

    /// The stable kebab-case name, as `-- spawn:allow` and the CLI spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Hazard::AccessExclusiveLock => "access-exclusive-lock",
            Hazard::TableRewrite => "table-rewrite",
            Hazard::ValidationScan => "validation-scan",
            Hazard::BlockingIndexBuild => "blocking-index-build",
            Hazard::DataLoss => "data-loss",
            Hazard::NonTransactional => "non-transactional",
            Hazard::LongRunning => "long-running",
            Hazard::FailsOnExistingRows => "fails-on-existing-rows",
        }
    }

    /// The hazard named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// Every name, comma-separated, for messages.
    pub fn names() -> String {
        Self::ALL.map(Hazard::name).join(", ")
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`Hazard`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hazard `{0}`; the hazards are {names}", names = Hazard::names())]
pub struct UnknownHazard(pub String);

impl std::str::FromStr for Hazard {
    type Err = UnknownHazard;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownHazard(s.to_owned()))
    }
}

impl serde::Serialize for Hazard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One hazard of one statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub hazard: Hazard,
    /// 1-based line where the statement starts.
    pub line: u32,
    /// 0-based index of the statement.
    pub statement: usize,
    /// What happens and what to do instead.
    pub message: String,
    /// Accepted by a `-- spawn:allow` comment.
    pub allowed: bool,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.hazard, self.message)
    }
}

/// A finding before it has a place: `brief` for an ACCESS EXCLUSIVE lock held only for a
/// catalog change, which a lock timeout makes safe.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub hazard: Hazard,
    pub brief: bool,
    pub message: String,
}

impl Raw {
    pub(crate) fn new(hazard: Hazard, message: String) -> Self {
        Self {
            hazard,
            brief: false,
            message,
        }
    }

    /// The brief ACCESS EXCLUSIVE lock of a catalog change on `table`.
    pub(crate) fn brief(table: &str) -> Self {
        Self {
            hazard: Hazard::AccessExclusiveLock,
            brief: true,
            message: format!(
                "takes an ACCESS EXCLUSIVE lock on {table}: brief, but while it waits for running \
                 queries every other query on the table queues behind it; set \
                 `-- spawn:lock-timeout` so it gives up instead"
            ),
        }
    }
}

/// A hazard named by a `-- spawn:allow` comment that its statement does not have (or a
/// comment after the last statement): it accepts nothing, and should go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnusedAllow {
    /// 1-based line of the comment.
    pub line: u32,
    pub hazard: Hazard,
}

/// The findings of one migration, and its `-- spawn:allow` names that accept nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub unused_allows: Vec<UnusedAllow>,
}

/// Classifies the statements of a sequence of migrations, in apply order, remembering what
/// each one established (column types, validated not-null checks) for the next ones.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    catalog: Catalog,
}

impl Scanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The hazards of a migration's rendered SQL, given its [`analyze`](super::analyze())
    /// result.
    pub fn migration(&mut self, sql: &str, analysis: &Analysis) -> Vec<Finding> {
        self.migration_report(sql, analysis).findings
    }

    /// [`migration`](Self::migration)'s findings, with the `-- spawn:allow` names that
    /// accept nothing.
    pub fn migration_report(&mut self, sql: &str, analysis: &Analysis) -> Report {
        let statements: Vec<(usize, usize)> = analysis
            .statements
            .iter()
            .map(|s| (s.start, s.end))
            .collect();
        self.run(sql, &statements, analysis.lock_timeout.is_some())
    }

    /// Remembers what a migration establishes (column types, checks, partitioned tables) for
    /// the migrations after it, without classifying it: what [`Scanner::migration`] remembers,
    /// at a fraction of its cost over a long history, since only the statements that can
    /// change it are read (`CREATE TABLE`, `CREATE MATERIALIZED VIEW`, `ALTER TABLE`,
    /// `DROP TABLE`; a function's or a view's body is never tokenized).
    pub fn learn(&mut self, sql: &str, analysis: &Analysis) {
        self.learn_statements(sql, analysis.statements.iter().map(|s| (s.start, s.end)));
    }

    fn learn_statements(&mut self, sql: &str, statements: impl Iterator<Item = (usize, usize)>) {
        let mut state = rules::State {
            catalog: &mut self.catalog,
            created: HashSet::new(),
        };
        for (start, end) in statements {
            let text = &sql[start..end];
            if may_change_catalog(text) {
                rules::statement(&Tokens::new(text), &mut state);
            }
        }
    }

    /// The hazards of plain SQL (split into statements here; `BEGIN`/`COMMIT` are harmless).
    pub fn sql(&mut self, sql: &str) -> Vec<Finding> {
        let start = content_start(sql);
        let scan = statements::scan(sql, start);
        let (directives, _) = super::directives::parse(scan.directives.iter().copied());
        let statements: Vec<(usize, usize)> =
            scan.statements.iter().map(|s| (s.start, s.end)).collect();
        self.run(sql, &statements, directives.lock_timeout.is_some())
            .findings
    }

    fn run(&mut self, sql: &str, statements: &[(usize, usize)], lock_timeout: bool) -> Report {
        let lines = LineIndex::new(sql, content_start(sql));
        let allows = allow_comments(sql, statements, &lines);
        let mut state = rules::State {
            catalog: &mut self.catalog,
            created: HashSet::new(),
        };
        let mut out = Vec::new();
        for (index, &(start, end)) in statements.iter().enumerate() {
            let tokens = Tokens::new(&sql[start..end]);
            let mut seen = HashSet::new();
            for raw in rules::statement(&tokens, &mut state) {
                if (raw.brief && lock_timeout) || !seen.insert(raw.hazard) {
                    continue;
                }
                out.push(Finding {
                    hazard: raw.hazard,
                    line: lines.line(start),
                    statement: index,
                    allowed: allows
                        .iter()
                        .any(|a| a.statement == Some(index) && a.hazards.contains(&raw.hazard)),
                    message: raw.message,
                });
            }
        }
        let unused_allows = allows
            .iter()
            .flat_map(|a| a.hazards.iter().map(move |&hazard| (a, hazard)))
            .filter(|(a, hazard)| {
                !out.iter()
                    .any(|f| Some(f.statement) == a.statement && f.hazard == *hazard)
            })
            .map(|(a, hazard)| UnusedAllow {
                line: a.line,
                hazard,
            })
            .collect();
        Report {
            findings: out,
            unused_allows,
        }
    }
}

/// The hazards of plain SQL on its own (no earlier migrations known); for generated
/// statements, say. See the [module documentation](self).
pub fn sql_hazards(sql: &str) -> Vec<Finding> {
    Scanner::new().sql(sql)
}

fn content_start(sql: &str) -> usize {
    if sql.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

/// Whether `statement` (from its first token) may change what a [`Scanner`] remembers: a
/// `CREATE TABLE` or `CREATE MATERIALIZED VIEW` (with `OR REPLACE`, `TEMP`, … before it), an
/// `ALTER TABLE` or a `DROP TABLE`. Read from its first words; when they are not plain words
/// (a comment or a quote between them), it may.
fn may_change_catalog(statement: &str) -> bool {
    let plain = |w: &str| w.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    let is = |w: &str, keyword: &str| w.eq_ignore_ascii_case(keyword);
    let mut words = statement.split_ascii_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    if !plain(first) {
        return true;
    }
    if is(first, "ALTER") || is(first, "DROP") {
        return words.next().is_none_or(|w| !plain(w) || is(w, "TABLE"));
    }
    if !is(first, "CREATE") {
        return false;
    }
    const BEFORE: [&str; 7] = [
        "OR",
        "REPLACE",
        "GLOBAL",
        "LOCAL",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
    ];
    for w in words {
        if !plain(w) {
            return true;
        }
        if !BEFORE.iter().any(|k| is(w, k)) {
            return is(w, "TABLE") || is(w, "MATERIALIZED");
        }
    }
    true
}

/// The hazard names of an `allow` directive's text (after `spawn:`), if it is one; unknown
/// names as `Err`.
pub(crate) fn allow_names(directive: &str) -> Option<Vec<Result<Hazard, String>>> {
    let rest = directive.strip_prefix("allow")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(
        rest.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|n| !n.is_empty())
            .map(|n| Hazard::from_name(n).ok_or_else(|| n.to_owned()))
            .collect(),
    )
}

/// A `-- spawn:allow` comment.
struct Allow {
    /// The statement it applies to: the one it is inside, or that ends on its line before
    /// it, or else the next (`None` after the last).
    statement: Option<usize>,
    hazards: Vec<Hazard>,
    line: u32,
}

/// Every `-- spawn:allow` comment of `sql`.
fn allow_comments(sql: &str, statements: &[(usize, usize)], lines: &LineIndex<'_>) -> Vec<Allow> {
    let mut out = Vec::new();
    for token in Lexer::new(sql, content_start(sql)) {
        let Ok(token) = token else { break };
        if token.kind != TokenKind::LineComment {
            continue;
        }
        let Some(names) = directive_text(&sql[token.start..token.end]).and_then(allow_names) else {
            continue;
        };
        let hazards: Vec<Hazard> = names.into_iter().filter_map(Result::ok).collect();
        let line = lines.line(token.start);
        let ended_on_line = statements
            .iter()
            .rposition(|&(_, end)| end <= token.start && lines.line(end.saturating_sub(1)) == line);
        let target =
            ended_on_line.or_else(|| statements.iter().position(|&(_, end)| token.start < end));
        out.push(Allow {
            statement: target,
            hazards,
            line,
        });
    }
    out
}
