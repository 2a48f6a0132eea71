//! `compile()` with a migration's `down.sql` (rendered from the same pin as its `up.sql`,
//! embedded with it) and with draft migrations (checked, never pinned or embedded, also in a
//! locked build).

use std::path::{Path, PathBuf};

use spawn_build::Config;

fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

fn config(root: &Path, locked: bool) -> Config {
    let mut config = Config::new();
    config
        .spawn_toml(root.join("spawn.toml"))
        .out_dir(root.join("out"))
        .cargo_output(false)
        .locked(locked);
    config
}

#[test]
fn a_down_sql_renders_from_the_pin_of_its_up_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "spawn.toml", "spawn_folder = \"db\"\n");
    write(root, "db/components/drop.sql", "DROP TABLE t;\n");
    write(
        root,
        "db/migrations/20250101000000-t/up.sql",
        "CREATE TABLE t (id int);\n",
    );
    write(
        root,
        "db/migrations/20250101000000-t/down.sql",
        "{% include \"drop.sql\" %}",
    );
    config(root, false).compile().expect("pins and compiles");
    // The component changes after the pin: the down.sql still renders the pinned one.
    write(root, "db/components/drop.sql", "DROP TABLE t CASCADE;\n");
    let compiled = config(root, true).compile().expect("locked build");
    let render = &compiled.migrations[0].renders[0];
    let down = render.down.as_ref().expect("a down.sql");
    assert_eq!(
        down.sql, "DROP TABLE t;",
        "the pinned component, not the edited one"
    );
    let generated = std::fs::read_to_string(&compiled.generated).expect("generated");
    assert!(
        generated.contains("down: Some(::spawn_runtime::Down {"),
        "{generated}"
    );

    // A down.sql that cannot run in a transaction is refused, naming its file.
    write(
        root,
        "db/migrations/20250101000000-t/down.sql",
        "-- spawn:no-transaction\nDROP INDEX CONCURRENTLY i;\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("20250101000000-t/down.sql is marked `-- spawn:no-transaction`"),
        "{err}"
    );

    // A down.sql with its own transaction statement is refused, naming its file and line.
    write(
        root,
        "db/migrations/20250101000000-t/down.sql",
        "DROP TABLE t;\nCOMMIT;\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("refused")
        .to_string();
    assert!(err.contains("20250101000000-t/down.sql"), "{err}");
    assert!(err.contains("COMMIT"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    // What to do fits a down.sql: not the directive it may not have, not the command that
    // prints the up.sql.
    assert!(!err.contains("spawn:no-transaction"), "{err}");
    assert!(!err.contains("spawn migration build"), "{err}");

    // So does a statement that cannot run in a transaction.
    write(
        root,
        "db/migrations/20250101000000-t/down.sql",
        "DROP INDEX CONCURRENTLY i;\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("refused")
        .to_string();
    assert!(err.contains("20250101000000-t/down.sql"), "{err}");
    assert!(
        err.contains("a down.sql always runs in one (with its REVERT history row)"),
        "{err}"
    );
    assert!(!err.contains("spawn:no-transaction"), "{err}");
}

#[test]
fn drafts_are_checked_but_never_pinned_or_embedded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "spawn.toml", "spawn_folder = \"db\"\n");
    write(
        root,
        "db/migrations/20250101000000-a/up.sql",
        "CREATE TABLE a (id int);\n",
    );
    write(
        root,
        "db/migrations/20250102000000-wip/up.sql",
        "-- spawn:draft\nCREATE TABLE wip (id int);\n",
    );
    // A debug build pins and embeds the finished migration only.
    let compiled = config(root, false).compile().expect("compiles");
    assert_eq!(compiled.newly_pinned, ["20250101000000-a"]);
    assert_eq!(compiled.drafts, ["20250102000000-wip"]);
    assert!(!root
        .join("db/migrations/20250102000000-wip/lock.toml")
        .exists());
    // A locked build leaves the (unpinned) draft out instead of refusing it as unpinned.
    let compiled = config(root, true).compile().expect("locked build");
    let names: Vec<&str> = compiled
        .migrations
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["20250101000000-a"]);
    assert_eq!(compiled.drafts, ["20250102000000-wip"]);
    let generated = std::fs::read_to_string(&compiled.generated).expect("generated");
    assert!(!generated.contains("wip"), "{generated}");
    // A draft is still checked: a broken one fails the build, naming it.
    write(
        root,
        "db/migrations/20250102000000-wip/up.sql",
        "-- spawn:draft\n{% include \"nope.sql\" %}\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("20250102000000-wip") && err.contains("nope.sql"),
        "{err}"
    );
}

#[test]
fn repeatable_migrations_render_from_the_working_tree_and_are_never_pinned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "spawn.toml", "spawn_folder = \"db\"\n");
    write(
        root,
        "db/components/v.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n",
    );
    write(
        root,
        "db/migrations/20250109000000-views/up.sql",
        "-- spawn:repeatable\n{% include \"v.sql\" %}\n",
    );
    // Not pinned by a debug build, not refused as unpinned by a locked one.
    let compiled = config(root, false).compile().expect("debug build");
    assert!(compiled.newly_pinned.is_empty());
    write(
        root,
        "db/components/v.sql",
        "CREATE OR REPLACE VIEW v AS SELECT 2 AS one;\n",
    );
    let compiled = config(root, true).compile().expect("locked build");
    let render = &compiled.migrations[0].renders[0];
    assert!(render.repeatable);
    assert!(
        render.sql.contains("SELECT 2"),
        "the working tree's component"
    );
    let generated = std::fs::read_to_string(&compiled.generated).expect("generated");
    assert!(generated.contains("repeatable: true"), "{generated}");
    // It runs in one transaction whenever it changes: no-transaction is refused.
    write(
        root,
        "db/migrations/20250109000000-views/up.sql",
        "-- spawn:no-transaction\n-- spawn:repeatable\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("is marked both `-- spawn:repeatable` and `-- spawn:no-transaction`"),
        "{err}"
    );
}

#[test]
fn repeatable_in_lock_toml_marks_a_migration_repeatable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "spawn.toml", "spawn_folder = \"db\"\n");
    write(
        root,
        "db/migrations/20250109000000-views/up.sql",
        "SELECT 1;\n",
    );
    write(
        root,
        "db/migrations/20250109000000-views/lock.toml",
        "repeatable = true\n",
    );
    let compiled = config(root, true).compile().expect("locked build, no pin");
    assert!(compiled.migrations[0].renders[0].repeatable);
    // Without it, a lock.toml needs its pin.
    write(
        root,
        "db/migrations/20250109000000-views/lock.toml",
        "repeatable = false\n",
    );
    let err = config(root, true)
        .compile()
        .expect_err("no pin")
        .to_string();
    assert!(
        err.contains("lock.toml") && err.contains("missing field `pin`"),
        "{err}"
    );
}
