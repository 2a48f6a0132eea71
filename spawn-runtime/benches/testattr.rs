//! `#[spawn_runtime::test]` beside `#[sqlx::test]`: T tests (default 100, `SPAWN_BENCH_TESTS`)
//! of a crate with M migrations (default 200, `SPAWN_BENCH_MIGRATIONS`; each a CREATE TABLE,
//! an index, an INSERT and a CREATE FUNCTION), run one after the other in this process the
//! way each attribute runs them:
//!
//! * spawn: [`run_test`] (what `#[spawn_runtime::test]` expands to), which clones every
//!   test's database from a template. "first run" starts without the template, so its first
//!   test builds it (the first `cargo test` after a migration changed); "next runs" finds it
//!   up to date (every later run, and every other test binary of the crate).
//! * sqlx: `sqlx::testing::TestFn::run_test` (what `#[sqlx::test(migrations = …)]` expands
//!   to) with a `sqlx::migrate::Migrator` of the same SQL as files (`<version>_<name>.sql`):
//!   it creates an empty database per test and applies the M migrations to it.
//!
//! Every test body runs the same query on a pool. The three runs alternate in rounds
//! (`SPAWN_BENCH_ROUNDS`, default 5), so a busy moment of the machine falls on all of them.
//! Figures only, nothing is asserted: the totals, the time per test and the ratio, side by
//! side.
//!
//! Run with `cargo bench -p spawn-runtime --features testing --bench testattr` (uses
//! `DATABASE_URL`, or a throwaway cluster from the PostgreSQL binaries on the machine).
//! `SPAWN_BENCH_SQLX=0` leaves the sqlx runs out (to profile ours alone; no ratio then).

use std::time::{Duration, Instant};

use spawn_runtime::embedded::{EmbeddedMigration, EmbeddedRender};
use spawn_runtime::sqlx::{self, PgPool};
use spawn_runtime::testing::{
    drop_template, finish_background_work, run_test, server, template_name, TestConfig,
};
use spawn_runtime::{Migration, Migrations, Statement};

const PACKAGE: &str = "spawn-bench-testattr";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The SQL of migration `i`.
fn migration_sql(i: usize) -> String {
    format!(
        "CREATE TABLE item_{i} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
         name text NOT NULL,\n    price numeric(10, 2) NOT NULL DEFAULT 0,\n    \
         created_at timestamptz NOT NULL DEFAULT now()\n);\n\
         CREATE INDEX item_{i}_name ON item_{i} (name);\n\
         INSERT INTO item_{i} (name, price) SELECT 'item ' || g, g * 1.5 FROM generate_series(1, 10) g;\n\
         CREATE FUNCTION item_{i}_total() RETURNS numeric LANGUAGE sql STABLE\n\
         AS $$ SELECT coalesce(sum(price), 0) FROM item_{i} $$;\n"
    )
}

/// `(version, name, sql)` of each migration.
fn generate(m: usize) -> Vec<(u64, String, String)> {
    (0..m)
        .map(|i| {
            (
                20250101000000 + i as u64,
                format!("item-{i}"),
                migration_sql(i),
            )
        })
        .collect()
}

/// The migrations as `embed_migrations!()` would embed them (environment `dev`).
fn spawn_migrations(set: &[(u64, String, String)]) -> &'static Migrations {
    let embedded: Vec<EmbeddedMigration> = set
        .iter()
        .map(|(version, name, sql)| {
            let folder: &'static str = Box::leak(format!("{version}-{name}").into_boxed_str());
            let sql: &'static str = Box::leak(sql.clone().into_boxed_str());
            let statement = Statement {
                start: 0,
                end: sql.len(),
                line: 1,
                recovery: spawn_runtime::Recovery::Transactional,
            };
            let render = EmbeddedRender {
                environment: "dev",
                migration: Migration::new(folder, sql, vec![statement]),
            };
            EmbeddedMigration {
                name: folder,
                renders: Box::leak(vec![render].into_boxed_slice()),
            }
        })
        .collect();
    Box::leak(Box::new(Migrations::__from_embedded(
        Box::leak(embedded.into_boxed_slice()),
        "dev",
        "_spawn",
    )))
}

