//! The command line: every command, flag and help text (clap derive).
//!
//! The doc comments below are the help text `spawn --help` prints, word for word, so their
//! placeholders (`<name>`, `<MIGRATION>`) are written as a user reads them, not as rustdoc's
//! HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Exit codes:
  0    success, also when the reader of stdout stopped early (`spawn … | head -1`)
  1    error (the message names the file, the migration and what to run next), or a wrong
       command line
  2    differences or work pending: `spawn check` found only unpinned migrations,
       `spawn migration status --exit-code` found migrations to apply (or changed, missing,
       failed ones), `spawn diff` found differences, `spawn db status`: not running,
       `spawn migration hazards --deny …` found a denied hazard not allowed,
       `spawn drift` found drift, `spawn migration generate`'s re-check found differences left
  3    `spawn diff`, `spawn migration generate`: statements that may lose data were refused
       (pass --unsafe)
  130  interrupted (Ctrl-C); migrations that were not committed are rolled back

Environment:
  SPAWN_TARGET                           the target to use when --target is not given
  PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
                                         libpq settings for a target without `url`
  NO_COLOR                               no colour even on a terminal";

/// spawn: treat your PostgreSQL database like a codebase.
#[derive(Debug, Parser)]
#[command(name = "spawn", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// The project file (default: spawn.toml in the current folder or the nearest parent).
    #[arg(
        short = 'c',
        long = "config-file",
        global = true,
        value_name = "FILE",
        env = "SPAWN_CONFIG"
    )]
    pub config_file: Option<PathBuf>,

    /// The [targets.<name>] of spawn.toml to use (default: spawn.toml's `target`).
    #[arg(long, global = true, env = "SPAWN_TARGET", value_name = "NAME")]
    pub target: Option<String>,

    /// The template environment `env` (default: the target's `environment`).
    #[arg(short = 'e', long = "environment", global = true, value_name = "ENV")]
    pub environment: Option<String>,

    /// Machine-readable JSON on stdout (status, check, pin verify, db status/url, apply, adopt).
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors (and what a command exists to print, such as SQL or a URL).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log what spawn does on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create spawn.toml and the folders components/ migrations/ tests/ pinned/.
    Init(InitArgs),
    /// Check that every migration renders, is pinned and has an intact pin.
    Check {
        /// Fail (exit 1) on warnings too: an undefined name printed as nothing, a component
        /// changed since the newest migration that includes it was pinned.
        #[arg(long)]
        strict: bool,
        /// Fail (exit 1) while a draft migration (`-- spawn:draft`) exists (for CI).
        #[arg(long)]
        no_drafts: bool,
    },
    /// Create, build, pin, apply and inspect migrations.
    #[command(subcommand)]
    Migration(MigrationCommand),
    /// Verify, clean, compare and extract pinned component snapshots.
    #[command(subcommand)]
    Pin(PinCommand),
    /// Re-render, re-check and re-apply the newest unpinned migration on every save, then
    /// re-run the tests that changed or depend on what changed.
    Watch(WatchArgs),
    /// Tenant schemas: `migrations/<m>/tenant.sql` applied to each tenant the target names.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Which components are in a migration, changed since, or included by none.
    #[command(subcommand)]
    Component(ComponentCommand),
    /// The project-local PostgreSQL (data in .spawn/, no Docker needed).
    #[command(subcommand)]
    Db(DbCommand),
    /// The SQL that turns the schema of FROM into that of TO (exit 2 when they differ).
    Diff(DiffArgs),
    /// Compare the target with the schema its applied migrations should have produced (built
    /// in a scratch database); exit 2 with the differences and the SQL that would converge it
    /// (printed, never applied).
    Drift {
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
    /// SQL regression tests (tests/<name>/test.sql and its expected output), run isolated
    /// and in parallel against a copy of the migrated database, printed exactly as psql does.
    #[command(subcommand)]
    Test(TestCommand),
}

/// `spawn watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Allow dropping and re-creating the target's database from the pinned migrations when
    /// a changed migration has no down.sql (always allowed on the project-local database).
    #[arg(long)]
    pub rebuild: bool,
    /// Do not run the tests.
    #[arg(long)]
    pub no_tests: bool,
    /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
    #[arg(long, value_name = "FILE")]
    pub variables: Option<PathBuf>,
}

