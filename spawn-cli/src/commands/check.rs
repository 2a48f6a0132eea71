//! `spawn check`: every migration renders for every environment, is pinned, and its pin is
//! intact; the SQL has no psql meta-commands and nothing a transaction cannot run (outside
//! `-- spawn:no-transaction` migrations). Lists every problem.
//!
//! Exit 0 when all is well, 1 when something is broken (a render, a pin, the SQL), 2 when
//! the only findings are migrations still to pin.

use std::path::Path;

use serde_json::json;

use crate::commands::Ctx;
use crate::exit::{self, CmdResult, Exit};

/// One finding.
struct Problem {
    migration: Option<String>,
    /// `unpinned`, `pin`, `render`, `config`.
    kind: &'static str,
    message: String,
}

pub fn run(ctx: &Ctx<'_>) -> CmdResult {
    let mut proj = ctx.project()?;
    let mut problems = Vec::new();
    let environments: Vec<String> = match &ctx.cli.environment {
        Some(e) => vec![e.clone()],
        None => proj.project.config.environments().into_iter().collect(),
    };
    let migrations = match proj.migrations() {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem {
                migration: None,
                kind: "config",
                message: e.to_string(),
            });
            Vec::new()
        }
    };
    for m in &migrations {
        let pin = match proj.pin_of(m) {
            Ok(p) => p,
            Err(e) => {
                problems.push(Problem {
                    migration: Some(m.name.clone()),
                    kind: "pin",
                    message: e.to_string(),
                });
                continue;
            }
        };
        match &pin {
            None => problems.push(Problem {
                migration: Some(m.name.clone()),
                kind: "unpinned",
                message: format!(
                    "migration {} is not pinned ({} is missing): run `spawn migration pin {}` and commit lock.toml and pinned/",
                    m.name,
                    m.lock_toml().display(),
                    m.name
                ),
            }),
            Some(root) => {
                let intact = match proj.project.snapshot(&m.name, root) {
                    Ok(snapshot) => {
                        let mut ok = true;
                        for (path, _) in snapshot.files() {
                            if let Err(e) = snapshot.get(path) {
                                ok = false;
                                problems.push(Problem {
                                    migration: Some(m.name.clone()),
                                    kind: "pin",
                                    message: format!("migration {}: component {path}: {e}", m.name),
                                });
                            }
                        }
                        ok
                    }
                    Err(e) => {
                        problems.push(Problem { migration: Some(m.name.clone()), kind: "pin", message: e.to_string() });
                        false
                    }
                };
                if !intact {
                    continue;
                }
            }
        }
        for env in &environments {
            let vars_path = proj
                .project
                .config
                .variables_for(env)
                .map(Path::to_path_buf);
            let vars = match proj.variables(vars_path.as_deref()) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(Problem {
                        migration: Some(m.name.clone()),
                        kind: "render",
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            if let Err(e) = proj
                .project
                .compile_render(m, pin.as_ref(), env, vars.as_ref())
            {
                problems.push(Problem {
                    migration: Some(m.name.clone()),
                    kind: "render",
                    message: format!("migration {}: {e}", m.name).replace(
                        &format!("migration {}: migration {}", m.name, m.name),
                        &format!("migration {}", m.name),
                    ),
                });
            }
        }
    }

    let broken = problems.iter().any(|p| p.kind != "unpinned");
    let out = ctx.out;
    if out.json {
        out.json_value(&json!({
            "ok": problems.is_empty(),
            "migrations": migrations.len(),
            "environments": environments,
            "problems": problems.iter().map(|p| json!({
                "migration": p.migration, "kind": p.kind, "message": p.message,
            })).collect::<Vec<_>>(),
        }));
    } else if problems.is_empty() {
        out.success(format!(
            "ok: {} migration(s) render for {} and are pinned with intact pins",
            migrations.len(),
            environments.join(", ")
        ));
    } else {
        for p in &problems {
            out.error(&p.message);
        }
        out.note(format!(
            "{} problem(s) in {} migration(s)",
            problems.len(),
            migrations.len()
        ));
    }
    if broken {
        Err(Exit::Code(exit::ERROR))
    } else if !problems.is_empty() {
        Err(Exit::Code(exit::DIFFERENCES))
    } else {
        Ok(())
    }
}
