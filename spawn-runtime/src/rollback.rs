//! Rolling back applied migrations ([`Migrator::rollback_to`](crate::Migrator::rollback_to),
//! [`Migrator::rollback_steps`](crate::Migrator::rollback_steps)): under the same advisory
//! lock as a run, newest first, each migration's `down.sql` runs in one transaction with its
//! `REVERT` history row (activity `REVERT`, status `SUCCESS`, the `down.sql`'s SHA-256 as
//! checksum), one message per migration:
//!
//! ```sql
//! BEGIN;
//! SELECT set_config('spawn.t0', clock_timestamp()::text, true);
//! SET LOCAL lock_timeout = '…'; SET LOCAL statement_timeout = '…';
//! <down.sql body>
//! ;
//! <REVERT row> RETURNING <execution time>;
//! COMMIT;
//! ```
//!
//! A reverted migration's newest history row is that `REVERT` row, so it counts as pending
//! again (see [`crate::plan::classify`]) and the next run applies it normally.
//!
//! Every check runs before anything does ([`plan`]): a migration to undo that has no
//! `down.sql` ([`MigrateError::NoDown`]), changed since it was applied, is partly applied or
//! is missing from the set ([`MigrateError::CannotRollBack`]) stops the rollback with nothing
//! rolled back. A `down.sql` that fails is rolled back with its transaction (nothing of it
//! remains; nothing is recorded), replayed to name the failing statement, and ends the
//! rollback ([`MigrateError::DownFailed`]); the migrations undone before it stay undone.

use std::time::Instant;

use sqlx::Row;

use crate::diagnose::replay;
use crate::error::{ConnectionLost, DownFailure, MigrateError, PgMessage};
use crate::plan::{classify, counts_as_applied, Class};
use crate::report::AppliedMigration;
use crate::session::{Connections, RunContext};
use crate::tracking::{quote_literal, seconds, ExecTime, History, NewRow};
use crate::Migration;

/// How far a rollback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RollbackTarget<'t> {
    /// Undo every applied migration that sorts after this one (which stays applied).
    To(&'t str),
    /// Undo the newest `n` applied migrations.
    Steps(usize),
}

/// What a rollback will undo.
#[derive(Debug, Clone)]
pub(crate) struct RollbackPlan<'p> {
    /// The migrations to undo, newest first.
    pub steps: Vec<&'p Migration>,
    /// Applied migrations that stay applied.
    pub staying: usize,
}

/// The migrations to undo for `target`, newest first, once every one of them can be undone:
/// an error means nothing may run. `migrations` is the set, in name order.
pub(crate) fn plan<'p>(
    migrations: &'p [Migration],
    history: &History,
    target: RollbackTarget<'_>,
) -> Result<RollbackPlan<'p>, MigrateError> {
    let find = |name: &str| {
        migrations
            .binary_search_by(|m| (*m.name).cmp(name))
            .ok()
            .map(|i| &migrations[i])
    };
    // Everything recorded as (at least partly) applied, newest first; repeatable migrations
    // are not part of the sequence (they are applied again when they change).
    let mut applied: Vec<(&str, Option<&Migration>)> = history
        .rows
        .values()
        .filter(|r| counts_as_applied(r))
        .map(|r| (r.name.as_str(), find(&r.name)))
        .filter(|(_, m)| !m.is_some_and(|m| m.repeatable))
        .collect();
    applied.sort_unstable_by(|a, b| b.0.cmp(a.0));
    let count = match target {
        RollbackTarget::Steps(n) => n.min(applied.len()),
        RollbackTarget::To(to) => applied.iter().take_while(|(name, _)| *name > to).count(),
    };
    let mut steps = Vec::with_capacity(count);
    for &(name, migration) in &applied[..count] {
        let Some(m) = migration else {
            return Err(MigrateError::CannotRollBack {
                name: name.to_string(),
                reason: "is recorded as applied but is not part of this migration set".into(),
                remedy: "Restore its folder (with a down.sql), or roll back fewer migrations"
                    .into(),
            });
        };
        match classify(m, history.rows.get(name)) {
            Class::Applied { .. } => {}
            Class::Changed { .. } => {
                return Err(MigrateError::CannotRollBack {
                    name: name.to_string(),
                    reason: "was applied with other SQL than it renders to now".into(),
                    remedy: format!(
                        "Restore `{name}` exactly as it was applied (its down.sql undoes that), \
                         or roll back fewer migrations"
                    ),
                });
            }
            _ => {
                return Err(MigrateError::CannotRollBack {
                    name: name.to_string(),
                    reason: "is only partly applied".into(),
                    remedy: "Finish it first (run the migrations again), or roll back fewer \
                             migrations"
                        .into(),
                });
            }
        }
        if m.down.is_none() {
            return Err(MigrateError::NoDown {
                name: name.to_string(),
            });
        }
        steps.push(m);
    }
    Ok(RollbackPlan {
        staying: applied.len() - steps.len(),
        steps,
    })
}

