//! A throwaway cluster starts, accepts connections, and is gone after drop; a start that
//! never becomes ready fails within its bound, naming the server.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

#[test]
fn temporary_cluster_starts_answers_and_is_removed_on_drop() {
    let cluster = spawn_localdb::Cluster::start_temporary().expect("start a throwaway cluster");
    assert!(cluster.is_running());
    let psql = cluster.binaries().tool("psql");
    let out = Command::new(psql)
        .args(["-XAtc", "select 40 + 2"])
        .env("PGCONNECT_TIMEOUT", "10")
        .arg(cluster.url("postgres"))
        .output()
        .expect("run psql");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42", "{out:?}");
    let root = cluster.root().to_path_buf();
    drop(cluster);
    assert!(!root.exists(), "{} still exists after drop", root.display());
}

#[test]
fn a_temporary_cluster_lives_in_the_folder_given() {
    let parent = tempfile::tempdir().expect("a folder");
    // When the server runs as the `postgres` user it must be able to reach the folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cluster =
        spawn_localdb::Cluster::start_temporary_in(parent.path()).expect("start a cluster there");
    assert!(cluster.is_running());
    let root = cluster.root().to_path_buf();
    assert_eq!(root.parent(), Some(parent.path()), "{}", root.display());
    assert!(cluster.data_dir().join("PG_VERSION").is_file());
    drop(cluster);
    assert!(!root.exists(), "{} still exists after drop", root.display());
}

#[test]
fn persistent_cluster_start_is_idempotent_and_stop_stops() {
    let dir = tempfile::tempdir().unwrap();
    // When the server runs as the `postgres` user it must be able to reach the folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join(".spawn/db");
    let binaries = spawn_localdb::PgBinaries::find().unwrap();
    let cluster = spawn_localdb::Cluster::open(binaries.clone(), &root).unwrap();
    cluster.start().unwrap();
    cluster.start().unwrap();
    assert!(cluster.is_running());
    let port = cluster.port();
    let again = spawn_localdb::Cluster::open(binaries, &root).unwrap();
    assert_eq!(
        again.port(),
        port,
        "the port is kept in the cluster's configuration"
    );
    again.stop().unwrap();
    assert!(!cluster.is_running());
}

#[test]
fn a_start_that_is_not_ready_in_time_names_the_server_and_its_log() {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join(".spawn/db");
    let binaries = spawn_localdb::PgBinaries::find().unwrap();
    let cluster = spawn_localdb::Cluster::open(binaries, &root).unwrap();
    // An archive recovery whose restore_command waits on a FIFO nobody writes to: the
    // server stays "starting" until the command returns, which it cannot before the start's
    // bound (what is tested is the bound, not the time).
    let data = cluster.data_dir();
    let fifo = dir.path().join("never-written");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o666) }, 0, "mkfifo");
    std::fs::write(data.join("recovery.signal"), "").unwrap();
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .unwrap();
    writeln!(
        conf,
        "restore_command = 'cat {} > /dev/null; false'",
        fifo.display()
    )
    .unwrap();
    let started = cluster.start_within(Duration::from_secs(3));
    // Stopped before anything is asserted, so a failing test leaves no server behind; then
    // the FIFO is opened and closed, so a `cat` still waiting on it ends too.
    cluster.stop().unwrap();
    // SAFETY: as above; O_NONBLOCK fails at once (ENXIO) when no reader is left.
    let writer = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
    if writer >= 0 {
        // SAFETY: a descriptor this test opened.
        unsafe { libc::close(writer) };
    }
    let err = started.expect_err("a recovery waiting for its restore_command is not ready");
    let message = err.to_string();
    assert!(!cluster.is_running());
    assert!(
        matches!(err, spawn_localdb::LocalDbError::NotReady { .. }),
        "{message}"
    );
    assert!(
        message.starts_with(&format!(
            "the PostgreSQL server at 127.0.0.1:{} did not accept connections within 3s",
            cluster.port()
        )),
        "{message}"
    );
    assert!(message.contains("postgres.log"), "{message}");
}
