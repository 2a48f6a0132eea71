//! Tenants and fleets at scale, side by side in one run (figures only, nothing asserted):
//!
//! * T tenant schemas × M migrations on one server (default 1,000 × 20): `run_tenants`
//!   with its default parallelism vs `run_tenants` one tenant at a time (`jobs(1)`: how
//!   Flyway and Atlas loop over schemas, on one connection), each on a fresh database; then
//!   a no-op rerun over all T tenants;
//! * D databases × M migrations (default 200 × 20): `run_fleet` vs one database at a time.
//!
//! With the throwaway cluster (no `DATABASE_URL`), the CPU time its server processes used in
//! each phase is printed too, and with it the most any parallelism could gain on this
//! machine: the one-at-a-time run's wall time against its CPU work spread over every core.
//! When the server is CPU-bound (DDL on a local server), that ceiling is about the number of
//! cores; latency (a network, commits waiting for the disk) is what parallelism hides beyond it.
//!
//! `cargo bench -p spawn-runtime --bench fleet -- [T] [D] [M]` (uses `DATABASE_URL`, or a
//! throwaway cluster of the PostgreSQL binaries installed on the machine);
//! `SPAWN_BENCH_JOBS=n` sets the parallelism (default: [`FleetOptions::default`]).

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

/// CPU seconds used so far by the throwaway cluster's server processes (the postmaster, its
/// exited backends and the live ones) and by this process; `None` for the server when it is
/// not the throwaway cluster or `/proc` cannot tell.
fn cpu_seconds() -> (Option<f64>, f64) {
    // Fields after the command name of /proc/<pid>/stat: ppid is 2nd; utime, stime, cutime,
    // cstime are 12th to 15th (clock ticks; 100 per second on Linux).
    fn stat(pid: &str) -> Option<(u32, f64, f64)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = text.get(text.rfind(')')? + 2..)?.split(' ').collect();
        let tick = |i: usize| fields.get(i)?.parse::<f64>().ok().map(|t| t / 100.0);
        Some((
            fields.get(1)?.parse().ok()?,
            tick(11)? + tick(12)?,
            tick(13)? + tick(14)?,
        ))
    }
    let own = stat("self").map_or(0.0, |(_, cpu, _)| cpu);
    let server = server().cluster().and_then(|cluster| {
        let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).ok()?;
        let postmaster = pid_file.lines().next()?.trim().to_owned();
        let pm: u32 = postmaster.parse().ok()?;
        let (_, own, children) = stat(&postmaster)?;
        let live: f64 = std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let (ppid, cpu, _) = stat(&name)?;
                (ppid == pm).then_some(cpu)
            })
            .sum();
        Some(own + children + live)
    });
    (server, own)
}

/// A phase's CPU use: server and client seconds since `before`.
struct Cpu {
    server: Option<f64>,
    client: f64,
}

impl Cpu {
    fn since(before: (Option<f64>, f64)) -> Cpu {
        let now = cpu_seconds();
        Cpu {
            server: now.0.zip(before.0).map(|(n, b)| n - b),
            client: now.1 - before.1,
        }
    }
}

/// The CPU lines under a parallel/one-at-a-time comparison.
fn print_cpu(parallel: &Cpu, sequential: &Cpu, sequential_wall: Duration) {
    let (Some(p), Some(s)) = (parallel.server, sequential.server) else {
        println!("    server CPU: not measured (DATABASE_URL names the server)");
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
    let work = s + sequential.client;
    println!(
        "    CPU: parallel {p:.1} s server + {:.1} s client; one at a time {s:.1} s + {:.1} s, \
         {:.2} of a core busy: {cores} cores allow at most {:.1}x",
        parallel.client,
        sequential.client,
        work / sequential_wall.as_secs_f64(),
        sequential_wall.as_secs_f64() * cores / work
    );
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
    let options = match std::env::var("SPAWN_BENCH_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
    {
        Some(jobs) => FleetOptions::default().jobs(jobs),
        None => FleetOptions::default(),
    };
    println!(
        "tenants and fleets: {t} tenants, {d} databases, {m} migrations each, {} jobs, {} cores, \
         load average {}",
        options.jobs,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split(' ').next().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
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
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = migrator
        .run_tenants(&pool, &tenants, &options, |_| {})
        .await
        .expect("tenants");
    let parallel = started.elapsed();
    let parallel_cpu = Cpu::since(cpu);
    assert!(report.is_success(), "{:?}", report.failed().next());

    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = migrator
        .run_tenants(
            &sequential_db.pool,
            &tenants,
            &FleetOptions::default().jobs(1),
            |_| {},
        )
        .await
        .expect("sequential");
    let sequential = started.elapsed();
    assert!(report.is_success(), "{:?}", report.failed().next());
    let sequential_cpu = Cpu::since(cpu);
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
    print_cpu(&parallel_cpu, &sequential_cpu, sequential);
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
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = migrator
        .run_fleet(&members(&parallel_dbs), &options, |_| {})
        .await;
    let parallel = started.elapsed();
    let parallel_cpu = Cpu::since(cpu);
    assert!(report.is_success(), "{:?}", report.failed().next());
    let cpu = cpu_seconds();
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
    let sequential_cpu = Cpu::since(cpu);
    println!(
        "  {d} databases x {m}: parallel {}   one at a time {}   ({:.1}x; goal >= 4x)",
        seconds(parallel),
        seconds(sequential),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    print_cpu(&parallel_cpu, &sequential_cpu, sequential);
}
