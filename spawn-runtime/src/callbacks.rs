//! Running the SQL callbacks ([`Callbacks`]) around a run: what a run does with
//! `callbacks/before_migrate.sql`, `after_migrate.sql`, `before_each.sql` and
//! `after_each.sql` (rendered at build time, like the migrations).
//!
//! * `before_each` and `after_each` of a transactional migration are put into the
//!   migration's own transaction text ([`wrap`]): the batch carries them in the same message,
//!   with no extra round trip, and a failing callback rolls the migration back with it. The
//!   wrapped migration keeps the migration's name and checksums, so the history is the same
//!   as without callbacks; a failure is mapped back to the callback file and its line
//!   ([`Wrapped::locate`]).
//! * `before_migrate` and `after_migrate`, and `before_each`/`after_each` of a no-transaction
//!   migration, run each in a transaction of its own, as one message ([`run_alone`]); when
//!   one fails, its statements are replayed in a transaction that is rolled back to find the
//!   failing one, and the run fails with [`MigrateError::CallbackFailed`].

use std::borrow::Cow;
use std::fmt;

use crate::diagnose::failed_statement;
use crate::error::{ConnectionLost, FailedStatement, MigrateError, PgMessage};
use crate::plan::{statements_of, Step};
use crate::run::apply_steps;
use crate::session::{Connections, Ledger, RunContext};
use crate::tracking::quote_literal;
use crate::{Migration, Statement, TransactionMode};
use spawn_model::{Callback, Callbacks, LineOrigin};

/// [`apply_steps`](crate::run::apply_steps) with the SQL callbacks `cbs`: `before_migrate`
/// first, `before_each` and `after_each` in each transactional migration's text ([`wrap`];
/// a failure there is mapped back to the callback's file and line), `after_migrate` once the
/// last migration committed (not after a failure; after a stop, when something was
/// applied). Returns whether the run stopped on request.
pub(crate) async fn apply(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    steps: &[Step<'_>],
    ledger: &mut Ledger,
    cbs: &Callbacks,
) -> Result<bool, MigrateError> {
    if cbs.is_empty() {
        return apply_steps(conns, ctx, steps, ledger, cbs).await;
    }
    if let Some(c) = &cbs.before_migrate {
        run_alone(conns, ctx, c, None).await?;
    }
    let wrapped: Vec<Option<Wrapped<'_>>> = steps.iter().map(|s| wrap(s.migration, cbs)).collect();
    let wrapped_steps: Vec<Step<'_>> = steps
        .iter()
        .zip(&wrapped)
        .map(|(s, w)| Step {
            migration: w.as_ref().map_or(s.migration, |w| &w.migration),
            ..s.clone()
        })
        .collect();
    let stopped = match apply_steps(conns, ctx, &wrapped_steps, ledger, cbs).await {
        Ok(stopped) => stopped,
        Err(MigrateError::Failed(mut failure)) => {
            let w = wrapped
                .iter()
                .flatten()
                .find(|w| w.migration.name == failure.name);
            if let (Some(w), Some(s)) = (w, failure.statement.take()) {
                failure.statement = Some(w.locate(s));
            }
            return Err(MigrateError::Failed(failure));
        }
        Err(e) => return Err(e),
    };
    if let Some(c) = &cbs.after_migrate {
        if ledger.next_index() > 0 {
            run_alone(conns, ctx, c, None).await?;
        }
    }
    Ok(stopped)
}

/// `before_each` (`before`) or `after_each` of the no-transaction migration `m`, if there is
/// one, in a transaction of its own.
pub(crate) async fn around_no_transaction(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    cbs: &Callbacks,
    m: &Migration,
    before: bool,
) -> Result<(), MigrateError> {
    let callback = if before {
        cbs.before_each_of(&m.name)
    } else {
        cbs.after_each_of(&m.name)
    };
    match callback {
        Some(c) => run_alone(conns, ctx, c, Some(&m.name)).await,
        None => Ok(()),
    }
}

/// A migration with its `before_each` and `after_each` put into its text, and what is
/// needed to map a failing statement back to where it came from.
#[derive(Debug)]
pub(crate) struct Wrapped<'w> {
    /// What is applied in place of `original`.
    pub migration: Migration,
    original: &'w Migration,
    before: Option<&'w Callback>,
    after: Option<&'w Callback>,
    /// How many statements each part has.
    counts: [usize; 3],
    /// The combined line where the migration's body starts, and the body's line in
    /// `original`.
    body_line: (u32, u32),
    /// The combined line where `after_each` starts.
    after_line: u32,
}

