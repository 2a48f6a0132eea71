//! Inspect + diff benchmark against migra.
//!
//! Generates a synthetic schema of N tables (about ten mixed-type columns each, primary and
//! foreign keys, indexes, checks, enums, sequences, N/5 views with views on views, N/2
//! functions, triggers, comments, a few partitioned tables) and a changed variant, loads both,
//! analyses them (`VACUUM ANALYZE`, so that autovacuum does not run in the middle of the
//! timings), and times `inspect` of both plus `diff` — each run in a child process, so its
//! peak memory is its own — beside migra on the same databases. Each tool runs five times,
//! the two alternating; the best time of each is compared.
//!
//!     cargo bench -p spawn-schema --bench diff
//!     SPAWN_BENCH_SIZES=100,500,2000 cargo bench -p spawn-schema --bench diff
//!
//! migra runs when `MIGRA_PYTHON` (default `python3`) can import it:
//!
//!     python3 -m venv .venv-migra
//!     .venv-migra/bin/pip install migra psycopg2-binary 'sqlalchemy<2'
//!     MIGRA_PYTHON=.venv-migra/bin/python cargo bench -p spawn-schema --bench diff
//!
//! `SPAWN_BENCH_SQL_DIR=dir` also writes the generated schemas there; `RUST_LOG=debug` shows
//! the time of every catalog query.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use spawn_schema::{diff_urls, inspect, Options};

mod synthetic;
use synthetic::generate;

const CHILD_ENV: &str = "SPAWN_BENCH_CHILD";
/// Runs of each tool per size, alternating; the best of each is compared. The host's speed
/// drifts (the same run can take 0.55 or 0.75 s at N = 2,000), so a single run compares
/// little.
const RUNS: usize = 5;

