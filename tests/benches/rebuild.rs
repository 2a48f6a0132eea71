//! The rebuild benchmark (issue 11): how long `cargo build` of an app embedding 1,000
//! migrations takes after (a) editing one migration's up.sql, compared with (b) after
//! `touch src/main.rs`, which recompiles the crate without rerunning its build script and
//! so is the floor for (a). A third figure, (c) after touching one up.sql without changing
//! it, reruns the build script but embeds the same set: (c) - (b) is what the build script
//! costs, (a) - (c) what compiling the changed embedded set costs. The goal is (a) ≤ 2 s,
//! i.e. (a) - (b) well under a second.
//!
//! ```text
//! cargo bench -p spawn-tests --bench rebuild               # 1,000 migrations, 5 rounds
//! cargo bench -p spawn-tests --bench rebuild -- 200 3      # <migrations> <rounds>
//!
//! # Before/after: the same app built against another checkout of spawn (e.g. the base of a
//! # branch), its rounds alternating with this checkout's in the same run.
//! git worktree add /tmp/spawn-base integ2
//! cargo bench -p spawn-tests --bench rebuild -- --base /tmp/spawn-base
//! git worktree remove /tmp/spawn-base
//! ```
//!
//! The app is generated in a temporary folder (two environments, a variables file, one
//! included component) and builds into the shared fixture target dir of the rebuild tests
//! (`target/rebuild-fixture`; delete it when done, it holds every app built). With `--base`,
//! a second identical app depends on the other checkout's spawn-build and spawn-runtime.
//! After a first build (which pins every migration, as debug builds do) and one warm-up
//! round, the rebuilds alternate (and with `--base`, the two apps alternate, in turns
//! switching which goes first), so drifting machine load affects all alike. Each round's
//! figures are printed side by side with (a) - (b), then the medians. Each figure is the
//! wall time and, in parentheses, the CPU time (user + system) of cargo and everything it
//! ran (Linux only): on a machine busy with other work the wall times wander by seconds,
//! the CPU times much less, so compare those when the wall times disagree.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use spawn_tests::app::App;

/// One app being measured: this checkout's, or the one built against `--base`.
struct Subject {
    label: &'static str,
    app: App,
    /// (a), (b), (c) of every measured round.
    times: [Vec<Time>; 3],
}

/// How long one build took.
#[derive(Debug, Clone, Copy)]
struct Time {
    wall: Duration,
    /// User + system time of cargo and the processes it waited for.
    cpu: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args
        .iter()
        .position(|a| a == "--base")
        .map(|i| PathBuf::from(args.get(i + 1).expect("--base <spawn checkout>")));
    let numbers: Vec<usize> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse().ok())
        .collect();
    let migrations = numbers.first().copied().unwrap_or(1000);
    let rounds = numbers.get(1).copied().unwrap_or(5).max(1);

    let this = spawn_tests::app::workspace();
    let mut subjects = vec![subject("this", migrations, &this)];
    if let Some(base) = &base {
        subjects.insert(0, subject("base", migrations, base));
    }
    let edited = format!("db/migrations/{}/up.sql", migration_name(migrations / 2));
    println!(
        "round  app  {:>CELL$}  {:>CELL$}  {:>CELL$}  (a) - (b)",
        "(a) edit one migration", "(b) touch src/main.rs", "(c) touch one up.sql",
    );
    for round in 0..=rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..subjects.len()).collect()
        } else {
            (0..subjects.len()).rev().collect()
        };
        for i in order {
            let s = &mut subjects[i];
            s.app.write(&edited, &up_sql(migrations / 2, round + 1));
            let a = timed(|| s.app.cargo_build());
            touch(&s.app.root().join("src/main.rs"));
            let b = timed(|| s.app.cargo_build());
            touch(&s.app.root().join(&edited));
            let c = timed(|| s.app.cargo_build());
            let warm_up = if round == 0 { "  (warm-up)" } else { "" };
            println!("{round:>5}  {}  {}{warm_up}", s.label, row(a, b, c));
            if round > 0 {
                for (times, t) in s.times.iter_mut().zip([a, b, c]) {
                    times.push(t);
                }
            }
        }
    }
    for s in &subjects {
        let [a, b, c] = s.times.each_ref().map(|t| median(t));
        println!("median {}  {}", s.label, row(a, b, c));
    }
    let edit = median(&subjects.last().expect("this checkout").times[0]);
    println!(
        "goal (a) <= 2 s: {} ({:.2?} wall, {:.2?} CPU)",
        if edit.wall <= Duration::from_secs(2) {
            "met"
        } else {
            "NOT met"
        },
        edit.wall,
        edit.cpu
    );
}

