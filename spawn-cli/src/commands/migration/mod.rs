//! `spawn migration …`: new, generate, build, pin, apply, status, hazards, adopt, resolve,
//! rollback, ready.

pub mod adopt;
pub mod apply;
pub mod build;
pub mod fleet;
pub mod generate;
pub mod hazards;
pub mod new;
pub mod pin;
pub mod ready;
mod recheck_failure;
pub mod resolve;
pub mod rollback;
pub mod session;
pub mod status;

use crate::cli::MigrationCommand;
use crate::commands::CommandContext;
use crate::exit::CmdResult;

pub async fn run(ctx: &CommandContext<'_>, cmd: &MigrationCommand) -> CmdResult {
    match cmd {
        MigrationCommand::New { name, draft } => new::run(ctx, name, *draft),
        MigrationCommand::Ready { migration } => ready::run(ctx, migration),
        MigrationCommand::Generate {
            name,
            from_db,
            schema_dir,
            allow_unsafe,
            rename,
            online,
            lock_timeout,
            variables,
        } => {
            generate::run(
                ctx,
                &generate::Options {
                    name,
                    from_db: from_db.as_deref(),
                    schema_dir: schema_dir.as_deref(),
                    allow_unsafe: *allow_unsafe,
                    renames: rename,
                    online: *online,
                    lock_timeout: (lock_timeout != "off").then_some(lock_timeout.as_str()),
                    variables: variables.as_deref(),
                },
            )
            .await
        }
        MigrationCommand::Build {
            migration,
            pinned,
            variables,
        } => build::run(ctx, migration, *pinned, variables.as_deref()),
        MigrationCommand::Pin { migration, all } => pin::run(ctx, migration.as_deref(), *all),
        MigrationCommand::Apply {
            migration,
            yes,
            dry_run,
            no_pin,
            variables,
            allow_out_of_order,
            ignore_missing,
            lock_wait,
            fleet,
            jobs,
            fail_fast,
        } => {
            let options = apply::Options {
                migration: migration.as_deref(),
                yes: *yes,
                dry_run: *dry_run,
                no_pin: *no_pin,
                variables: variables.as_deref(),
                allow_out_of_order: *allow_out_of_order,
                ignore_missing: *ignore_missing,
                lock_wait: *lock_wait,
            };
            if *fleet {
                let flags = fleet::FleetFlags {
                    jobs: *jobs,
                    fail_fast: *fail_fast,
                };
                fleet::apply(ctx, &options, &flags).await
            } else {
                apply::run(ctx, &options).await
            }
        }
        MigrationCommand::Hazards {
            migration,
            all,
            deny,
            variables,
        } => hazards::run(
            ctx,
            &hazards::Options {
                migration: migration.as_deref(),
                all: *all,
                deny,
                variables: variables.as_deref(),
            },
        ),
        MigrationCommand::Status {
            exit_code,
            variables,
            fleet: true,
            jobs,
        } => {
            let target = ctx.target(&ctx.project()?, variables.as_deref())?;
            if crate::tenants::has_tenants(&target) {
                crate::commands::tenant::status(ctx, *exit_code, variables.as_deref(), *jobs).await
            } else {
                fleet::status(ctx, *exit_code, variables.as_deref(), *jobs).await
            }
        }
        MigrationCommand::Status {
            exit_code,
            variables,
            ..
        } => status::run(ctx, *exit_code, variables.as_deref()).await,
        MigrationCommand::Resolve {
            migration,
            statement,
            not_applied,
            no_pin,
            variables,
        } => {
            let what = resolve::Statement {
                migration,
                statement: *statement,
                took_effect: !*not_applied,
            };
            resolve::run(ctx, what, *no_pin, variables.as_deref()).await
        }
        MigrationCommand::Adopt {
            migration,
            description,
            yes,
            no_pin,
            variables,
            lock_wait,
        } => {
            adopt::run(
                ctx,
                migration.as_deref(),
                description.as_deref(),
                *yes,
                *no_pin,
                variables.as_deref(),
                *lock_wait,
            )
            .await
        }
        MigrationCommand::Rollback {
            to,
            steps,
            yes,
            dry_run,
            no_pin,
            variables,
            lock_wait,
        } => {
            rollback::run(
                ctx,
                &rollback::Options {
                    to: to.as_deref(),
                    steps: *steps,
                    yes: *yes,
                    dry_run: *dry_run,
                    no_pin: *no_pin,
                    variables: variables.as_deref(),
                    lock_wait: *lock_wait,
                },
            )
            .await
        }
    }
}
