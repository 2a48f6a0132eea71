//! spawn-build renders, pins and analyses a project's migration templates at compile time,
//! from the application's `build.rs`, so the binary carries finished SQL and applies it at
//! start-up with [spawn-runtime](../spawn_runtime/index.html).
//!
//! In a spawn project, views, functions and triggers are *components*: one file each under
//! `components/`, edited in place so `git diff` shows exactly what changed. Migrations are
//! [minijinja](https://docs.rs/minijinja) templates that `{% include %}` components, and
//! *pinning* freezes the components a migration used into a content-addressed snapshot, so
//! an old migration renders byte-for-byte the same forever, even after its component was
//! edited.
//!
//! # Walkthrough: an app that migrates its database at start-up
//!
//! Create the crate:
//!
//! ```sh
//! cargo new shop && cd shop
//! ```
//!
//! Add spawn-runtime (what the app links) and spawn-build (what its build script runs) to
//! `Cargo.toml`. spawn-runtime re-exports `embed_migrations!()` and sqlx; tokio runs the app:
//!
//! ```toml
//! [dependencies]
//! spawn-runtime = { path = "../spawn/spawn-runtime" }
//! tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
//!
//! [build-dependencies]
//! spawn-build = { path = "../spawn/spawn-build" }
//! ```
//!
//! Describe the project in `spawn.toml`, beside `Cargo.toml` (the original spawn CLI's format,
//! see [`spawn_toml`]):
//!
//! ```toml
//! spawn_folder = "db"          # holds components/, migrations/, pinned/
//! target = "local"             # the default target
//!
//! [targets.local]
//! environment = "dev"          # the templates' `env` (default "prod")
//! variables = "db/vars/dev.toml"
//!
//! [targets.production]
//! environment = "prod"
//! variables = "db/vars/prod.toml"
//! ```
//!
//! with the variables each environment renders with, in `db/vars/dev.toml` (and `prod.toml`):
//!
//! ```toml
//! tax_rate = 0.2
//! ```
//!
//! Write a component, `db/components/functions/price_with_tax.sql`. `{{ variables.… }}`
//! prints a value from the variables file, escaped as a SQL literal:
//!
//! ```sql
//! CREATE OR REPLACE FUNCTION price_with_tax(net numeric) RETURNS numeric
//! LANGUAGE sql IMMUTABLE AS $$ SELECT round(net * (1 + {{ variables.tax_rate }}), 2) $$;
//! ```
//!
//! and a migration that includes it, `db/migrations/20250101000000-create-products/up.sql`
//! (the folder name, a UTC timestamp and a name, sets the apply order):
//!
//! ```sql
//! CREATE TABLE product (
//!     id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//!     name      text NOT NULL,
//!     net_price numeric(10, 2) NOT NULL
//! );
//!
//! {% include "functions/price_with_tax.sql" %}
//!
//! {% if env == "dev" %}
//! INSERT INTO product (name, net_price) VALUES ('sample', 10);
//! {% endif %}
//! ```
//!
//! A migration may have a `down.sql` beside its `up.sql`: what a rollback runs to undo it
//! (`spawn migration rollback`, `Migrator::rollback_to`). It is a template too, rendered for
//! the same environment from the same pin as `up.sql`, checked the same way and embedded
//! with it (`Migration::down`):
//!
//! ```sql
//! DROP FUNCTION price_with_tax(numeric);
//! DROP TABLE product;
//! ```
//!
//! Two marker lines at the top of an `up.sql` change how its migration is treated
//! ([`layout::Markers`]): `-- spawn:draft` (rendered and checked, but never pinned or
//! embedded: `compile()` leaves it out with a cargo warning) and `-- spawn:repeatable`
//! (rendered from the working tree's `components/`, never pinned, applied again whenever it
//! changes).
//!
//! The build script, `build.rs`, compiles the migrations:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     spawn_build::compile().unwrap();
//! }
//! ```
//!
//! and `src/main.rs` embeds them and applies what is pending at start-up:
//!
//! ```no_run
//! // src/main.rs
//! use spawn_runtime::sqlx::PgPool;
//!
//! # // `embed_migrations!()` needs the build script above; this test stands in an empty set.
//! # static MIGRATIONS: spawn_runtime::Migrations =
//! #     spawn_runtime::Migrations::__from_embedded(&[], "dev", "_spawn");
//! # /*
//! static MIGRATIONS: spawn_runtime::Migrations = spawn_runtime::embed_migrations!();
//! # */
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let pool = PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
//!     let report = MIGRATIONS.run(&pool).await?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
//!
//! (spawn-runtime's [crate documentation](../spawn_runtime/index.html) has more of the
//! runtime side: dry runs, progress, stopping, status.)
//!
//! `cargo run` now renders the migration for every environment the targets name (`dev` and
//! `prod` here), checks its SQL, and embeds it; the app applies it to `DATABASE_URL` and
//! records it in spawn's tracking tables (schema `_spawn`), so the next start applies nothing.
//!
//! ## What the first build writes, and why to commit it
//!
//! The migration had no pin, so the first (debug) build pins it and says so in a cargo
//! warning:
//!
//! ```text
//! db/migrations/20250101000000-create-products/lock.toml   pin = "<root hash>"
//! db/pinned/<2 hex>/<62 hex>                                 the snapshot: one file per
//!                                                            component and folder, named
//!                                                            by the hash of its bytes
//! ```
//!
//! Commit `lock.toml` and `pinned/` with the migration. From then on the migration renders
//! from its snapshot, never from `components/`: editing `price_with_tax.sql` for a later
//! migration (which includes the new version) leaves this one, and its checksum in databases
//! that already applied it, unchanged. Release builds and builds with `CI` set never pin:
//! an unpinned migration fails them with the one command that pins everything
//! (`spawn migration pin --all`), so what ships is exactly what was committed.
//!
//! The build tells cargo which files it read, so editing, adding, removing or renaming a
//! migration rebuilds the embedded set, and a build with nothing changed does not rerun the
//! script. Problems (a template error, a missing pin, SQL spawn cannot run as written, such
//! as a psql meta-command) fail the build all at once, each naming the file, the line and
//! what to do.
//!
//! # Options: [`Config`]
//!
//! [`compile()`] is `Config::new().compile()`. The builder changes what it reads and how
//! strict it is:
//!
//! * [`spawn_toml`](Config::spawn_toml): the project file (default `spawn.toml` beside
//!   `Cargo.toml`);
//! * [`locked`](Config::locked): refuse unpinned migrations instead of pinning them (default:
//!   locked in release builds and when `CI` is set);
//! * [`auto_pin`](Config::auto_pin)`(false)`: render unpinned migrations from the working
//!   tree and write nothing, for iterating on the newest migration;
//! * [`deny_hazards`](Config::deny_hazards): hazards that fail the build instead of warning
//!   (see below);
//! * [`variables`](Config::variables): one variables file for every environment;
//! * [`environments`](Config::environments): the environments to render (default: every one
//!   the targets name);
//! * [`out_dir`](Config::out_dir) and [`cargo_output`](Config::cargo_output): where the
//!   compiled set goes and whether `cargo:` lines are printed (for running it outside a build
//!   script).
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     spawn_build::Config::new()
//!         .spawn_toml("db/spawn.toml")
//!         .auto_pin(false)
//!         .compile()
//!         .unwrap();
//! }
//! ```
//!
//! # Hazards
//!
//! Every statement of a migration still being written (one that had no pin when the build
//! started) is classified by what it does to a live database: the lock it takes and the
//! work it does ([`analyze::hazards`]: `access-exclusive-lock`, `table-rewrite`,
//! `validation-scan`, `blocking-index-build`, `data-loss`, `non-transactional`,
//! `long-running`, `fails-on-existing-rows`). Each finding is a cargo warning naming the file and line, e.g.
//!
//! ```text
//! warning: db/migrations/20250102000000-ids/up.sql:2: table-rewrite: ALTER COLUMN id changes
//! the type from int4 to int8, … (accept with -- spawn:allow table-rewrite)
//! ```
//!
//! A `-- spawn:allow <hazard>` comment on the line before the statement accepts it;
//! [`Config::deny_hazards`] makes chosen hazards build errors. Pinned migrations are settled
//! and never warn. [`sql_hazards`] classifies plain SQL:
//!
//! ```
//! use spawn_build::{sql_hazards, Hazard};
//!
//! let findings = sql_hazards("ALTER TABLE account ALTER id TYPE bigint;");
//! assert!(findings.iter().any(|f| f.hazard == Hazard::TableRewrite));
//! ```
//!
//! [`Config::compile`] returns what it [`Compiled`]: the migrations with their renders, the
//! ones it pinned, and the files it watches.
//!
//! # The pipeline, for tools
//!
//! The modules are usable on their own; the `spawn` CLI renders, pins and checks through them,
//! so it never disagrees with `build.rs`. [`project::Project`] is one opened project:
//! [`render_all`](project::Project::render_all) renders and analyses every migration under a
//! [`project::PinPolicy`], [`render_sql`](project::Project::render_sql) renders one,
//! [`pin_migrations`](project::Project::pin_migrations) pins, and
//! [`verify_pins`](project::Project::verify_pins) checks every pin. What went wrong is
//! collected in [`problems::Problems`], each cause once, instead of stopping at the first.
//!
//! ```no_run
//! use spawn_build::project::{PinPolicy, Project, RenderOptions};
//!
//! # fn main() -> Result<(), spawn_build::BuildError> {
//! let mut project = Project::open("db/spawn.toml".as_ref())?;
//! let renders = project.render_all(&RenderOptions::new(PinPolicy::Require, ["prod"]));
//! for migration in &renders.migrations {
//!     for render in &migration.renders {
//!         let statements = render.analysis.statements.len();
//!         println!("{} ({}): {statements} statements", migration.name, render.environment);
//!     }
//! }
//! renders.problems.into_result()?; // every problem, grouped, in one error
//!
//! let pins = project.verify_pins()?;
//! println!("{} pinned, {} unpinned", pins.pinned, pins.unpinned.len());
//! # Ok(()) }
//! ```
//!
//! The other modules: [`callbacks`] renders the SQL callbacks run around a migration run,
//! [`spawn_toml`] parses `spawn.toml`, [`layout`] finds the project's
//! folders, [`render`] renders one template, [`variables`] loads variables files, [`pin`] is
//! the content-addressed store, and [`analyze`] splits SQL into statements and finds what
//! cannot run in a transaction.

// The examples are build scripts, where `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

pub mod analyze;
mod cache;
pub mod callbacks;
mod codegen;
mod compile;
pub mod component_status;
pub mod error;
pub mod hazard_report;
pub mod layout;
pub mod pin;
mod pipeline;
pub mod problems;
pub mod project;
pub mod render;
mod settle;
pub mod source_lines;
pub mod spawn_toml;
pub mod sql_tests;
pub mod variables;

pub use analyze::hazards::{sql_hazards, Finding, Hazard};
pub use compile::{compile, Compiled, Config};
pub use error::BuildError;
/// Checksums of rendered migrations (the model's, re-exported).
pub use spawn_model::checksum;
