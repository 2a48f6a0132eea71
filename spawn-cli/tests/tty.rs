//! The `spawn` command on a real terminal (a pseudo-terminal): the confirmation prompts of
//! `apply` and `adopt`, the description question of `adopt`, and colour. The rest of the CLI
//! tests run without a terminal, where the same commands refuse to ask.

use std::path::Path;
use std::process::Command;

use rexpect::session::{spawn_command, PtySession};
use spawn_tests::TestDb;

mod common;
use common::{adopt_description, project, AMBIENT_ENV};

/// Generous bound for one expected line: a hung prompt fails the test instead of hanging it.
const EXPECT_MS: u64 = 60_000;

/// `spawn <args>` on a pseudo-terminal (stdin, stdout and stderr all on it).
fn spawn_on_tty(dir: &Path, url: &str, args: &[&str], colour: bool) -> PtySession {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spawn"));
    c.current_dir(dir)
        .args(args)
        .env("SPAWN_TEST_URL", url)
        .env("TERM", "xterm");
    for v in AMBIENT_ENV.iter().filter(|v| **v != "SPAWN_TEST_URL") {
        c.env_remove(v);
    }
    if colour {
        c.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "0");
    } else {
        c.env("NO_COLOR", "1");
    }
    spawn_command(c, Some(EXPECT_MS)).expect("spawn on a pty")
}

/// Whether this machine can give the tests a pseudo-terminal (some CI containers cannot);
/// when not, the test says it was skipped.
fn pty_available() -> bool {
    match spawn_command(Command::new("true"), Some(EXPECT_MS)) {
        Ok(mut p) => {
            let _ = p.exp_eof();
            true
        }
        Err(e) => {
            println!("skipped: no pseudo-terminal on this machine ({e})");
            false
        }
    }
}

/// Waits for the process to end and returns its exit code.
fn exit_code(mut p: PtySession) -> i32 {
    let rest = p.exp_eof().unwrap_or_default();
    match p.process.wait().expect("wait") {
        rexpect::process::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("spawn did not exit normally: {other:?}; output: {rest}"),
    }
}

async fn table_exists(db: &TestDb, name: &str) -> bool {
    sqlx::query_scalar::<_, bool>(&format!("SELECT to_regclass('{name}') IS NOT NULL"))
        .fetch_one(&db.pool)
        .await
        .expect("to_regclass")
}

#[tokio::test]
async fn apply_asks_on_a_terminal_and_no_applies_nothing() {
    if !pty_available() {
        return;
    }
    let db = TestDb::new("tty_apply").await;
    let p = project("app");

    let mut s = spawn_on_tty(p.path(), &db.url, &["migration", "apply"], false);
    s.exp_string("About to apply 3 migration(s)")
        .expect("the plan is shown");
    s.exp_string("20250103000000-people-name-index")
        .expect("the plan lists the migrations");
    s.exp_string("Apply them? [y/N]")
        .expect("a confirmation is asked");
    s.send_line("n").expect("answer");
    s.exp_string("nothing was applied")
        .expect("the refusal is confirmed");
    assert_eq!(exit_code(s), 1);
    assert!(
        !table_exists(&db, "public.people").await,
        "answering no applied something"
    );
    assert!(
        !table_exists(&db, "_spawn.migration_history").await,
        "answering no wrote the history"
    );

    // Just Enter is no, too.
    let mut s = spawn_on_tty(p.path(), &db.url, &["migration", "apply"], false);
    s.exp_string("Apply them? [y/N]")
        .expect("a confirmation is asked");
    s.send_line("").expect("answer");
    assert_eq!(exit_code(s), 1);
    assert!(!table_exists(&db, "public.people").await);

    let mut s = spawn_on_tty(p.path(), &db.url, &["migration", "apply"], false);
    s.exp_string("Apply them? [y/N]")
        .expect("a confirmation is asked");
    s.send_line("y").expect("answer");
    s.exp_string("applied 3 migration(s)")
        .expect("the result is reported");
    assert_eq!(exit_code(s), 0);
    assert!(table_exists(&db, "public.people").await);
}

#[tokio::test]
async fn adopt_asks_for_a_description_and_a_confirmation_on_a_terminal() {
    if !pty_available() {
        return;
    }
    let db = TestDb::new("tty_adopt").await;
    let p = project("app");

    // An empty description is refused before anything is asked of the database.
    let mut s = spawn_on_tty(
        p.path(),
        &db.url,
        &["migration", "adopt", "20250101000000-create-people"],
        false,
    );
    s.exp_string("a description of why the migrations are adopted:")
        .expect("the description is asked");
    s.send_line("   ").expect("answer");
    s.exp_string("needs a description")
        .expect("an empty description is refused");
    assert_eq!(exit_code(s), 1);
    assert!(
        !table_exists(&db, "_spawn.migration_history").await,
        "a refused adopt wrote the history"
    );

    let mut s = spawn_on_tty(
        p.path(),
        &db.url,
        &["migration", "adopt", "20250101000000-create-people"],
        false,
    );
    s.exp_string("a description of why the migrations are adopted:")
        .expect("the description is asked");
    s.send_line("created by the DBA on 2026-11-01")
        .expect("answer");
    s.exp_string("WITHOUT running them")
        .expect("the plan is shown");
    s.send_line("yes").expect("answer");
    s.exp_string("adopted 1").expect("the result is reported");
    assert_eq!(exit_code(s), 0);

    let description = adopt_description(&db.pool, "20250101000000-create-people").await;
    assert_eq!(description, "created by the DBA on 2026-11-01");
    assert!(
        !table_exists(&db, "public.people").await,
        "adopt ran the migration"
    );
}

#[tokio::test]
async fn colour_only_on_a_terminal() {
    if !pty_available() {
        return;
    }
    let db = TestDb::new("tty_colour").await;
    let p = project("app");
    let mut s = spawn_on_tty(p.path(), &db.url, &["migration", "status"], true);
    let out = s.exp_eof().expect("status output");
    assert!(out.contains("Pending"), "{out}");
    assert!(
        out.contains("\u{1b}[33mPending"),
        "the status is not coloured on a terminal: {out:?}"
    );

    let piped = Command::new(env!("CARGO_BIN_EXE_spawn"))
        .current_dir(p.path())
        .args(["migration", "status"])
        .env("SPAWN_TEST_URL", &db.url)
        .env_remove("NO_COLOR")
        .output()
        .expect("run spawn");
    let text = String::from_utf8_lossy(&piped.stdout);
    assert!(text.contains("Pending"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour in piped output: {text:?}");
}
