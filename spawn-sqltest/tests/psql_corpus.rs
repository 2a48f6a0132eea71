//! The psql corpus: every case of `tests/corpus/*.sql` printed by spawn's runner must be
//! byte-identical to what `psql -X` prints for it (after the three protocol lines, stderr
//! merged into stdout), each run on a fresh copy of the same template (`fixture.sql`).
//!
//! The runner runs the corpus twice: with its own choice of isolation (most cases in a
//! rolled-back transaction on a shared copy, the rest in copies of their own), and with every
//! case in a copy of its own (autocommit, as psql runs it). Both must match psql.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spawn_runtime::Migrator;
use spawn_sqltest::runner::{self, template, RunConfig, TestCase};
use spawn_sqltest::wire::ConnectTarget;
use sqlx::Connection;
use tokio::sync::Semaphore;

#[path = "support/psql.rs"]
mod support;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every case: (`file/name`, script).
fn load_corpus() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .filter(|p| p.file_name().is_some_and(|n| n != "fixture.sql"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name")
            .to_owned();
        let text = std::fs::read_to_string(&file).expect("read corpus file");
        let mut current: Option<(String, String)> = None;
        for line in text.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("--- case: ") {
                cases.extend(current.take());
                current = Some((format!("{stem}-{}", name.trim()), String::new()));
            } else if let Some((_, body)) = current.as_mut() {
                body.push_str(line);
            }
        }
        cases.extend(current);
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runner_prints_what_psql_prints() {
    let cases = load_corpus();
    assert!(cases.len() >= 80, "the corpus has {} cases", cases.len());
    let server = spawn_tests::server();

    // The template: the fixture, closed so it can be copied.
    let template_db = spawn_tests::TestDb::new("corpus_template").await;
    let fixture = std::fs::read_to_string(corpus_dir().join("fixture.sql")).expect("fixture");
    sqlx::raw_sql(&fixture)
        .execute(&template_db.pool)
        .await
        .expect("apply the fixture");
    template_db.close().await;
    let fingerprint = template::fingerprint(&[], "corpus");
    let connect = ConnectTarget::from_url(&server.url("postgres")).expect("target");
    template::adopt(&connect, &template_db.name, &fingerprint)
        .await
        .expect("mark the template");
    let mut admin = server.admin_connection().await;

    let activity: Vec<(i32, String, String, String, String)> = sqlx::query_as(
        "SELECT pid, coalesce(backend_type, ''), coalesce(application_name, ''), coalesce(state, ''), coalesce(query, '') FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(&template_db.name)
    .fetch_all(&mut admin)
    .await
    .expect("activity");
    println!("connected to the template: {activity:?}");
    // psql on a fresh copy per case.
    let limit = Arc::new(Semaphore::new(4));
    let mut tasks = Vec::new();
    for (i, (_, script)) in cases.iter().enumerate() {
        let limit = Arc::clone(&limit);
        let script = script.clone();
        let template = template_db.name.clone();
        let copy = format!("{}_psql{i}", template_db.name);
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            let server = spawn_tests::server();
            // The runner's own maintenance connection (the wire client: sqlx's executor
            // futures are not Send here), which also ends leftover sessions on the template.
            let connect = ConnectTarget::from_url(&server.url("postgres")).expect("target");
            let mut admin = runner::Admin::connect(&connect).await.expect("connect");
            admin
                .create_database(&copy, &template)
                .await
                .expect("copy the template");
            let url = server.url(&copy);
            let output =
                tokio::task::spawn_blocking(move || support::protocol_output(&url, &script))
                    .await
                    .expect("psql");
            admin.drop_database(&copy).await.expect("drop the copy");
            admin.close().await;
            output
        }));
    }
    let started = std::time::Instant::now();
    let mut expected = Vec::new();
    for task in tasks {
        expected.push(task.await.expect("psql task"));
    }
    println!("psql: {} cases in {:?}", cases.len(), started.elapsed());
    // The oracle really ran: no connection failure, and the corpus prints tables, errors
    // and notices.
    for ((name, _), output) in cases.iter().zip(&expected) {
        assert!(
            !output.starts_with("psql:"),
            "{name}: psql failed: {output}"
        );
    }
    let all = expected.concat();
    for needle in [
        "(1 row)",
        "ERROR:  ",
        "LINE 1: ",
        "NOTICE:  ",
        "-[ RECORD 1 ]",
        "HINT:  ",
    ] {
        assert!(all.contains(needle), "no psql output contains {needle:?}");
    }
    if std::env::var_os("SPAWN_CORPUS_PRINT").is_some() {
        for ((name, _), output) in cases.iter().zip(&expected) {
            println!("=== {name}\n{output}");
        }
    }

    let test_cases: Vec<TestCase> = cases
        .iter()
        .zip(&expected)
        .map(|((name, sql), expected)| TestCase {
            name: name.clone(),
            sql: sql.clone(),
            expected: Some(expected.clone()),
        })
        .collect();
    let mut failures = Vec::new();
    for own_database in [false, true] {
        let config = RunConfig {
            migrate_with: server.options("postgres"),
            connect: ConnectTarget::from_url(&server.url("postgres")).expect("target"),
            template: template_db.name.clone(),
            environment: "corpus".to_owned(),
            jobs: 2,
            keep_failed: false,
            always_own_database: own_database,
        };
        let started = std::time::Instant::now();
        let activity: Vec<(String, String)> = sqlx::query_as(
            "SELECT coalesce(datname, ''), coalesce(backend_type, '') FROM pg_stat_activity WHERE datname LIKE 't\\_corpus%'",
        )
        .fetch_all(&mut admin)
        .await
        .expect("activity");
        println!("connected to the template before the run: {activity:?}");
        let result = runner::run(
            &config,
            &Migrator::new(Vec::new()),
            &fingerprint,
            test_cases.clone(),
            |_| {},
            std::future::pending(),
        )
        .await;
        println!(
            "runner (own database forced: {own_database}): {:?}",
            started.elapsed()
        );
        let (outcomes, state) = result.expect("run the corpus");
        assert_eq!(state, runner::TemplateState::Reused);
        for outcome in outcomes {
            if outcome.passed != Some(true) {
                let expected = outcome.expected.as_deref().unwrap_or_default();
                failures.push(format!(
                    "{} ({:?}, own database forced: {own_database}):\n{}",
                    outcome.name,
                    outcome.isolation,
                    spawn_sqltest::report::unified_diff(&outcome.name, expected, &outcome.output)
                ));
            }
        }
    }
    // Nothing is left behind.
    let left: Vec<(String,)> = sqlx::query_as(
        "SELECT datname FROM pg_database WHERE datname LIKE 'spawn\\_test\\_%' AND datname NOT LIKE 'spawn\\_test\\_template\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("list databases");
    let _ = admin.close().await;
    assert!(
        failures.is_empty(),
        "{} of {} runs differ from psql:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
    assert!(left.is_empty(), "databases left behind: {left:?}");
}
