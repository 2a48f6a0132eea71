//! Draft migrations (`-- spawn:draft`, `spawn migration new --draft`): rendered and checked,
//! but never pinned, applied or embedded; `spawn check --no-drafts` fails while one exists;
//! `spawn migration ready <m>` removes the mark and pins it, and the next `apply` applies it.
//! The refusals name the migration and change nothing.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use spawn_tests::TestDb;

mod common;
use common::{project, spawn};

/// `spawn <args>` in `dir` (against `url`, when given).
fn run(dir: &Path, url: Option<&str>, args: &[&str]) -> assert_cmd::Command {
    let mut c = spawn();
    c.current_dir(dir).args(args);
    if let Some(url) = url {
        c.env("SPAWN_TEST_URL", url);
    }
    c
}

/// The one draft migration folder of the project in `dir`.
fn draft_folder(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("db/migrations"))
        .expect("migrations")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with("-add-notes"))
        })
        .expect("the draft's folder")
}

async fn has_table(db: &TestDb, table: &str) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(&db.pool)
        .await
        .expect("to_regclass")
}

#[tokio::test]
async fn a_draft_is_checked_but_never_pinned_or_applied_until_ready() {
    let db = TestDb::new("cli_drafts").await;
    let p = project("app");
    let dir = p.path();
    run(dir, None, &["migration", "new", "--draft", "add-notes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("It is a draft"));
    let folder = draft_folder(dir);
    let name = folder
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let up = folder.join("up.sql");
    let text = std::fs::read_to_string(&up).expect("up.sql");
    assert!(text.starts_with("-- spawn:draft\n"), "{text}");
    std::fs::write(
        &up,
        format!("{text}CREATE TABLE notes (id int, body text);\n"),
    )
    .expect("write");

    // Checked (no pin needed), and noted; CI's --no-drafts fails on it.
    run(dir, None, &["check"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("{name} is a draft")));
    run(dir, None, &["check", "--no-drafts"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "1 migration is a draft, and `--no-drafts` allows none: {name}. Drafts are never \
             applied or embedded; finish each and run `spawn migration ready <name>`, or remove \
             its folder"
        )));
    // Never pinned: refused by name, skipped by --all.
    run(dir, None, &["migration", "pin", &name])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migration {name} is a draft (`-- spawn:draft` at the top of its up.sql): it is \
             rendered and checked, but never pinned, applied or embedded; when it is done, run \
             `spawn migration ready {name}` (removes the mark and pins it)"
        )));
    run(dir, None, &["migration", "pin", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "every migration is pinned already",
        ));
    assert!(!folder.join("lock.toml").exists());
    // A draft's problems are found like any migration's.
    std::fs::write(&up, "-- spawn:draft\n{% include \"nope.sql\" %}\n").expect("write");
    run(dir, None, &["check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope.sql"));
    // ... and `ready` refuses it, leaving it a draft.
    run(dir, None, &["migration", "ready", &name])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{name} stays a draft: its up.sql is as it was and nothing was pinned"
        )));
    assert_eq!(
        std::fs::read_to_string(&up).expect("up.sql"),
        "-- spawn:draft\n{% include \"nope.sql\" %}\n"
    );
    assert!(!folder.join("lock.toml").exists());
    std::fs::write(
        &up,
        "-- spawn:draft\nCREATE TABLE notes (id int, body text);\n",
    )
    .expect("w");

    // Never applied, not even when named.
    run(dir, Some(&db.url), &["migration", "apply", "--yes", &name])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(format!(
                "migration {name} is a draft (`-- spawn:draft` at the top of its up.sql)"
            ))
            .and(predicate::str::contains("; nothing was applied")),
        );
    run(dir, Some(&db.url), &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 3 migration(s)"));
    assert!(!has_table(&db, "notes").await);
    run(dir, Some(&db.url), &["migration", "status"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "{name} is a draft: never applied (`spawn migration ready {name}` when it is done)"
        )));
    run(dir, Some(&db.url), &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to apply"));

    // Ready: the mark goes, it is pinned, and it applies.
    run(dir, None, &["migration", "ready", &name])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{name} is ready")));
    assert_eq!(
        std::fs::read_to_string(&up).expect("up.sql"),
        "CREATE TABLE notes (id int, body text);\n"
    );
    assert!(folder.join("lock.toml").is_file());
    run(dir, None, &["check", "--no-drafts"]).assert().success();
    run(dir, Some(&db.url), &["migration", "apply", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 1 migration(s)"));
    assert!(has_table(&db, "notes").await);
    run(dir, None, &["migration", "ready", &name])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "migration {name} is not a draft (no `-- spawn:draft` line at the top of"
        )));
}