/// `m` with `before_each` and `after_each` of `callbacks` around its body, if `m` is
/// transactional and either callback exists.
pub(crate) fn wrap<'w>(m: &'w Migration, callbacks: &'w Callbacks) -> Option<Wrapped<'w>> {
    if m.mode != TransactionMode::Transactional {
        return None;
    }
    let before = callbacks.before_each_of(&m.name);
    let after = callbacks.after_each_of(&m.name);
    if before.is_none() && after.is_none() {
        return None;
    }
    let body = m.body_sql();
    let own = statements_of(m);
    let body_start_line = line_at(&m.sql, m.body.start.min(m.sql.len()));
    let mut sql = String::with_capacity(
        body.len() + before.map_or(0, |c| c.sql.len()) + after.map_or(0, |c| c.sql.len()) + 8,
    );
    let mut statements = Vec::new();
    let mut counts = [0; 3];
    if let Some(c) = before {
        sql.push_str(&c.sql);
        sql.push_str("\n;\n");
        let of = callback_statements(c);
        counts[0] = of.len();
        statements.extend(of);
    }
    let body_offset = sql.len();
    let body_line = line_at(&sql, sql.len());
    sql.push_str(body);
    sql.push_str("\n;\n");
    counts[1] = own.len();
    statements.extend(own.iter().map(|s| Statement {
        start: s.start.saturating_sub(m.body.start) + body_offset,
        end: s.end.saturating_sub(m.body.start) + body_offset,
        line: (s.line + body_line).saturating_sub(body_start_line),
        recovery: s.recovery.clone(),
    }));
    let after_offset = sql.len();
    let after_line = line_at(&sql, sql.len());
    if let Some(c) = after {
        sql.push_str(&c.sql);
        let of = callback_statements(c);
        counts[2] = of.len();
        statements.extend(of.into_iter().map(|s| Statement {
            start: s.start + after_offset,
            end: s.end + after_offset,
            line: s.line + after_line - 1,
            recovery: s.recovery,
        }));
    }
    // The parts, for `is_callback_statement` (the migration's own components are mapped
    // back by `locate`).
    let mut origins = Vec::with_capacity(3);
    if let Some(c) = before {
        origins.push(LineOrigin::from_component(1, callback_origin(c)));
    }
    origins.push(LineOrigin::from_up_sql(body_line));
    if let Some(c) = after {
        origins.push(LineOrigin::from_component(after_line, callback_origin(c)));
    }
    let migration = Migration {
        body: 0..sql.len(),
        sql: Cow::Owned(sql),
        statements: Cow::Owned(statements),
        origins: Cow::Owned(origins),
        ..m.clone()
    };
    Some(Wrapped {
        migration,
        original: m,
        before,
        after,
        counts,
        body_line: (body_line, body_start_line),
        after_line,
    })
}

impl Wrapped<'_> {
    /// Maps a failure of the wrapped migration back: the statement's index, count, line and
    /// component are those of the callback (named in `callback`) or of the migration.
    pub fn locate(&self, mut failure: FailedStatement) -> FailedStatement {
        let [before, own, _] = self.counts;
        let (callback, index, of, line) = if failure.index <= before {
            (self.before, failure.index, before, failure.line)
        } else if failure.index <= before + own {
            let line = (failure.line + self.body_line.1).saturating_sub(self.body_line.0);
            (None, failure.index - before, own, line)
        } else {
            let line = (failure.line + 1).saturating_sub(self.after_line);
            (
                self.after,
                failure.index - before - own,
                self.counts[2],
                line,
            )
        };
        failure.index = index;
        failure.of = of;
        failure.line = line;
        match callback {
            Some(c) => {
                failure.callback = Some(c.kind.file().to_string());
                failure.component = c.origin_of_line(line).flatten().map(str::to_string);
            }
            None => {
                failure.component = self
                    .original
                    .origin_of_line(line)
                    .flatten()
                    .map(str::to_string);
            }
        }
        failure
    }
}

/// The origin marking the lines of callback `c` in a wrapped migration: its file with a
/// leading `/`, which no component name can have.
fn callback_origin(c: &Callback) -> String {
    format!("/{}", c.kind.file())
}

/// Whether `statement`, as [`crate::diagnose`] found it in a wrapped migration (before
/// [`Wrapped::locate`]), belongs to a callback: the migration itself did not fail, so no
/// FAILURE row is recorded for it.
pub(crate) fn is_callback_statement(statement: &FailedStatement) -> bool {
    statement
        .component
        .as_deref()
        .is_some_and(|c| c.starts_with('/'))
}

/// The statements of `c`: those the build found, or one spanning its SQL when none are
/// known (a callback built by hand).
fn callback_statements(c: &Callback) -> Vec<Statement> {
    if !c.statements.is_empty() || c.sql.trim().is_empty() {
        return c.statements.to_vec();
    }
    vec![Statement {
        start: 0,
        end: c.sql.len(),
        line: 1,
        recovery: spawn_model::Recovery::Transactional,
    }]
}