/// `spawn tenant …`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant's schema (if missing) and apply every tenant part to it, each in one
    /// transaction with its history row in the tenant's namespace.
    Add {
        /// The schema name: ASCII letters, digits and `_`, not starting with a digit.
        name: String,
        /// Render unpinned migrations from the working tree instead of refusing them.
        #[arg(long)]
        no_pin: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
}

/// `spawn component …`.
#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// For each component: the newest migration that includes it, and whether its current
    /// content is in a migration ("changed, not in any migration" when it was edited after
    /// that migration was pinned); for changed functions and views, what uses them in the
    /// target database.
    Status {
        /// Exit 2 when a component has changed.
        #[arg(long)]
        exit_code: bool,
        /// Do not connect to the target to find what uses the changed components.
        #[arg(long)]
        no_dependents: bool,
    },
}

/// `spawn test …`.
#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Create tests/<name>/test.sql, or with --migration the test of a migration's data
    /// change, migrations/<name>/test.sql and before.sql (refuses to overwrite).
    #[command(
        override_usage = "spawn test new <NAME>\n       spawn test new --migration <MIGRATION>"
    )]
    New {
        /// Letters, digits, `-` and `_`.
        #[arg(required_unless_present = "migration", conflicts_with = "migration")]
        name: Option<String>,
        /// The migration (its folder name) whose data change the test checks.
        #[arg(long, value_name = "MIGRATION")]
        migration: Option<String>,
    },
    /// Print a test's rendered SQL.
    Build {
        /// The test's folder name (`migration:<name>` for a migration's test).
        name: String,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long)]
        variables: Option<PathBuf>,
    },
    /// Run tests and print their output.
    Run(TestRunArgs),
    /// Run tests and write their output to tests/<name>/expected (a migration's test:
    /// migrations/<name>/expected).
    Expect(TestRunArgs),
    /// Run tests and compare their output with tests/<name>/expected (exit 1 on any
    /// difference).
    Compare(TestRunArgs),
}

