//! Crash injection: a real migrating process (this test binary, re-executed with
//! `SPAWN_CRASH_CHILD_URL` set, runs the migrator in [`child_migrates`]) is SIGKILLed, or its
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

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use common::{migrator, rows_of, Mig};
use spawn_tests::TestDb;

/// Set in the child: the URL of the database to migrate.
const CHILD_ENV: &str = "SPAWN_CRASH_CHILD_URL";
/// The child's app name, which names its connections (`spawn-migrator (crash-child)`).
const CHILD_APP: &str = "crash-child";
/// A generous bound that turns a hang into a failure (never a timing assertion).
const HANG: Duration = Duration::from_secs(120);

/// One migration of the set, with a check per statement (`SELECT` of one boolean: whether
/// that statement's effect is there); a transactional migration has one check for all.
struct Case {
    mig: Mig,
    checks: Vec<&'static str>,
}

fn case(name: &str, no_tx: bool, sql: &str, checks: &[&'static str]) -> Case {
    let mig = if no_tx {
        Mig::no_tx(name, &format!("-- spawn:no-transaction\n{sql}"))
    } else {
        Mig::new(name, sql)
    };
    Case {
        mig,
        checks: checks.to_vec(),
    }
}

fn exists(rel: &str) -> &'static str {
    Box::leak(format!("SELECT to_regclass('{rel}') IS NOT NULL").into_boxed_str())
}

fn logged(tag: &str) -> &'static str {
    Box::leak(
        format!("SELECT EXISTS (SELECT 1 FROM crash_log WHERE tag = '{tag}')").into_boxed_str(),
    )
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "20250101000000-base",
            false,
            "CREATE TABLE crash_log (tag text NOT NULL);\n\
             CREATE TABLE c0 (n int);\nINSERT INTO c0 SELECT generate_series(1, 20000);",
            &[exists("c0")],
        ),
        case(
            "20250101000100-index-c0",
            true,
            "CREATE INDEX CONCURRENTLY c0_n_idx ON c0 (n);\nCREATE TABLE c1 AS SELECT n FROM c0;\n\
             INSERT INTO crash_log VALUES ('m1');",
            &[exists("c0_n_idx"), exists("c1"), logged("m1")],
        ),
        case(
            "20250101000200-tx",
            false,
            "CREATE TABLE c2 (id int);\nCREATE INDEX c2_id_idx ON c2 (id);\nINSERT INTO crash_log VALUES ('m2');",
            &[exists("c2")],
        ),
        case(
            "20250101000300-unique-c1",
            true,
            "CREATE UNIQUE INDEX CONCURRENTLY c1_n_idx ON c1 (n);\n\
             CREATE TABLE c3 AS SELECT count(*) AS k FROM c1;\nINSERT INTO crash_log VALUES ('m3');\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS c3_k_idx ON c3 (k);",
            &[exists("c1_n_idx"), exists("c3"), logged("m3"), exists("c3_k_idx")],
        ),
        case(
            "20250101000400-tx",
            false,
            "ALTER TABLE c2 ADD COLUMN v int;\nINSERT INTO crash_log VALUES ('m4');",
            &[logged("m4")],
        ),
        case(
            "20250101000500-drop-index",
            true,
            "DROP INDEX CONCURRENTLY c2_id_idx;\nCREATE TABLE c5 AS SELECT n FROM c1 WHERE n < 100;\n\
             INSERT INTO crash_log VALUES ('m5');",
            &[
                "SELECT to_regclass('c2_id_idx') IS NULL",
                exists("c5"),
                logged("m5"),
            ],
        ),
        case(
            "20250101000600-tx",
            false,
            "CREATE TABLE c6 AS SELECT 1 AS x;\nINSERT INTO crash_log VALUES ('m6');",
            &[exists("c6")],
        ),
    ]
}

fn migs(cases: &[Case]) -> Vec<Mig> {
    cases.iter().map(|c| c.mig.clone()).collect()
}

/// The child: migrates the database named by [`CHILD_ENV`] (does nothing when it is unset,
/// i.e. when the test suite runs this as a test).
#[test]
fn child_migrates() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let code = rt.block_on(async {
        let pool = PgPool::connect(&url).await.expect("connect");
        match migrator(&migs(&cases()))
            .created_by_app(CHILD_APP)
            .run(&pool)
            .await
        {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("child: {e}");
                3
            }
        }
    });
    std::process::exit(code);
}

/// SplitMix64: a small seeded generator (the crash points only need to be reproducible).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn spawn_child(url: &str) -> Child {
    let exe = std::env::current_exe().expect("test binary");
    Command::new(exe)
        .args([
            "child_migrates",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the migrating child")
}

/// Waits (bounded) for the child to exit.
async fn wait_child(child: &mut Child) {
    let start = Instant::now();
    while child.try_wait().expect("child status").is_none() {
        assert!(start.elapsed() < HANG, "the child did not exit");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits (bounded) until the child's backends are gone (a killed client's backend finishes
/// its statement first, holding the lock).
async fn wait_backends_gone(pool: &PgPool, db: &str) {
    let start = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE '%crash-child%'",
        )
        .bind(db)
        .fetch_one(pool)
        .await
        .expect("backends");
        if n == 0 {
            return;
        }
        assert!(start.elapsed() < HANG, "the child's backends did not end");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn check(pool: &PgPool, sql: &str) -> bool {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or(false)
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

/// After the rerun: everything applied exactly once.
async fn assert_complete(pool: &PgPool, cases: &[Case], at: &str) {
    for c in cases {
        let rows = rows_of(pool, &c.mig.name).await;
        let successes = rows.iter().filter(|r| r.status == "SUCCESS").count();
        assert_eq!(successes, 1, "{at}: `{}` SUCCESS rows", c.mig.name);
        for sql in &c.checks {
            assert!(check(pool, sql).await, "{at}: `{}`: {sql}", c.mig.name);
        }
    }
    let tags: Vec<(String, i64)> =
        sqlx::query_as("SELECT tag, count(*) FROM crash_log GROUP BY tag ORDER BY tag")
            .fetch_all(pool)
            .await
            .expect("log");
    let expected: Vec<(String, i64)> = ["m1", "m2", "m3", "m4", "m5", "m6"]
        .iter()
        .map(|t| (t.to_string(), 1))
        .collect();
    assert_eq!(tags, expected, "{at}: each insert exactly once");
    let invalid: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
        .fetch_one(pool)
        .await
        .expect("indexes");
    assert_eq!(invalid, 0, "{at}: an INVALID index is left");
}

async fn reset(pool: &PgPool) {
    sqlx::raw_sql(
        "DROP SCHEMA IF EXISTS _spawn CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
    )
    .execute(pool)
    .await
    .expect("reset the database");
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
    let mut child = spawn_child(&db.url);
    wait_child(&mut child).await;
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
        let mut child = spawn_child(&db.url);
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
        wait_child(&mut child).await;
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
