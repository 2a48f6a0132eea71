//! Errors of the migrator: every message names the migration concerned (when there is one)
//! and says how to fix the problem.

use std::fmt;
use std::time::Duration;

/// Why a migration run, status query or adoption did not happen (or stopped).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The environment asked for was not compiled into the binary.
    #[error(
        "environment `{environment}` was not compiled into this binary (compiled in: {}); \
         set SPAWN_ENV or Migrator::environment() to one of those, or add a target for \
         `{environment}` to spawn.toml and rebuild",
        list(available)
    )]
    UnknownEnvironment {
        environment: String,
        available: Vec<String>,
    },

    /// `Migrator::environment()` was used on a migrator built from rendered migrations.
    #[error(
        "Migrator::environment(\"{environment}\") only selects among the renders of an embedded \
         migration set; this migrator was built with Migrator::new() from migrations that are \
         already rendered: render them for `{environment}` instead"
    )]
    EnvironmentNotSelectable { environment: String },

    /// Two migrations of the set have the same name.
    #[error(
        "migration `{name}` appears twice in the migration set; rename one of the two folders"
    )]
    DuplicateMigration { name: String },

    /// A migration named by `up_to()` or `adopt()` is not in the set.
    #[error(
        "no migration named `{name}` in this migration set (asked for by {context}); \
         give the full folder name of one of its {count} migrations{}",
        hint_names(known)
    )]
    UnknownMigration {
        name: String,
        /// `"Migrator::up_to()"` or `"adopt()"`.
        context: &'static str,
        /// How many migrations the set has.
        count: usize,
        /// Names of the set that look closest (at most a few).
        known: Vec<String>,
    },

    /// The tracking schema name is unusable.
    #[error("invalid tracking schema name {schema:?}: {reason}; choose a plain schema name such as `_spawn`")]
    InvalidSchema {
        schema: String,
        reason: &'static str,
    },

    /// The migration lock stayed busy for longer than the wait set with
    /// `Migrator::lock_wait()`.
    #[error(transparent)]
    LockWaitTimeout(Box<LockWaitTimeout>),

    /// An applied migration's SQL changed since it was applied.
    #[error(
        "migration `{name}` was applied with checksum {recorded} ({recorded_kind}) but its SQL now \
         has checksum {current}: an applied migration must not change. Nothing was applied. \
         Restore `{name}` exactly as it was applied and put the change into a new migration"
    )]
    ChecksumMismatch {
        name: String,
        /// Hex of the recorded checksum.
        recorded: String,
        /// `SHA-256` or `XXH3-128 (written by the original spawn)`.
        recorded_kind: &'static str,
        /// Hex of the same kind of checksum of the current SQL.
        current: String,
    },

    /// Migrations are recorded as applied but are not part of the set.
    #[error(
        "{} recorded as applied in schema `{schema}` but not part of this migration set \
         (deleted or renamed?): {}. Nothing was applied. Restore {}, or run with {} to \
         accept that",
        if names.len() == 1 { "migration is" } else { "migrations are" },
        list(names),
        if names.len() == 1 { "it" } else { "them" },
        Remedy::IgnoreMissing.builder_call()
    )]
    MissingMigrations { schema: String, names: Vec<String> },

    /// A pending migration sorts before the newest applied one.
    #[error(
        "pending migration `{name}` sorts before `{newest_applied}`, which is already applied, so \
         it would run out of order. Nothing was applied. Rename `{name}` so that it sorts after \
         `{newest_applied}`, or run with {} if the order does not matter",
        Remedy::AllowOutOfOrder.builder_call()
    )]
    OutOfOrder {
        name: String,
        newest_applied: String,
    },

    /// A partly applied no-transaction migration changed since its statements ran.
    #[error(
        "no-transaction migration `{name}` is partly applied ({done} of {of} statements ran) and \
         {reason}. Nothing was applied. Restore its first {done} statement(s) as they were when \
         they ran so that the run can resume at statement {next}, or finish it by hand and \
         record it with adopt()",
        next = done + 1
    )]
    PartialChanged {
        name: String,
        done: usize,
        of: usize,
        reason: String,
    },

    /// A statement of a no-transaction migration that cannot run in a transaction was
    /// started by an earlier run that stopped before recording its outcome, and the catalog
    /// cannot tell whether it took effect. Nothing was run.
    #[error(
        "statement {statement} of {of} of no-transaction migration `{name}` (line {line}: {first_line}) was \
         started by an earlier run that stopped before recording whether it took effect, and that cannot \
         be told from the catalog. Nothing was run. Check by hand whether it took effect, then record \
         what you found: `spawn migration resolve {name} --statement {statement}` if it did (the run then \
         resumes after it), or `spawn migration resolve {name} --statement {statement} --not-applied` if \
         it did not (the run then runs it); from Rust: Migrator::resolve_statement(). Then run again."
    )]
    OutcomeUnknown {
        name: String,
        /// The statement (1-based).
        statement: usize,
        of: usize,
        /// Its line in the rendered SQL.
        line: u32,
        first_line: String,
    },

    /// `Migrator::resolve_statement()` was asked about a statement that is not the one
    /// recorded as started. Nothing was recorded.
    #[error(
        "statement {statement} of migration `{name}` is not recorded as started ({reason}); nothing \
         was recorded. `spawn migration status` shows the migration's state; only the statement \
         that a run reported as started without a recorded outcome can be resolved"
    )]
    NotStarted {
        name: String,
        statement: usize,
        reason: String,
    },

    /// With the tracking tables in another database: a migration's transaction that was
    /// about to commit, according to the history, is still running in the target database.
    #[error(
        "migration `{name}` was being applied by transaction {xid} in database `{database}`, and that \
         transaction is still in progress, so whether it commits is not known yet. Nothing was applied. \
         Let it finish or end it (SELECT pid FROM pg_stat_activity WHERE backend_xid::text::bigint = \
         {xid} % 4294967296 finds it; pg_terminate_backend(pid) rolls it back), then run again"
    )]
    AttemptInProgress {
        name: String,
        xid: u64,
        database: String,
    },

    /// With the tracking tables in another database: a migration was attempted by a run whose
    /// migrations ran in a different database than this run's, so its outcome cannot be
    /// checked from here.
    #[error(
        "migration `{name}` has an unfinished attempt in schema `{schema}` (transaction {xid}) made by a \
         run whose migrations ran in database `{recorded_database}`, but this run's migrations run in \
         `{target_database}`; whether it committed can only be found out in `{recorded_database}`. \
         Nothing was applied. Run once against `{recorded_database}` (that records the outcome), or, if \
         that database is gone, delete that ATTEMPTED row from `{schema}`.migration_history"
    )]
    AttemptElsewhere {
        name: String,
        xid: u64,
        schema: String,
        recorded_database: String,
        target_database: String,
    },

    /// A migration failed while it was applied.
    #[error(transparent)]
    Failed(Box<MigrationFailure>),

    /// A rollback would have to undo a migration that has no `down.sql`. Nothing was rolled
    /// back.
    #[error(
        "migration `{name}` has no down.sql, so the rollback cannot undo it. Nothing was rolled \
         back. Add migrations/{name}/down.sql (rendered from the same pin as its up.sql), or \
         roll back fewer migrations: to `{name}` at most"
    )]
    NoDown {
        /// The first migration (newest first) of the rollback without a `down.sql`.
        name: String,
    },

    /// A rollback would have to undo a migration whose state does not allow it (changed
    /// since it was applied, partly applied, or missing from the set). Nothing was rolled
    /// back.
    #[error(
        "migration `{name}` {reason}, so the rollback cannot undo it. Nothing was rolled back. \
         {remedy}"
    )]
    CannotRollBack {
        name: String,
        /// Why (`was applied with other SQL than it renders to now`, …).
        reason: String,
        /// What to do.
        remedy: String,
    },

    /// Rollbacks need the tracking tables in the target database: each `down.sql` commits
    /// in one transaction with its `REVERT` row.
    #[error(
        "a rollback runs each down.sql in one transaction with its REVERT history row, which \
         needs the tracking tables in the database the migrations run in; this migrator keeps \
         them in another database (Migrator::tracking_pool / spawn_database). Nothing was \
         rolled back"
    )]
    RollbackNeedsOneDatabase,

    /// A migration's `down.sql` failed during a rollback.
    #[error(transparent)]
    DownFailed(Box<DownFailure>),
    /// A callback that runs in a transaction of its own (`before_migrate`, `after_migrate`,
    /// or `before_each`/`after_each` of a no-transaction migration) failed.
    #[error(transparent)]
    CallbackFailed(Box<crate::callbacks::CallbackFailure>),

    /// The migrator's own connection could not be opened (refused, no answer within the
    /// connect timeout, authentication, …).
    #[error("connecting the migrator's dedicated connection to the {role} database `{database}`: {source}")]
    Connect {
        /// `target` or `tracking`.
        role: &'static str,
        /// The database it connects to.
        database: String,
        #[source]
        source: crate::connect::ConnectError,
    },

    /// The connection was lost (terminated by the server, or broken) while migrations were
    /// applied.
    #[error(transparent)]
    ConnectionLost(Box<ConnectionLost>),

    /// A tenant name that is not letters, digits and `_` (see [`crate::tenants`]).
    #[error("invalid tenant name {tenant:?}: a tenant is 1 to 63 ASCII letters, digits and _, not starting with a digit")]
    InvalidTenant { tenant: String },

    /// A tenant whose schema does not exist.
    #[error("tenant {tenant}: its schema does not exist; create it first (`spawn tenant add {tenant}` creates it and applies every tenant part)")]
    MissingTenantSchema { tenant: String },

    /// A query of the migrator itself failed (connection, privileges, …).
    #[error("{context}: {source}")]
    Database {
        /// What the migrator was doing, naming the migration when there is one.
        context: String,
        #[source]
        source: sqlx::Error,
    },
}

