//! What apply, status and adopt share: the project rendered for the chosen target's
//! environment, and a connection to its database.

use std::path::Path;

use anyhow::Result;
use sqlx::PgPool;

use crate::commands::Ctx;
use crate::project::{render_all, Pins, Rendered};
use crate::target::{Connection, ResolvedTarget};

/// A project rendered for one target, connected.
pub struct Prepared {
    pub target: ResolvedTarget,
    pub rendered: Vec<Rendered>,
    pub pool: PgPool,
    pub conn: Connection,
}

/// Renders every migration (through spawn-build) and connects to the target.
pub async fn prepare(ctx: &Ctx<'_>, variables: Option<&Path>, pins: Pins) -> Result<Prepared> {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let rendered = render_all(&mut proj, &target.environment, target.variables.as_deref(), pins)?;
    let (pool, conn) = target.connect().await?;
    tracing::debug!(migrations = rendered.len(), environment = %target.environment, "rendered");
    Ok(Prepared { target, rendered, pool, conn })
}

/// Builds the runtime's migrator over `migrations` for `target` (the same migrator an app
/// embeds: same lock, same checks, same tracking tables).
pub fn migrator<'a>(target: &ResolvedTarget, migrations: Vec<spawn_runtime::Migration<'a>>) -> spawn_runtime::Migrator<'a> {
    spawn_runtime::Migrator::new(migrations).tracking_schema(&target.spawn_schema).created_by_app("spawn")
}

/// Calls `$body` with `$m`, a migrator over `$prepared`'s migrations (the borrowed
/// `Migration`s need their line origins kept alive alongside).
#[macro_export]
macro_rules! with_migrator {
    ($prepared:expr, |$m:ident| $body:expr) => {{
        let origins: Vec<Vec<spawn_runtime::LineOrigin<'_>>> = $prepared.rendered.iter().map(|r| r.origins()).collect();
        let migrations: Vec<spawn_runtime::Migration<'_>> =
            $prepared.rendered.iter().zip(&origins).map(|(r, o)| r.migration(o)).collect();
        let $m = $crate::commands::migration::session::migrator(&$prepared.target, migrations);
        $body
    }};
}

/// A runtime error, scrubbed of secrets.
pub fn migrate_error(e: spawn_runtime::MigrateError) -> anyhow::Error {
    anyhow::anyhow!("{}", crate::output::redact(&e.to_string()))
}
