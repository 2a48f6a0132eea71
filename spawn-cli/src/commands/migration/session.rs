//! What apply, status and adopt share: the project rendered for the chosen target's
//! environment, and a connection to its database (and to the tracking database when
//! `spawn_database` is another one).

use std::path::Path;

use anyhow::Result;
use spawn_build::project::PinPolicy;
use sqlx::PgPool;

use crate::commands::Ctx;
use crate::project::{render_all, Rendered};
use crate::target::{Connection, ResolvedTarget};

/// A project rendered for one target, connected.
pub struct Prepared {
    pub target: ResolvedTarget,
    pub rendered: Vec<Rendered>,
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
    ctx: &Ctx<'_>,
    variables: Option<&Path>,
    policy: PinPolicy,
) -> Result<Prepared> {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let rendered = render_all(
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
        pool,
        conn,
        tracking,
    })
}

/// Builds the runtime's migrator over `migrations` for `p`'s target (the same migrator an app
/// embeds: same lock, same checks, same tracking tables, in `spawn_database` when that is
/// another database).
pub fn migrator<'a>(
    p: &Prepared,
    migrations: Vec<spawn_runtime::Migration<'a>>,
) -> spawn_runtime::Migrator<'a> {
    let m = spawn_runtime::Migrator::new(migrations)
        .tracking_schema(&p.target.spawn_schema)
        .created_by_app("spawn");
    match &p.tracking {
        Some((pool, _)) => m.tracking_pool(pool.clone()),
        None => m,
    }
}

/// Calls `$body` with `$m`, a migrator over `$prepared`'s migrations (the borrowed
/// `Migration`s need their line origins kept alive alongside).
#[macro_export]
macro_rules! with_migrator {
    ($prepared:expr, |$m:ident| $body:expr) => {{
        let origins: Vec<Vec<spawn_runtime::LineOrigin<'_>>> =
            $prepared.rendered.iter().map(|r| r.origins()).collect();
        let migrations: Vec<spawn_runtime::Migration<'_>> = $prepared
            .rendered
            .iter()
            .zip(&origins)
            .map(|(r, o)| r.migration(o))
            .collect();
        let $m = $crate::commands::migration::session::migrator(&$prepared, migrations);
        $body
    }};
}

/// A runtime error, scrubbed of secrets.
pub fn migrate_error(e: spawn_runtime::MigrateError) -> anyhow::Error {
    anyhow::anyhow!("{}", crate::output::redact(&e.to_string()))
}
