//! `spawn db start | stop | status | url | psql`: the project-local PostgreSQL, run from the
//! PostgreSQL binaries installed on the machine (see [`crate::localdb`] for where its data
//! lives). `start` is idempotent.

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use serde_json::json;

use crate::cli::DbCommand;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::localdb;

/// The database `url` and `psql` use: the local target's `database`, else `postgres`.
fn database_name(ctx: &CommandContext<'_>) -> String {
    ctx.project()
        .ok()
        .and_then(|p| {
            p.project
                .config
                .targets
                .values()
                .find(|t| t.other.get("local").and_then(toml::Value::as_bool) == Some(true))
                .and_then(|t| {
                    t.other
                        .get("database")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned)
                })
        })
        .unwrap_or_else(|| "postgres".to_owned())
}

/// The folder of the project (holding spawn.toml), or the current folder without one.
fn project_dir(ctx: &CommandContext<'_>) -> Result<PathBuf> {
    match crate::project::find_spawn_toml(ctx.cli.config_file.as_deref()) {
        Ok(p) => Ok(p
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))),
        Err(e) => Err(anyhow!(
            "{e}\n(`spawn db` keeps the database in the project's .spawn/ folder)"
        )),
    }
}

pub async fn run(ctx: &CommandContext<'_>, cmd: &DbCommand) -> CmdResult {
    let dir = project_dir(ctx)?;
    let out = ctx.out;
    let db = database_name(ctx);
    match cmd {
        DbCommand::Start => {
            let created = localdb::existing_root(&dir).is_none();
            let cluster = tokio::task::spawn_blocking({
                let dir = dir.clone();
                move || -> Result<_> {
                    let cluster = localdb::open_or_create(&dir)?;
                    let was_running = cluster.is_running();
                    cluster
                        .start()
                        .map_err(|e| anyhow!("starting the project-local database: {e}"))?;
                    Ok((cluster, was_running))
                }
            })
            .await
            .context("the start task failed")??;
            let (cluster, was_running) = cluster;
            let url = cluster.url(&db);
            if out.json {
                out.json_value(&json!({ "running": true, "url": url, "data": cluster.root(), "created": created, "was_running": was_running }));
            } else if was_running {
                out.success(format!("already running: {url}"));
            } else {
                out.success(format!(
                    "{} and started: {url}",
                    if created { "created" } else { "started" }
                ));
                out.line(format!(
                    "data in {} (git-ignored); stop it with `spawn db stop`",
                    cluster.root().display()
                ));
            }
            Ok(())
        }
        DbCommand::Stop => {
            match localdb::open_existing(&dir)? {
                None => out.success("the project-local database does not exist; nothing to stop"),
                Some(cluster) => {
                    let was_running = cluster.is_running();
                    tokio::task::spawn_blocking(move || {
                        cluster
                            .stop()
                            .map_err(|e| anyhow!("stopping the project-local database: {e}"))
                    })
                    .await
                    .context("the stop task failed")??;
                    out.success(if was_running {
                        "stopped"
                    } else {
                        "not running; nothing to stop"
                    });
                }
            }
            Ok(())
        }
        DbCommand::Status => {
            let cluster = localdb::open_existing(&dir)?;
            let running = cluster.as_ref().is_some_and(|c| c.is_running());
            let url = cluster.as_ref().map(|c| c.url(&db));
            if out.json {
                out.json_value(&json!({
                    "exists": cluster.is_some(),
                    "running": running,
                    "url": url,
                    "data": cluster.as_ref().map(|c| c.root().to_path_buf()),
                }));
            } else {
                match (&cluster, running) {
                    (None, _) => {
                        out.line("not created yet: `spawn db start` creates and starts it")
                    }
                    (Some(c), true) => out.success(format!(
                        "running: {}  (data in {})",
                        c.url(&db),
                        c.root().display()
                    )),
                    (Some(c), false) => out.line(format!(
                        "stopped (data in {}): `spawn db start` starts it",
                        c.root().display()
                    )),
                }
            }
            // Scripts can tell a stopped database by the exit code too.
            if running {
                Ok(())
            } else {
                Err(Exit::Code(exit::DIFFERENCES))
            }
        }
        DbCommand::Url => {
            let url = localdb::running_url(&dir, &db)?;
            if out.json {
                out.json_value(&json!({ "url": url }));
            } else {
                out.data(format!("{url}\n"));
            }
            Ok(())
        }
        DbCommand::Psql { args } => {
            let url = localdb::running_url(&dir, &db)?;
            let cluster = localdb::open_existing(&dir)?
                .ok_or_else(|| anyhow!("the project-local database disappeared"))?;
            let bundled = cluster.binaries().tool("psql");
            let psql = if bundled.is_file() {
                bundled
            } else {
                PathBuf::from("psql")
            };
            let mut command = tokio::process::Command::new(&psql);
            if std::env::var_os("PGCONNECT_TIMEOUT").is_none() {
                // libpq waits for ever by default; spawn's connects give up after 10 s.
                command.env(
                    "PGCONNECT_TIMEOUT",
                    spawn_runtime::DEFAULT_CONNECT_TIMEOUT.as_secs().to_string(),
                );
            }
            let status = command
                .arg(&url)
                .args(args)
                .status()
                .await
                .with_context(|| {
                    format!("running {} (install the PostgreSQL client)", psql.display())
                })?;
            match status.code() {
                Some(0) => Ok(()),
                Some(c) => Err(Exit::Code(u8::try_from(c).unwrap_or(exit::ERROR))),
                None => Err(Exit::Code(exit::ERROR)),
            }
        }
    }
}
