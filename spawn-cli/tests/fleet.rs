//! `spawn migration apply --fleet` and `status --fleet`: every database of a fleet target
//! (`fleet`, `fleet_file`, `fleet_query`) migrated in parallel; one unreachable database is
//! reported (exit 2) while the others are applied; a rerun resumes; no password is printed;
//! bad fleet definitions are errors naming where they come from.

use std::path::Path;

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// A database nobody listens for, with a password that must never be printed.
const UNREACHABLE: &str = "postgres://app:hunter2secret@127.0.0.1:1/nowhere?connect_timeout=5";
const MIGRATIONS: [&str; 3] = [
    "20250101000000-create-people",
    "20250102000000-seed-people",
    "20250103000000-people-name-index",
];

/// The fixture app with `section` appended to its spawn.toml.
fn fleet_project(section: &str) -> tempfile::TempDir {
    let p = project("app");
    let toml = p.path().join("spawn.toml");
    let mut text = std::fs::read_to_string(&toml).expect("read");
    text.push_str(section);
    std::fs::write(&toml, text).expect("write");
    p
}

fn run(dir: &Path, catalog: &TestDb, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir)
        .env("SPAWN_TEST_URL", &catalog.url)
        .args(args);
    c
}

async fn applied(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT m.name FROM _spawn.migration m JOIN _spawn.migration_history h \
         ON h.migration_id_migration = m.migration_id \
         WHERE h.status_id_status = 'SUCCESS' AND m.namespace = 'default' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn an_unreachable_database_is_reported_and_the_others_are_applied() {
    let a = TestDb::new("fleet_cli_a").await;
    let b = TestDb::new("fleet_cli_b").await;
    let p = fleet_project(&format!(
        "\n[targets.shards]\nenvironment = \"dev\"\nvariables = \"db/vars/dev.json\"\n\
         fleet = [\"{}\", \"{UNREACHABLE}\", \"{}\"]\n",
        a.url, b.url
    ));
    let root = p.path();
    let assert = run(
        root,
        &a,
        &["migration", "apply", "--fleet", "--target", "shards", "--yes"],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "postgres://app@127.0.0.1:1/nowhere: connecting the migrator's dedicated connection \
         to the target database `postgres://app@127.0.0.1:1/nowhere`: connection refused by \
         127.0.0.1:1 (nothing listens there)",
    ))
    .stderr(predicate::str::contains(
        "3 database(s) of target `shards` (environment dev): 2 applied, 0 up to date, 1 failed, 0 not started",
    ));
    let output = assert.get_output();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains("hunter2secret"), "{printed}");
    assert!(
        printed.contains(&format!(": applied {}", MIGRATIONS.join(", "))),
        "{printed}"
    );
    assert_eq!(applied(&a).await, MIGRATIONS);
    assert_eq!(applied(&b).await, MIGRATIONS);

    // --json: one entry per database, no password either.
    let output = run(
        root,
        &a,
        &[
            "migration",
            "apply",
            "--fleet",
            "--target",
            "shards",
            "--yes",
            "--json",
        ],
    )
    .output()
    .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("hunter2secret"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["up_to_date"], 2);
    assert_eq!(value["failed"], 1);
    assert_eq!(value["databases"][1]["state"], "failed");
    assert_eq!(
        value["databases"][1]["database"],
        "postgres://app@127.0.0.1:1/nowhere"
    );

    // The status table groups the fleet by state.
    run(
        root,
        &a,
        &[
            "migration",
            "status",
            "--fleet",
            "--target",
            "shards",
            "--exit-code",
        ],
    )
    .assert()
    .code(2)
    .stdout(predicate::str::contains("unreachable"))
    .stdout(predicate::str::contains("up to date"))
    .stdout(predicate::str::contains("hunter2secret").not());
}

#[tokio::test]
async fn a_fleet_file_and_a_fleet_query_name_the_databases_and_a_rerun_resumes() {
    let catalog = TestDb::new("fleet_cli_catalog").await;
    let a = TestDb::new("fleet_cli_file_a").await;
    let b = TestDb::new("fleet_cli_file_b").await;
    let p = fleet_project(
        "\n[targets.file]\nenvironment = \"dev\"\nvariables = \"db/vars/dev.json\"\n\
         fleet_file = \"shards.txt\"\n\
         \n[targets.query]\nenvironment = \"dev\"\nvariables = \"db/vars/dev.json\"\n\
         url = \"${SPAWN_TEST_URL}\"\nfleet_query = \"SELECT url FROM shards ORDER BY id\"\n",
    );
    let root = p.path();
    std::fs::write(
        root.join("shards.txt"),
        format!("# the shards\n{}\n\n", a.url),
    )
    .expect("write");
    run(
        root,
        &catalog,
        &["migration", "apply", "--fleet", "--target", "file", "--yes"],
    )
    .assert()
    .success();
    assert_eq!(applied(&a).await, MIGRATIONS);

    sqlx::raw_sql(&format!(
        "CREATE TABLE shards (id int PRIMARY KEY, url text NOT NULL); \
         INSERT INTO shards VALUES (1, '{}'), (2, '{}')",
        a.url, b.url
    ))
    .execute(&catalog.pool)
    .await
    .expect("catalog");
    run(
        root,
        &catalog,
        &[
            "migration",
            "apply",
            "--fleet",
            "--target",
            "query",
            "--yes",
            "-j",
            "1",
        ],
    )
    .assert()
    .success()
    .stdout(predicate::str::contains(format!(
        "/{}: applied {}",
        b.name,
        MIGRATIONS.join(", ")
    )))
    .stdout(predicate::str::contains(
        "1 applied, 1 up to date, 0 failed",
    ));
    assert_eq!(applied(&b).await, MIGRATIONS);
    run(
        root,
        &catalog,
        &[
            "migration",
            "status",
            "--fleet",
            "--target",
            "query",
            "--exit-code",
        ],
    )
    .assert()
    .success();
}

#[tokio::test]
async fn bad_fleet_definitions_name_where_they_come_from_and_apply_nothing() {
    let db = TestDb::new("fleet_cli_bad").await;
    let p = fleet_project(
        "\n[targets.none]\nenvironment = \"dev\"\n\
         \n[targets.both]\nenvironment = \"dev\"\nfleet = []\nfleet_file = \"x.txt\"\n\
         \n[targets.badfile]\nenvironment = \"dev\"\nfleet_file = \"shards.txt\"\n\
         \n[targets.twice]\nenvironment = \"dev\"\nfleet = [\"${SPAWN_TEST_URL}\", \"${SPAWN_TEST_URL}\"]\n",
    );
    let root = p.path();
    std::fs::write(root.join("shards.txt"), format!("{}\nnot a url\n", db.url)).expect("write");
    let toml = root.join("spawn.toml");
    let cases = [
        (
            "none",
            format!(
                "{}: [targets.none] names no fleet; add `fleet = [\"postgres://…\", …]`",
                toml.display()
            ),
        ),
        (
            "both",
            format!(
                "{}: [targets.both] has fleet and fleet_file; keep one of them",
                toml.display()
            ),
        ),
        (
            "badfile",
            format!("{}:2", root.join("shards.txt").display()),
        ),
        ("twice", "is named twice; each database once".to_owned()),
    ];
    for (target, message) in cases {
        run(
            root,
            &db,
            &["migration", "apply", "--fleet", "--target", target, "--yes"],
        )
        .assert()
        .code(1)
        .stderr(predicate::str::contains(message));
    }
    assert_eq!(applied(&db).await, Vec::<String>::new());
}
