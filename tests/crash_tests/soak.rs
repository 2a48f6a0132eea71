//! Soak: many migrating processes (this test binary re-executed, see
//! [`children::child_main`]) race on many databases while one database has all its
//! backends terminated (`pg_terminate_backend`) every few hundred milliseconds. The
//! migration set is the crash test's (transactional and no-transaction migrations,
//! `CREATE INDEX CONCURRENTLY`, inserts that must happen once); every process takes every
//! database, in its own order, so the advisory lock serialises up to all of them at once.
//!
//! Each round resets the databases, starts all processes, waits for them to exit, then runs
//! the migrator once more on every database. Asserted, never on timing:
//!
//! * no process panics: each exits 0 or 3 and reports every database, a failure only as a
//!   lost connection, a lock wait timeout or a refused connection, and (but for lock waits)
//!   only on the database whose backends are terminated;
//! * a database some process reported migrated is complete (the final run applies nothing);
//! * after the final run every database is complete, each migration applied exactly once
//!   (one SUCCESS row, its objects there, each insert's row once, no INVALID index).
//!
//! `SPAWN_SOAK_SEED` replays a seed (printed); `SPAWN_SOAK_ROUNDS` (default 3) and
//! `SPAWN_SOAK_PROCESSES` (default 16) scale it up for a longer benchmark.

#[path = "../runtime_tests/common.rs"]
mod common;

mod children;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use children::{
    assert_complete, cases, migs, reset, spawn_child, wait_backends_gone, wait_child, Rng, OUTCOME,
};
use common::migrator;
use spawn_tests::TestDb;

/// Databases migrated in each round.
const DATABASES: usize = 20;

/// The child: see [`children::child_main`].
#[test]
fn child_migrates() {
    children::child_main();
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the children reported for one database.
#[derive(Default, Debug)]
struct Outcomes {
    ok: usize,
    /// Failures by kind (`lost`, `lock-wait`, `connect`).
    failed: BTreeMap<String, usize>,
}

/// Reads a child's outcome lines into `outcomes` (by URL); asserts it exited normally and
/// reported every one of its `urls`.
fn collect(child: Child, urls: &[&str], outcomes: &mut BTreeMap<String, Outcomes>, at: &str) {
    let out = child.wait_with_output().expect("the child's output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{at}: a child ended with {:?} (a panic?):\n{stderr}",
        out.status
    );
    let mut reported = 0;
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix(OUTCOME) else {
            continue;
        };
        reported += 1;
        let mut words = rest.split_whitespace();
        match words.next() {
            Some("ok") => {
                let url = words.next().expect("the URL");
                outcomes.entry(url.to_string()).or_default().ok += 1;
            }
            Some("error") => {
                let kind = words.next().expect("the kind");
                let url = words.next().expect("the URL").trim_end_matches(':');
                assert!(
                    matches!(kind, "lost" | "lock-wait" | "connect"),
                    "{at}: a child failed with an unclear error: {line}"
                );
                *outcomes
                    .entry(url.to_string())
                    .or_default()
                    .failed
                    .entry(kind.to_string())
                    .or_default() += 1;
            }
            _ => panic!("{at}: unexpected child output: {line}"),
        }
    }
    assert_eq!(
        reported,
        urls.len(),
        "{at}: not every database reported:\n{stderr}"
    );
}

/// Terminates every backend of the database behind `conn` but its own, every 100–400 ms
/// (random, from `rng`), until `stop`; returns how many backends it ended.
async fn terminate_until(mut conn: PgConnection, mut rng: Rng, stop: Arc<AtomicBool>) -> u64 {
    let mut ended = 0;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("terminate the database's backends");
        ended += n as u64;
    }
    let _ = conn.close().await;
    ended
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_migrators_race_while_one_database_is_terminated() {
    let rounds: u32 = env_or("SPAWN_SOAK_ROUNDS", 3);
    let processes: usize = env_or("SPAWN_SOAK_PROCESSES", 16);
    let seed: u64 = env_or(
        "SPAWN_SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    println!(
        "soak: seed {seed} (replay with SPAWN_SOAK_SEED={seed}), {rounds} rounds, \
         {processes} processes, {DATABASES} databases"
    );
    let mut rng = Rng(seed);
    let cases = cases();
    let ms = migs(&cases);
    let mut dbs = Vec::with_capacity(DATABASES);
    for _ in 0..DATABASES {
        dbs.push(TestDb::new("soak").await);
    }
    let started = Instant::now();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let mut terminated_backends = 0;
    for round in 0..rounds {
        let at = format!("seed {seed}, round {round}");
        for db in &dbs {
            reset(&db.pool).await;
        }
        let victim = rng.below(DATABASES as u64) as usize;
        let conn = spawn_tests::server().connection(&dbs[victim].name).await;
        let stop = Arc::new(AtomicBool::new(false));
        let terminator = tokio::spawn(terminate_until(conn, Rng(rng.next()), stop.clone()));

        let mut children = Vec::with_capacity(processes);
        for _ in 0..processes {
            // Each process takes every database, in its own order (Fisher–Yates).
            let mut order: Vec<&str> = dbs.iter().map(|d| d.url.as_str()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let child = spawn_child(&order, Stdio::piped());
            children.push((child, order));
        }
        let mut outcomes = BTreeMap::new();
        for (child, order) in children {
            let child = wait_child(child).await;
            collect(child, &order, &mut outcomes, &at);
        }
        stop.store(true, Ordering::Relaxed);
        terminated_backends += terminator.await.expect("the terminator");

        for (k, db) in dbs.iter().enumerate() {
            let at = format!("{at}, database {k}");
            let seen = outcomes.remove(&db.url).unwrap_or_default();
            if k != victim {
                let unexpected: Vec<_> = seen.failed.keys().filter(|k| *k != "lock-wait").collect();
                assert!(
                    unexpected.is_empty(),
                    "{at}: failures on a database nobody terminated: {seen:?}"
                );
            }
            for (kind, n) in &seen.failed {
                *totals.entry(kind.clone()).or_default() += n;
            }
            *totals.entry("ok".to_string()).or_default() += seen.ok;
            // Its pool's connections may have been terminated: a fresh one.
            let pool = db.new_pool(2).await;
            wait_backends_gone(&pool, &db.name).await;
            let last = migrator(&ms)
                .run(&pool)
                .await
                .unwrap_or_else(|e| panic!("{at}: the final run failed: {e}"));
            if seen.ok > 0 {
                assert!(
                    last.applied.is_empty(),
                    "{at}: reported migrated, yet the final run applied {:?}",
                    last.applied
                );
            }
            assert_complete(&pool, &cases, &at).await;
            pool.close().await;
        }
    }
    println!(
        "soak: {rounds} rounds in {:?}; runs per outcome {totals:?}; {terminated_backends} \
         backends terminated",
        started.elapsed()
    );
}