impl MigrateError {
    /// The failure of a migration, when that is what this error is.
    pub fn failure(&self) -> Option<&MigrationFailure> {
        match self {
            MigrateError::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// The setting that gets past this refusal, when there is one: the library's messages
    /// name its builder call ([`Remedy::builder_call`]), which a front end such as the CLI
    /// can replace with its own flag.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            MigrateError::MissingMigrations { .. } => Some(Remedy::IgnoreMissing),
            MigrateError::OutOfOrder { .. } => Some(Remedy::AllowOutOfOrder),
            MigrateError::LockWaitTimeout(_) => Some(Remedy::LockWait),
            _ => None,
        }
    }

    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MigrateError {
        let context = context.into();
        move |source| MigrateError::Database { context, source }
    }

    /// Like [`MigrateError::db`], but a lost connection is [`MigrateError::ConnectionLost`]
    /// while doing `context`.
    pub(crate) fn db_or_lost(
        context: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> MigrateError {
        let context = context.into();
        move |source| {
            if ConnectionLost::is_loss(&source) {
                MigrateError::ConnectionLost(Box::new(ConnectionLost::new(context, source)))
            } else {
                MigrateError::Database { context, source }
            }
        }
    }
}

/// A setting of the [`Migrator`](crate::Migrator) that gets past a refusal
/// ([`MigrateError::remedy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Accept recorded migrations missing from the set.
    IgnoreMissing,
    /// Apply a migration that sorts before the newest applied one.
    AllowOutOfOrder,
    /// Wait longer for the migration lock.
    LockWait,
}

