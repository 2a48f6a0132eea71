//! Tenants and fleets at scale, side by side in one run (figures only, nothing asserted):
//!
//! * T tenant schemas × M migrations on one server (default 1,000 × 20): `run_tenants`
//!   with its default parallelism vs the same migrator applied one tenant at a time (how
//!   Flyway and Atlas loop over schemas), each on a fresh database; then a no-op rerun over
//!   all T tenants;
//! * D databases × M migrations (default 200 × 20): `run_fleet` vs one database at a time.
//!
//! `cargo bench -p spawn-runtime --bench fleet -- [T] [D] [M]` (uses `DATABASE_URL`, or a
//! throwaway cluster of the PostgreSQL binaries installed on the machine).

use std::time::{Duration, Instant};

use spawn_runtime::fleet::{FleetMember, FleetOptions};
use spawn_runtime::sqlx::postgres::PgPoolOptions;
use spawn_runtime::{Migration, Migrator, Recovery, Statement};
use spawn_tests::{server, TestDb};

/// M migrations: a table with rows, an index and a view each.
fn set(m: usize) -> Vec<Migration> {
    (0..m)
        .map(|i| {
            let parts = [
                format!("CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text NOT NULL)"),
                format!("INSERT INTO t_{i} SELECT g, 'row ' || g FROM generate_series(1, 20) g"),
                format!("CREATE INDEX t_{i}_name ON t_{i} (name)"),
                format!("CREATE VIEW v_{i} AS SELECT name FROM t_{i}"),
            ];
            let mut sql = String::new();
            let mut statements = Vec::new();
            for (line, part) in parts.iter().enumerate() {
                statements.push(Statement {
                    start: sql.len(),
                    end: sql.len() + part.len(),
                    line: line as u32 + 1,
                    recovery: Recovery::Transactional,
                });
                sql.push_str(part);
                sql.push_str(";\n");
            }
            Migration::new(format!("{:04}-m{i}", i + 1), sql, statements)
        })
        .collect()
}

async fn tenant_database(label: &str, tenants: &[String]) -> TestDb {
    let db = TestDb::new(label).await;
    let ddl: String = tenants
        .iter()
        .map(|t| format!("CREATE SCHEMA {t};"))
        .collect();
    sqlx::raw_sql(&ddl)
        .execute(&db.pool)
        .await
        .expect("schemas");
    db
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (t, d, m) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(200),
        args.get(2).copied().unwrap_or(20),
    );
    let migrations = set(m);
    let options = FleetOptions::default();
    println!(
        "tenants and fleets: {t} tenants, {d} databases, {m} migrations each, {} jobs, {} cores",
        options.jobs,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );

    // Tenants.
    let tenants: Vec<String> = (0..t).map(|i| format!("tenant_{i}")).collect();
    let parallel_db = tenant_database("bench_tenants_parallel", &tenants).await;
    let sequential_db = tenant_database("bench_tenants_sequential", &tenants).await;
    let pool = PgPoolOptions::new()
        .max_connections(options.jobs as u32)
        .connect_with(server().options(&parallel_db.name))
        .await
        .expect("pool");
    let migrator = Migrator::new(migrations.clone());
    let started = Instant::now();
    let report = migrator
        .run_tenants(&pool, &tenants, &options, |_| {})
        .await
        .expect("tenants");
    let parallel = started.elapsed();
    assert!(report.is_success(), "{:?}", report.failed().next());

    let started = Instant::now();
    for tenant in &tenants {
        migrator
            .clone()
            .tenant(tenant)
            .expect("name")
            .run(&sequential_db.pool)
            .await
            .expect("sequential");
    }
    let sequential = started.elapsed();
    let started = Instant::now();
    let rerun = migrator
        .run_tenants(&pool, &tenants, &options, |_| {})
        .await
        .expect("rerun");
    let noop = started.elapsed();
    assert_eq!(rerun.up_to_date().count(), t);
    println!(
        "  {t} tenants x {m}: parallel {}   one at a time {}   ({:.1}x; goal >= 4x)",
        seconds(parallel),
        seconds(sequential),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    println!(
        "  no-op rerun over {t} tenants: {}   (goal < 2 s)",
        seconds(noop)
    );
    pool.close().await;

    // Fleets.
    let mut parallel_dbs = Vec::new();
    let mut sequential_dbs = Vec::new();
    for i in 0..d {
        // Their pools are closed at once: the server's connections are for the runs.
        for (dbs, side) in [(&mut parallel_dbs, "p"), (&mut sequential_dbs, "s")] {
            let db = TestDb::new(&format!("bench_fleet_{side}{i}")).await;
            db.close().await;
            dbs.push(db);
        }
    }
    let members = |dbs: &[TestDb]| -> Vec<FleetMember> {
        dbs.iter()
            .map(|db| FleetMember::new(db.name.clone(), server().options(&db.name)))
            .collect()
    };
    let started = Instant::now();
    let report = migrator
        .run_fleet(&members(&parallel_dbs), &options, |_| {})
        .await;
    let parallel = started.elapsed();
    assert!(report.is_success(), "{:?}", report.failed().next());
    let started = Instant::now();
    for db in &sequential_dbs {
        // Connected when its turn comes, as the fleet run connects to each.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(server().options(&db.name))
            .await
            .expect("pool");
        migrator.run(&pool).await.expect("sequential");
        pool.close().await;
    }
    let sequential = started.elapsed();
    println!(
        "  {d} databases x {m}: parallel {}   one at a time {}   ({:.1}x; goal >= 4x)",
        seconds(parallel),
        seconds(sequential),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
}
