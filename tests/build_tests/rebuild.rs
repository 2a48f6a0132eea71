//! The embedded set follows the files: a real cargo project with spawn's build.rs is built
//! again after each kind of change, and the embedded migrations (names and checksums) must
//! change exactly when they should. A no-op build must not rerun the build script.

use std::path::Path;

use spawn_tests::app::{write, App, Build};

/// The fixture app: one migration including a component and reading the variables file.
/// `auto_pin` is what its build.rs passes to `Config::auto_pin`.
fn fixture(name: &str, auto_pin: bool) -> App {
    let app = App::new(
        name,
        &format!("spawn_build::Config::new().auto_pin({auto_pin}).compile().unwrap()"),
    );
    app.write(
        "spawn.toml",
        "spawn_folder = \"db\"\nvariables = \"vars.json\"\n",
    );
    app.write("vars.json", r#"{"greeting": "hello"}"#);
    app.write(
        "db/components/f.sql",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n",
    );
    app.write(
        "db/migrations/20250101000000-one/up.sql",
        "{% include \"f.sql\" %}\nSELECT {{ variables.greeting }};\n",
    );
    app
}

/// Builds, applies `change`, builds again; returns (before, after).
fn around(fixture: &App, change: impl FnOnce(&Path)) -> (Build, Build) {
    let before = fixture.build();
    change(fixture.root());
    let after = fixture.build();
    (before, after)
}

#[test]
fn embedded_set_follows_every_kind_of_change() {
    // Iterating on unpinned migrations: everything a migration reads is watched.
    let fx = fixture("rebuild-fixture-unpinned", false);
    let first = fx.build();
    assert!(
        first.embedded.contains("20250101000000-one prod"),
        "{first:?}"
    );

    let noop = fx.build();
    assert!(!noop.script_ran, "a no-op build reran the build script");
    assert_eq!(noop.embedded, first.embedded);

    let (before, after) = around(&fx, |r| {
        write(r, "db/migrations/20250102000000-two/up.sql", "SELECT 2;\n")
    });
    assert!(
        after.embedded.contains("20250102000000-two"),
        "adding a migration: {before:?} -> {after:?}"
    );

    let (before, after) = around(&fx, |r| {
        write(r, "db/migrations/20250102000000-two/up.sql", "SELECT 22;\n")
    });
    assert_ne!(before.embedded, after.embedded, "editing a migration");

    let (_, after) = around(&fx, |r| {
        std::fs::rename(
            r.join("db/migrations/20250102000000-two"),
            r.join("db/migrations/20250103000000-three"),
        )
        .unwrap()
    });
    assert!(
        after.embedded.contains("20250103000000-three")
            && !after.embedded.contains("20250102000000-two"),
        "renaming a migration: {after:?}"
    );

    let (_, after) = around(&fx, |r| {
        std::fs::remove_dir_all(r.join("db/migrations/20250103000000-three")).unwrap()
    });
    assert!(
        !after.embedded.contains("20250103000000-three"),
        "removing a migration: {after:?}"
    );

    let (before, after) = around(&fx, |r| {
        write(
            r,
            "db/components/f.sql",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n",
        )
    });
    assert_ne!(
        before.embedded, after.embedded,
        "editing a component the migration uses"
    );

    let (before, after) = around(&fx, |r| write(r, "vars.json", r#"{"greeting": "bonjour"}"#));
    assert_ne!(
        before.embedded, after.embedded,
        "editing the variables file"
    );

    let noop = fx.build();
    assert!(
        !noop.script_ran,
        "a no-op build after the changes reran the build script"
    );
}

#[test]
fn pinned_migrations_ignore_component_edits_and_debug_builds_pin() {
    let fx = fixture("rebuild-fixture-pinned", true);
    let first = fx.build();
    let lock = fx.root().join("db/migrations/20250101000000-one/lock.toml");
    let pin = std::fs::read_to_string(&lock).expect("a debug build pins an unpinned migration");
    assert!(pin.starts_with("pin = \""), "{pin}");
    // Editing the component does not change the pinned migration's render.
    let (_, after) = around(&fx, |r| write(r, "db/components/f.sql", "-- edited\n"));
    assert_eq!(first.embedded, after.embedded);
    // Settle: a no-op build after pinning does not rerun the script.
    fx.build();
    assert!(
        !fx.build().script_ran,
        "a no-op build of a pinned project reran the build script"
    );
}

#[test]
fn the_build_after_an_auto_pin_is_fresh() {
    let fx = fixture("rebuild-fixture-autopin", true);
    let first = fx.build();
    assert!(
        fx.root()
            .join("db/migrations/20250101000000-one/lock.toml")
            .is_file(),
        "a debug build pins an unpinned migration"
    );
    let next = fx.build();
    assert!(
        !next.script_ran && !next.compiled,
        "the build right after an auto-pin was not Fresh: {next:?}"
    );
    assert_eq!(next.embedded, first.embedded);

    // A new migration is pinned by the build that sees it, and the one after is Fresh again.
    let (_, pinned) = around(&fx, |r| {
        write(r, "db/migrations/20250102000000-two/up.sql", "SELECT 2;\n")
    });
    assert!(pinned.script_ran && pinned.embedded.contains("20250102000000-two"));
    assert!(fx
        .root()
        .join("db/migrations/20250102000000-two/lock.toml")
        .is_file());
    let next = fx.build();
    assert!(
        !next.script_ran && !next.compiled,
        "the build after pinning a new migration was not Fresh: {next:?}"
    );
}