/// The 1-based line of byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> u32 {
    let newlines = text.get(..offset).map_or(0, |t| t.matches('\n').count());
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// A callback that ran on its own (not inside a migration's transaction) failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallbackFailure {
    /// The callback's file, e.g. `callbacks/before_migrate.sql`.
    pub file: String,
    /// For `before_each`/`after_each` of a no-transaction migration: the migration.
    pub migration: Option<String>,
    /// The failing statement (its line is the callback's), when it could be identified.
    pub statement: Option<FailedStatement>,
    /// PostgreSQL's error.
    pub error: PgMessage,
    /// Migrations that this run applied (committed) before the failure.
    pub applied_before: Vec<String>,
}

impl fmt::Display for CallbackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "callback `{}`", self.file)?;
        if let Some(m) = &self.migration {
            write!(f, " of migration `{m}`")?;
        }
        write!(f, " failed")?;
        if let Some(s) = &self.statement {
            write!(
                f,
                " at statement {} of {} (line {} of {}",
                s.index, s.of, s.line, self.file
            )?;
            if let Some(c) = &s.component {
                write!(f, ", from component `{c}`")?;
            }
            write!(f, "): {}", s.first_line)?;
        }
        write!(f, "\n  {}", self.error)?;
        write!(
            f,
            "\nIt ran in a transaction of its own, which was rolled back. Fix it and run again."
        )?;
        if self.applied_before.is_empty() {
            write!(f, " No migration of this run was applied.")?;
        } else {
            write!(
                f,
                " {} migration(s) of this run were applied and stay applied: {}.",
                self.applied_before.len(),
                self.applied_before
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for CallbackFailure {}

/// Runs `c` in a transaction of its own on the target, as one message (`migration`: the
/// no-transaction migration it runs for, for messages). On failure, finds the failing
/// statement by replaying `c` in a transaction that is rolled back.
pub(crate) async fn run_alone(
    conns: &mut Connections,
    ctx: &RunContext<'_>,
    c: &Callback,
    migration: Option<&str>,
) -> Result<(), MigrateError> {
    let doing = match migration {
        Some(m) => format!("running callback {} of migration `{m}`", c.kind.file()),
        None => format!("running callback {}", c.kind.file()),
    };
    let setup = format!(
        "BEGIN;\nSET LOCAL lock_timeout = {};\nSET LOCAL statement_timeout = {};\n",
        quote_literal(ctx.default_timeouts.lock),
        quote_literal(ctx.default_timeouts.statement)
    );
    let message = format!("{setup}{}\n;\nCOMMIT;", c.sql);
    tracing::debug!(callback = c.kind.file(), migration, "running a callback");
    let session = conns.target();
    let err = match session.execute(&message).await {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    if ConnectionLost::is_loss(&err) {
        return Err(MigrateError::ConnectionLost(Box::new(ConnectionLost::new(
            doing, err,
        ))));
    }
    if err.as_database_error().is_none() {
        return Err(MigrateError::Database {
            context: doing,
            source: err,
        });
    }
    let reported = PgMessage::from_sqlx(&err);
    session
        .rollback_if_open()
        .await
        .map_err(MigrateError::db_or_lost(doing.clone()))?;
    // Replay, statement by statement, to find the one that fails.
    let statements = callback_statements(c);
    let as_migration = Migration {
        origins: c.origins.clone(),
        ..Migration::new(c.kind.file(), c.sql.clone(), statements.clone())
    };
    session
        .execute(&setup)
        .await
        .map_err(MigrateError::db_or_lost(doing.clone()))?;
    let mut found = None;
    for (i, s) in statements.iter().enumerate() {
        match session.execute(c.statement_sql(s)).await {
            Ok(_) => {}
            Err(e) if e.as_database_error().is_some() => {
                found = Some((
                    failed_statement(&as_migration, &statements, i),
                    PgMessage::from_sqlx(&e),
                ));
                break;
            }
            Err(e) => return Err(MigrateError::db_or_lost(doing)(e)),
        }
    }
    session
        .execute("ROLLBACK")
        .await
        .map_err(MigrateError::db_or_lost(doing))?;
    let (statement, error) = match found {
        Some((mut s, error)) => {
            s.callback = Some(c.kind.file().to_string());
            (Some(s), error)
        }
        None => (None, reported),
    };
    tracing::warn!(target: crate::FAILURE_LOG, callback = c.kind.file(), migration, error = %error.message, "callback failed");
    Err(MigrateError::CallbackFailed(Box::new(CallbackFailure {
        file: c.kind.file().to_string(),
        migration: migration.map(str::to_string),
        statement,
        error,
        applied_before: Vec::new(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawn_model::{CallbackKind, Recovery};

    fn statement(sql: &str, text: &str) -> Statement {
        let start = sql.find(text).expect("the statement");
        Statement {
            start,
            end: start + text.len(),
            line: line_at(sql, start),
            recovery: Recovery::Transactional,
        }
    }

    fn failure(index: usize, line: u32) -> FailedStatement {
        FailedStatement {
            index,
            of: 99,
            line,
            first_line: String::new(),
            component: None,
            callback: None,
        }
    }

    #[test]
    fn before_and_after_each_go_into_the_migration_text_and_failures_map_back() {
        let sql = "BEGIN;\nCREATE TABLE t (id int);\n\nINSERT INTO t VALUES (1);\nCOMMIT;\n";
        let body = 6..sql.find("COMMIT").unwrap();
        let m = Migration {
            body,
            origins: Cow::Owned(vec![
                LineOrigin::from_up_sql(1),
                LineOrigin::from_component(4, "seed.sql"),
            ]),
            ..Migration::new(
                "20250101000000-t",
                sql,
                vec![
                    statement(sql, "CREATE TABLE t (id int)"),
                    statement(sql, "INSERT INTO t VALUES (1)"),
                ],
            )
        };
        let before_sql = "SELECT 1;\nSELECT 2;";
        let after_sql = "-- done\nSELECT 'after';\n";
        let callbacks = Callbacks {
            before_each: Cow::Owned(vec![Callback::new(
                CallbackKind::BeforeEach,
                before_sql,
                vec![
                    statement(before_sql, "SELECT 1"),
                    statement(before_sql, "SELECT 2"),
                ],
            )]),
            after_each: Cow::Owned(vec![Callback::new(
                CallbackKind::AfterEach,
                after_sql,
                vec![statement(after_sql, "SELECT 'after'")],
            )]),
            ..Callbacks::default()
        };
        let w = wrap(&m, &callbacks).expect("wrapped");
        let texts: Vec<&str> = w
            .migration
            .statements
            .iter()
            .map(|s| w.migration.statement_sql(s))
            .collect();
        assert_eq!(
            texts,
            [
                "SELECT 1",
                "SELECT 2",
                "CREATE TABLE t (id int)",
                "INSERT INTO t VALUES (1)",
                "SELECT 'after'"
            ]
        );
        for s in w.migration.statements.iter() {
            assert_eq!(s.line, line_at(&w.migration.sql, s.start), "{s:?}");
        }
        assert_eq!(
            w.migration.sha256, m.sha256,
            "the history sees the migration"
        );
        assert_eq!(w.migration.name, m.name);

        let at = |i: usize| {
            let s = &w.migration.statements[i - 1];
            w.locate(failure(i, s.line))
        };
        let raw = |i: usize| {
            let s = &w.migration.statements[i - 1];
            is_callback_statement(&crate::diagnose::failed_statement(
                &w.migration,
                &w.migration.statements,
                i - 1,
            )) && s.line > 0
        };
        assert_eq!(
            (1..=5).map(raw).collect::<Vec<_>>(),
            [true, true, false, false, true]
        );
        let second = at(2);
        assert_eq!((second.index, second.of, second.line), (2, 2, 2));
        assert_eq!(
            second.callback.as_deref(),
            Some("callbacks/before_each.sql")
        );
        let insert = at(4);
        assert_eq!((insert.index, insert.of, insert.line), (2, 2, 4));
        assert_eq!(insert.callback, None);
        assert_eq!(insert.component.as_deref(), Some("seed.sql"));
        let after = at(5);
        assert_eq!((after.index, after.of, after.line), (1, 1, 2));
        assert_eq!(after.callback.as_deref(), Some("callbacks/after_each.sql"));
    }

    #[test]
    fn no_transaction_migrations_and_sets_without_each_callbacks_are_not_wrapped() {
        let m = Migration::new("20250101000000-t", "SELECT 1", Vec::new());
        assert!(wrap(&m, &Callbacks::NONE).is_none());
        let callbacks = Callbacks {
            after_each: Cow::Owned(vec![Callback::new(
                CallbackKind::AfterEach,
                "SELECT 2",
                Vec::new(),
            )]),
            ..Callbacks::default()
        };
        let no_tx = Migration {
            mode: TransactionMode::NoTransaction,
            ..m.clone()
        };
        assert!(wrap(&no_tx, &callbacks).is_none());
        let w = wrap(&m, &callbacks).expect("wrapped");
        assert_eq!(w.migration.sql, "SELECT 1\n;\nSELECT 2");
        assert_eq!(w.migration.statements.len(), 2);
    }
}
