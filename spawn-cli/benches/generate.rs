//! `spawn migration generate` beside `spawn diff` on the same pair of schemas.
//!
//! The synthetic schema of spawn-schema's diff benchmark (N tables, default N = 2,000) is the
//! project's one migration (`a`) and, changed, the desired database (`b`). `spawn diff A B`
//! runs on a database loaded with `a`; `spawn migration generate --from-db B` builds `a` in a
//! scratch database from its cached template, plans, writes the migration and its
//! components, pins and re-checks. The template is built by a first run (its time is printed
//! apart); then, five times, diff runs, and generate runs twice: back to a (untimed), then
//! towards b again (timed, the pair diff compares). The best times are printed side by side
//! with their ratio (the goal: generate within 2× of diff). Beside them, what generate does
//! done by hand with diff: diff's SQL applied to a fresh database loaded with `a`, in one
//! transaction (the best diff plus the best apply), and generate's ratio to that.
//!
//! `SPAWN_BENCH_BASELINE=<another spawn binary>` times that binary's generate too, in the
//! same rounds, on a project of its own (its own template and model cache), to compare two
//! builds on the same data and load; `SPAWN_BENCH_LOG=1` prints what each generate wrote on
//! stderr (with `RUST_LOG=spawn=debug`: its phase timings).
//!
//!     cargo bench -p spawn-cli --bench generate
//!     SPAWN_BENCH_SIZES=100,2000 cargo bench -p spawn-cli --bench generate

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../../spawn-schema/benches/synthetic/mod.rs"]
mod synthetic;

const RUNS: usize = 5;