/// Undoes `steps` (newest first, each with a `down.sql`) on the locked connections, one
/// transaction each with its `REVERT` row; `reverted` records each as it commits.
pub(crate) async fn carry_out(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    steps: &[&Migration],
    reverted: &mut Vec<AppliedMigration>,
) -> Result<(), MigrateError> {
    for (index, m) in steps.iter().enumerate() {
        let Some(down) = &m.down else {
            return Err(MigrateError::NoDown {
                name: m.name.to_string(),
            });
        };
        let as_run = down.as_migration(m);
        let timeouts = ctx.timeouts(&as_run);
        let row = ctx.tracking.insert_row(&NewRow {
            name: &m.name,
            namespace: &ctx.tracking.namespace,
            activity: "REVERT",
            status: "SUCCESS",
            created_by: &ctx.created_by,
            description: "",
            status_note: "",
            checksum: &down.sha256,
            pin_hash: m.pin_hash.as_deref(),
            execution_time: ExecTime::SinceT0,
            unless_succeeded: false,
        });
        let sql = format!(
            "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true);\n\
             SET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};\n{}\n;\n\
             {row} RETURNING extract(epoch FROM execution_time)::float8 AS spawn_reverted_secs;\nCOMMIT;",
            quote_literal(timeouts.lock),
            quote_literal(timeouts.statement),
            down.body_sql(),
        );
        ctx.hooks.started(&m.name, index, steps.len());
        let started = Instant::now();
        match conns.target().fetch_all(&sql).await {
            Ok(rows) => {
                let secs = rows
                    .last()
                    .and_then(|r| r.try_get::<f64, _>("spawn_reverted_secs").ok())
                    .unwrap_or_else(|| started.elapsed().as_secs_f64());
                let duration = seconds(secs);
                tracing::info!(migration = &*m.name, ?duration, "rolled back migration");
                ctx.hooks.committed(&m.name, index, steps.len(), duration);
                reverted.push(AppliedMigration {
                    name: m.name.to_string(),
                    duration,
                });
            }
            Err(err) => {
                let doing = format!("running the down.sql of migration `{}`", m.name);
                if ConnectionLost::is_loss(&err) || err.as_database_error().is_none() {
                    return Err(MigrateError::db_or_lost(doing)(err));
                }
                let reported = PgMessage::from_sqlx(&err);
                conns
                    .target()
                    .rollback_if_open()
                    .await
                    .map_err(MigrateError::db_or_lost(doing))?;
                let (statement, replayed) = replay(conns.target(), ctx, &as_run).await?;
                let error = replayed.unwrap_or(reported);
                tracing::warn!(target: crate::FAILURE_LOG, migration = &*m.name, error = %error.message, "down.sql failed");
                return Err(MigrateError::DownFailed(Box::new(DownFailure {
                    name: m.name.to_string(),
                    statement,
                    error,
                    reverted_before: reverted.iter().map(|r| r.name.clone()).collect(),
                })));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::HistoryRow;
    use spawn_model::Down;

    fn row(name: &str, activity: &str, m: &Migration) -> HistoryRow {
        HistoryRow {
            name: name.to_string(),
            activity: activity.to_string(),
            status: "SUCCESS".to_string(),
            checksum: m.sha256.to_vec(),
            pin_hash: None,
            status_note: String::new(),
            created_by: String::new(),
            created_us: 0,
            exec_secs: 0.0,
        }
    }

    fn set() -> Vec<Migration> {
        let with_down = |name: &'static str| Migration {
            down: Some(Down::new("SELECT 0", Vec::new())),
            ..Migration::new(name, "SELECT 1", Vec::new())
        };
        vec![
            with_down("a"),
            Migration::new("b", "SELECT 2", Vec::new()),
            with_down("c"),
            with_down("d"),
        ]
    }

    fn history(ms: &[Migration], applied: &[&str], reverted: &[&str]) -> History {
        let mut h = History::default();
        for m in ms {
            let activity = if reverted.contains(&&*m.name) {
                "REVERT"
            } else if applied.contains(&&*m.name) {
                "APPLY"
            } else {
                continue;
            };
            h.rows.insert(m.name.to_string(), row(&m.name, activity, m));
        }
        h
    }

    fn names(p: &RollbackPlan<'_>) -> Vec<String> {
        p.steps.iter().map(|m| m.name.to_string()).collect()
    }

    #[test]
    fn newest_first_by_steps_or_down_to_a_migration_that_stays() {
        let ms = set();
        let h = history(&ms, &["a", "b", "c", "d"], &[]);
        let p = plan(&ms, &h, RollbackTarget::Steps(2)).expect("plan");
        assert_eq!(names(&p), ["d", "c"]);
        assert_eq!(p.staying, 2);
        let p = plan(&ms, &h, RollbackTarget::To("b")).expect("plan");
        assert_eq!(names(&p), ["d", "c"]);
        // Reverted and pending ones are not applied: nothing to undo there.
        let h = history(&ms, &["a", "b", "c", "d"], &["d"]);
        let p = plan(&ms, &h, RollbackTarget::Steps(1)).expect("plan");
        assert_eq!(names(&p), ["c"]);
        assert_eq!(p.staying, 2);
        let p = plan(&ms, &h, RollbackTarget::To("c")).expect("plan");
        assert!(p.steps.is_empty() && p.staying == 3, "{p:?}");
    }

    #[test]
    fn a_migration_without_down_stops_the_rollback_before_anything_runs() {
        let ms = set();
        let h = history(&ms, &["a", "b", "c", "d"], &[]);
        let err = plan(&ms, &h, RollbackTarget::Steps(3)).unwrap_err();
        assert!(
            matches!(&err, MigrateError::NoDown { name } if name == "b"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "migration `b` has no down.sql, so the rollback cannot undo it. Nothing was rolled \
             back. Add migrations/b/down.sql (rendered from the same pin as its up.sql), or roll \
             back fewer migrations: to `b` at most"
        );
    }

    #[test]
    fn missing_and_changed_migrations_cannot_be_undone() {
        let ms = set();
        let mut h = history(&ms, &["a", "c", "d"], &[]);
        h.rows.insert("e".into(), row("e", "APPLY", &ms[0]));
        let err = plan(&ms, &h, RollbackTarget::Steps(1)).unwrap_err();
        assert!(err.to_string().starts_with(
            "migration `e` is recorded as applied but is not part of this migration set, so the \
             rollback cannot undo it. Nothing was rolled back."
        ));
        let mut h = history(&ms, &["a", "c", "d"], &[]);
        h.rows.get_mut("d").expect("d").checksum = vec![7; 32];
        let err = plan(&ms, &h, RollbackTarget::Steps(1)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("migration `d` was applied with other SQL than it renders to now"),
            "{err}"
        );
    }
}
