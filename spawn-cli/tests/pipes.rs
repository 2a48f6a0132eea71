//! A closed stdout is not a panic: when the reader of `spawn`'s output stops early
//! (`spawn --json migration status | head -1`), the command ends quietly with exit 0, in
//! every command, whatever it found (a `diff` with differences included). Any other failed
//! write to stdout is an error (exit 1) that says so.
//!
//! The pipes are set up so that a write is sure to fail, never by waiting: either the read end
//! is closed before `spawn` starts, or the output is many times a pipe's capacity and the
//! reader goes away after its first byte.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use spawn_tests::TestDb;

mod common;
use common::{clean_env, project, spawn_process};

/// A pipe whose read end is closed already: the first write to the other end fails with
/// `EPIPE`, as when the reader stopped before `spawn` wrote anything.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: `pipe2` writes two new descriptors into `fds` (close-on-exec, so no other
    // child spawned meanwhile inherits them).
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

/// Runs `command` with its stdout a pipe nobody reads.
fn into_closed_pipe(command: &mut Command) -> Output {
    command
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("run spawn")
}

/// Exit 0, by its own hand (no signal), and no panic or pipe error on stderr.
fn assert_quiet_success(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), None, "{what} was killed: {err}");
    assert_eq!(out.status.code(), Some(0), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{what}: {err}"
    );
}

/// The app fixture with one more migration whose rendered SQL is about 1 MiB: sixteen times
/// a pipe's default capacity, so a reader that stops after one byte makes a write fail.
fn project_with_a_big_migration() -> tempfile::TempDir {
    let p = project("app");
    let dir = p.path().join("db/migrations/20250104000000-big");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let line = "INSERT INTO people (name) VALUES ('a name long enough to make this line long');\n";
    std::fs::write(dir.join("up.sql"), line.repeat((1 << 20) / line.len() + 1)).expect("write");
    p
}

const BIG: &str = "20250104000000-big";

#[test]
fn help_into_a_closed_pipe() {
    for args in [
        &["--help"][..],
        &["help", "diff"],
        &["migration", "--help"],
        &["--version"],
    ] {
        let out = into_closed_pipe(spawn_process().args(args));
        assert_quiet_success(&out, &args.join(" "));
    }
}

#[test]
fn migration_build_into_a_closed_pipe() {
    let p = project("app");
    let out = into_closed_pipe(spawn_process().current_dir(p.path()).args([
        "migration",
        "build",
        "20250101000000-create-people",
        "--pinned",
    ]));
    assert_quiet_success(&out, "migration build");
}

#[test]
fn migration_hazards_into_a_closed_pipe() {
    let p = project("app");
    for args in [
        &["migration", "hazards", "--all"][..],
        &["--json", "migration", "hazards", "--all"],
    ] {
        let out = into_closed_pipe(spawn_process().current_dir(p.path()).args(args));
        assert_quiet_success(&out, &args.join(" "));
    }
}

/// stderr closed too (`2>&1 | head -1`): the warning `build` writes there cannot be written
/// either, and that is no panic.
#[test]
fn migration_build_with_stdout_and_stderr_closed() {
    let p = project("app");
    let pipe = closed_pipe();
    let out = spawn_process()
        .current_dir(p.path())
        // Unpinned build of a pinned migration: a warning on stderr.
        .args(["migration", "build", "20250101000000-create-people"])
        .stdout(pipe.try_clone().expect("dup"))
        .stderr(pipe)
        .output()
        .expect("run spawn");
    assert_quiet_success(&out, "migration build 2>&1");
}

#[test]
fn a_reader_that_stops_after_one_byte() {
    let p = project_with_a_big_migration();
    let mut child = spawn_process()
        .current_dir(p.path())
        .args(["migration", "build", BIG])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0; 1];
    stdout.read_exact(&mut first).expect("the first byte");
    assert_eq!(&first, b"I");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_quiet_success(&out, "migration build, read one byte");
}

/// As a shell runs it, with SIGPIPE at its default (a C program would be killed by it):
/// `set -o pipefail` makes spawn's exit status the pipeline's.
#[test]
fn a_shell_pipeline_into_head() {
    let p = project_with_a_big_migration();
    let out = clean_env(&mut Command::new("bash"))
        .current_dir(p.path())
        .args([
            "-c",
            "set -o pipefail; \"$0\" migration build \"$1\" | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_spawn"),
            BIG,
        ])
        .stderr(Stdio::piped())
        .output()
        .expect("run bash");
    assert_quiet_success(&out, "spawn migration build | head -c 1");
}

/// Any other failed write is an error that says what failed.
#[test]
fn a_full_disk_is_an_error() {
    let p = project("app");
    for args in [
        &[
            "migration",
            "build",
            "20250101000000-create-people",
            "--pinned",
        ][..],
        &["--help"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = spawn_process()
            .current_dir(p.path())
            .args(args)
            .stdout(full)
            .output()
            .expect("run spawn");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("error: cannot write to stdout: No space left on device"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `status`'s JSON, with SIGPIPE reset to its default in the child as a shell leaves it.
#[tokio::test]
async fn json_migration_status_into_a_closed_pipe() {
    let db = TestDb::new("pipe_status").await;
    let p = project("app");
    let mut command = spawn_process();
    command
        .current_dir(p.path())
        .env("SPAWN_TEST_URL", &db.url)
        .args(["--json", "migration", "status"]);
    // SAFETY: only `signal`, which is async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            Ok(())
        });
    }
    let out = into_closed_pipe(&mut command);
    assert_quiet_success(&out, "--json migration status");
    // Human output too, and `--exit-code` with migrations pending (2 when it is read).
    let out = into_closed_pipe(
        spawn_process()
            .current_dir(p.path())
            .env("SPAWN_TEST_URL", &db.url)
            .args(["migration", "status", "--exit-code"]),
    );
    assert_quiet_success(&out, "migration status --exit-code");
}

/// `diff` with differences exits 2 when its SQL is read, 0 when the reader stopped early.
#[tokio::test]
async fn diff_into_a_closed_pipe() {
    let (a, b) = (
        TestDb::new("pipe_diff_a").await,
        TestDb::new("pipe_diff_b").await,
    );
    sqlx::raw_sql("CREATE TABLE t (id int); CREATE TABLE u (id int);")
        .execute(&b.pool)
        .await
        .expect("load b");
    let diff = |dir: &Path| {
        let mut c = spawn_process();
        c.current_dir(dir).args(["diff", &a.url, &b.url]);
        c
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let read = diff(dir.path()).output().expect("run spawn");
    assert_eq!(
        read.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    for args in [&[][..], &["--summary"]] {
        let out = into_closed_pipe(diff(dir.path()).args(args));
        assert_quiet_success(&out, "diff");
    }
}
