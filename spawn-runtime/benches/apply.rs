//! Applying N migrations (default 1000; `SPAWN_BENCH_N`) to a fresh database with the
//! migrator, beside two baselines on their own fresh databases:
//!
//! * `psql -1 -f` of the same SQL (one transaction, statement by statement);
//! * the same SQL as ONE simple-query message: the round-trip floor.
//!
//! Then a no-op start with N applied (time and statements sent). Figures only: nothing is
//! asserted. Each measurement is repeated `SPAWN_BENCH_REPS` times (default 3) and the
//! median is printed. `SPAWN_BENCH_BATCH` overrides the migrator's batch size (migrations
//! per round trip).
//!
//! Run with `cargo bench -p spawn-runtime --bench apply` (uses `DATABASE_URL`, or a
//! throwaway cluster from the PostgreSQL binaries installed on the machine).

use std::process::Command;
use std::time::{Duration, Instant};

use spawn_runtime::{Migration, Migrator, Recovery, Statement};
use spawn_tests::TestDb;

struct Owned {
    name: String,
    sql: String,
    statements: Vec<Statement>,
}

fn generate(n: usize) -> Vec<Owned> {
    (0..n)
        .map(|i| {
            let sql = format!(
                "CREATE TABLE bench_{i} (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    \
                 created_at timestamptz NOT NULL DEFAULT now()\n);\n\
                 INSERT INTO bench_{i} (id, name) SELECT g, 'row ' || g FROM generate_series(1, 20) g;\n\
                 CREATE INDEX bench_{i}_name ON bench_{i} (name);\n\
                 COMMENT ON TABLE bench_{i} IS 'benchmark table {i}';\n\
                 ALTER TABLE bench_{i} ADD COLUMN note text;\n"
            );
            let statements = split(&sql);
            Owned { name: format!("20250101{i:06}-bench-{i}"), sql, statements }
        })
        .collect()
}

/// Splits on `;` (the generated SQL has no `;` inside literals).
fn split(sql: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in sql.char_indices().chain(std::iter::once((sql.len(), ';'))) {
        if c == ';' {
            let piece = &sql[start..i.min(sql.len())];
            let s = start + (piece.len() - piece.trim_start().len());
            let e = start + piece.trim_end().len();
            if s < e {
                out.push(Statement {
                    start: s,
                    end: e,
                    line: 1 + sql[..s].matches('\n').count() as u32,
                    // Plain CREATE TABLE and INSERT statements.
                    recovery: Recovery::Transactional,
                });
            }
            start = (i + 1).min(sql.len());
        }
    }
    out
}

fn migrations(owned: &[Owned]) -> Vec<Migration> {
    owned
        .iter()
        .map(|o| Migration::new(o.name.clone(), o.sql.clone(), o.statements.clone()))
        .collect()
}

/// CPU time used so far by the throwaway cluster's server processes (the postmaster, its
/// live children, and the children it has reaped), from /proc; `None` when the server is
/// not one this process started, or there is no /proc. Unlike wall time, this hardly
/// depends on what else the machine is doing.
fn server_cpu() -> Option<Duration> {
    const TICK: f64 = 0.01; // USER_HZ is 100 on Linux.
    let cluster = spawn_tests::server().cluster()?;
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).ok()?;
    let postmaster: u32 = pid_file.lines().next()?.trim().parse().ok()?;
    // Fields after the command name: state ppid … utime(11) stime(12) cutime(13) cstime(14).
    let fields = |pid: &str| -> Option<Vec<u64>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        Some(
            rest.split_whitespace()
                .skip(1)
                .map(|f| f.parse().unwrap_or(0))
                .collect(),
        )
    };
    let own = fields(&postmaster.to_string())?;
    let mut ticks = own.get(10..14)?.iter().sum::<u64>();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some(f) = fields(pid) {
            if f.first() == Some(&(postmaster as u64)) {
                ticks += f.get(10..12).map(|t| t.iter().sum::<u64>()).unwrap_or(0);
            }
        }
    }
    Some(Duration::from_secs_f64(ticks as f64 * TICK))
}

