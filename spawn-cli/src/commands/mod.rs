//! The commands, one module each, and what they share.

pub mod check;
pub mod component;
pub mod db;
pub mod diff;
pub mod drift;
pub mod init;
pub mod migration;
pub mod pin;
pub mod tenant;
pub mod test;
pub mod watch;

use std::path::Path;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::exit::CmdResult;
use crate::output::Out;
use crate::project::CliProject;
use crate::target::{self, ResolvedTarget};

/// What every command gets: the parsed command line and the printer.
pub struct CommandContext<'a> {
    pub cli: &'a Cli,
    pub out: &'a Out,
}

impl CommandContext<'_> {
    /// Opens the project (spawn.toml from -c, or found upwards from the current folder).
    pub fn project(&self) -> Result<CliProject> {
        CliProject::open(self.cli.config_file.as_deref())
    }

    /// The target chosen by --target / SPAWN_TARGET / spawn.toml, with -e applied.
    pub fn target(&self, proj: &CliProject, variables: Option<&Path>) -> Result<ResolvedTarget> {
        target::resolve(
            &proj.project.config,
            self.cli.target.as_deref(),
            self.cli.environment.as_deref(),
            variables,
        )
    }
}

/// Runs the command of `cli`.
pub async fn run(cli: &Cli, out: &Out) -> CmdResult {
    let ctx = CommandContext { cli, out };
    match &cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Check { strict, no_drafts } => check::run(&ctx, *strict, *no_drafts),
        Command::Migration(cmd) => migration::run(&ctx, cmd).await,
        Command::Pin(cmd) => pin::run(&ctx, cmd),
        Command::Component(cmd) => component::run(&ctx, cmd).await,
        Command::Tenant(cmd) => tenant::run(&ctx, cmd).await,
        Command::Watch(args) => watch::run(&ctx, args).await,
        Command::Db(cmd) => db::run(&ctx, cmd).await,
        Command::Diff(args) => diff::run(&ctx, args).await,
        Command::Drift { variables } => drift::run(&ctx, variables.as_deref()).await,
        Command::Test(cmd) => test::run(&ctx, cmd).await,
    }
}
