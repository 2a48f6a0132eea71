//! Original-style `command = { kind = "provider", … }` targets: the provider command prints
//! the psql command line (after e.g. fetching credentials), `append` adds to it, and the
//! connection settings are read from the result. Also the provider's failures.

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// A copy of the original-style fixture project whose default target's `command` is `command`.
fn original_project(command: &str) -> tempfile::TempDir {
    let dir = project("original");
    let toml_path = dir.path().join("spawn.toml");
    let toml = std::fs::read_to_string(&toml_path).expect("read spawn.toml");
    let direct = r#"command = { kind = "direct", direct = ["docker", "exec", "-i", "postgres-db", "psql", "-U", "postgres", "postgres"] }"#;
    assert!(toml.contains(direct), "the fixture's command changed");
    std::fs::write(
        &toml_path,
        toml.replace(direct, command)
            .replace("spawn_database = \"postgres\"\n", ""),
    )
    .expect("write");
    dir
}

fn toml_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

async fn applied_count(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM _spawn.migration_history WHERE status_id_status = 'SUCCESS'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap_or(0)
}

#[tokio::test]
async fn a_provider_command_supplies_the_psql_arguments() {
    let db = TestDb::new("cli_provider").await;
    let options = spawn_tests::server().options(&db.name);
    let (host, port, user) = (
        options.get_host().to_owned(),
        options.get_port().to_string(),
        options.get_username().to_owned(),
    );
    // The provider prints everything but the database name; `append` adds it.
    let script = format!("echo psql -h '{host}' -p {port} -U {user}");
    let command = format!(
        r#"command = {{ kind = "provider", provider = {}, append = {} }}"#,
        toml_array(&["sh", "-c", &script]),
        toml_array(&[&db.name])
    );
    let p = original_project(&command);
    spawn()
        .current_dir(p.path())
        .args(["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 3"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM variety")
        .fetch_one(&db.pool)
        .await
        .expect("seeded");
    assert_eq!(count, 3);
    spawn()
        .current_dir(p.path())
        .args(["migration", "status", "--exit-code"])
        .assert()
        .success();
}

#[tokio::test]
async fn a_failing_provider_is_reported_and_nothing_is_applied() {
    let db = TestDb::new("cli_provider_fails").await;
    let options = spawn_tests::server().options(&db.name);
    // Prints a usable command line but exits non-zero: the command line must not be used.
    let script = format!(
        "echo psql -h '{}' -p {} -U {} {}; echo 'vault: permission denied' >&2; exit 3",
        options.get_host(),
        options.get_port(),
        options.get_username(),
        db.name
    );
    let failing = format!(
        r#"command = {{ kind = "provider", provider = {} }}"#,
        toml_array(&["sh", "-c", &script])
    );
    let cases: [(&str, &[&str]); 3] = [
        // Exits non-zero: its stderr is shown.
        (
            &failing,
            &[
                "the provider command `sh` failed",
                "vault: permission denied",
            ],
        ),
        // Not on the machine.
        (
            r#"command = { kind = "provider", provider = ["spawn-no-such-provider"] }"#,
            &["running the provider command `spawn-no-such-provider`"],
        ),
        // An unknown kind.
        (
            r#"command = { kind = "docker", docker = ["x"] }"#,
            &["unknown command kind", "\"direct\" or \"provider\""],
        ),
    ];
    for (command, expected) in cases {
        let p = original_project(command);
        let mut assert = spawn()
            .current_dir(p.path())
            .args(["migration", "apply", "--yes"])
            .assert()
            .code(1);
        for text in expected {
            assert = assert.stderr(predicate::str::contains(*text));
        }
        assert.stderr(predicate::str::contains("spawn.toml"));
        assert_eq!(
            applied_count(&db).await,
            0,
            "{command}: something was applied"
        );
    }
}
