//! Deciding what to do: every migration is classified against its newest history row, the
//! refusal checks run (all of them before anything is applied), and the plan lists the
//! migrations to apply, where a partly applied no-transaction one resumes.
//!
//! A repeatable migration ([`Migration::repeatable`]) is planned after every versioned one,
//! in name order, whenever its checksum differs from the one last applied (its history keeps
//! every version that ran); its changes are no refusal, and it never counts as the newest
//! applied migration of the order check.
//!
//! Checksums are compared like with like: a 32-byte recorded checksum with the migration's
//! SHA-256, a 16-byte one (written by the original spawn) with its XXH3-128, and an empty
//! one (an original ADOPT row) not at all.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::MigrateError;
use crate::tracking::{hex, History, HistoryRow};
use crate::{Migration, Recovery, Statement, TransactionMode};

/// Progress of a no-transaction migration, kept as JSON in `status_note` of its ATTEMPTED
/// and FAILURE rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// How many statements ran (and stay applied).
    pub statements_done: usize,
    /// How many statements the migration had then.
    pub of: usize,
    /// SHA-256 (hex) of the statements that ran, see [`prefix_sha256`].
    pub done_sha256: String,
    /// The error that stopped it (FAILURE rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The statement (1-based, so `statements_done + 1`) that was started and whose outcome
    /// this row does not know: written before a statement that cannot commit together with
    /// its progress row, so that a rerun checks whether it took effect (see
    /// [`crate::recover`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<usize>,
}

impl Progress {
    pub fn parse(note: &str) -> Option<Progress> {
        serde_json::from_str(note).ok()
    }

    pub fn to_note(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The statements a migration runs: its spans, or its whole body as one statement.
pub(crate) fn statements_of(m: &Migration) -> Vec<Statement> {
    if !m.statements.is_empty() {
        return m.statements.to_vec();
    }
    let line = 1 + m
        .sql
        .get(..m.body.start)
        .map(|s| s.matches('\n').count())
        .unwrap_or(0) as u32;
    // Unknown statements (a migration built by hand without them): the body runs as one,
    // in a transaction where PostgreSQL allows it, and a rerun cannot tell more about it.
    vec![Statement {
        start: m.body.start,
        end: m.body.end,
        line,
        recovery: Recovery::Transactional,
    }]
}

/// SHA-256 (hex) of the first `k` statements' text (CRLF as LF), each followed by a NUL.
pub(crate) fn prefix_sha256(m: &Migration, statements: &[Statement], k: usize) -> String {
    let mut hasher = Sha256::new();
    for s in statements.iter().take(k) {
        hasher.update(m.statement_sql(s).replace("\r\n", "\n").as_bytes());
        hasher.update([0u8]);
    }
    hex(&hasher.finalize())
}

/// What a recorded checksum is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// 32 bytes: SHA-256, written by spawn (this crate or the spawn CLI).
    Sha256,
    /// 16 bytes: XXH3-128, written by the original spawn CLI.
    Xxh3_128,
    /// 0 bytes: an ADOPT row of the original spawn (nothing to compare).
    Empty,
    /// Any other length (not written by either tool).
    Other(usize),
}

impl ChecksumKind {
    pub(crate) fn of(checksum: &[u8]) -> Self {
        match checksum.len() {
            32 => ChecksumKind::Sha256,
            16 => ChecksumKind::Xxh3_128,
            0 => ChecksumKind::Empty,
            n => ChecksumKind::Other(n),
        }
    }

    fn label(self) -> &'static str {
        match self {
            ChecksumKind::Sha256 => "SHA-256",
            ChecksumKind::Xxh3_128 => "XXH3-128, written by the original spawn",
            ChecksumKind::Empty => "empty",
            ChecksumKind::Other(_) => "of unknown kind",
        }
    }
}

