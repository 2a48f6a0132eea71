//! The psql oracle for tests and benchmarks: the installation's `psql`, a URL it accepts,
//! and running it on a script the way spawn test's protocol does.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// What psql reads before each script in spawn test's protocol (the original's).
pub const PROTOCOL: &str = "\\set QUIET on\n\\pset pager off\n\\set ON_ERROR_STOP on\n";

/// psql of the test server's installation.
pub fn psql_binary() -> PathBuf {
    match spawn_tests::server().cluster() {
        Some(cluster) => cluster.binaries().tool("psql"),
        None => spawn_localdb::PgBinaries::find()
            .expect("PostgreSQL binaries")
            .tool("psql"),
    }
}

/// `url` without the query parameters libpq does not know (sqlx adds its own).
pub fn libpq_url(url: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("test database URL");
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| key != "statement-cache-capacity")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    parsed.to_string()
}

/// `psql -X <args> <url>` with `script` on its standard input, the client encoding UTF-8;
/// with `merge_stderr`, standard error goes to standard output (as `2>&1` does). A broken
/// pipe while writing is expected: psql stops reading at an error under `ON_ERROR_STOP`.
pub fn run(args: &[&str], url: &str, script: &str, merge_stderr: bool) -> Output {
    let mut command = if merge_stderr {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg("exec \"$0\" \"$@\" 2>&1")
            .arg(psql_binary());
        sh
    } else {
        Command::new(psql_binary())
    };
    let mut child = command
        .arg("-X")
        .args(args)
        .arg(libpq_url(url))
        .env("PGCLIENTENCODING", "UTF8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run psql");
    let mut stdin = child.stdin.take().expect("psql stdin");
    if let Err(e) = stdin.write_all(script.as_bytes()) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write to psql: {e}"
        );
    }
    drop(stdin);
    child.wait_with_output().expect("wait for psql")
}

/// What psql prints (stdout and stderr together) for `script` under spawn test's protocol.
pub fn protocol_output(url: &str, script: &str) -> String {
    let output = run(&[], url, &format!("{PROTOCOL}{script}"), true);
    String::from_utf8(output.stdout).expect("psql prints UTF-8")
}