fn main() {
    let sizes: Vec<usize> = std::env::var("SPAWN_BENCH_SIZES")
        .unwrap_or_else(|_| "2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_spawn"));
    let baseline = std::env::var_os("SPAWN_BENCH_BASELINE").map(PathBuf::from);
    println!(
        "{:>6} {:>10} {:>13} {:>9} {:>17} {:>9} {:>15}{}",
        "N",
        "diff (s)",
        "generate (s)",
        "ratio",
        "diff+apply (s)",
        "ratio",
        "first run (s)",
        if baseline.is_some() {
            format!(" {:>13} {:>9}", "baseline (s)", "ratio")
        } else {
            String::new()
        }
    );
    for n in sizes {
        let (a, b) = (synthetic::generate(n, false), synthetic::generate(n, true));
        let (from, to, target) = runtime.block_on(async {
            let from = spawn_tests::TestDb::new(&format!("genbench_{n}_a")).await;
            let to = spawn_tests::TestDb::new(&format!("genbench_{n}_b")).await;
            let target = spawn_tests::TestDb::new(&format!("genbench_{n}_t")).await;
            for (db, sql) in [(&from, &a), (&to, &b)] {
                sqlx::raw_sql(sql).execute(&db.pool).await.expect("load");
                sqlx::raw_sql("VACUUM ANALYZE")
                    .execute(&db.pool)
                    .await
                    .expect("analyze");
            }
            (from, to, target)
        });
        // Each binary has a project (so a template and a model cache) of its own.
        let project = tempfile::tempdir().expect("tempdir");
        let baseline_project = tempfile::tempdir().expect("tempdir");
        for dir in [project.path(), baseline_project.path()] {
            write_project(dir, &target.url, &a);
            spawn(&ours, dir, &["migration", "pin", "--all"], 0);
        }
        // Each run generates the next migration of its project, towards b or back to a: the
        // steady state of a project, whose cached template follows its migrations. Only the
        // runs towards b are timed (the pair `spawn diff` compares); the run back to a before
        // each is not (it re-creates an enum, rewriting most tables: a different workload).
        let generate = |bin: &Path, project: &Path, run: &mut usize, towards: &str| {
            *run += 1;
            // Zero-padded: two runs within one second get the same timestamp, and their
            // names must still sort in the order they were made.
            let name = format!("bench{run:03}");
            spawn(
                bin,
                project,
                &[
                    "migration",
                    "generate",
                    &name,
                    "--from-db",
                    towards,
                    "--unsafe",
                ],
                0,
            );
        };
        let (mut ours_runs, mut baseline_runs) = (0, 0);
        let first = timed(|| generate(&ours, project.path(), &mut ours_runs, &to.url));
        if let Some(bin) = &baseline {
            generate(bin, baseline_project.path(), &mut baseline_runs, &to.url);
        }
        let (mut diffs, mut generates, mut baselines) = (Vec::new(), Vec::new(), Vec::new());
        let mut applies = Vec::new();
        for round in 0..RUNS {
            let mut sql = String::new();
            diffs.push(timed(|| {
                sql = spawn(
                    &ours,
                    project.path(),
                    &[
                        "diff",
                        &from.url,
                        &to.url,
                        "--unsafe",
                        "--exclude-schema",
                        "_spawn",
                    ],
                    2,
                )
            }));
            // What generate does beside a diff, by hand: diff's SQL applied to a fresh database
            // loaded with a, in one transaction sent as one batch (as a migration is).
            applies.push(runtime.block_on(async {
                let copy = spawn_tests::TestDb::new("genbench_apply").await;
                sqlx::raw_sql(&a).execute(&copy.pool).await.expect("load a");
                let started = Instant::now();
                let mut tx = copy.pool.begin().await.expect("begin");
                sqlx::raw_sql(&sql)
                    .execute(&mut *tx)
                    .await
                    .expect("apply diff's SQL");
                tx.commit().await.expect("commit");
                let took = started.elapsed();
                copy.close().await;
                let admin = spawn_tests::server().admin_options();
                spawn_runtime::testing::drop_database(admin, &copy.name)
                    .await
                    .expect("drop the copy");
                took
            }));
            // Back to a (untimed), then a → b (timed).
            let mut ours_round = || {
                generate(&ours, project.path(), &mut ours_runs, &from.url);
                generates.push(timed(|| {
                    generate(&ours, project.path(), &mut ours_runs, &to.url)
                }));
            };
            // With a baseline, the two binaries take turns to go first.
            let ours_first = round % 2 == 0;
            if ours_first {
                ours_round();
            }
            if let Some(bin) = &baseline {
                generate(bin, baseline_project.path(), &mut baseline_runs, &from.url);
                baselines.push(timed(|| {
                    generate(bin, baseline_project.path(), &mut baseline_runs, &to.url)
                }));
            }
            if !ours_first {
                ours_round();
            }
        }
        let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
        let (d, g, b) = (best(&diffs), best(&generates), best(&baselines));
        let by_hand = d + best(&applies);
        println!(
            "{n:>6} {:>10.3} {:>13.3} {:>8.2}x {:>17.3} {:>8.2}x {:>15.3}{}",
            d.as_secs_f64(),
            g.as_secs_f64(),
            g.as_secs_f64() / d.as_secs_f64(),
            by_hand.as_secs_f64(),
            g.as_secs_f64() / by_hand.as_secs_f64(),
            first.as_secs_f64(),
            if baseline.is_some() {
                format!(
                    " {:>13.3} {:>8.2}x",
                    b.as_secs_f64(),
                    b.as_secs_f64() / d.as_secs_f64()
                )
            } else {
                String::new()
            }
        );
    }
    println!(
        "(best of {RUNS} rounds, a -> b each time; generate = read the cached template's model, \
         plan, write, pin and re-check on the template; diff+apply = the best diff plus the best \
         apply of its SQL to a fresh database loaded with a, in one transaction; first run = the \
         same plus building the template)"
    );
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn write_project(dir: &Path, url: &str, a: &str) {
    std::fs::write(
        dir.join("spawn.toml"),
        format!("spawn_folder = \"db\"\ntarget = \"t\"\n\n[targets.t]\nenvironment = \"dev\"\nurl = \"{url}\"\n"),
    )
    .expect("spawn.toml");
    std::fs::create_dir_all(dir.join("db/components")).expect("components");
    let m = dir.join("db/migrations/20250101000000-base");
    std::fs::create_dir_all(&m).expect("migration");
    std::fs::write(m.join("up.sql"), format!("{{% raw %}}{a}{{% endraw %}}\n")).expect("up.sql");
}

/// Runs `bin` with `args` in `dir`, expecting exit code `expect`; its standard output.
fn spawn(bin: &Path, dir: &Path, args: &[&str], expect: i32) -> String {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run spawn");
    assert_eq!(
        out.status.code(),
        Some(expect),
        "spawn {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if std::env::var_os("SPAWN_BENCH_LOG").is_some() {
        eprintln!(
            "{} {}:\n{}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}