/// Generates the app built against the spawn checkout `workspace`, and builds it twice.
fn subject(label: &'static str, migrations: usize, workspace: &Path) -> Subject {
    println!(
        "{label}: {migrations} migrations x 2 environments, spawn-build from {}",
        workspace.join("spawn-build").display()
    );
    let app = generate(&format!("rebuild-bench-{label}-{migrations}"), migrations);
    if workspace != spawn_tests::app::workspace() {
        depend_on(
            &app,
            &format!("rebuild-bench-{label}-{migrations}"),
            workspace,
        );
    }
    let started = Instant::now();
    app.cargo_build();
    println!("{label}: first build: {:.2?}", started.elapsed());
    app.cargo_build(); // settles whatever the first build wrote (pins)
    Subject {
        label,
        app,
        times: Default::default(),
    }
}

/// Points the app named `name` at the spawn crates of the checkout `workspace`.
fn depend_on(app: &App, name: &str, workspace: &Path) {
    app.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nspawn-runtime = {{ path = {runtime:?} }}\n\n\
             [build-dependencies]\nspawn-build = {{ path = {build:?} }}\n\n[workspace]\n",
            runtime = workspace.join("spawn-runtime"),
            build = workspace.join("spawn-build"),
        ),
    );
}

/// The width of a figure's column.
const CELL: usize = 24;

/// One line of figures: (a), (b), (c) and (a) - (b).
fn row(a: Time, b: Time, c: Time) -> String {
    let cell = |t: Time| {
        let text = format!(
            "{:.2}s (cpu {:.2}s)",
            t.wall.as_secs_f64(),
            t.cpu.as_secs_f64()
        );
        format!("{text:>CELL$}")
    };
    let gap = |x: Duration, y: Duration| x.as_secs_f64() - y.as_secs_f64();
    format!(
        "{}  {}  {}  {:+.2}s (cpu {:+.2}s)",
        cell(a),
        cell(b),
        cell(c),
        gap(a.wall, b.wall),
        gap(a.cpu, b.cpu)
    )
}

/// The app: `migrations` migrations, each including a component, reading a variable and
/// branching on the environment.
fn generate(name: &str, migrations: usize) -> App {
    let app = App::new(name, "spawn_build::compile().unwrap()");
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

fn timed(f: impl FnOnce() -> String) -> Time {
    let cpu = children_cpu();
    let started = Instant::now();
    f();
    Time {
        wall: started.elapsed(),
        cpu: children_cpu().saturating_sub(cpu),
    }
}

/// User + system time of this process's finished children and their waited-for
/// descendants (`cutime` + `cstime` of `/proc/self/stat`); zero where there is no `/proc`.
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command name, which is in parentheses; the first is field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |field: usize| -> u64 {
        fields
            .get(field - 3)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0)
    };
    // Clock ticks are 1/100 s on every Linux this runs on (USER_HZ).
    Duration::from_millis((ticks(16) + ticks(17)) * 10)
}

/// Sets the file's modification time to now.
fn touch(path: &std::path::Path) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .unwrap_or_else(|e| panic!("touch {}: {e}", path.display()));
}

/// The median wall time and the median CPU time of `times`.
fn median(times: &[Time]) -> Time {
    let middle = |mut d: Vec<Duration>| {
        d.sort();
        d[d.len() / 2]
    };
    Time {
        wall: middle(times.iter().map(|t| t.wall).collect()),
        cpu: middle(times.iter().map(|t| t.cpu).collect()),
    }
}
