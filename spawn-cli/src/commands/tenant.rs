//! Tenant schemas from the command line (see `spawn_runtime::tenants`): after the shared
//! migrations, `spawn migration apply` applies the tenant parts (`migrations/<m>/tenant.sql`)
//! to every tenant the target names ([`crate::tenants`]); `spawn tenant add <name>` creates a
//! tenant's schema and applies every tenant part to it; `spawn migration status --fleet` on a
//! target with tenants prints one row per tenant.

use std::path::Path;

use futures_util::stream::{self, StreamExt};
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::fleet::FleetOptions;
use spawn_runtime::tenants::check_tenant_name;
use spawn_runtime::Migrator;

use crate::cli::TenantCommand;
use crate::commands::migration::fleet::{print_report, print_statuses, report_json};
use crate::commands::migration::session::{migrate_error, migrate_message, prepare, Prepared};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::tenants::tenant_list;

pub async fn run(ctx: &CommandContext<'_>, cmd: &TenantCommand) -> CmdResult {
    match cmd {
        TenantCommand::Add {
            name,
            no_pin,
            variables,
        } => add(ctx, name, *no_pin, variables.as_deref()).await,
    }
}

/// The migrator of the tenant parts for the prepared target.
fn tenant_migrator(p: &Prepared) -> Migrator {
    Migrator::new(p.tenant_parts.clone())
        .tracking_schema(&p.target.spawn_schema)
        .created_by_app("spawn")
        .connect_timeout(p.conn.connect_timeout)
}

/// After `spawn migration apply`: the tenant parts applied to every tenant of the target.
/// Exit 2 when a tenant failed.
pub async fn apply_tenant_parts(
    ctx: &CommandContext<'_>,
    p: &Prepared,
    dry_run: bool,
) -> CmdResult {
    if p.tenant_parts.is_empty() {
        return Ok(());
    }
    let out = ctx.out;
    let Some(tenants) = tenant_list(&p.target, &p.pool).await? else {
        out.warn(format!(
            "{} migration(s) have a tenant part (tenant.sql), but {} names no tenants: add \
             `tenants = [\"…\"]` or `tenants_query = \"SELECT …\"` to its section of spawn.toml",
            p.tenant_parts.len(),
            p.target.label()
        ));
        return Ok(());
    };
    let report = tenant_migrator(p)
        .dry_run(dry_run)
        .run_tenants(&p.pool, &tenants, &FleetOptions::default(), |_| {})
        .await
        .map_err(migrate_error)?;
    let label = format!(
        "{} tenant(s) of {} ({} tenant part(s))",
        tenants.len(),
        p.target.label(),
        p.tenant_parts.len()
    );
    if out.json {
        out.json_value(&json!({ "tenants": report_json(&report, dry_run) }));
    } else {
        print_report(ctx, &report, &label, dry_run);
    }
    if report.is_success() {
        Ok(())
    } else {
        Err(Exit::Code(exit::DIFFERENCES))
    }
}

/// `spawn tenant add <name>`: the schema (if missing) and every tenant part.
async fn add(
    ctx: &CommandContext<'_>,
    name: &str,
    no_pin: bool,
    variables: Option<&Path>,
) -> CmdResult {
    check_tenant_name(name).map_err(|e| anyhow::anyhow!("{e}; nothing was created"))?;
    let policy = if no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    let p = prepare(ctx, variables, policy).await?;
    let result = add_prepared(ctx, &p, name).await;
    p.close().await;
    result
}

async fn add_prepared(ctx: &CommandContext<'_>, p: &Prepared, name: &str) -> CmdResult {
    let out = ctx.out;
    if p.tenant_parts.is_empty() {
        crate::fail!(
            "no migration has a tenant part (migrations/<m>/tenant.sql): nothing to apply to a \
             tenant; nothing was created"
        );
    }
    sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\""))
        .execute(&p.pool)
        .await
        .map_err(|e| anyhow::anyhow!("creating schema {name} in {}: {e}", p.where_()))?;
    let report = tenant_migrator(p)
        .run_tenants(
            &p.pool,
            &[name.to_owned()],
            &FleetOptions::default(),
            |_| {},
        )
        .await
        .map_err(migrate_error)?;
    let result = &report.results[0];
    if let Some(e) = result.error() {
        return Err(Exit::Error(anyhow::anyhow!(
            "tenant {name}: {}\nIts schema was created; after fixing, run `spawn tenant add {name}` again",
            migrate_message(e)
        )));
    }
    out.success(format!(
        "tenant {name}: every tenant part applied ({} part(s)) in {}",
        p.tenant_parts.len(),
        p.where_()
    ));
    let listed = match tenant_list(&p.target, &p.pool).await? {
        Some(tenants) => tenants.iter().any(|t| t == name),
        None => false,
    };
    if !listed {
        out.note(format!(
            "{} does not list {name} among its tenants yet: add it to `tenants` (or to the table \
             `tenants_query` reads) so that `spawn migration apply` migrates it too",
            p.target.label()
        ));
    }
    Ok(())
}

/// `spawn migration status --fleet` on a target with tenants: one row per tenant.
pub async fn status(
    ctx: &CommandContext<'_>,
    exit_code: bool,
    variables: Option<&Path>,
    jobs: Option<usize>,
) -> CmdResult {
    let p = prepare(ctx, variables, PinPolicy::WorkingTreeIfUnpinned).await?;
    let result = status_prepared(ctx, &p, exit_code, jobs).await;
    p.close().await;
    result
}

async fn status_prepared(
    ctx: &CommandContext<'_>,
    p: &Prepared,
    exit_code: bool,
    jobs: Option<usize>,
) -> CmdResult {
    let tenants = tenant_list(&p.target, &p.pool).await?.unwrap_or_default();
    let migrator = tenant_migrator(p);
    let jobs = jobs.unwrap_or(FleetOptions::default().jobs).max(1);
    let statuses: Vec<_> = stream::iter(tenants.iter())
        .map(|tenant| {
            let migrator = migrator.clone();
            async move {
                let status = match migrator.tenant(tenant) {
                    Ok(m) => m.status(&p.pool).await,
                    Err(e) => Err(e),
                };
                (tenant.clone(), status)
            }
        })
        .buffered(jobs)
        .collect()
        .await;
    let label = format!(
        "{} tenant(s) of {} ({} tenant part(s))",
        tenants.len(),
        p.target.label(),
        p.tenant_parts.len()
    );
    print_statuses(ctx, &label, "Tenant", &statuses, exit_code)
}