impl Remedy {
    /// The builder call, as the error messages name it (e.g. `Migrator::lock_wait()`).
    pub fn builder_call(self) -> &'static str {
        match self {
            Remedy::IgnoreMissing => "Migrator::ignore_missing(true)",
            Remedy::AllowOutOfOrder => "Migrator::allow_out_of_order(true)",
            Remedy::LockWait => "Migrator::lock_wait()",
        }
    }
}

/// The session holding the migration lock, as seen in `pg_locks` and `pg_stat_activity`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockHolder {
    /// Its backend's process id.
    pub pid: i32,
    /// Its `application_name`.
    pub application_name: Option<String>,
    /// Its role.
    pub user: Option<String>,
    /// The client's address (`None` for a Unix socket).
    pub client_addr: Option<String>,
    /// When that session connected (server time, as text).
    pub backend_start: Option<String>,
    /// `active`, `idle`, `idle in transaction`, … when visible.
    pub state: Option<String>,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        match self.application_name.as_deref() {
            Some(app) if !app.is_empty() => write!(f, " (application_name '{app}')")?,
            _ => write!(f, " (no application_name)")?,
        }
        if let Some(user) = &self.user {
            write!(f, ", user {user}")?;
        }
        if let Some(addr) = &self.client_addr {
            write!(f, ", from {addr}")?;
        }
        if let Some(start) = &self.backend_start {
            write!(f, ", connected since {start}")?;
        }
        if let Some(state) = &self.state {
            write!(f, ", {state}")?;
        }
        Ok(())
    }
}

