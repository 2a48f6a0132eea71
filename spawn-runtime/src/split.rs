//! Tracking tables in another database than the migrations (the original spawn's
//! `spawn_database`): [`Migrator::tracking_pool`](crate::Migrator::tracking_pool).
//!
//! The migrations run in the *target* database (the pool given to `run`), the history lives
//! in the *tracking* database. The run holds the advisory lock (same key) on a dedicated
//! connection to each: on the target first (where the original spawn takes it, so the two
//! tools exclude each other), then on the tracking database (so runs sharing those tables
//! exclude each other). Every run takes them in that order.
//!
//! A migration and its history row cannot commit in one transaction across two databases,
//! so each transactional migration goes like this (four messages):
//!
//! 1. target: `BEGIN`, the body, `SELECT pg_current_xact_id()` (the transaction's id, which
//!    also makes sure it has one);
//! 2. tracking: an `ATTEMPTED` row whose `status_note` is
//!    `{"target_xid":"<xid>","target_database":"<name>"}` (commits on its own);
//! 3. target: `COMMIT`;
//! 4. tracking: the `SUCCESS` row.
//!
//! A failure in 1 or at the `COMMIT` records a `FAILURE` row (the transaction rolled back).
//! If the run is interrupted between 2 and 4 (crash, lost connection, dropped future), the
//! newest row of the migration is that `ATTEMPTED` row. Every run, under the locks and
//! before it plans, resolves such rows with `pg_xact_status(xid)` in the target database
//! (one query for all of them):
//!
//! * `committed`: the migration is applied: a `SUCCESS` row is written (its checksum and pin
//!   are the attempt's, its note says it was recovered) and the run does not apply it again
//!   ([`Report::recovered`](crate::Report::recovered));
//! * `aborted`, or unknown (`NULL`: the transaction is too old for the server to remember):
//!   a `FAILURE` row; the migration is pending and is applied again;
//! * `in progress`: the run refuses ([`MigrateError::AttemptInProgress`]), applying
//!   nothing;
//! * an attempt made in another database than this run's target cannot be checked: the run
//!   refuses ([`MigrateError::AttemptElsewhere`]).
//!
//! So nothing is applied half-way, and no migration is recorded as applied unless its
//! transaction committed. [`Migrator::status`](crate::Migrator::status) does the same
//! resolution without writing (an in-progress attempt shows as pending). A dry run resolves
//! without writing too.
//!
//! No-transaction migrations run statement by statement in the target database as in a
//! single database, with their progress rows in the tracking database. A statement that can
//! run in a transaction cannot commit together with its progress row here (they are in two
//! databases): it runs, then its row is written, and a crash in between means that statement
//! runs again on the next run. Statements that cannot run in a transaction are recorded as
//! started first and checked on the rerun, as in a single database (see [`crate::recover`]).
//!
//! The cost: four round trips per transactional migration (one migration per message, no
//! batches), and migrations are followed by their `SUCCESS` row only after their commit.
//! Transaction ids need PostgreSQL 13 or later in the target database.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::diagnose::transaction_failed;
use crate::error::{ConnectionLost, MigrateError, PgMessage};
use crate::record::apply_row;
use crate::session::{Connections, Ledger, RunContext};
use crate::tracking::{quote_literal, seconds, ExecTime, History, NewRow};
use crate::Migration;

/// The `status_note` of an attempt's `ATTEMPTED` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Attempt {
    /// `pg_current_xact_id()` of the migration's transaction, as text.
    pub target_xid: String,
    /// `current_database()` of the target.
    pub target_database: String,
}

impl Attempt {
    pub fn parse(note: &str) -> Option<Attempt> {
        serde_json::from_str(note).ok()
    }

