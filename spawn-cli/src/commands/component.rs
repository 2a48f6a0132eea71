//! `spawn component status`: for each component, the newest migration that includes it and
//! whether its current content is in a migration ([`spawn_build::component_status`]); for
//! the functions and views a changed component creates, the objects of the target database
//! that use them (from the schema diff's dependency graph), which a migration re-creating
//! the component must re-create too. `--json` for scripts; `--exit-code` exits 2 when a
//! component has changed.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::json;
use spawn_build::analyze::{Defined, DefinedKind};
use spawn_build::component_status::{component_status, ComponentState, ComponentStatus};
use spawn_schema::{ObjectId, ObjectKind, Schema};

use crate::cli::ComponentCommand;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::Paint;

pub async fn run(ctx: &CommandContext<'_>, cmd: &ComponentCommand) -> CmdResult {
    match cmd {
        ComponentCommand::Status {
            exit_code,
            no_dependents,
        } => status(ctx, *exit_code, *no_dependents).await,
    }
}

/// One changed component's object, and what uses it in the target database.
struct Uses {
    object: String,
    dependents: Vec<String>,
}

async fn status(ctx: &CommandContext<'_>, exit_code: bool, no_dependents: bool) -> CmdResult {
    let mut proj = ctx.project()?;
    let environments: Vec<String> = match &ctx.cli.environment {
        Some(e) => vec![e.clone()],
        None => proj.project.config.environments().into_iter().collect(),
    };
    let components = component_status(&mut proj.project, &environments)?;
    let changed: Vec<&ComponentStatus> = components
        .iter()
        .filter(|c| c.state == ComponentState::Changed && !c.defines.is_empty())
        .collect();
    let out = ctx.out;
    // path → uses, when the target could be read.
    let mut uses: HashMap<&str, Vec<Uses>> = HashMap::new();
    if !changed.is_empty() && !no_dependents {
        match target_schema(ctx, &proj).await {
            Ok(schema) => {
                let users = Users::new(&schema);
                for component in &changed {
                    let found = component
                        .defines
                        .iter()
                        .flat_map(|d| users.of(&schema, d))
                        .collect();
                    uses.insert(component.path.as_str(), found);
                }
            }
            Err(e) => out.warn(format!(
                "what uses the changed components was not checked: {e:#} (--no-dependents skips this)"
            )),
        }
    }

    if out.json {
        let rows: Vec<_> = components
            .iter()
            .map(|c| {
                json!({
                    "path": c.path,
                    "state": state_key(c.state),
                    "migration": c.migration,
                    "defines": c.defines.iter().map(|d| json!({
                        "kind": d.kind.label(),
                        "schema": d.schema,
                        "name": d.name,
                    })).collect::<Vec<_>>(),
                    "used_by": uses.get(c.path.as_str()).map(|found| found.iter().map(|u| json!({
                        "object": u.object,
                        "dependents": u.dependents,
                    })).collect::<Vec<_>>()),
                })
            })
            .collect();
        out.json_value(&json!({ "components": rows }));
    } else if components.is_empty() {
        out.note("no components");
    } else {
        let mut table = out.table(&["Component", "State", "Newest migration including it"]);
        for c in &components {
            let paint = match c.state {
                ComponentState::InMigration => Paint::Good,
                ComponentState::Changed => Paint::Attention,
                ComponentState::NotIncluded => Paint::Dim,
            };
            table.add_row(vec![
                c.path.clone(),
                out.paint(c.state.label(), paint),
                c.migration.clone().unwrap_or_else(|| "-".to_owned()),
            ]);
        }
        out.print_table(&table);
        for c in &changed {
            for found in uses.get(c.path.as_str()).into_iter().flatten() {
                for dependent in &found.dependents {
                    out.line(format!(
                        "{dependent} uses {}, which you changed ({}): re-create it in the same migration",
                        found.object, c.path
                    ));
                }
            }
        }
    }
    let any_changed = components
        .iter()
        .any(|c| c.state == ComponentState::Changed);
    if exit_code && any_changed {
        Err(Exit::Code(exit::DIFFERENCES))
    } else {
        Ok(())
    }
}

fn state_key(state: ComponentState) -> &'static str {
    match state {
        ComponentState::InMigration => "in_migration",
        ComponentState::Changed => "changed",
        ComponentState::NotIncluded => "not_included",
    }
}

/// The target database's schema (the global `--target`, else spawn.toml's default).
async fn target_schema(
    ctx: &CommandContext<'_>,
    proj: &crate::project::CliProject,
) -> anyhow::Result<Schema> {
    let target = ctx.target(proj, None)?;
    let (pool, _conn, tracking) = target.connect().await?;
    if let Some((tracking_pool, _)) = tracking {
        tracking_pool.close().await;
    }
    let schema = spawn_schema::inspect(&pool, &spawn_schema::Options::default()).await;
    pool.close().await;
    Ok(schema?)
}

/// Who uses whom in one schema: the dependency graph reversed.
struct Users<'s> {
    by_target: HashMap<&'s ObjectId, Vec<&'s ObjectId>>,
}

impl<'s> Users<'s> {
    fn new(schema: &'s Schema) -> Self {
        let mut by_target: HashMap<&ObjectId, Vec<&ObjectId>> = HashMap::new();
        for dependency in &schema.dependencies {
            by_target
                .entry(&dependency.to)
                .or_default()
                .push(&dependency.from);
        }
        Self { by_target }
    }

    /// Each object of `schema` that `defined` names (a function's every overload), with
    /// everything that uses it, directly or through other objects.
    fn of(&self, schema: &'s Schema, defined: &Defined) -> Vec<Uses> {
        let kinds: &[ObjectKind] = match defined.kind {
            DefinedKind::Function | DefinedKind::Procedure => &[ObjectKind::Function],
            DefinedKind::View => &[ObjectKind::View],
            DefinedKind::MaterializedView => &[ObjectKind::MaterializedView],
            DefinedKind::Trigger => return Vec::new(),
        };
        kinds
            .iter()
            .flat_map(|kind| schema.objects_of(*kind))
            .map(|(id, _)| id)
            .filter(|id| {
                *id.name == *defined.name
                    && defined.schema.as_deref().is_none_or(|s| *id.schema == *s)
            })
            .map(|id| Uses {
                object: describe(id),
                dependents: self.transitive(id),
            })
            .filter(|u| !u.dependents.is_empty())
            .collect()
    }

    /// Everything that uses `id`, nearest first, each once; a table's own parts (its
    /// columns' defaults, constraints, indexes) are named by the part.
    fn transitive(&self, id: &'s ObjectId) -> Vec<String> {
        let mut seen: BTreeSet<&ObjectId> = BTreeSet::from([id]);
        let mut queue = VecDeque::from([id]);
        let mut found = Vec::new();
        while let Some(next) = queue.pop_front() {
            for user in self.by_target.get(next).into_iter().flatten() {
                if seen.insert(user) {
                    found.push(describe(user));
                    queue.push_back(user);
                }
            }
        }
        found
    }
}

/// `view public.prices`, `function public.price(integer)`.
fn describe(id: &ObjectId) -> String {
    format!("{} {id}", id.kind.label())
}
