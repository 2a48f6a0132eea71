//! `spawn diff FROM TO`: the schema diff of spawn-schema between two databases, given as
//! URLs or target names. Exit 0 when equal, 2 when they differ, 3 when statements that may
//! lose data were refused.
//!
//! spawn-schema reports what happened in typed values ([`spawn_schema::Plan`],
//! [`SchemaError`]); this command turns them into the messages, the `--unsafe` hint and the
//! exit codes. It opens both connections itself, bounded as every connect of spawn
//! ([`target::open_pool`]), and names the argument (`FROM` or `TO`) a database it cannot
//! reach came from, with its server and the timeout.

use anyhow::{anyhow, Context};
use spawn_schema::{DiffError, SchemaError};
use sqlx::PgPool;

use crate::cli::DiffArgs;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::redact;
use crate::target::{self, Connection};

/// A URL as it is (its password registered for scrubbing), or a target's connection.
pub(crate) async fn connection_of(
    ctx: &CommandContext<'_>,
    what: &str,
) -> anyhow::Result<Connection> {
    if what.contains("://") {
        return target::from_url(what);
    }
    let proj = ctx.project()?;
    target::resolve(&proj.project.config, Some(what), None, None)?
        .connection()
        .await
}

/// Opens a pool of one connection to the database of `argument` (`FROM` or `TO`), bounded
/// like every connect of spawn: a server that does not answer within `connect_timeout`
/// (the URL's, `PGCONNECT_TIMEOUT`, default 10 s) or a refused connection fails at once,
/// naming the argument, the server and the timeout.
pub(crate) async fn open(argument: &str, conn: &Connection) -> anyhow::Result<PgPool> {
    target::open_pool(conn, 1).await.map_err(|e| {
        anyhow!(
            "cannot connect to the {argument} database ({}): {}",
            conn.display,
            redact(&e.to_string())
        )
    })
}

pub async fn run(ctx: &CommandContext<'_>, args: &DiffArgs) -> CmdResult {
    let from = connection_of(ctx, &args.from)
        .await
        .context("the FROM database")?;
    let to = connection_of(ctx, &args.to)
        .await
        .context("the TO database")?;
    let options = spawn_schema::Options::default()
        .allow_unsafe(args.allow_unsafe)
        .schemas(args.schemas.clone())
        .exclude_schemas(args.exclude_schemas.clone())
        .with_privileges(args.with_privileges)
        .ignore_extension_versions(args.ignore_extension_versions)
        .create_extensions_only(args.create_extensions_only)
        .detect_renames(!args.no_renames);
    let (from_pool, to_pool) = tokio::try_join!(open("FROM", &from), open("TO", &to))?;
    let plan = match spawn_schema::diff_pools(from_pool, to_pool, &options).await {
        Ok(plan) => plan,
        Err(SchemaError::Diff(DiffError::Unsafe { count, list })) => {
            ctx.out.error(format!(
                "{count} statement(s) may lose data and were refused (run with --unsafe to allow them):\n{list}\n"
            ));
            return Err(Exit::Code(exit::UNSAFE_REFUSED));
        }
        Err(e) => return Err(Exit::Error(anyhow!("{}", redact(&e.to_string())))),
    };
    let text = if args.summary {
        plan.summary()
    } else {
        plan.to_sql()
    };
    if !text.is_empty() {
        ctx.out.data(if text.ends_with('\n') {
            text
        } else {
            format!("{text}\n")
        });
    }
    if plan.is_empty() {
        Ok(())
    } else {
        Err(Exit::Code(exit::DIFFERENCES))
    }
}