/// The migration lock (an advisory lock) could not be taken within the wait set with
/// `Migrator::lock_wait()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LockWaitTimeout {
    /// The tracking schema whose lock it is.
    pub schema: String,
    /// The advisory lock key ([`advisory_lock_key`](crate::advisory_lock_key)).
    pub key: i64,
    /// How long the run waited.
    pub waited: Duration,
    /// Who held the lock at the last attempt (`None` if it could not be seen).
    pub holder: Option<LockHolder>,
}

impl fmt::Display for LockWaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {:.1?} waiting for spawn's migration lock on tracking schema `{}` \
             (advisory lock {}), ",
            self.waited, self.schema, self.key
        )?;
        match &self.holder {
            Some(h) => write!(
                f,
                "held by {h}. Nothing was applied. Let that session finish, end it with \
                 SELECT pg_terminate_backend({}), or wait longer with {}",
                h.pid,
                Remedy::LockWait.builder_call()
            ),
            None => write!(
                f,
                "held by a session that is not visible to this role. Nothing was applied. Let \
                 the other migrator finish, or wait longer with {}",
                Remedy::LockWait.builder_call()
            ),
        }
    }
}

impl std::error::Error for LockWaitTimeout {}

/// The connection was lost while migrations were applied: each migration commits with its
/// history row or not at all, so a new run continues where this one stopped.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectionLost {
    /// What the run was doing (`applying migrations `a` to `c``).
    pub doing: String,
    /// The SQLSTATE the server sent when it ended the connection (`57P01` for
    /// `pg_terminate_backend` or a fast shutdown), when it sent one.
    pub code: Option<String>,
    /// Migrations this run committed before the loss.
    pub applied_before: Vec<String>,
    /// When a no-transaction migration was under way: the statement that was running
    /// (1-based) and how many it has.
    pub no_transaction_statement: Option<(usize, usize)>,
    /// The error as sqlx reported it.
    pub source: sqlx::Error,
}