    pub fn to_note(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The transaction id, when it is a number (anything else is not ours).
    pub fn xid(&self) -> Option<u64> {
        self.target_xid.parse().ok()
    }
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Committed,
    Aborted,
    /// Too old for `pg_xact_status` to know.
    Unknown,
    InProgress,
}

/// One unresolved attempt: the newest row of a migration is `ATTEMPTED` with an [`Attempt`].
#[derive(Debug, Clone)]
pub(crate) struct InDoubt {
    pub name: String,
    pub xid: u64,
    pub database: String,
}

/// The unresolved attempts of the history, in name order.
pub(crate) fn in_doubt(history: &History) -> Vec<InDoubt> {
    let mut out: Vec<InDoubt> = history
        .rows
        .values()
        .filter(|r| r.status == "ATTEMPTED")
        .filter_map(|r| {
            let a = Attempt::parse(&r.status_note)?;
            Some(InDoubt {
                name: r.name.clone(),
                xid: a.xid()?,
                database: a.target_database,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// ONE query, run in the target database: the status of each transaction id.
pub(crate) fn xact_status_query(attempts: &[InDoubt]) -> String {
    let values: Vec<String> = attempts.iter().map(|a| format!("('{}')", a.xid)).collect();
    format!(
        "SELECT x.xid AS xid, pg_catalog.pg_xact_status(x.xid::xid8)::text AS status \
         FROM (VALUES {}) x(xid)",
        values.join(", ")
    )
}

/// Reads the rows of [`xact_status_query`].
pub(crate) fn read_outcomes(
    rows: &[sqlx::postgres::PgRow],
) -> Result<Vec<(u64, Outcome)>, sqlx::Error> {
    rows.iter()
        .map(|row| {
            let xid: String = row.try_get("xid")?;
            let status: Option<String> = row.try_get("status")?;
            let outcome = match status.as_deref() {
                Some("committed") => Outcome::Committed,
                Some("aborted") => Outcome::Aborted,
                Some(_) => Outcome::InProgress,
                None => Outcome::Unknown,
            };
            Ok((xid.parse().unwrap_or(0), outcome))
        })
        .collect()
}

/// Refuses attempts made against another database than `target_database`.
pub(crate) fn check_databases(
    attempts: &[InDoubt],
    target_database: &str,
    schema: &str,
) -> Result<(), MigrateError> {
    match attempts.iter().find(|a| a.database != target_database) {
        Some(a) => Err(MigrateError::AttemptElsewhere {
            name: a.name.clone(),
            xid: a.xid,
            schema: schema.to_string(),
            recorded_database: a.database.clone(),
            target_database: target_database.to_string(),
        }),
        None => Ok(()),
    }
}

/// The note of a resolved attempt.
fn resolution_note(a: &InDoubt, outcome: Outcome) -> String {
    match outcome {
        Outcome::Committed => format!(
            "recovered: transaction {} committed in database `{}`; this SUCCESS row was written by a later run",
            a.xid, a.database
        ),
        Outcome::Aborted => format!(
            "the run stopped before recording the outcome; transaction {} rolled back in database `{}`",
            a.xid, a.database
        ),
        Outcome::Unknown => format!(
            "the run stopped before recording the outcome; transaction {} in database `{}` is too old for \
             its status to be known, treated as not applied",
            a.xid, a.database
        ),
        Outcome::InProgress => format!("transaction {} is in progress in database `{}`", a.xid, a.database),
    }
}

/// Applies the outcomes to the history in memory: committed → SUCCESS, aborted/unknown →
/// FAILURE (notes explain), in progress → left ATTEMPTED with a note.
pub(crate) fn apply_outcomes(
    history: &mut History,
    attempts: &[InDoubt],
    outcomes: &[(u64, Outcome)],
) {
    for a in attempts {
        let outcome = outcomes
            .iter()
            .find(|(x, _)| *x == a.xid)
            .map(|(_, o)| *o)
            .unwrap_or(Outcome::Unknown);
        if let Some(row) = history.rows.get_mut(&a.name) {
            row.status = match outcome {
                Outcome::Committed => "SUCCESS",
                Outcome::Aborted | Outcome::Unknown => "FAILURE",
                Outcome::InProgress => "ATTEMPTED",
            }
            .to_string();
            row.status_note = resolution_note(a, outcome);
        }
    }
}

/// Resolves the unresolved attempts at the start of a run (under the locks): refuses
/// in-progress and foreign ones, writes SUCCESS/FAILURE rows (unless `write` is false) and
/// updates `history`. Returns the migrations found committed.
pub(crate) async fn resolve(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    history: &mut History,
    write: bool,
) -> Result<Vec<String>, MigrateError> {
    let attempts = in_doubt(history);
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    check_databases(&attempts, &ctx.target_database, &ctx.tracking.schema)?;
    let rows = conns.target().fetch_all(&xact_status_query(&attempts)).await.map_err(MigrateError::db(format!(
        "finding out in database `{}` whether the transactions of {} interrupted migration(s) committed",
        ctx.target_database,
        attempts.len()
    )))?;
    let outcomes = read_outcomes(&rows).map_err(MigrateError::db("reading pg_xact_status()"))?;
    let outcome_of = |a: &InDoubt| {
        outcomes
            .iter()
            .find(|(x, _)| *x == a.xid)
            .map(|(_, o)| *o)
            .unwrap_or(Outcome::Unknown)
    };
    if let Some(a) = attempts
        .iter()
        .find(|a| outcome_of(a) == Outcome::InProgress)
    {
        return Err(MigrateError::AttemptInProgress {
            name: a.name.clone(),
            xid: a.xid,
            database: a.database.clone(),
        });
    }
    let mut recovered = Vec::new();
    let mut sql = String::from("BEGIN;\n");
    for a in &attempts {
        let Some(row) = history.rows.get(&a.name) else {
            continue;
        };
        let outcome = outcome_of(a);
        match outcome {
            Outcome::Committed => {
                tracing::warn!(
                    migration = %a.name,
                    xid = a.xid,
                    database = %a.database,
                    "recovered: the migration committed but its SUCCESS row was missing (interrupted run); recording it"
                );
                recovered.push(a.name.clone());
            }
            _ => tracing::warn!(
                migration = %a.name,
                xid = a.xid,
                database = %a.database,
                ?outcome,
                "an interrupted attempt did not commit; the migration is pending"
            ),
        }
        let note = resolution_note(a, outcome);
        sql.push_str(&ctx.tracking.insert_row(&NewRow {
            name: &a.name,
            namespace: &ctx.tracking.namespace,
            activity: "APPLY",
            status: if outcome == Outcome::Committed {
                "SUCCESS"
            } else {
                "FAILURE"
            },
            created_by: &ctx.created_by,
            description: "",
            status_note: &note,
            checksum: &row.checksum,
            pin_hash: row.pin_hash.as_deref(),
            execution_time: ExecTime::Seconds(row.exec_secs),
            unless_succeeded: false,
        }));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    if write {
        conns
            .tracking()
            .execute(&sql)
            .await
            .map_err(MigrateError::db(format!(
                "recording the outcome of {} interrupted migration(s) in schema `{}`",
                attempts.len(),
                ctx.tracking.schema
            )))?;
    }
    apply_outcomes(history, &attempts, &outcomes);
    Ok(recovered)
}

/// Applies one transactional migration (the next one of the run) with the history in the
/// other database (see the module docs).
pub(crate) async fn apply_one(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    m: &Migration,
    ledger: &mut Ledger,
) -> Result<(), MigrateError> {
    ledger.started(ctx, m);
    let started = Instant::now();
    // 1. The body, up to the COMMIT.
    let (xid, secs) = match run_until_commit(conns, ctx, m).await? {
        Body::Ran { xid, secs } => (xid, secs),
        Body::Refused(e) => return Err(fail(conns, ctx, m, e, started).await),
    };
    // 2. The attempt, recorded before the commit.
    let attempt = Attempt {
        target_xid: xid.clone(),
        target_database: ctx.target_database.clone(),
    };
    let attempted = apply_row(ctx, m, "ATTEMPTED", &attempt.to_note(), secs);
    if let Err(e) = conns.tracking().execute(&attempted).await {
        let _ = conns.target().execute("ROLLBACK").await;
        return Err(MigrateError::Database {
            context: format!(
                "recording the attempt of migration `{}` in schema `{}` of the tracking database; the migration \
                 was rolled back, nothing of it was applied",
                m.name, ctx.tracking.schema
            ),
            source: e,
        });
    }
    // 3. The commit.
    match conns.target().execute("COMMIT").await {
        Ok(_) => {}
        Err(e) if e.as_database_error().is_some() => {
            return Err(fail(conns, ctx, m, e, started).await)
        }
        Err(e) => {
            return Err(MigrateError::Database {
                context: format!(
                    "committing migration `{}` in database `{}`: the connection failed, so whether it committed \
                     is not known here; its attempt is recorded with transaction {xid}, and the next run finds \
                     out and records the outcome",
                    m.name, ctx.target_database
                ),
                source: e,
            })
        }
    }
    // 4. The success.
    let success = apply_row(ctx, m, "SUCCESS", "", secs);
    if let Err(e) = conns.tracking().execute(&success).await {
        return Err(MigrateError::Database {
            context: format!(
                "migration `{}` committed in database `{}`, but recording its success in schema `{}` failed; \
                 the next run records it (its attempt names transaction {xid})",
                m.name, ctx.target_database, ctx.tracking.schema
            ),
            source: e,
        });
    }
    ledger.committed(ctx, m, seconds(secs));
    Ok(())
}

/// What became of a migration's body sent by [`run_until_commit`].
enum Body {
    /// It ran; its transaction is open, with id `xid`, after `secs` seconds.
    Ran { xid: String, secs: f64 },
    /// The server refused it (the transaction failed).
    Refused(sqlx::Error),
}

/// Sends `BEGIN`, the body of `m` and the query of its transaction's id and execution time,
/// leaving the transaction open.
async fn run_until_commit(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    m: &Migration,
) -> Result<Body, MigrateError> {
    let timeouts = ctx.timeouts(m);
    let xid_column = format!("spawn_xid_{}", ctx.hooks.token);
    let sql = format!(
        "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true) AS spawn_t0;\n\
         SET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};\n{}\n;\n\
         SELECT pg_catalog.pg_current_xact_id()::text AS {xid_column}, \
         extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.current_setting('spawn.t0')::timestamptz)::float8 \
         AS spawn_secs",
        quote_literal(timeouts.lock),
        quote_literal(timeouts.statement),
        m.body_sql(),
    );
    tracing::debug!(
        migration = &*m.name,
        bytes = sql.len(),
        "sending a migration (tracking in another database)"
    );
    let rows = match conns.target().fetch_all(&sql).await {
        Ok(rows) => rows,
        Err(e) if e.as_database_error().is_some() => return Ok(Body::Refused(e)),
        Err(e) => {
            return Err(MigrateError::Database {
                context: format!(
                    "applying migration `{}` in database `{}`: the connection failed before it committed, so \
                     nothing of it was applied; run again",
                    m.name, ctx.target_database
                ),
                source: e,
            })
        }
    };
    let found = rows
        .iter()
        .rev()
        .find(|r| r.columns().first().map(sqlx::Column::name) == Some(xid_column.as_str()))
        .and_then(|r| {
            Some((
                r.try_get::<String, _>(0).ok()?,
                r.try_get::<Option<f64>, _>(1).ok()?.unwrap_or(0.0),
            ))
        });
    match found {
        Some((xid, secs)) => Ok(Body::Ran { xid, secs }),
        None => {
            let _ = conns.target().rollback_if_open().await;
            Err(MigrateError::Database {
                context: format!(
                    "applying migration `{}`: its transaction id was not returned (nothing was applied; was \
                     the transaction ended inside the migration?)",
                    m.name
                ),
                source: sqlx::Error::RowNotFound,
            })
        }
    }
}

/// The migration's transaction failed (in its body or at COMMIT): rolls back and has it
/// diagnosed and recorded; returns the error to report.
async fn fail(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    m: &Migration,
    err: sqlx::Error,
    started: Instant,
) -> MigrateError {
    if ConnectionLost::is_loss(&err) {
        // Terminated by the server (57P01, …): nothing to roll back or replay; an attempt
        // made before the loss is resolved by the next run.
        let doing = format!("applying migration `{}`", m.name);
        return MigrateError::ConnectionLost(Box::new(ConnectionLost::new(doing, err)));
    }
    if let Err(e) = conns.target().rollback_if_open().await {
        return MigrateError::db(format!("rolling back migration `{}`", m.name))(e);
    }
    transaction_failed(conns, ctx, m, PgMessage::from_sqlx(&err), Some(started)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_notes_round_trip_and_differ_from_progress_notes() {
        let a = Attempt {
            target_xid: "123".into(),
            target_database: "app".into(),
        };
        assert_eq!(
            a.to_note(),
            r#"{"target_xid":"123","target_database":"app"}"#
        );
        assert_eq!(Attempt::parse(&a.to_note()), Some(a));
        assert_eq!(
            Attempt::parse(r#"{"statements_done":1,"of":2,"done_sha256":"x"}"#),
            None
        );
        assert_eq!(
            Attempt {
                target_xid: "x".into(),
                target_database: String::new()
            }
            .xid(),
            None
        );
    }
}