fn cpu_since(start: Option<Duration>) -> Option<Duration> {
    Some(server_cpu()?.saturating_sub(start?))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    let n = env_usize("SPAWN_BENCH_N", 1000);
    let reps = env_usize("SPAWN_BENCH_REPS", 3).max(1);
    let owned = generate(n);
    let all_sql: String = owned
        .iter()
        .map(|o| o.sql.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), &all_sql)?;
    let psql = spawn_localdb::PgBinaries::find()?.tool("psql");
    let statements: usize = owned.iter().map(|o| o.statements.len()).sum();
    println!(
        "spawn-runtime apply benchmark: {n} migrations, {statements} statements, {:.1} MiB of SQL, {reps} run(s) each (median)",
        all_sql.len() as f64 / (1 << 20) as f64
    );

    let (mut t_migrator, mut t_psql, mut t_floor, mut t_noop) = (vec![], vec![], vec![], vec![]);
    let (mut r_migrator, mut r_psql) = (vec![], vec![]);
    let (mut c_floor, mut c_psql, mut c_migrator) = (vec![], vec![], vec![]);
    let mut noop_statements = 0;
    let mut apply_round_trips = 0;
    for rep in 0..reps {
        // The three runs of one repetition are adjacent in time, in a rotating order, so
        // their ratios are meaningful even when the machine's load drifts.
        let (mut floor, mut psql_t, mut migrator_t) =
            (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        for k in 0..3 {
            match (k + rep) % 3 {
                0 => {
                    // The floor: the same SQL in one simple-query message.
                    let db = TestDb::new(&format!("bench_floor_{rep}")).await;
                    let mut conn = db.pool.acquire().await?;
                    let (t, cpu) = (Instant::now(), server_cpu());
                    sqlx::raw_sql(&all_sql).execute(&mut *conn).await?;
                    floor = t.elapsed();
                    c_floor.extend(cpu_since(cpu));
                    drop(conn);
                    db.close().await;
                }
                1 => {
                    // psql -1 -f
                    let db = TestDb::new(&format!("bench_psql_{rep}")).await;
                    let (t, cpu) = (Instant::now(), server_cpu());
                    let out = Command::new(&psql)
                        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f"])
                        .arg(file.path())
                        // sqlx's URL carries options psql does not know.
                        .arg(db.url.split('?').next().unwrap_or(&db.url))
                        .output()?;
                    psql_t = t.elapsed();
                    c_psql.extend(cpu_since(cpu));
                    if !out.status.success() {
                        return Err(format!(
                            "psql failed: {}",
                            String::from_utf8_lossy(&out.stderr)
                        )
                        .into());
                    }
                    db.close().await;
                }
                _ => {
                    // The migrator, then a no-op start on the same database.
                    let db = TestDb::new(&format!("bench_migrator_{rep}")).await;
                    let mut migrator = Migrator::new(migrations(&owned)).created_by_app("bench");
                    if let Some(batch) = std::env::var("SPAWN_BENCH_BATCH")
                        .ok()
                        .and_then(|v| v.parse().ok())
                    {
                        migrator = migrator.batch_limits(batch, 64 << 20);
                    }
                    let (t, cpu) = (Instant::now(), server_cpu());
                    let report = migrator.run(&db.pool).await?;
                    migrator_t = t.elapsed();
                    c_migrator.extend(cpu_since(cpu));
                    assert_eq!(report.applied.len(), n, "every migration applied");
                    apply_round_trips = report.round_trips;
                    let t = Instant::now();
                    let noop = migrator.run(&db.pool).await?;
                    t_noop.push(t.elapsed());
                    noop_statements = noop.round_trips;
                    db.close().await;
                }
            }
        }
        println!(
            "  run {}: floor {floor:.1?}, psql -1 {psql_t:.1?}, migrator {migrator_t:.1?}",
            rep + 1
        );
        r_migrator.push(migrator_t.as_secs_f64() / floor.as_secs_f64());
        r_psql.push(psql_t.as_secs_f64() / floor.as_secs_f64());
        t_floor.push(floor);
        t_psql.push(psql_t);
        t_migrator.push(migrator_t);
    }
    let (floor, psql_t, migrator_t, noop_t) = (
        median(t_floor),
        median(t_psql),
        median(t_migrator),
        median(t_noop),
    );
    println!("medians (ratios: median of the per-run ratios to that run's floor):");
    println!(
        "  one simple-query message (floor) {:>10.1?}   1.00x",
        floor
    );
    println!(
        "  psql -1 -f                       {:>10.1?}   {:.2}x",
        psql_t,
        median_f(r_psql)
    );
    println!(
        "  spawn migrator                   {:>10.1?}   {:.2}x  ({apply_round_trips} round trips; goal <= 1.15x)",
        migrator_t,
        median_f(r_migrator)
    );
    println!(
        "  no-op start with {n} applied     {:>10.1?}   {noop_statements} statements (goal <= 4)",
        noop_t
    );
    if c_floor.len() == reps && c_psql.len() == reps && c_migrator.len() == reps {
        let (cf, cp, cm) = (median(c_floor), median(c_psql), median(c_migrator));
        let r = |d: Duration| d.as_secs_f64() / cf.as_secs_f64();
        println!("server CPU time (load-independent), medians:");
        println!("  one simple-query message (floor) {:>10.1?}   1.00x", cf);
        println!(
            "  psql -1 -f                       {:>10.1?}   {:.2}x",
            cp,
            r(cp)
        );
        println!(
            "  spawn migrator                   {:>10.1?}   {:.2}x",
            cm,
            r(cm)
        );
    }
    Ok(())
}
