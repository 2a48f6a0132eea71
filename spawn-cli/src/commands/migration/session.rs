//! What apply, status and adopt share: the project rendered for the chosen target's
//! environment, and a connection to its database (and to the tracking database when
//! `spawn_database` is another one).

use std::path::Path;

use anyhow::Result;
use std::time::Duration;

use spawn_runtime::{Migration, Migrator, Remedy};
use sqlx::PgPool;

use crate::commands::CommandContext;
use crate::project::render_with_tenant_parts;
use crate::target::{Connection, ResolvedTarget};
use spawn_build::project::PinPolicy;

/// A project rendered for one target, connected.
pub struct Prepared {
    pub target: ResolvedTarget,
    /// Every migration, rendered for the target's environment.
    pub rendered: Vec<Migration>,
    /// Their tenant parts (`tenant.sql`), rendered the same way.
    pub tenant_parts: Vec<Migration>,
    pub pool: PgPool,
    pub conn: Connection,
    /// The tracking database when `spawn_database` is another database.
    pub tracking: Option<(PgPool, Connection)>,
}

impl Prepared {
    /// `<url> (target `x`, environment e[; tracking tables in database `d`])` for messages.
    pub fn where_(&self) -> String {
        let tracking = match &self.tracking {
            Some((_, t)) => format!(
                "; tracking tables in database `{}`",
                crate::target::connection_database(t)
            ),
            None => String::new(),
        };
        format!(
            "{} ({}, environment {}{tracking})",
            self.conn.display,
            self.target.label(),
            self.target.environment
        )
    }

    /// The runtime's migrator over the rendered migrations for the target (the same migrator
    /// an app embeds: same lock, same checks, same tracking tables, in `spawn_database` when
    /// that is another database).
    pub fn migrator(&self) -> Migrator {
        let m = Migrator::new(self.rendered.clone())
            .tracking_schema(&self.target.spawn_schema)
            .created_by_app("spawn")
            .connect_timeout(self.conn.connect_timeout);
        match &self.tracking {
            Some((pool, _)) => m.tracking_pool(pool.clone()),
            None => m,
        }
    }

    /// [`Prepared::migrator`], waiting `lock_wait` seconds for the migration lock when given
    /// (`--lock-wait`).
    pub fn migrator_waiting(&self, lock_wait: Option<u64>) -> Migrator {
        match lock_wait {
            Some(secs) => self.migrator().lock_wait(Duration::from_secs(secs)),
            None => self.migrator(),
        }
    }

    /// Closes the pools.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some((pool, _)) = &self.tracking {
            pool.close().await;
        }
    }
}

/// Renders every migration (through spawn-build) and connects to the target.
pub async fn prepare(
    ctx: &CommandContext<'_>,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> Result<Prepared> {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let (rendered, tenant_parts) = render_with_tenant_parts(
        &mut proj,
        &target.environment,
        target.variables.as_deref(),
        policy,
    )?;
    let (pool, conn, tracking) = target.connect().await?;
    tracing::debug!(migrations = rendered.len(), environment = %target.environment, "rendered");
    Ok(Prepared {
        target,
        rendered,
        tenant_parts,
        pool,
        conn,
        tracking,
    })
}

/// A runtime error, scrubbed of secrets, whose advice names the command line's flags
/// instead of the library's builder calls.
pub fn migrate_error(e: spawn_runtime::MigrateError) -> anyhow::Error {
    anyhow::anyhow!("{}", migrate_message(&e))
}

/// [`migrate_error`]'s text.
pub fn migrate_message(e: &spawn_runtime::MigrateError) -> String {
    let mut text = e.to_string();
    if let Some(remedy) = e.remedy() {
        if let Some(flag) = flag_of(remedy) {
            text = text.replace(remedy.builder_call(), flag);
        }
    }
    crate::output::redact(&text)
}

/// The flag of `spawn migration apply` (or `adopt`) that does what `remedy` advises.
fn flag_of(remedy: Remedy) -> Option<&'static str> {
    match remedy {
        Remedy::IgnoreMissing => Some("--ignore-missing"),
        Remedy::AllowOutOfOrder => Some("--allow-out-of-order"),
        Remedy::LockWait => Some("--lock-wait <SECONDS>"),
        _ => None,
    }
}
