//! `spawn drift`: compares the live target with the schema its applied migrations should have
//! produced, built in a scratch database migrated to exactly the migrations recorded as
//! applied (or adopted) there (the cached template of those migrations, read in place, or its
//! model from the model cache). Exit 0 when equal, 2 with the differences and the SQL that
//! would converge the target — printed, never applied; `--json` for machines.

use std::path::Path;

use anyhow::anyhow;
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::State;

use crate::commands::migration::session::{migrate_error, prepare, Prepared};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::model_cache::ModelCache;
use crate::output::redact;
use crate::scratch::{Scratches, Template};

/// The model of the template `expected`: from the model cache when it holds the template's
/// state, else inspected (and then cached).
async fn expected_model(
    scratches: &Scratches,
    expected: &Template,
    options: &spawn_schema::Options,
) -> anyhow::Result<spawn_schema::Schema> {
    let cache = ModelCache::open(scratches.admin(), &expected.scratch.name, options).await;
    let fingerprint = expected.fingerprint.clone();
    if let Some(cache) = &cache {
        if let Some(schema) = cache.load_beside(&fingerprint).await {
            tracing::debug!("the expected schema's model is from the model cache");
            return Ok(schema);
        }
    }
    let pool = expected.scratch.pool(2).await?;
    let inspected = spawn_schema::inspect(&pool, options).await;
    pool.close().await;
    let schema = inspected?;
    let Some(cache) = cache else {
        return Ok(schema);
    };
    let stored = tokio::task::spawn_blocking(move || {
        cache.store(&fingerprint, &schema);
        schema
    });
    stored
        .await
        .map_err(|e| anyhow!("a background task failed: {e}"))
}

pub async fn run(ctx: &CommandContext<'_>, variables: Option<&Path>) -> CmdResult {
    let p = prepare(ctx, variables, PinPolicy::WorkingTreeIfUnpinned).await?;
    let scratches = Scratches::on(&p.conn.options);
    let result = scratches.run(ctx.out, drift(ctx, &p, &scratches)).await;
    p.close().await;
    result
}

async fn drift(ctx: &CommandContext<'_>, p: &Prepared, scratches: &Scratches) -> CmdResult {
    let out = ctx.out;
    let statuses = p.migrator().status(&p.pool).await.map_err(migrate_error)?;
    let mut applied = std::collections::HashSet::new();
    for s in &statuses {
        match s.state {
            State::Applied | State::Adopted => {
                applied.insert(s.name.clone());
            }
            State::Changed | State::Rerun => {
                out.warn(format!(
                    "{} changed since it was applied: the expected schema uses its current text",
                    s.name
                ));
                applied.insert(s.name.clone());
            }
            State::Missing => out.warn(format!(
                "{} is recorded as applied but is not in migrations/: the expected schema lacks it",
                s.name
            )),
            State::Partial | State::Failed => out.warn(format!(
                "{} is {} on the target: the expected schema lacks it",
                s.name, s.state
            )),
            State::Pending => {}
        }
    }
    let migrations: Vec<_> = p
        .rendered
        .iter()
        .filter(|m| applied.contains(m.name.as_ref()))
        .cloned()
        .collect();
    let proj = ctx.project()?;
    let key = proj.project.layout.spawn_folder.display().to_string();
    // The cached template is the expected schema: read, never changed, so not copied.
    let expected = scratches
        .template(
            &key,
            "drift",
            &p.target.environment,
            &p.target.spawn_schema,
            &migrations,
        )
        .await?;
    let options = spawn_schema::Options::default()
        .exclude_schemas([p.target.spawn_schema.clone()])
        .allow_unsafe(true);
    let (live, wanted) = tokio::join!(
        spawn_schema::inspect(&p.pool, &options),
        expected_model(scratches, &expected, &options)
    );
    let live =
        live.map_err(|e| anyhow!("inspecting {}: {}", p.where_(), redact(&e.to_string())))?;
    let wanted = wanted
        .map_err(|e| anyhow!("inspecting the expected schema: {}", redact(&e.to_string())))?;
    let plan = live.plan(&wanted, &options);
    let where_ = p.where_();
    if out.json {
        out.json_value(&json!({
            "drift": !plan.is_empty(),
            "target": redact(&where_),
            "applied_migrations": migrations.len(),
            "changes": plan.changes,
            "sql": plan.to_sql(),
            "unsafe": plan.unsafe_statements().iter().map(|s| &s.sql).collect::<Vec<_>>(),
        }));
    } else if plan.is_empty() {
        out.success(format!(
            "no drift: {where_} has the schema of its {} applied migration(s)",
            migrations.len()
        ));
    } else {
        out.line(format!(
            "drift: {where_} differs from the schema of its {} applied migration(s):",
            migrations.len()
        ));
        out.data(plan.summary());
        out.line("SQL that would converge the target (printed, not applied):");
        out.data(format!("{}\n", plan.to_sql()));
    }
    if plan.is_empty() {
        Ok(())
    } else {
        Err(Exit::Code(exit::DIFFERENCES))
    }
}
