//! `spawn migration apply` against servers it cannot use: one that accepts TCP connections
//! but never answers fails within `connect_timeout` (from the URL), a refused connection is
//! reported as refused at once; both name `host:port`.

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
