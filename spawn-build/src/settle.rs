//! Keeping the build after a pinning build Fresh.
//!
//! cargo reruns a build script when a `rerun-if-changed` path (for a folder: the newest file
//! or folder under it) has a modification time later than the time the script last
//! *started*: the mtime of `invoked.timestamp` beside `OUT_DIR`, which cargo also gives the
//! script's `output` file. A build that pins writes `lock.toml` files and `pinned/` objects
//! while its script runs, and those paths are watched, so without care the next, no-op
//! `cargo build` would rerun the script and recompile the crate.
//!
//! So when the script has written files, [`backdate`] sets the modification time of each file
//! and folder it wrote to the script's start, if it is later. That is sound: their content is
//! exactly what this run read and embedded, so they are inputs this run has seen. Only paths
//! the run wrote are touched, and only their modification time; an edit the user makes
//! during the build to any other file still reruns the script next time. (The one change it
//! could hide is a file the user deletes, during the build, from a folder the build also
//! wrote into: a folder's mtime is all that shows a deletion.) Setting a time is best
//! effort: where it fails, the cost is one more run of the script.

use std::fs::{self, File, FileTimes};
use std::path::Path;
use std::time::SystemTime;

/// When cargo started the running build script, if it is one: the modification time of
/// `invoked.timestamp` in the parent of `out_dir`.
pub(crate) fn script_start(out_dir: &Path) -> Option<SystemTime> {
    let stamp = out_dir.parent()?.join("invoked.timestamp");
    fs::metadata(stamp).and_then(|m| m.modified()).ok()
}

/// Sets the modification time of each of `paths` (files or folders) that is later than
/// `start` to `start`.
pub(crate) fn backdate<'a>(paths: impl IntoIterator<Item = &'a Path>, start: SystemTime) {
    for path in paths {
        let later = fs::metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified > start);
        if !later {
            continue;
        }
        // Opening read-only works for folders too (on Unix), and setting explicit times needs
        // only ownership, not write permission.
        let result =
            File::open(path).and_then(|f| f.set_times(FileTimes::new().set_modified(start)));
        if let Err(e) = result {
            tracing::debug!(path = %path.display(), "could not set the modification time: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn later_files_and_folders_are_set_back_earlier_ones_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("old.txt");
        fs::write(&old, "x").expect("write");
        let old_time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        File::open(&old)
            .and_then(|f| f.set_times(FileTimes::new().set_modified(old_time)))
            .expect("set");
        let start = SystemTime::now() - Duration::from_secs(60);
        let new = dir.path().join("sub/new.txt");
        fs::create_dir_all(new.parent().expect("parent")).expect("mkdir");
        fs::write(&new, "y").expect("write");
        let sub = dir.path().join("sub");

        backdate([old.as_path(), new.as_path(), sub.as_path()], start);
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(mtime(&old), old_time);
        assert_eq!(mtime(&new), start);
        assert_eq!(mtime(&sub), start);
    }

    #[test]
    fn the_start_is_the_timestamp_beside_out_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(script_start(&dir.path().join("out")), None);
        fs::write(dir.path().join("invoked.timestamp"), "").expect("write");
        assert!(script_start(&dir.path().join("out")).is_some());
    }
}
