//! `spawn diff FROM TO`: the schema diff of spawn-schema between two databases, given as
//! URLs or target names. Exit 0 when equal, 2 when they differ, 3 when statements that may
//! lose data were refused.

use anyhow::anyhow;

use crate::cli::DiffArgs;
use crate::commands::Ctx;
use crate::exit::{self, CmdResult, Exit};
use crate::output::redact;
use crate::target;

/// A URL as it is, or a target's URL.
fn url_of(ctx: &Ctx<'_>, what: &str) -> anyhow::Result<String> {
    if what.contains("://") {
        target::from_url(what)?; // registers the password for scrubbing
        return Ok(what.to_owned());
    }
    let proj = ctx.project()?;
    target::resolve(&proj.project.config, Some(what), None, None)?.url()
}

pub async fn run(ctx: &Ctx<'_>, args: &DiffArgs) -> CmdResult {
    let from = url_of(ctx, &args.from)?;
    let to = url_of(ctx, &args.to)?;
    let options = spawn_schema::Options {
        allow_unsafe: args.allow_unsafe,
        schemas: args.schemas.clone(),
        exclude_schemas: args.exclude_schemas.clone(),
        with_privileges: args.with_privileges,
        ignore_extension_versions: args.ignore_extension_versions,
        create_extensions_only: args.create_extensions_only,
        detect_renames: !args.no_renames,
    };
    let outcome = spawn_schema::diff_urls(&from, &to, &options)
        .await
        .map_err(|e| anyhow!("{}", redact(&e.to_string())))?;
    if let Some(message) = outcome.refusal_message() {
        ctx.out.error(message);
    }
    let text = outcome.stdout(args.summary);
    if !text.is_empty() {
        ctx.out.data(if text.ends_with('\n') {
            text.to_owned()
        } else {
            format!("{text}\n")
        });
    }
    match outcome.exit_code() {
        0 => Ok(()),
        2 => Err(Exit::Code(exit::DIFFERENCES)),
        c => Err(Exit::Code(u8::try_from(c).unwrap_or(exit::ERROR))),
    }
}