/// A migration's state, from its newest history row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Class {
    /// No row (or reverted), or an attempt whose outcome is not known yet.
    Pending,
    /// Newest row SUCCESS and the checksum matches (or there is none to compare).
    Applied { adopted: bool },
    /// Newest row SUCCESS but the SQL changed.
    Changed {
        recorded: String,
        kind: ChecksumKind,
        current: String,
    },
    /// Newest row FAILURE/ATTEMPTED and nothing of it stays applied: retried from the start.
    Failed,
    /// A no-transaction migration of which `done` statements ran.
    Partial {
        done: usize,
        of: usize,
        problem: Option<String>,
        /// Statement `done + 1` was started and its outcome is not recorded.
        started: bool,
    },
}

/// Classifies one migration against its newest history row.
pub(crate) fn classify(m: &Migration, row: Option<&HistoryRow>) -> Class {
    let Some(row) = row else {
        return Class::Pending;
    };
    if row.activity == "REVERT" {
        return Class::Pending;
    }
    if row.status == "SUCCESS" {
        let kind = ChecksumKind::of(&row.checksum);
        let current: &[u8] = match kind {
            ChecksumKind::Sha256 => &m.sha256,
            ChecksumKind::Xxh3_128 => &m.xxh3_128,
            ChecksumKind::Empty => {
                return Class::Applied {
                    adopted: row.activity == "ADOPT",
                }
            }
            ChecksumKind::Other(_) => &m.sha256,
        };
        if row.checksum == current {
            return Class::Applied {
                adopted: row.activity == "ADOPT",
            };
        }
        return Class::Changed {
            recorded: hex(&row.checksum),
            kind,
            current: hex(current),
        };
    }
    match Progress::parse(&row.status_note) {
        Some(p) if p.statements_done > 0 || p.started.is_some() => {
            let problem = if m.mode != TransactionMode::NoTransaction {
                Some(
                    "is now a transactional migration, which would run its statements again"
                        .to_string(),
                )
            } else {
                let statements = statements_of(m);
                if p.statements_done > statements.len() {
                    Some(format!("now has only {} statement(s)", statements.len()))
                } else if prefix_sha256(m, &statements, p.statements_done) != p.done_sha256 {
                    Some("the statements that ran have changed since".to_string())
                } else {
                    None
                }
            };
            Class::Partial {
                done: p.statements_done,
                of: p.of,
                problem,
                started: p.started == Some(p.statements_done + 1),
            }
        }
        // An attempt whose outcome is not known here (tracking tables in another database:
        // still in progress, or made against another target): not applied as far as is known.
        _ if row.status == "ATTEMPTED" => Class::Pending,
        _ => Class::Failed,
    }
}

/// The options that the checks depend on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checks<'o> {
    pub schema: &'o str,
    pub allow_out_of_order: bool,
    pub ignore_missing: bool,
    /// Index (in the sorted set) of the last migration to apply.
    pub last: Option<usize>,
}

/// One migration to apply.
#[derive(Debug, Clone)]
pub(crate) struct Step<'p> {
    pub migration: &'p Migration,
    /// Statements already done (no-transaction migrations being resumed).
    pub resume_at: usize,
    /// Statement `resume_at + 1` was started by an earlier run that did not record its
    /// outcome: it is checked before it runs again (see [`crate::recover`]).
    pub started: bool,
}

/// What a run will do.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'p> {
    pub steps: Vec<Step<'p>>,
    pub already_applied: usize,
}