fn main() {
    if let Ok(urls) = std::env::var(CHILD_ENV) {
        child(&urls);
        return;
    }
    let sizes: Vec<usize> = std::env::var("SPAWN_BENCH_SIZES")
        .unwrap_or_else(|_| "100,500,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let python = std::env::var("MIGRA_PYTHON").unwrap_or_else(|_| "python3".into());
    let migra = Command::new(&python)
        .args(["-c", "import migra, sqlbag"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !migra {
        println!(
            "migra skipped: `{python}` cannot import migra. Install it in a venv and point MIGRA_PYTHON at it:\n  \
             python3 -m venv .venv-migra && .venv-migra/bin/pip install migra psycopg2-binary 'sqlalchemy<2'\n  \
             MIGRA_PYTHON=.venv-migra/bin/python cargo bench -p spawn-schema --bench diff"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "{:>6} {:>9} {:>11} {:>12} {:>11} {:>12} {:>8} {:>7}",
        "N", "objects", "spawn (s)", "spawn MiB", "migra (s)", "migra MiB", "speedup", "memory"
    );
    for n in sizes {
        let (from, to, objects) = runtime.block_on(prepare(n));
        // Alternating runs, so that a change in the host's speed weighs on both alike.
        let mut spawn_runs = Vec::new();
        let mut migra_runs = Vec::new();
        for _ in 0..RUNS {
            spawn_runs.push(run_spawn(&from, &to));
            if migra {
                migra_runs.extend(run_migra(&python, &from, &to));
            }
        }
        let (spawn_time, spawn_kib) = best(&spawn_runs);
        let mut line = format!(
            "{n:>6} {objects:>9} {:>11.3} {:>12.1}",
            spawn_time.as_secs_f64(),
            spawn_kib as f64 / 1024.0
        );
        if migra {
            if migra_runs.is_empty() {
                line.push_str("      (migra failed)");
            } else {
                let (migra_time, migra_kib) = best(&migra_runs);
                let _ = write!(
                    line,
                    " {:>11.3} {:>12.1} {:>7.1}x {:>6.2}x",
                    migra_time.as_secs_f64(),
                    migra_kib as f64 / 1024.0,
                    migra_time.as_secs_f64() / spawn_time.as_secs_f64(),
                    spawn_kib as f64 / migra_kib.max(1) as f64,
                );
            }
        }
        println!("{line}");
    }
    println!("(best of {RUNS} alternating runs of each; memory = spawn's peak RSS / migra's)");
}

fn best(runs: &[(Duration, u64)]) -> (Duration, u64) {
    let time = runs.iter().map(|r| r.0).min().unwrap_or_default();
    let memory = runs.iter().map(|r| r.1).max().unwrap_or_default();
    (time, memory)
}

/// Creates and loads the two databases; returns their libpq URLs and the object count.
async fn prepare(n: usize) -> (String, String, usize) {
    let from = spawn_tests::TestDb::new(&format!("bench_{n}_from")).await;
    let to = spawn_tests::TestDb::new(&format!("bench_{n}_to")).await;
    let (a, b) = (generate(n, false), generate(n, true));
    if let Some(dir) = std::env::var_os("SPAWN_BENCH_SQL_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join(format!("bench_{n}_a.sql")), &a).expect("write the schema");
        std::fs::write(dir.join(format!("bench_{n}_b.sql")), &b).expect("write the schema");
    }
    sqlx::raw_sql(&a)
        .execute(&from.pool)
        .await
        .expect("load the source schema");
    sqlx::raw_sql(&b)
        .execute(&to.pool)
        .await
        .expect("load the target schema");
    // Both tools are timed on analysed catalogs, as autovacuum leaves them: otherwise its
    // workers analyse the freshly loaded catalogs in the middle of the runs.
    for db in [&from, &to] {
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(&db.pool)
            .await
            .expect("vacuum analyze");
    }
    let schema = inspect(&from.pool, &Options::default())
        .await
        .expect("inspect");
    (
        libpq_url(&from.url),
        libpq_url(&to.url),
        schema.objects.len(),
    )
}

fn libpq_url(url: &str) -> String {
    url.split_once('?')
        .map_or(url, |(base, _)| base)
        .to_string()
}

/// Runs inspect + diff in a child process; its wall time and peak RSS (KiB).
fn run_spawn(from: &str, to: &str) -> (Duration, u64) {
    let exe = std::env::current_exe().expect("own executable");
    let started = Instant::now();
    let out = Command::new(exe)
        .env(CHILD_ENV, format!("{from} {to}"))
        .output()
        .expect("run the child");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "bench child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::env::var_os("RUST_LOG").is_some() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let kib = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (elapsed, kib)
}

/// Grows the C heap in 64 MiB steps (`M_TOP_PAD`), as the `spawn` binary does first thing
/// (spawn-cli's `heap` module, which says why and what it gains): the child measures what
/// `spawn diff` does, so it tunes its allocator alike. Keep the two in step. A no-op where the
/// allocator is not glibc's.
fn grow_heap_like_spawn() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tunable of the allocator; any value is accepted.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

fn child(urls: &str) {
    grow_heap_like_spawn();
    let (from, to) = urls.split_once(' ').expect("two URLs");
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        // What `spawn diff FROM TO --unsafe` runs: connect, inspect both at once, plan, render.
        let options = Options::default().allow_unsafe(true);
        let started = Instant::now();
        let plan = diff_urls(from, to, &options).await.expect("diff");
        let sql = plan.to_sql();
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            statements = plan.statements.len(),
            "diffed"
        );
        assert!(!sql.is_empty());
    });
    println!("{}", peak_rss_kib());
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

const MIGRA_SCRIPT: &str = r#"
import resource, sys
from migra import Migration
from sqlbag import S
with S(sys.argv[1]) as a, S(sys.argv[2]) as b:
    m = Migration(a, b)
    m.set_safety(False)
    m.add_all_changes()
    sql = m.sql
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"#;

/// Runs migra on the same databases; its wall time and peak RSS (KiB).
fn run_migra(python: &str, from: &str, to: &str) -> Option<(Duration, u64)> {
    let started = Instant::now();
    // SQLAlchemy wants the postgresql:// scheme.
    let sqlalchemy = |url: &str| url.replacen("postgres://", "postgresql://", 1);
    let out = Command::new(python)
        .args(["-c", MIGRA_SCRIPT, &sqlalchemy(from), &sqlalchemy(to)])
        .output()
        .ok()?;
    let elapsed = started.elapsed();
    if !out.status.success() {
        eprintln!(
            "migra failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        );
        return None;
    }
    let kib = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()?
        .parse()
        .ok()?;
    Some((elapsed, kib))
}
