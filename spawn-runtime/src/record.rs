//! Reading and writing the tracking tables on the run's connections: the history (one
//! query), the tables themselves (first run), and the history rows of migrations that
//! failed or were adopted. The SQL comes from [`crate::tracking`].

use crate::error::MigrateError;
use crate::lock::Session;
use crate::session::RunContext;
use crate::tracking::{
    ExecTime, History, NewRow, TablesState, Tracking, BOOTSTRAP_MIGRATION, SPAWN_NAMESPACE,
};
use crate::Migration;

/// Reads the history (one query).
pub(crate) async fn read_history(
    session: &mut Session,
    tracking: &Tracking,
) -> Result<History, MigrateError> {
    let rows = session
        .fetch_all(&tracking.history_query())
        .await
        .map_err(MigrateError::db(format!(
            "reading the migration history in schema `{}`",
            tracking.schema
        )))?;
    History::from_rows(&rows, &tracking.namespace).map_err(MigrateError::db(format!(
        "decoding the migration history in schema `{}`",
        tracking.schema
    )))
}

/// Creates whatever is missing of the tracking tables, with the bootstrap row. `present` is
/// what the lock probe saw; it is checked again first (it may predate the lock).
pub(crate) async fn create_tracking_tables(
    session: &mut Session,
    ctx: &RunContext<'_>,
    present: TablesState,
) -> Result<(), MigrateError> {
    let tracking = ctx.tracking;
    let mut present = present;
    if !present.all() {
        let rows = session
            .fetch_all(&format!("SELECT {}", TablesState::probe_columns(tracking)))
            .await
            .map_err(MigrateError::db("checking the tracking tables"))?;
        if let Some(row) = rows.first() {
            present = TablesState::from_row(row)
                .map_err(MigrateError::db("checking the tracking tables"))?;
        }
    }
    if present.all() {
        return Ok(());
    }
    let row = bootstrap_row(ctx, ExecTime::SinceT0);
    let sql = format!(
        "BEGIN;\nSELECT pg_catalog.set_config('spawn.t0', pg_catalog.clock_timestamp()::text, true);\n{}{row};\nCOMMIT;",
        tracking.ddl(present)
    );
    tracing::debug!(schema = %tracking.schema, "creating the tracking tables");
    session.execute(&sql).await.map_err(MigrateError::db(format!(
        "creating the tracking tables in schema `{}` (the role needs CREATE privilege on the database \
         the first time; or create them once with a privileged role)",
        tracking.schema
    )))?;
    Ok(())
}

/// The `INSERT` of the bootstrap row (`001-base-migration-table`, namespace `spawn`), unless
/// it is recorded already; its checksum covers the full bootstrap DDL.
fn bootstrap_row(ctx: &RunContext<'_>, execution_time: ExecTime) -> String {
    let (sha256, _) = Migration::checksums_of(&ctx.tracking.full_ddl());
    ctx.tracking.insert_row(&NewRow {
        name: BOOTSTRAP_MIGRATION,
        namespace: SPAWN_NAMESPACE,
        activity: "APPLY",
        status: "SUCCESS",
        created_by: &ctx.created_by,
        description: "",
        status_note: "",
        checksum: &sha256,
        pin_hash: None,
        execution_time,
        unless_succeeded: true,
    })
}

/// Records the bootstrap row when the tables exist without it (made by other means).
pub(crate) async fn record_bootstrap(
    session: &mut Session,
    ctx: &RunContext<'_>,
) -> Result<(), MigrateError> {
    let sql = bootstrap_row(ctx, ExecTime::Seconds(0.0));
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording `{BOOTSTRAP_MIGRATION}` in schema `{}`",
            ctx.tracking.schema
        )))?;
    Ok(())
}

/// The `INSERT` of an `APPLY` row of `m` with `status` (`SUCCESS`, `ATTEMPTED`, `FAILURE`),
/// its `status_note` and its execution time in seconds.
pub(crate) fn apply_row(
    ctx: &RunContext<'_>,
    m: &Migration,
    status: &'static str,
    note: &str,
    secs: f64,
) -> String {
    ctx.tracking.insert_row(&NewRow {
        name: &m.name,
        namespace: &ctx.tracking.namespace,
        activity: "APPLY",
        status,
        created_by: &ctx.created_by,
        description: "",
        status_note: note,
        checksum: &m.sha256,
        pin_hash: m.pin_hash.as_deref(),
        execution_time: ExecTime::Seconds(secs),
        unless_succeeded: false,
    })
}

/// Records a FAILURE row in its own short transaction.
pub(crate) async fn record_failure(
    session: &mut Session,
    ctx: &RunContext<'_>,
    m: &Migration,
    note: &str,
    secs: f64,
) -> Result<(), MigrateError> {
    let sql = apply_row(ctx, m, "FAILURE", note, secs);
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording the failure of migration `{}`",
            m.name
        )))?;
    Ok(())
}

/// Records migrations as applied without running them (activity ADOPT, `description` in
/// every row), in one transaction.
pub(crate) async fn record_adoption(
    session: &mut Session,
    ctx: &RunContext<'_>,
    ms: &[&Migration],
    description: &str,
) -> Result<(), MigrateError> {
    let (Some(first), Some(last)) = (ms.first(), ms.last()) else {
        return Ok(());
    };
    let mut sql = String::from("BEGIN;\n");
    for m in ms {
        sql.push_str(&ctx.tracking.insert_row(&NewRow {
            name: &m.name,
            namespace: &ctx.tracking.namespace,
            activity: "ADOPT",
            status: "SUCCESS",
            created_by: &ctx.created_by,
            description,
            status_note: "",
            checksum: &m.sha256,
            pin_hash: m.pin_hash.as_deref(),
            execution_time: ExecTime::Seconds(0.0),
            unless_succeeded: false,
        }));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    session
        .execute(&sql)
        .await
        .map_err(MigrateError::db(format!(
            "recording migrations `{}`..`{}` as adopted",
            first.name, last.name
        )))?;
    for m in ms {
        tracing::info!(
            migration = &*m.name,
            "adopted migration (recorded as applied without running it)"
        );
    }
    Ok(())
}