impl ConnectionLost {
    pub(crate) fn new(doing: String, source: sqlx::Error) -> Self {
        ConnectionLost {
            doing,
            code: source
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned()),
            applied_before: Vec::new(),
            no_transaction_statement: None,
            source,
        }
    }

    /// The loss happened while statement `statement` (1-based) of `of` of a no-transaction
    /// migration ran.
    pub(crate) fn in_statement(mut self, statement: usize, of: usize) -> Self {
        self.no_transaction_statement = Some((statement, of));
        self
    }

    /// Whether `err` means the connection is gone: an I/O or protocol failure, or the server
    /// ending the session (SQLSTATE class 57P: terminated by an administrator, a shutdown
    /// or a crash; class 08: connection exception).
    pub(crate) fn is_loss(err: &sqlx::Error) -> bool {
        match err.as_database_error().and_then(|d| d.code()) {
            Some(code) => code.starts_with("57P") || code.starts_with("08"),
            None => matches!(
                err,
                sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)
            ),
        }
    }
}

impl fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) if code.starts_with("57P") => write!(
                f,
                "the connection was terminated by the server (SQLSTATE {code}: {}) while {}",
                self.source
                    .as_database_error()
                    .map_or_else(|| self.source.to_string(), |d| d.message().to_string()),
                self.doing
            )?,
            Some(code) => write!(
                f,
                "the connection was lost (SQLSTATE {code}) while {}: {}",
                self.doing, self.source
            )?,
            None => write!(
                f,
                "the connection was lost while {}: {}",
                self.doing, self.source
            )?,
        }
        if self.applied_before.is_empty() {
            write!(f, ". No migration of this run was confirmed committed")?;
        } else {
            write!(
                f,
                ". {} migration(s) of this run committed and stay applied: {}",
                self.applied_before.len(),
                list(&self.applied_before)
            )?;
        }
        match self.no_transaction_statement {
            Some((k, n)) => write!(
                f,
                "; of the no-transaction migration in flight, the statements before statement \
                 {k} of {n} are recorded done, and statement {k} committed with its progress \
                 row, or the next run checks whether it took effect before running it. Run \
                 again: the run resumes after the last recorded statement"
            ),
            None => write!(
                f,
                "; the migration in flight committed with its history row or was rolled back, \
                 never half-applied. Run again: the run continues where this one stopped"
            ),
        }
    }
}

impl std::error::Error for ConnectionLost {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The statement of a migration that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedStatement {
    /// 1-based index among the migration's statements.
    pub index: usize,
    /// How many statements the migration has.
    pub of: usize,
    /// 1-based line of the statement's start in the rendered SQL.
    pub line: u32,
    /// The statement's first line of text.
    pub first_line: String,
    /// The component that produced the line (`None`: the migration's own `up.sql`, the
    /// callback file itself, or not known).
    pub component: Option<String>,
    /// The callback the statement belongs to (e.g. `callbacks/before_each.sql`), when it is
    /// not the migration's own: `line`, `index` and `of` are then the callback's.
    pub callback: Option<String>,
}

/// What PostgreSQL said about a failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgMessage {
    /// SQLSTATE, e.g. `23505`.
    pub code: Option<String>,
    /// The primary message.
    pub message: String,
    /// `DETAIL`.
    pub detail: Option<String>,
    /// `HINT`.
    pub hint: Option<String>,
    /// `where` context (PL/pgSQL call stack and the like).
    pub context: Option<String>,
}

impl PgMessage {
    pub(crate) fn from_sqlx(err: &sqlx::Error) -> Self {
        use sqlx::postgres::PgDatabaseError;
        if let Some(db) = err.as_database_error() {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                return PgMessage {
                    code: Some(pg.code().to_string()),
                    message: pg.message().to_string(),
                    detail: pg.detail().map(str::to_string),
                    hint: pg.hint().map(str::to_string),
                    context: pg.r#where().map(str::to_string),
                };
            }
            return PgMessage {
                code: db.code().map(|c| c.into_owned()),
                message: db.message().to_string(),
                ..PgMessage::default()
            };
        }
        PgMessage {
            message: err.to_string(),
            ..PgMessage::default()
        }
    }
}

impl fmt::Display for PgMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "ERROR {code}: {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(detail) = &self.detail {
            write!(f, "\n  DETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  HINT: {hint}")?;
        }
        if let Some(context) = &self.context {
            write!(f, "\n  CONTEXT: {context}")?;
        }
        Ok(())
    }
}