/// The same SQL as sqlx migration files, and sqlx's migrator of them.
fn sqlx_migrator(
    set: &[(u64, String, String)],
    dir: &std::path::Path,
) -> &'static sqlx::migrate::Migrator {
    for (version, name, sql) in set {
        let file = dir.join(format!("{version}_{}.sql", name.replace('-', "_")));
        std::fs::write(&file, sql)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let migrator = runtime
        .block_on(sqlx::migrate::Migrator::new(dir.to_path_buf()))
        .expect("sqlx reads the migration files");
    assert_eq!(migrator.iter().count(), set.len());
    Box::leak(Box::new(migrator))
}

/// The body of every test, on either side.
async fn body(pool: PgPool) {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'item\\_%'")
        .fetch_one(&pool)
        .await
        .expect("the test query");
    assert!(n > 0, "the migrations ran");
}

fn run_spawn(
    migrations: &'static Migrations,
    tests: std::ops::Range<usize>,
    label: &str,
) -> Duration {
    let start = Instant::now();
    for i in tests {
        let test: &'static str = Box::leak(format!("bench::{label}_{i}").into_boxed_str());
        run_test(
            TestConfig {
                test,
                package: PACKAGE,
                manifest_dir: env!("CARGO_MANIFEST_DIR"),
                migrations: Some(migrations),
                env: Some("dev"),
                fixtures: &[],
            },
            body,
        );
    }
    // The databases of passed tests are dropped in the background: count them in.
    let loop_time = start.elapsed();
    finish_background_work();
    if std::env::var("SPAWN_BENCH_DEBUG").is_ok() {
        eprintln!(
            "{label}: loop {:?} finish {:?}",
            loop_time,
            start.elapsed() - loop_time
        );
    }
    start.elapsed()
}

fn run_sqlx(migrator: &'static sqlx::migrate::Migrator, tests: std::ops::Range<usize>) -> Duration {
    let start = Instant::now();
    for i in tests {
        let path: &'static str = Box::leak(format!("bench::sqlx_{i}").into_boxed_str());
        let mut args = sqlx::testing::TestArgs::new(path);
        args.migrator(migrator);
        let f: fn(PgPool) -> _ = body;
        sqlx::testing::TestFn::run_test(f, args);
    }
    start.elapsed()
}

fn main() {
    let tests = env_number("SPAWN_BENCH_TESTS", 100);
    let m = env_number("SPAWN_BENCH_MIGRATIONS", 200);
    let server = server().unwrap_or_else(|e| panic!("{e}"));
    if std::env::var("DATABASE_URL").is_err() {
        // sqlx's test support reads the server from DATABASE_URL: the same server as ours.
        let cluster = server.cluster().expect("a throwaway cluster");
        std::env::set_var("DATABASE_URL", cluster.url("postgres"));
    }
    let set = generate(m);
    let ours = spawn_migrations(&set);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let theirs = sqlx_migrator(&set, dir.path());

    // Start cold: no template of this bench on the server.
    let template = template_name(PACKAGE, env!("CARGO_MANIFEST_DIR"), "dev");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime
        .block_on(drop_template(server.admin_options(), &template))
        .expect("dropping an old template");

    let rounds = env_number("SPAWN_BENCH_ROUNDS", 5).clamp(1, tests.max(1));
    let with_sqlx = env_number("SPAWN_BENCH_SQLX", 1) != 0;
    println!(
        "{tests} tests, {m} migrations, one test after the other in one process; the three \
         runs alternate in {rounds} rounds so that they share the machine's ups and downs\n"
    );
    let (mut cold, mut warm, mut sqlx_time) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let chunk = (tests * round / rounds)..(tests * (round + 1) / rounds);
        cold += run_spawn(ours, chunk.clone(), "first");
        if with_sqlx {
            sqlx_time += run_sqlx(theirs, chunk.clone());
        }
        warm += run_spawn(ours, chunk, "next");
    }

    runtime
        .block_on(drop_template(server.admin_options(), &template))
        .expect("dropping the template");

    let per = |d: Duration| d.as_secs_f64() * 1000.0 / tests as f64;
    println!(
        "{:<52} {:>9} {:>12} {:>14}",
        "", "total", "per test", "vs sqlx::test"
    );
    for (label, d) in [
        ("#[spawn_runtime::test], first run (builds template)", cold),
        ("#[spawn_runtime::test], next runs (template reused)", warm),
        ("#[sqlx::test] (migrates every database)", sqlx_time),
    ] {
        println!(
            "{label:<52} {:>8.2}s {:>9.1} ms {:>13.1}x",
            d.as_secs_f64(),
            per(d),
            sqlx_time.as_secs_f64() / d.as_secs_f64()
        );
    }
}
