//! A throwaway cluster starts, accepts connections, and is gone after drop.

use std::process::Command;

#[test]
fn temporary_cluster_starts_answers_and_is_removed_on_drop() {
    let cluster = spawn_localdb::Cluster::start_temporary().expect("start a throwaway cluster");
    assert!(cluster.is_running());
    let psql = cluster.binaries().tool("psql");
    let out = Command::new(psql)
        .args(["-XAtc", "select 40 + 2"])
        .arg(cluster.url("postgres"))
        .output()
        .expect("run psql");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42", "{out:?}");
    let root = cluster.root().to_path_buf();
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
