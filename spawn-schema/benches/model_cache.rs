//! The model cache: what inspecting a database costs beside encoding its model
//! ([`Schema::encode`]) and reading it back ([`Schema::decode`]), and the size of the bytes.
//!
//!     cargo bench -p spawn-schema --bench model_cache
//!     SPAWN_BENCH_URL=postgres://… cargo bench -p spawn-schema --bench model_cache
//!
//! With `SPAWN_BENCH_URL` the database it names is inspected (read only); otherwise the
//! synthetic schema of the `diff` bench (`SPAWN_BENCH_N` tables, default 2,000) is loaded into a
//! throwaway database first. Each step runs five times; the best time is printed. The planner
//! is also timed on the inspected and on the decoded model (each against the inspected one),
//! which should take as long: the decoded model shares its identities as an inspected one.

use std::time::{Duration, Instant};

use spawn_schema::{inspect, Options, Schema};
use sqlx::postgres::PgPoolOptions;

mod synthetic;

const RUNS: usize = 5;

fn main() {
    grow_heap_like_spawn();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let options = Options::default();
    let (mut schemas, inspect_time) = runtime.block_on(async {
        let (pool, _db) = match std::env::var("SPAWN_BENCH_URL") {
            Ok(url) => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
                (pool, None)
            }
            Err(_) => {
                let n: usize = std::env::var("SPAWN_BENCH_N")
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(2000);
                let db = spawn_tests::TestDb::new(&format!("cache_bench_{n}")).await;
                sqlx::raw_sql(&synthetic::generate(n, false))
                    .execute(&db.pool)
                    .await
                    .expect("load the synthetic schema");
                sqlx::raw_sql("VACUUM ANALYZE")
                    .execute(&db.pool)
                    .await
                    .expect("vacuum analyze");
                (db.pool.clone(), Some(db))
            }
        };
        let mut schemas = Vec::new();
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let inspected = inspect(&pool, &options).await.expect("inspect");
            times.push(started.elapsed());
            // The last two are kept: one to encode, one to plan against.
            schemas.push(inspected);
            if schemas.len() > 2 {
                schemas.remove(0);
            }
        }
        pool.close().await;
        (schemas, best(&times))
    });
    let (Some(schema), Some(other)) = (schemas.pop(), schemas.pop()) else {
        panic!("two inspections");
    };

    let mut bytes = Vec::new();
    let encode_time = best(&timed(|| bytes = schema.encode()));
    let mut decoded = None;
    let mut decode_times = Vec::new();
    for _ in 0..RUNS {
        // The previous run's model is freed outside the timing.
        drop(decoded.take());
        let started = Instant::now();
        let model = Schema::decode(&bytes).expect("decode");
        decode_times.push(started.elapsed());
        decoded = Some(model);
    }
    let decode_time = best(&decode_times);
    let decoded = decoded.expect("decoded");
    assert!(decoded == schema, "the decoded model differs");
    let plan_inspected = best(&timed(|| assert!(other.plan(&schema, &options).is_empty())));
    let plan_decoded = best(&timed(|| {
        assert!(decoded.plan(&schema, &options).is_empty())
    }));

    println!(
        "objects {}, dependencies {}",
        schema.objects.len(),
        schema.dependencies.len()
    );
    println!("inspect  {:>9.2} ms", ms(inspect_time));
    println!("encode   {:>9.2} ms", ms(encode_time));
    println!("decode   {:>9.2} ms", ms(decode_time));
    println!(
        "bytes    {:>9} ({:.2} MiB)",
        bytes.len(),
        bytes.len() as f64 / (1 << 20) as f64
    );
    println!(
        "plan, inspected vs another inspection {:>9.2} ms",
        ms(plan_inspected)
    );
    println!(
        "plan, decoded vs an inspection         {:>9.2} ms",
        ms(plan_decoded)
    );
    println!("(best of {RUNS} runs each)");
}

fn timed(mut f: impl FnMut()) -> Vec<Duration> {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect()
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Grows the C heap in 64 MiB steps (`M_TOP_PAD`), as the `spawn` binary does first thing (see
/// the `diff` bench), so that allocation costs what it costs in `spawn`.
fn grow_heap_like_spawn() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tunable of the allocator; any value is accepted.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}