/// A migration failed while it was applied.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MigrationFailure {
    /// The migration that failed.
    pub name: String,
    /// The failing statement, when it could be identified.
    pub statement: Option<FailedStatement>,
    /// PostgreSQL's error.
    pub error: PgMessage,
    /// For a no-transaction migration: how many of its statements ran and stay applied.
    pub no_transaction_done: Option<usize>,
    /// What is known about where it failed when no statement could be blamed.
    pub remark: Option<String>,
    /// Migrations that this run applied (committed) before the failure.
    pub applied_before: Vec<String>,
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "migration `{}` failed", self.name)?;
        if let Some(s) = &self.statement {
            match &s.callback {
                Some(callback) => write!(
                    f,
                    " in callback `{callback}` at statement {} of {} (line {} of {callback}",
                    s.index, s.of, s.line
                )?,
                None => write!(
                    f,
                    " at statement {} of {} (line {} of the rendered SQL",
                    s.index, s.of, s.line
                )?,
            }
            if let Some(c) = &s.component {
                write!(f, ", from component `{c}`")?;
            }
            write!(f, "): {}", s.first_line)?;
        }
        write!(f, "\n  {}", self.error)?;
        if let Some(remark) = &self.remark {
            write!(f, "\n  ({remark})")?;
        }
        match self.no_transaction_done {
            Some(done) => write!(
                f,
                "\nIt runs without a transaction: its first {done} statement(s) ran and stay \
                 applied. Fix statement {} and run again: the run resumes there.",
                done + 1
            )?,
            None => write!(
                f,
                "\nNothing of `{}` was applied (its transaction was rolled back). Fix it and run \
                 again: a failed migration is retried.",
                self.name
            )?,
        }
        if !self.applied_before.is_empty() {
            write!(
                f,
                "\n{} migration(s) applied before it stay applied: {}.",
                self.applied_before.len(),
                list(&self.applied_before)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for MigrationFailure {}

/// A migration's `down.sql` failed during a rollback: its transaction was rolled back,
/// nothing of it remains, and the migration stays applied.
#[derive(Debug)]
#[non_exhaustive]
pub struct DownFailure {
    /// The migration whose `down.sql` failed.
    pub name: String,
    /// The failing statement of the rendered `down.sql`, when it could be identified.
    pub statement: Option<FailedStatement>,
    /// PostgreSQL's error.
    pub error: PgMessage,
    /// Migrations that this rollback undid (committed) before the failure, newest first.
    pub reverted_before: Vec<String>,
}

impl fmt::Display for DownFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the down.sql of migration `{}` failed", self.name)?;
        if let Some(s) = &self.statement {
            write!(
                f,
                " at statement {} of {} (line {} of the rendered down.sql",
                s.index, s.of, s.line
            )?;
            if let Some(c) = &s.component {
                write!(f, ", from component `{c}`")?;
            }
            write!(f, "): {}", s.first_line)?;
        }
        write!(f, "\n  {}", self.error)?;
        write!(
            f,
            "\nNothing of it remains (its transaction was rolled back) and `{}` stays applied. \
             Fix its down.sql and roll back again.",
            self.name
        )?;
        if !self.reverted_before.is_empty() {
            write!(
                f,
                "\n{} migration(s) rolled back before it stay rolled back: {}.",
                self.reverted_before.len(),
                list(&self.reverted_before)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for DownFailure {}

fn list(names: &[String]) -> String {
    const MAX: usize = 10;
    let mut out: Vec<String> = names.iter().take(MAX).map(|n| format!("`{n}`")).collect();
    if names.len() > MAX {
        out.push(format!("and {} more", names.len() - MAX));
    }
    out.join(", ")
}

fn hint_names(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (e.g. {})", list(known))
    }
}
