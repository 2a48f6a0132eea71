//! `spawn drift`: compares the live target with the schema its applied migrations should have
//! produced, built in a scratch database migrated to exactly the migrations recorded as
//! applied (or adopted) there (the cached template of those migrations, read in place, or its
//! model from the model cache). Exit 0 when equal, 2 with the differences and the SQL that
//! would converge the target — printed, never applied; `--json` for machines.
//!
//! The differences are said from the target's side ("only on the target", "missing on the
//! target"), not as the plan's actions: "drop column x" would read as if someone had dropped
//! it.

use std::path::Path;

use std::fmt::Write as _;

use anyhow::anyhow;
use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::State;
use spawn_schema::{Action, Plan};

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
        out.data(differences(&plan));
        out.line("SQL that would converge the target (printed, not applied):");
        out.data(format!("{}\n", plan.to_sql()));
    }
    if plan.is_empty() {
        Ok(())
    } else {
        Err(Exit::Code(exit::DIFFERENCES))
    }
}

/// The differences `plan` (from the target to the expected schema) converges, one line per
/// object, from the target's side: `+` only on the target, `-` missing on it, `~` different,
/// `±` different or depending on what is (re-created). A converging statement that loses data
/// is named after its object.
fn differences(plan: &Plan) -> String {
    let losing = plan.unsafe_reasons();
    let mut text = String::new();
    for change in &plan.changes {
        let (sign, how) = match change.action {
            Action::Drop => ('+', "only on the target (the migrations do not make it)"),
            Action::Create => ('-', "missing on the target"),
            Action::Recreate => (
                '±',
                "differs on the target, or depends on what does (converged by re-creating it)",
            ),
            Action::Alter | Action::Rename | Action::Setup => ('~', "differs on the target"),
        };
        let _ = write!(
            text,
            "{sign} {} {}: {how}",
            change.object.kind.label(),
            change.object
        );
        if let Some(reasons) = losing.get(&change.object) {
            let _ = write!(text, "  [converging it {}]", reasons.join("; "));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use spawn_schema::{ObjectChange, ObjectId, ObjectKind, PlannedStatement};

    #[test]
    fn differences_are_said_from_the_targets_side() {
        let extra = ObjectId::part(ObjectKind::Column, "app", "orders", "x");
        let missing = ObjectId::new(ObjectKind::Index, "app", "orders_placed_idx");
        let changed = ObjectId::part(ObjectKind::Column, "app", "orders", "note");
        let view = ObjectId::new(ObjectKind::View, "app", "order_totals");
        let change = |object: &ObjectId, action| ObjectChange {
            object: object.clone(),
            action,
        };
        let plan = Plan {
            statements: vec![PlannedStatement {
                sql: "ALTER TABLE app.orders DROP COLUMN x".into(),
                object: Some(extra.clone()),
                action: Action::Drop,
                unsafe_reason: Some("drops column app.orders.x and its values".into()),
            }],
            changes: vec![
                change(&extra, Action::Drop),
                change(&missing, Action::Create),
                change(&changed, Action::Alter),
                change(&view, Action::Recreate),
            ],
            ..Plan::default()
        };
        assert_eq!(
            differences(&plan),
            "+ column app.orders.x: only on the target (the migrations do not make it)  \
             [converging it drops column app.orders.x and its values]\n\
             - index app.orders_placed_idx: missing on the target\n\
             ~ column app.orders.note: differs on the target\n\
             ± view app.order_totals: differs on the target, or depends on what does \
             (converged by re-creating it)\n"
        );
    }
}
