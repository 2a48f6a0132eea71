//! `spawn watch`, driven by file changes from the test: a new migration is applied; an edit
//! of an applied unpinned migration rolls it back with the down.sql of the applied version
//! and applies it again; one without down.sql makes watch rebuild the database from the
//! pinned migrations (`--rebuild`); a broken template is reported and watch goes on; the
//! tests re-run after each change. Each change is made with one rename, so it is one event.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use spawn_tests::TestDb;

mod common;
use common::{project, spawn_process};

/// A safety net against a watch that never answers (not a timing assertion: a healthy run
/// answers in well under a second).
const HANG: Duration = Duration::from_secs(180);

struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(root: &Path, db: &TestDb) -> Self {
        let mut command = spawn_process();
        command
            .current_dir(root)
            .env("SPAWN_TEST_URL", &db.url)
            .args(["watch", "--rebuild"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn watch");
        let (send, lines) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self { child, lines }
    }

    /// Everything printed up to the next "watching" line: one change's report.
    fn report(&self) -> String {
        let mut text = String::new();
        loop {
            match self.lines.recv_timeout(HANG) {
                Ok(line) => {
                    let done = line.starts_with("── watching");
                    text.push_str(&line);
                    text.push('\n');
                    if done {
                        return text;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("watch did not answer:\n{text}"),
                Err(RecvTimeoutError::Disconnected) => panic!("watch ended:\n{text}"),
            }
        }
    }

    fn stop(mut self) -> String {
        // Ctrl-C, as a terminal sends it.
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let status = self.child.wait().expect("wait");
        let rest: Vec<String> = self.lines.try_iter().collect();
        assert!(status.success(), "{status:?}: {rest:?}");
        rest.join("\n")
    }
}

/// Writes `files` into a new folder beside the project, then renames it to `folder` (or
/// over each file): one filesystem event per change.
fn put_folder(root: &Path, folder: &str, files: &[(&str, &str)]) {
    let staging = root.join(".staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    for (name, text) in files {
        std::fs::write(staging.join(name), text).expect("write");
    }
    std::fs::rename(&staging, root.join(folder)).expect("rename");
}

fn replace_file(root: &Path, file: &str, text: &str) {
    let staging = root.join(".staging-file");
    std::fs::write(&staging, text).expect("write");
    std::fs::rename(&staging, root.join(file)).expect("rename");
}

async fn column_type(db: &TestDb, column: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT data_type::text FROM information_schema.columns \
         WHERE table_name = 'people' AND column_name = $1",
    )
    .bind(column)
    .fetch_optional(&db.pool)
    .await
    .expect("query")
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_follows_every_change_and_survives_errors() {
    let db = TestDb::new("watch").await;
    let p = project("app");
    let root = p.path();
    std::fs::create_dir_all(root.join("db/tests/one")).expect("mkdir");
    std::fs::write(root.join("db/tests/one/test.sql"), "SELECT 1 AS one;\n").expect("test");
    std::fs::write(
        root.join("db/tests/one/expected"),
        " one \n-----\n   1\n(1 row)\n\n",
    )
    .expect("expected");
    let watch = Watch::start(root, &db);
    let first = watch.report();
    assert!(
        first.contains("render: ok, 3 migration(s), 0 unpinned"),
        "{first}"
    );
    assert!(
        first.contains("database: applied 20250101000000-create-people"),
        "{first}"
    );
    assert!(first.contains("1 passed, 0 failed"), "{first}");

    // A new migration with a down.sql.
    put_folder(
        root,
        "db/migrations/20250104000000-age",
        &[
            ("up.sql", "ALTER TABLE people ADD COLUMN age int;\n"),
            ("down.sql", "ALTER TABLE people DROP COLUMN age;\n"),
        ],
    );
    let report = watch.report();
    assert!(
        report.contains("database: applied 20250104000000-age"),
        "{report}"
    );
    assert_eq!(column_type(&db, "age").await.as_deref(), Some("integer"));

    // Edited: rolled back with the applied version's down.sql, applied again.
    replace_file(
        root,
        "db/migrations/20250104000000-age/up.sql",
        "ALTER TABLE people ADD COLUMN age bigint;\n",
    );
    let report = watch.report();
    assert!(
        report.contains(
            "database: rolled back 20250104000000-age with the down.sql of the version applied"
        ),
        "{report}"
    );
    assert!(
        report.contains("database: applied 20250104000000-age"),
        "{report}"
    );
    assert_eq!(column_type(&db, "age").await.as_deref(), Some("bigint"));

    // A broken template: reported, the database untouched, watch goes on.
    replace_file(
        root,
        "db/migrations/20250104000000-age/up.sql",
        "ALTER TABLE people ADD COLUMN age {{ nope( }};\n",
    );
    let report = watch.report();
    assert!(report.contains("error: render:"), "{report}");
    assert!(report.contains("20250104000000-age"), "{report}");
    assert!(report.contains("tests: not run"), "{report}");
    assert_eq!(column_type(&db, "age").await.as_deref(), Some("bigint"));

    // A migration without down.sql, applied, then edited: the database is rebuilt.
    replace_file(
        root,
        "db/migrations/20250104000000-age/up.sql",
        "ALTER TABLE people ADD COLUMN age bigint;\n",
    );
    let report = watch.report();
    assert!(report.contains("database: up to date"), "{report}");
    put_folder(
        root,
        "db/migrations/20250105000000-nick",
        &[("up.sql", "ALTER TABLE people ADD COLUMN nick text;\n")],
    );
    let report = watch.report();
    assert!(
        report.contains("database: applied 20250105000000-nick"),
        "{report}"
    );
    replace_file(
        root,
        "db/migrations/20250105000000-nick/up.sql",
        "ALTER TABLE people ADD COLUMN nickname text;\n",
    );
    db.pool.close().await;
    let report = watch.report();
    assert!(
        report.contains(
            "from the pinned migrations (20250105000000-nick changed and had no down.sql"
        ),
        "{report}"
    );
    assert!(
        report.contains("database: applied 20250104000000-age, 20250105000000-nick"),
        "{report}"
    );
    let pool = db.new_pool(1).await;
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_name = 'people' ORDER BY ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .expect("columns");
    assert_eq!(columns, vec!["id", "name", "age", "nickname"]);
    pool.close().await;

    let rest = watch.stop();
    assert!(rest.contains("stopped watching"), "{rest}");
}
