//! `spawn`: the command-line tool of spawn. It renders, pins and applies migrations through
//! the same library code as an application's `build.rs` and embedded migrator
//! (`spawn_build::project::Project`, `spawn_runtime::Migrator`), so the two never disagree.

mod cli;
mod commands;
mod exit;
mod fleet;
mod heap;
mod localdb;
mod migration_files;
mod model_cache;
mod output;
mod phases;
mod project;
mod prompt;
mod renames;
mod render_cache;
mod schema_dir;
mod scratch;
mod target;
mod tenants;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::exit::Exit;
use crate::output::{Out, StdoutError};

fn main() -> ExitCode {
    heap::reserve_heap_headroom();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version exit 0; a wrong command line is an error (1), never 2,
            // which scripts read as "differences or work pending".
            let mut code = if e.exit_code() == 0 {
                exit::OK
            } else {
                exit::ERROR
            };
            // Help and the version go to stdout: help whose reader stopped early
            // (`spawn --help | head -1`) is no error, help that cannot be written is.
            let printed = e.print();
            if let (false, Err(write)) = (e.use_stderr(), printed) {
                if let error @ StdoutError::Write(_) = StdoutError::from(write) {
                    Out::new(false, false).error(error.to_string());
                    code = exit::ERROR;
                }
            }
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose, cli.quiet);
    let out = Out::new(cli.quiet, cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(format!("cannot start the async runtime: {e}"));
            return ExitCode::from(exit::ERROR);
        }
    };
    let result = runtime.block_on(commands::run(&cli, &out));
    // Do not wait for stray tasks (a progress poller) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    let stdout = out.stdout_error();
    if let Some(StdoutError::Closed(_)) = stdout {
        // The reader stopped early (`spawn --json migration status | head -1`): it read all it
        // wanted, so the command ends quietly, whatever it found.
        return ExitCode::from(exit::OK);
    }
    let code = match result {
        Ok(()) => exit::OK,
        Err(Exit::Code(code)) => code,
        Err(Exit::Error(e)) => {
            out.error(format!("{e:#}"));
            exit::ERROR
        }
    };
    match stdout {
        Some(e) => {
            out.error(e.to_string());
            ExitCode::from(exit::ERROR)
        }
        None => ExitCode::from(code),
    }
}

/// Logs on stderr: warnings by default, `-v` debug, `-vv` trace; `RUST_LOG` wins when set.
/// Every line goes through the password scrubber. The migrator's warning that a migration
/// failed is shown only with `-v`: the command prints that failure as its error.
fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let spawn = if verbose > 0 { level } else { "warn" };
        let failures = if verbose > 0 { level } else { "error" };
        EnvFilter::new(format!(
            "{level},sqlx=warn,hyper=warn,spawn={spawn},{}={failures}",
            spawn_runtime::FAILURE_LOG
        ))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(verbose > 1)
        .with_ansi(console::colors_enabled_stderr())
        .with_writer(|| RedactingStderr)
        .try_init();
}

/// stderr, with passwords replaced by `***`.
struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(output::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
