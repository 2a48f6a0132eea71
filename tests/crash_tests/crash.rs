//! Crash injection: a real migrating process (this test binary, re-executed with
//! `SPAWN_CRASH_CHILD_URL` set, runs the migrator in [`children::child_main`]) is SIGKILLed, or its
//! backend terminated (`pg_terminate_backend`), at random moments, over a set that mixes
//! transactional and no-transaction migrations (`CREATE INDEX CONCURRENTLY`, `CREATE TABLE AS`,
//! `DROP INDEX CONCURRENTLY`, inserts that must happen once). After each crash:
//!
//! * the database holds a prefix of the migrations (checked object by object, statement by
//!   statement for the migration that was under way) and the history says the same;
//! * a plain rerun completes, and then every migration is applied exactly once (one SUCCESS
//!   row each, each insert's row once, every index valid).
//!
//! Random delays only inject the crashes; waiting is always on a condition (the child's exit,
//! its backends gone). `SPAWN_CRASH_ITERATIONS` sets the number of iterations (default 100;
//! 1000 for the benchmark), `SPAWN_CRASH_SEED` replays a seed (printed on failure).

#[path = "../runtime_tests/common.rs"]
mod common;

mod children;

use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use children::{
    assert_complete, cases, check, migs, reset, spawn_child, wait_backends_gone, wait_child, Case,
    Rng,
};
use common::{migrator, rows_of};
use spawn_tests::TestDb;

/// The child: see [`children::child_main`].
#[test]
fn child_migrates() {
    children::child_main();
}

/// Statements recorded as done for a migration's newest row, and whether the next one was
/// started (`None`: applied).
async fn recorded(pool: &PgPool, name: &str) -> Option<(usize, bool)> {
    let rows = rows_of(pool, name).await;
    let Some(last) = rows.last() else {
        return Some((0, false));
    };
    if last.status == "SUCCESS" {
        return None;
    }
    let note: serde_json::Value = serde_json::from_str(&last.status_note).unwrap_or_default();
    let done = note["statements_done"].as_u64().unwrap_or(0) as usize;
    Some((done, note["started"].as_u64().is_some()))
}

/// The database is a prefix of the migrations and its history says the same. Returns whether
/// a statement was left started but not recorded.
async fn assert_prefix(pool: &PgPool, cases: &[Case], at: &str) -> bool {
    let mut left_started = false;
    let tracked = check(
        pool,
        "SELECT to_regclass('_spawn.migration_history') IS NOT NULL",
    )
    .await;
    let mut under_way_seen = false;
    for c in cases {
        let state = if tracked {
            recorded(pool, &c.mig.name).await
        } else {
            Some((0, false))
        };
        let (done, started) = match state {
            None => {
                assert!(
                    !under_way_seen,
                    "{at}: `{}` applied after one that is not",
                    c.mig.name
                );
                (c.checks.len(), false)
            }
            Some(s) => {
                let first_pending = !under_way_seen;
                under_way_seen = true;
                if first_pending {
                    left_started = s.1;
                    s
                } else {
                    assert_eq!(
                        s,
                        (0, false),
                        "{at}: `{}` has progress after a pending one",
                        c.mig.name
                    );
                    (0, false)
                }
            }
        };
        for (k, sql) in c.checks.iter().enumerate() {
            let present = check(pool, sql).await;
            if k < done {
                assert!(
                    present,
                    "{at}: `{}` statement {} recorded but not there ({sql})",
                    c.mig.name,
                    k + 1
                );
            } else if !(started && k == done) {
                // (The started statement may or may not have taken effect.)
                if c.mig.name.ends_with("drop-index") && k == 0 {
                    continue; // its effect is an absence, also there before m2 ran
                }
                assert!(
                    !present,
                    "{at}: `{}` statement {} there but not recorded ({sql})",
                    c.mig.name,
                    k + 1
                );
            }
        }
    }
    if tracked {
        let twice: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT tag FROM crash_log GROUP BY tag HAVING count(*) > 1) x",
        )
        .fetch_one(pool)
        .await
        .unwrap_or(0);
        assert_eq!(twice, 0, "{at}: an insert ran twice");
    }
    left_started
}

#[tokio::test]
async fn migrations_survive_random_kills_and_terminations() {
    let iterations: u32 = std::env::var("SPAWN_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed: u64 = std::env::var("SPAWN_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    // Shown with the failure (the harness prints a failing test's output).
    println!(
        "crash test: seed {seed} (replay with SPAWN_CRASH_SEED={seed}), {iterations} iterations"
    );
    let mut rng = Rng(seed);
    let db = TestDb::new("crash_inject").await;
    let cases = cases();
    let ms = migs(&cases);

    // How long an uninterrupted run takes: the range the crash points are drawn from.
    let t = Instant::now();
    wait_child(spawn_child(&[&db.url], Stdio::null())).await;
    let full = t.elapsed();
    assert_complete(&db.pool, &cases, "calibration run").await;

    let started = Instant::now();
    let (mut kills, mut terminations, mut completed_anyway, mut started_left) = (0, 0, 0, 0);
    for i in 0..iterations {
        let at = format!("seed {seed}, iteration {i}");
        reset(&db.pool).await;
        // Start from a random prefix at times, so crashes also hit later migrations.
        if rng.below(2) == 0 {
            let upto = rng.below(ms.len() as u64) as usize;
            migrator(&ms)
                .up_to(&ms[upto].name)
                .run(&db.pool)
                .await
                .unwrap_or_else(|e| panic!("{at}: prefix run: {e}"));
        }
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 + 1));
        let kill = rng.below(3) != 0;
        let mut child = spawn_child(&[&db.url], Stdio::null());
        tokio::time::sleep(delay).await;
        if child.try_wait().expect("child status").is_some() {
            completed_anyway += 1;
        } else if kill {
            child.kill().expect("SIGKILL the child");
            kills += 1;
        } else {
            let _: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name LIKE '%crash-child%'",
            )
            .bind(&db.name)
            .fetch_all(&db.pool)
            .await
            .expect("terminate");
            terminations += 1;
        }
        wait_child(child).await;
        wait_backends_gone(&db.pool, &db.name).await;
        if assert_prefix(&db.pool, &cases, &at).await {
            started_left += 1;
        }
        migrator(&ms)
            .run(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{at}: the plain rerun failed: {e}"));
        assert_complete(&db.pool, &cases, &at).await;
    }
    println!(
        "crash test: {iterations} iterations in {:?} ({kills} kills, {terminations} terminations, \
         {completed_anyway} runs ended before the crash point; {started_left} left a statement \
         started but not recorded)",
        started.elapsed()
    );
}
