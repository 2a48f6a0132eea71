//! `spawn migration hazards`: findings per statement with file and line, for unpinned
//! migrations by default, one named migration, or `--all`; `--deny` exits 2; `--json`.
//! No database is needed: migrations are rendered, not applied.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{project, spawn};

const NEW: &str = "20250104000000-widen";
const INDEX: &str = "20250103000000-people-name-index";

/// The app fixture (every migration pinned) with one unpinned migration.
fn project_with_a_new_migration(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let p = project("app");
    let dir = p.path().join("db/migrations").join(NEW);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let up = dir.join("up.sql");
    std::fs::write(&up, sql).expect("write");
    let up = up.canonicalize().expect("canonical");
    (p, up)
}

fn hazards(dir: &Path, args: &[&str]) -> Output {
    spawn()
        .current_dir(dir)
        .args(["migration", "hazards"])
        .args(args)
        .output()
        .expect("run spawn")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const WIDEN: &str = "-- spawn:lock-timeout 5s\n\
    ALTER TABLE people ALTER name TYPE varchar(100);\n\
    \n\
    -- spawn:allow data-loss\n\
    ALTER TABLE people DROP COLUMN name;\n";

/// What `hazards` prints for [`WIDEN`] written at `up`.
fn widen_findings(up: &Path) -> String {
    let up = up.display();
    format!(
        "{up}:2: access-exclusive-lock: holds an ACCESS EXCLUSIVE lock on people while it \
         rewrites it: every read and write of the table waits until it finishes\n\
         {up}:2: table-rewrite: ALTER COLUMN name changes the type from text to \
         varchar(100), which converts every value: people and its indexes are rewritten\n\
         {up}:5: data-loss: DROP COLUMN deletes people.name and its data; application code \
         still reading or writing it fails (allowed)\n"
    )
}

#[test]
fn lists_the_findings_of_unpinned_migrations_with_file_and_line() {
    let (p, up) = project_with_a_new_migration(WIDEN);
    let out = hazards(p.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), widen_findings(&up));
    assert_eq!(
        text(&out.stderr),
        format!(
            "3 hazards (1 allowed) in migration {NEW} (environment dev); accept one with \
             `-- spawn:allow <hazard>` on the line before its statement\n"
        )
    );
}

#[test]
fn pinned_migrations_only_with_all_or_by_name() {
    let p = project("app");
    let out = hazards(p.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "no hazards in no migrations (every migration is pinned; pass --all or a migration) \
         (environment dev)\n"
    );
    let up = p
        .path()
        .join("db/migrations")
        .join(INDEX)
        .join("up.sql")
        .canonicalize()
        .expect("canonical");
    let expected = format!(
        "{}:2: non-transactional: `CREATE INDEX CONCURRENTLY` cannot run in a transaction: if \
         it fails, what it did so far stays (e.g. an INVALID index, to drop before running it \
         again)\n",
        up.display()
    );
    for args in [&["--all"][..], &[INDEX]] {
        let out = hazards(p.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(text(&out.stdout), expected, "{args:?}");
    }
    // A migration that creates its table has none.
    let out = hazards(p.path(), &["20250101000000-create-people"]);
    assert_eq!(
        text(&out.stdout),
        "no hazards in migration 20250101000000-create-people (environment dev)\n"
    );
}

/// Findings depend on the migrations before the one listed (what they established), never
/// on those after it, which are not read.
#[test]
fn a_migration_in_the_middle_is_read_with_what_came_before_and_nothing_after() {
    let (p, up) = project_with_a_new_migration(WIDEN);
    let later = p.path().join("db/migrations/20250105000000-narrow");
    std::fs::create_dir_all(&later).expect("mkdir");
    // Its own findings (a rewrite to varchar(10)) are not listed.
    std::fs::write(
        later.join("up.sql"),
        "ALTER TABLE people ALTER name TYPE varchar(10);\n",
    )
    .expect("write");
    let out = hazards(p.path(), &[NEW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), widen_findings(&up));
}

#[test]
fn deny_exits_2_unless_every_denied_finding_is_allowed() {
    let (p, _) = project_with_a_new_migration(WIDEN);
    let out = hazards(p.path(), &["--deny", "table-rewrite"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).ends_with(
            "warning: 1 finding of denied hazards (table-rewrite) not accepted by \
             `-- spawn:allow`\n"
        ),
        "{}",
        text(&out.stderr)
    );
    // data-loss is allowed where it occurs.
    let out = hazards(p.path(), &["--deny", "data-loss,validation-scan"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = hazards(
        p.path(),
        &["--deny", "data-loss", "--deny", "access-exclusive-lock"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_arguments_say_what_is_valid() {
    let p = project("app");
    let out = hazards(p.path(), &["--deny", "rewrite"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "error: invalid value 'rewrite' for '--deny <HAZARD>': unknown hazard `rewrite`; \
             the hazards are access-exclusive-lock, table-rewrite, validation-scan, \
             blocking-index-build, data-loss, non-transactional, long-running, \
             fails-on-existing-rows\n"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = hazards(p.path(), &["nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no migration folder"),
        "{}",
        text(&out.stderr)
    );
    // An unknown hazard in `-- spawn:allow` is a problem of the migration.
    let (p, up) = project_with_a_new_migration("-- spawn:allow rewrite\nDROP TABLE people;\n");
    let out = hazards(p.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: migration {NEW} ({}, environment dev): the rendered SQL has 1 problem:\n  \
             rendered line 1, column 1: unknown hazard `rewrite` in `-- spawn:allow`; the \
             hazards are access-exclusive-lock, table-rewrite, validation-scan, \
             blocking-index-build, data-loss, non-transactional, long-running, \
             fails-on-existing-rows\n  (see the \
             rendered SQL with `spawn migration build {NEW} -e dev`)\n(`spawn check` lists \
             every problem)\n",
            up.display()
        )
    );
}

#[test]
fn json_lists_every_finding() {
    let (p, up) = project_with_a_new_migration(WIDEN);
    let out = spawn()
        .current_dir(p.path())
        .args(["--json", "migration", "hazards", "--deny", "table-rewrite"])
        .output()
        .expect("run spawn");
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["environment"], "dev");
    assert_eq!(json["migrations"], serde_json::json!([NEW]));
    assert_eq!(json["denied"], 1);
    let hazards = json["hazards"].as_array().expect("hazards");
    let summary: Vec<(String, u64, bool)> = hazards
        .iter()
        .map(|h| {
            (
                h["hazard"].as_str().expect("hazard").to_owned(),
                h["line"].as_u64().expect("line"),
                h["allowed"].as_bool().expect("allowed"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("access-exclusive-lock".to_owned(), 2, false),
            ("table-rewrite".to_owned(), 2, false),
            ("data-loss".to_owned(), 5, true),
        ]
    );
    assert_eq!(hazards[0]["file"], up.display().to_string());
    assert_eq!(hazards[0]["migration"], NEW);
    assert_eq!(hazards[0]["statement"], 0);
    assert_eq!(hazards[0]["file_line"], 2);
    assert_eq!(hazards[0]["component"], serde_json::Value::Null);
}

#[test]
fn an_allow_that_accepts_nothing_is_a_warning() {
    let (p, up) = project_with_a_new_migration(
        "-- spawn:lock-timeout 5s\n-- spawn:allow long-running\nCOMMENT ON TABLE people IS 'x';\n",
    );
    let out = hazards(p.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("no hazards in migration {NEW} (environment dev)\n")
    );
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: {}:2: `-- spawn:allow long-running` accepts nothing: its statement has no \
             long-running hazard; remove it\n",
            up.display()
        )
    );
}
