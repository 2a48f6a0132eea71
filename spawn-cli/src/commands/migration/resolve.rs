//! `spawn migration resolve <migration> --statement <k> [--not-applied]`: records what
//! became of a statement of a no-transaction migration that a run started without recording
//! its outcome, once checked by hand (`Migrator::resolve_statement`). The run's error says
//! which statement and what to check.

use std::path::Path;

use serde_json::json;
use spawn_build::project::PinPolicy;

use crate::commands::migration::session::{migrate_error, prepare};
use crate::commands::CommandContext;
use crate::exit::CmdResult;

/// The statement to resolve, and what the check by hand found.
pub struct Statement<'s> {
    pub migration: &'s str,
    /// 1-based.
    pub statement: usize,
    pub took_effect: bool,
}

pub async fn run(
    ctx: &CommandContext<'_>,
    what: Statement<'_>,
    no_pin: bool,
    variables: Option<&Path>,
) -> CmdResult {
    let name = Path::new(what.migration.trim_end_matches('/'))
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(what.migration)
        .to_owned();
    ctx.project()?.migration(&name)?;
    let policy = if no_pin {
        PinPolicy::WorkingTreeIfUnpinned
    } else {
        PinPolicy::Require
    };
    let p = prepare(ctx, variables, policy).await?;
    let result = p
        .migrator()
        .resolve_statement(&p.pool, &name, what.statement, what.took_effect)
        .await
        .map_err(migrate_error);
    let where_ = p.where_();
    p.close().await;
    result?;
    let out = ctx.out;
    if out.json {
        out.json_value(&json!({
            "migration": name,
            "statement": what.statement,
            "took_effect": what.took_effect,
        }));
    } else if what.took_effect {
        out.success(format!(
            "recorded statement {} of {name} as done in {where_}: the next apply resumes after it",
            what.statement
        ));
    } else {
        out.success(format!(
            "recorded statement {} of {name} as not run in {where_}: the next apply runs it",
            what.statement
        ));
    }
    Ok(())
}
