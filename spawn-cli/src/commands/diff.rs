//! `spawn diff FROM TO`: the schema diff of spawn-schema between two databases, given as
//! URLs or target names. Exit 0 when equal, 2 when they differ, 3 when statements that may
//! lose data were refused.
//!
//! spawn-schema reports what happened in typed values ([`spawn_schema::Plan`],
//! [`SchemaError`]); this command turns them into the messages, the `--unsafe` hint and the
//! exit codes, and names the argument (`FROM` or `TO`) a database it cannot reach came from.

use anyhow::anyhow;
use spawn_schema::{DiffError, SchemaError, Side};

use crate::cli::DiffArgs;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::redact;
use crate::target;

/// A URL as it is, or a target's URL.
fn url_of(ctx: &CommandContext<'_>, what: &str) -> anyhow::Result<String> {
    if what.contains("://") {
        target::from_url(what)?; // registers the password for scrubbing
        return Ok(what.to_owned());
    }
    let proj = ctx.project()?;
    target::resolve(&proj.project.config, Some(what), None, None)?.url()
}

pub async fn run(ctx: &CommandContext<'_>, args: &DiffArgs) -> CmdResult {
    let from = url_of(ctx, &args.from)?;
    let to = url_of(ctx, &args.to)?;
    let options = spawn_schema::Options::default()
        .allow_unsafe(args.allow_unsafe)
        .schemas(args.schemas.clone())
        .exclude_schemas(args.exclude_schemas.clone())
        .with_privileges(args.with_privileges)
        .ignore_extension_versions(args.ignore_extension_versions)
        .create_extensions_only(args.create_extensions_only)
        .detect_renames(!args.no_renames);
    let plan = match spawn_schema::diff_urls(&from, &to, &options).await {
        Ok(plan) => plan,
        Err(SchemaError::Diff(DiffError::Unsafe { count, list })) => {
            ctx.out.error(format!(
                "{count} statement(s) may lose data and were refused (run with --unsafe to allow them):\n{list}\n"
            ));
            return Err(Exit::Code(exit::UNSAFE_REFUSED));
        }
        Err(e) => return Err(Exit::Error(anyhow!("{}", redact(&message(&e))))),
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

/// The message of a failed diff, in the command line's terms: a database that cannot be
/// reached is named by its argument.
fn message(e: &SchemaError) -> String {
    match e {
        SchemaError::Connect { side, url, source } => {
            let argument = match side {
                Side::Source => "FROM",
                Side::Target => "TO",
            };
            format!("cannot connect to the {argument} database ({url}): {source}")
        }
        other => other.to_string(),
    }
}
