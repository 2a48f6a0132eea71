//! The `spawn test` benchmark (issue 13): 200 small generated tests (a few queries each,
//! some ending in an error, some with their own transaction control), run
//!
//! (a) through `psql`, one process per test, one after another, against one shared
//!     database: the original spawn's way;
//! (b) by spawn's runner, each test isolated, in parallel (`--jobs` = cores);
//! (c) the floor: the same 200 bodies sent over one connection, one query message each,
//!     no isolation and no printing.
//!
//! The rounds alternate (a), (b), (c) so that drifting machine load affects all alike; each
//! round prints its figures side by side, then the medians and the goals: (b) ≥ 10× faster
//! than (a), and (b) within 1.5× of (c).
//!
//! ```text
//! cargo bench -p spawn-sqltest --bench sqltest            # 200 tests, 3 rounds
//! cargo bench -p spawn-sqltest --bench sqltest -- 500 5   # <tests> <rounds>
//! ```

use std::time::{Duration, Instant};

use spawn_runtime::Migrator;
use spawn_sqltest::runner::{self, template, RunConfig, TestCase};
use spawn_sqltest::wire::{ConnectTarget, Connection};

#[path = "../tests/support/psql.rs"]
mod support;

const FIXTURE: &str =
    "CREATE TABLE item (id serial PRIMARY KEY, label text NOT NULL, qty int NOT NULL DEFAULT 0);
INSERT INTO item (label, qty) SELECT 'item ' || g, g FROM generate_series(1, 50) g;
CREATE FUNCTION total() RETURNS bigint LANGUAGE sql AS 'SELECT sum(qty) FROM item';";

/// Test `k`'s body.
fn body(k: usize) -> String {
    let mut sql = format!(
        "SELECT id, label, qty FROM item WHERE id BETWEEN {a} AND {b} ORDER BY id;\n\
         INSERT INTO item (label, qty) VALUES ('new {k}', {k}) RETURNING id;\n\
         UPDATE item SET qty = qty + 1 WHERE id = {a};\n\
         SELECT total() AS total;\n",
        a = k % 40 + 1,
        b = k % 40 + 4,
    );
    if matches!(k % 7, 0) {
        sql.push_str("BEGIN;\nDELETE FROM item WHERE id = 1;\nROLLBACK;\n");
    }
    if matches!(k % 10, 0) {
        sql.push_str("SELECT 1 / 0;\nSELECT 'not reached';\n");
    }
    sql
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = numbers.first().copied().unwrap_or(200);
    let rounds = numbers.get(1).copied().unwrap_or(3).max(1);
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server = spawn_tests::server();

    let template_db = spawn_tests::TestDb::new("bench_template").await;
    sqlx::raw_sql(FIXTURE)
        .execute(&template_db.pool)
        .await
        .expect("fixture");
    template_db.close().await;
    let fingerprint = template::fingerprint(&[], "bench");
    let connect = ConnectTarget::from_url(&server.url("postgres")).expect("target");
    template::adopt(&connect, &template_db.name, &fingerprint)
        .await
        .expect("mark the template");
    let admin = server.admin_connection().await;
    let shared = spawn_tests::TestDb::from_template("bench_shared", &template_db.name).await;
    shared.close().await;

    let bodies: Vec<String> = (0..count).map(body).collect();
    let cases: Vec<TestCase> = bodies
        .iter()
        .enumerate()
        .map(|(k, sql)| TestCase {
            name: format!("t{k:04}"),
            sql: sql.clone(),
            expected: None,
        })
        .collect();
    let config = RunConfig {
        migrate_with: server.options("postgres"),
        connect: ConnectTarget::from_url(&server.url("postgres")).expect("target"),
        template: template_db.name.clone(),
        environment: "bench".to_owned(),
        jobs,
        keep_failed: false,
        always_own_database: false,
    };
    let migrator = Migrator::new(Vec::new());
    let shared_url = server.url(&shared.name);

    println!("{count} tests, {jobs} jobs");
    println!(
        "round  {:>28}  {:>28}  {:>22}  (a)/(b)  (b)/(c)",
        "(a) psql, a process per test", "(b) spawn test, isolated", "(c) one connection"
    );
    let mut times: [Vec<Duration>; 3] = Default::default();
    for round in 0..=rounds {
        let started = Instant::now();
        for body in &bodies {
            let (url, body) = (shared_url.clone(), body.clone());
            tokio::task::spawn_blocking(move || support::protocol_output(&url, &body))
                .await
                .expect("psql");
        }
        let a = started.elapsed();

        let started = Instant::now();
        let (outcomes, _) = runner::run(
            &config,
            &migrator,
            &fingerprint,
            cases.clone(),
            |_| {},
            std::future::pending(),
        )
        .await
        .expect("spawn test run");
        let b = started.elapsed();
        assert_eq!(outcomes.len(), count);

        let started = Instant::now();
        let mut conn = Connection::connect(&ConnectTarget::from_url(&shared_url).expect("url"))
            .await
            .expect("connect");
        for body in &bodies {
            conn.simple_query(body).await.expect("floor query");
        }
        let _ = conn.close().await;
        let c = started.elapsed();

        let label = if round == 0 {
            "(warm-up)".to_owned()
        } else {
            for (slot, t) in times.iter_mut().zip([a, b, c]) {
                slot.push(t);
            }
            String::new()
        };
        println!(
            "{round:>5}  {:>27.3}s  {:>27.3}s  {:>21.3}s  {:>6.1}x  {:>6.2}x  {label}",
            a.as_secs_f64(),
            b.as_secs_f64(),
            c.as_secs_f64(),
            a.as_secs_f64() / b.as_secs_f64(),
            b.as_secs_f64() / c.as_secs_f64(),
        );
    }
    let [a, b, c] = times.map(median);
    println!(
        "median {:>27.3}s  {:>27.3}s  {:>21.3}s  {:>6.1}x  {:>6.2}x",
        a.as_secs_f64(),
        b.as_secs_f64(),
        c.as_secs_f64(),
        a.as_secs_f64() / b.as_secs_f64(),
        b.as_secs_f64() / c.as_secs_f64(),
    );
    let speedup = a.as_secs_f64() / b.as_secs_f64();
    let over_floor = b.as_secs_f64() / c.as_secs_f64();
    println!(
        "goal (b) >= 10x faster than (a): {} ({speedup:.1}x); goal (b) within 1.5x of (c): {} ({over_floor:.2}x)",
        if speedup >= 10.0 { "met" } else { "NOT met" },
        if over_floor <= 1.5 { "met" } else { "NOT met" },
    );
    let _ = sqlx::Connection::close(admin).await;
}