/// What `spawn test run|expect|compare` share.
#[derive(Debug, Args)]
pub struct TestRunArgs {
    /// Test names or globs (`fn_*`; a migration's test is `migration:<name>`); default:
    /// every test.
    pub names: Vec<String>,
    /// Tests run at once (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Keep the database of each failed test and print its name.
    #[arg(long)]
    pub keep: bool,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
    #[arg(long)]
    pub variables: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A postgres URL, or the name of a target with `url` or `local = true`.
    pub from: String,
    /// A postgres URL, or the name of a target with `url` or `local = true`.
    pub to: String,
    /// A list of the changes instead of SQL.
    #[arg(long)]
    pub summary: bool,
    /// Allow statements that may lose data (else they are refused, exit 3).
    #[arg(long = "unsafe")]
    pub allow_unsafe: bool,
    /// Only these schemas (repeatable).
    #[arg(long = "schema", value_name = "SCHEMA")]
    pub schemas: Vec<String>,
    /// Never these schemas (repeatable).
    #[arg(long = "exclude-schema", value_name = "SCHEMA")]
    pub exclude_schemas: Vec<String>,
    /// Also compare owners and privileges (GRANT/REVOKE, ALTER … OWNER TO).
    #[arg(long)]
    pub with_privileges: bool,
    /// Ignore extension versions (and create extensions without VERSION).
    #[arg(long)]
    pub ignore_extension_versions: bool,
    /// Print only the CREATE EXTENSION statements.
    #[arg(long)]
    pub create_extensions_only: bool,
    /// Drop and add columns instead of turning a drop + add of the same definition at the same
    /// position into RENAME COLUMN.
    #[arg(long)]
    pub no_renames: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Point the default target at the project-local database (`spawn db start`). This is
    /// also the default when neither DATABASE_URL nor PGHOST is set.
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// Create migrations/<UTC YYYYMMDDHHMMSS>-<name>/up.sql.
    New {
        /// Letters, digits, `-` and `_` (no `/`, no spaces).
        name: String,
        /// Mark it as a draft (`-- spawn:draft`): checked, but never pinned, applied or
        /// embedded until `spawn migration ready`.
        #[arg(long)]
        draft: bool,
    },
    /// A draft migration is done: remove its `-- spawn:draft` mark and pin it.
    Ready {
        /// The draft migration.
        migration: String,
    },
    /// Write a new migration (and the components it includes) that turns the schema the
    /// migrations produce into the one of --from-db or --schema-dir; pinned, and re-checked
    /// in a scratch database.
    #[command(group(ArgGroup::new("desired").required(true).args(["from_db", "schema_dir"])))]
    Generate {
        /// Letters, digits, `-` and `_` (the folder is migrations/<timestamp>-<name>).
        name: String,
        /// The database with the desired schema: a postgres URL or a target name.
        #[arg(long, value_name = "URL")]
        from_db: Option<String>,
        /// A folder of .sql files declaring the desired schema (loaded into a scratch
        /// database in an order that satisfies their dependencies).
        #[arg(long, value_name = "DIR")]
        schema_dir: Option<PathBuf>,
        /// Allow statements that may lose data (else they are refused, exit 3).
        #[arg(long = "unsafe")]
        allow_unsafe: bool,
        /// A rename, so the data is kept: table:OLD=NEW, column:TABLE.OLD=NEW, view:OLD=NEW,
        /// materialized-view:OLD=NEW, function:OLD=NEW, procedure:OLD=NEW, type:OLD=NEW,
        /// schema:OLD=NEW (repeatable; OLD may be schema-qualified).
        #[arg(long, value_name = "KIND:OLD=NEW")]
        rename: Vec<String>,
        /// No blocking index builds or validating scans on existing tables: indexes are
        /// built concurrently and constraints validated in a second, no-transaction migration.
        #[arg(long)]
        online: bool,
        /// The `-- spawn:lock-timeout` the new migration sets: a statement that waits longer
        /// for its lock gives up (the migration is rolled back, to run again later) instead of
        /// queueing every query of the table behind it. `off` for none. Not set in the
        /// `--online` no-transaction migration: its concurrent index builds wait for running
        /// transactions.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = lock_timeout)]
        lock_timeout: String,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
    /// Print a migration's rendered SQL.
    Build {
        /// The migration folder name.
        migration: String,
        /// Render from the migration's pin (what `apply` runs) instead of the working tree.
        #[arg(long)]
        pinned: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
    /// Pin a migration to the current components/ (writes lock.toml and pinned/).
    #[command(group(ArgGroup::new("which").required(true).args(["migration", "all"])))]
    Pin {
        /// The migration folder name (re-pins it if it is pinned already).
        migration: Option<String>,
        /// Pin every migration that is not pinned yet.
        #[arg(long)]
        all: bool,
    },
    /// Apply pending migrations (up to and including <MIGRATION> when given).
    Apply {
        /// Apply pending migrations up to and including this one (default: all pending).
        migration: Option<String>,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(short = 'y', long)]
        yes: bool,
        /// Show what would be applied; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Render unpinned migrations from the working tree instead of refusing them.
        #[arg(long)]
        no_pin: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
        /// Allow applying a pending migration that sorts before the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
        /// Accept migrations recorded as applied that no longer exist in migrations/.
        #[arg(long)]
        ignore_missing: bool,
        /// How long to wait for the migration lock while another migrator holds it
        /// (default 60).
        #[arg(long, value_name = "SECONDS")]
        lock_wait: Option<u64>,
        /// Apply to every database of the target's fleet (`fleet`, `fleet_file` or
        /// `fleet_query` in its spawn.toml section); exit 2 when any failed.
        #[arg(long)]
        fleet: bool,
        /// With --fleet: databases migrated at once (default: 4 per core).
        #[arg(long, short = 'j', requires = "fleet")]
        jobs: Option<usize>,
        /// With --fleet: start no other database after the first failure.
        #[arg(long, requires = "fleet")]
        fail_fast: bool,
    },
    /// List the hazards of migrations' statements (locks, rewrites, scans, data loss, …),
    /// with file and line: of <MIGRATION>, else of every unpinned migration.
    Hazards {
        /// The migration folder name (default: every migration not pinned yet).
        migration: Option<String>,
        /// Every migration, pinned ones included.
        #[arg(long, conflicts_with = "migration")]
        all: bool,
        /// Exit with 2 when a finding of this hazard is not accepted by `-- spawn:allow`
        /// (repeat, or separate with commas): access-exclusive-lock, table-rewrite,
        /// validation-scan, blocking-index-build, data-loss, non-transactional, long-running,
        /// fails-on-existing-rows.
        #[arg(long, value_name = "HAZARD", value_delimiter = ',')]
        deny: Vec<spawn_build::Hazard>,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
    /// Show every migration: on disk, pinned, in the database, checksum, status.
    Status {
        /// Exit with 2 when anything is pending, changed, missing or failed.
        #[arg(long)]
        exit_code: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
        /// One row per database of the target's fleet, grouped by state.
        #[arg(long)]
        fleet: bool,
        /// With --fleet: databases read at once (default: 4 per core).
        #[arg(long, short = 'j', requires = "fleet")]
        jobs: Option<usize>,
    },
    /// Record what became of a statement of a no-transaction migration that a run started
    /// without recording its outcome (checked by hand, as the run's error said).
    Resolve {
        /// The no-transaction migration.
        migration: String,
        /// The statement (1-based) that the run's error named.
        #[arg(long, value_name = "K")]
        statement: usize,
        /// The statement did not take effect: the next apply runs it (default: it did, and
        /// the next apply resumes after it).
        #[arg(long)]
        not_applied: bool,
        /// Render unpinned migrations from the working tree instead of refusing them.
        #[arg(long)]
        no_pin: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
    },
    /// Record migrations as applied without running them (they were applied by hand).
    Adopt {
        /// Adopt pending migrations up to and including this one (default: all pending).
        migration: Option<String>,
        /// Why the migrations are adopted (recorded in the history).
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(short = 'y', long)]
        yes: bool,
        /// Render unpinned migrations from the working tree instead of refusing them.
        #[arg(long)]
        no_pin: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
        /// How long to wait for the migration lock while another migrator holds it
        /// (default 60).
        #[arg(long, value_name = "SECONDS")]
        lock_wait: Option<u64>,
    },
    /// Roll back applied migrations with their down.sql, newest first (default: the newest
    /// one).
    Rollback {
        /// Roll back every applied migration after this one (which stays applied).
        #[arg(long, value_name = "MIGRATION", conflicts_with = "steps")]
        to: Option<String>,
        /// Roll back the newest N applied migrations.
        #[arg(long, value_name = "N")]
        steps: Option<usize>,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(short = 'y', long)]
        yes: bool,
        /// Show what would be rolled back; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Render unpinned migrations from the working tree instead of refusing them.
        #[arg(long)]
        no_pin: bool,
        /// A variables file (JSON, TOML or YAML) instead of the one spawn.toml names.
        #[arg(long, value_name = "FILE")]
        variables: Option<PathBuf>,
        /// How long to wait for the migration lock while another migrator holds it
        /// (default 60).
        #[arg(long, value_name = "SECONDS")]
        lock_wait: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Check every pinned object: every pin's trees and files are present and hash right.
    Verify,
    /// Delete objects of pinned/ that no migration's pin refers to.
    Gc {
        /// List what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Unified diff of the component trees two migrations are pinned to.
    Diff {
        /// A pinned migration (its tree is the `a/` side).
        from: String,
        /// A pinned migration (its tree is the `b/` side).
        to: String,
    },
    /// Write the components a migration is pinned to into a folder.
    Checkout {
        /// A pinned migration.
        migration: String,
        /// A folder that does not exist yet or is empty.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create (first time) and start the project-local PostgreSQL; does nothing if it runs.
    Start,
    /// Stop the project-local PostgreSQL.
    Stop,
    /// Whether the project-local PostgreSQL runs, and its URL.
    Status,
    /// Print the URL of the project-local PostgreSQL.
    Url,
    /// Open psql on the project-local PostgreSQL (arguments after `--` go to psql).
    Psql {
        #[arg(last = true)]
        args: Vec<String>,
    },
}

/// `--lock-timeout`: `off`, or a duration as `-- spawn:lock-timeout` takes it.
fn lock_timeout(value: &str) -> Result<String, String> {
    if value == "off" || spawn_build::analyze::is_duration(value) {
        Ok(value.to_string())
    } else {
        Err("expected `off` or a duration such as 5s, 500ms or 1min".into())
    }
}
