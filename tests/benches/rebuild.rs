//! The rebuild benchmark (issue 11): how long `cargo build` of an app embedding 1,000
//! migrations takes after (a) editing one migration's up.sql, compared with (b) after
//! `touch src/main.rs`, which recompiles the crate without rerunning its build script and
//! so is the floor for (a). A third figure, (c) after touching one up.sql without changing
//! it, reruns the build script but embeds the same set: (c) - (b) is what the build script
//! costs, (a) - (c) what compiling the changed embedded set costs.
//!
//! ```text
//! cargo bench -p spawn-tests --bench rebuild               # 1,000 migrations, 5 rounds
//! cargo bench -p spawn-tests --bench rebuild -- 200 3      # <migrations> <rounds>
//! ```
//!
//! The app is generated in a temporary folder (two environments, a variables file, one
//! included component) and builds into the shared fixture target dir of the rebuild tests.
//! After a first build (which pins every migration, as debug builds do) and one warm-up
//! round, the two rebuilds alternate, so drifting machine load affects both alike; each
//! round's figures are printed side by side, then the medians.

use std::time::{Duration, Instant};

use spawn_tests::app::App;

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse().ok())
        .collect();
    let migrations = numbers.first().copied().unwrap_or(1000);
    let rounds = numbers.get(1).copied().unwrap_or(5).max(1);

    println!(
        "app: {migrations} migrations x 2 environments, spawn-build from {}",
        spawn_tests::app::workspace().join("spawn-build").display()
    );
    let app = generate(migrations);
    let started = Instant::now();
    app.cargo_build();
    println!(
        "first build of {migrations} migrations x 2 environments: {:.2?}",
        started.elapsed()
    );
    app.cargo_build(); // settles whatever the first build wrote (pins)

    let edited = format!("db/migrations/{}/up.sql", migration_name(migrations / 2));
    let mut edit_times = Vec::new();
    let mut touch_times = Vec::new();
    let mut rerun_times = Vec::new();
    println!("round  (a) edit one migration  (b) touch src/main.rs  (c) touch one up.sql");
    for round in 0..=rounds {
        app.write(&edited, &up_sql(migrations / 2, round + 1));
        let a = timed(|| app.cargo_build());
        touch(&app.root().join("src/main.rs"));
        let b = timed(|| app.cargo_build());
        touch(&app.root().join(&edited));
        let c = timed(|| app.cargo_build());
        if round == 0 {
            println!("{:>5}  {a:>22.2?}  {b:>21.2?}  {c:>19.2?}  (warm-up)", "0");
            continue;
        }
        println!("{round:>5}  {a:>22.2?}  {b:>21.2?}  {c:>19.2?}");
        edit_times.push(a);
        touch_times.push(b);
        rerun_times.push(c);
    }
    println!(
        "median {:>22.2?}  {:>21.2?}  {:>19.2?}",
        median(&mut edit_times),
        median(&mut touch_times),
        median(&mut rerun_times)
    );
}

/// The app: `migrations` migrations, each including a component, reading a variable and
/// branching on the environment.
fn generate(migrations: usize) -> App {
    let app = App::new(
        &format!("rebuild-bench-{migrations}"),
        "spawn_build::compile().unwrap()",
    );
    app.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.json\"\ntarget = \"dev\"\n\n\
         [targets.dev]\nenvironment = \"dev\"\n\n[targets.prod]\nenvironment = \"prod\"\n",
    );
    app.write("vars.json", r#"{"owner": "app_owner"}"#);
    app.write(
        "db/components/columns.sql",
        "created_at timestamptz NOT NULL DEFAULT now(),\n  updated_at timestamptz\n",
    );
    for i in 0..migrations {
        app.write(
            &format!("db/migrations/{}/up.sql", migration_name(i)),
            &up_sql(i, 0),
        );
    }
    app
}

fn migration_name(i: usize) -> String {
    format!("2025{i:010}-table-{i}")
}

fn up_sql(i: usize, revision: usize) -> String {
    format!(
        "-- revision {revision}\n\
         CREATE TABLE t_{i} (\n  id bigint PRIMARY KEY,\n  {{% include \"columns.sql\" %}}\n);\n\
         ALTER TABLE t_{i} OWNER TO {{{{ variables.owner | escape_identifier }}}};\n\
         {{% if env == \"dev\" %}}INSERT INTO t_{i} (id) VALUES (1);\n{{% endif %}}"
    )
}

fn timed(f: impl FnOnce() -> String) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

/// Sets the file's modification time to now.
fn touch(path: &std::path::Path) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .unwrap_or_else(|e| panic!("touch {}: {e}", path.display()));
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