/// Runs every check and returns the plan; an error means nothing may be applied.
pub(crate) fn plan<'p>(
    migrations: &'p [Migration],
    history: &History,
    checks: &Checks<'_>,
) -> Result<Plan<'p>, MigrateError> {
    let classes: Vec<Class> = migrations
        .iter()
        .map(|m| classify(m, history.rows.get(&*m.name)))
        .collect();

    // 1. Applied migrations must not have changed (a repeatable one runs again instead).
    for (m, class) in migrations.iter().zip(&classes) {
        if m.repeatable {
            continue;
        }
        if let Class::Changed {
            recorded,
            kind,
            current,
        } = class
        {
            return Err(MigrateError::ChecksumMismatch {
                name: m.name.to_string(),
                recorded: recorded.clone(),
                recorded_kind: kind.label(),
                current: current.clone(),
            });
        }
    }
    // 2. Partly applied no-transaction migrations must still start with what ran.
    for (m, class) in migrations.iter().zip(&classes) {
        if let Class::Partial {
            done,
            of,
            problem: Some(reason),
            ..
        } = class
        {
            return Err(MigrateError::PartialChanged {
                name: m.name.to_string(),
                done: *done,
                of: *of,
                reason: reason.clone(),
            });
        }
    }
    // 3. Everything recorded as (partly) applied must be in the set.
    let names: HashSet<&str> = migrations.iter().map(|m| &*m.name).collect();
    let mut missing: Vec<String> = history
        .rows
        .values()
        .filter(|r| !names.contains(r.name.as_str()) && counts_as_applied(r))
        .map(|r| r.name.clone())
        .collect();
    missing.sort();
    if !missing.is_empty() && !checks.ignore_missing {
        return Err(MigrateError::MissingMigrations {
            schema: checks.schema.to_string(),
            names: missing,
        });
    }
    // 4. Nothing pending may sort before the newest applied (versioned) migration.
    let repeatable: HashSet<&str> = migrations
        .iter()
        .filter(|m| m.repeatable)
        .map(|m| &*m.name)
        .collect();
    let newest_applied: Option<&str> = history
        .rows
        .values()
        .filter(|r| r.status == "SUCCESS" && r.activity != "REVERT")
        .map(|r| r.name.as_str())
        .filter(|name| !repeatable.contains(name))
        .max();
    let last = checks.last.unwrap_or(migrations.len().saturating_sub(1));
    let mut steps = Vec::new();
    let mut reruns = Vec::new();
    let mut already_applied = 0;
    for (i, (m, class)) in migrations.iter().zip(&classes).enumerate() {
        if m.repeatable {
            // After every versioned migration of the run, in name order; not in a run that
            // stops early (`up_to`), whose later migrations they may depend on.
            match class {
                Class::Applied { .. } => already_applied += 1,
                _ if checks.last.is_some() => {}
                _ => reruns.push(Step {
                    migration: m,
                    resume_at: 0,
                    started: false,
                }),
            }
            continue;
        }
        let (resume_at, started) = match class {
            Class::Applied { .. } | Class::Changed { .. } => {
                already_applied += 1;
                continue;
            }
            Class::Pending | Class::Failed => (0, false),
            Class::Partial { done, started, .. } => (*done, *started),
        };
        if i > last {
            continue;
        }
        if let Some(newest) = newest_applied {
            if &*m.name < newest && !checks.allow_out_of_order {
                return Err(MigrateError::OutOfOrder {
                    name: m.name.to_string(),
                    newest_applied: newest.to_string(),
                });
            }
        }
        steps.push(Step {
            migration: m,
            resume_at,
            started,
        });
    }
    steps.extend(reruns);
    Ok(Plan {
        steps,
        already_applied,
    })
}

/// What an adoption up to index `last` records as applied: the migrations up to it that
/// are not applied (failed and partly applied ones count as not applied). No checks run:
/// adopting is how a database is brought in line with the set.
pub(crate) fn adoption<'p>(
    migrations: &'p [Migration],
    history: &History,
    last: usize,
) -> Plan<'p> {
    let mut steps = Vec::new();
    let mut already_applied = 0;
    for (i, m) in migrations.iter().enumerate() {
        match classify(m, history.rows.get(&*m.name)) {
            Class::Applied { .. } | Class::Changed { .. } => already_applied += 1,
            Class::Pending | Class::Failed | Class::Partial { .. } if i <= last => {
                steps.push(Step {
                    migration: m,
                    resume_at: 0,
                    started: false,
                })
            }
            _ => {}
        }
    }
    Plan {
        steps,
        already_applied,
    }
}

/// Whether a recorded migration counts as (at least partly) applied.
pub(crate) fn counts_as_applied(row: &HistoryRow) -> bool {
    if row.activity == "REVERT" {
        return false;
    }
    row.status == "SUCCESS"
        || Progress::parse(&row.status_note)
            .is_some_and(|p| p.statements_done > 0 || p.started.is_some())
}
