//! `spawn migration apply` against servers it cannot use: one that accepts TCP connections
//! but never answers fails within `connect_timeout` (from the URL), a refused connection is
//! reported as refused at once; both name `host:port`. `spawn diff` connects the same way and
//! also names the argument (`FROM` or `TO`) of the database it cannot reach.

use std::net::TcpListener;
use std::time::{Duration, Instant};

mod common;
use common::{project, spawn};

fn apply(url: &str) -> (Option<i32>, String) {
    let p = project("app");
    let out = spawn()
        .current_dir(p.path())
        .env("SPAWN_TEST_URL", url)
        .args(["migration", "apply", "--yes"])
        .output()
        .expect("run spawn");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn apply_gives_up_on_a_server_that_never_answers() {
    // Accepts connections (the kernel completes the handshake) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let started = Instant::now();
    let (code, stderr) = apply(&format!(
        "postgres://app@127.0.0.1:{port}/app?connect_timeout=1"
    ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port} did not answer within 1s")),
        "{stderr}"
    );
    drop(listener);
}

#[test]
fn apply_reports_a_refused_connection_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let (code, stderr) = apply(&format!("postgres://app@127.0.0.1:{port}/app"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("connection refused by 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(!stderr.contains("pool timed out"), "{stderr}");
}

#[test]
fn a_malformed_connect_timeout_is_refused() {
    let (code, stderr) = apply("postgres://app@127.0.0.1:1/app?connect_timeout=soon");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("connect_timeout in the URL `soon`"),
        "{stderr}"
    );
}

/// Runs `spawn diff FROM TO` from a folder without spawn.toml, with `env` set: (exit code,
/// stderr).
fn diff(from: &str, to: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = spawn()
        .current_dir(dir.path())
        .envs(env.iter().copied())
        .args(["diff", from, to])
        .output()
        .expect("run spawn");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A port that accepts TCP connections (the kernel completes the handshake) and never
/// answers, while the listener lives.
fn silent_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

/// A port where nothing listens.
fn refused_port() -> u16 {
    let (listener, port) = silent_server();
    drop(listener);
    port
}

#[tokio::test]
async fn diff_gives_up_on_a_from_server_that_never_answers() {
    let to = spawn_tests::TestDb::new("diff_silent_from").await;
    let (listener, port) = silent_server();
    let (code, stderr) = diff(
        &format!("postgres://app@127.0.0.1:{port}/app?connect_timeout=1"),
        &to.url,
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot connect to the FROM database (postgres://app@127.0.0.1:{port}/app): \
             127.0.0.1:{port} did not answer within 1s (connect_timeout)"
        )),
        "{stderr}"
    );
    drop(listener);
}

#[tokio::test]
async fn diff_takes_the_connect_timeout_of_the_environment_for_the_to_side() {
    let from = spawn_tests::TestDb::new("diff_silent_to").await;
    let (listener, port) = silent_server();
    let (code, stderr) = diff(
        &from.url,
        &format!("postgres://app@127.0.0.1:{port}/app"),
        &[("PGCONNECT_TIMEOUT", "1")],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot connect to the TO database (postgres://app@127.0.0.1:{port}/app): \
             127.0.0.1:{port} did not answer within 1s"
        )),
        "{stderr}"
    );
    drop(listener);
}

#[test]
fn diff_reports_a_refused_connection_at_once() {
    let (listener, silent) = silent_server();
    let refused = refused_port();
    // The FROM server never answers (within the default 10 s): the refused TO side is
    // reported without waiting for it.
    let (code, stderr) = diff(
        &format!("postgres://app@127.0.0.1:{silent}/app"),
        &format!("postgres://app@127.0.0.1:{refused}/app"),
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot connect to the TO database (postgres://app@127.0.0.1:{refused}/app): \
             connection refused by 127.0.0.1:{refused}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("did not answer"), "{stderr}");
    drop(listener);
}
