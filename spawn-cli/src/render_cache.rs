//! The renders of a project's migrations, kept between commands: spawn-build's render cache
//! (what `compile()` keeps in `OUT_DIR`), here in the user's cache folder, one per project.
//!
//! Every command that applies, lists or generates migrations renders all of them, and
//! rendering is the one cost of a command that grows with the project's history (a few ms
//! per thousand lines of migration). A render whose inputs did not change (spawn.toml, the
//! migration's `up.sql`, its pin or the components it reads, the variables, this `spawn`
//! binary) is taken from the cache; the pinned objects it read are still verified. The cache
//! can make a command faster, never fail it or change what it does: a missing or damaged
//! file is an empty cache, and one that cannot be written is left unwritten (logged at debug
//! level).
//!
//! The folder is `renders/<16 hex>/` in the cache folder ([`crate::model_cache`]), named by
//! the path of the project's `spawn.toml`; folders whose cache was not written for 30 days
//! are removed when another is written. Both folders are created readable by this user only,
//! and a cache is used only when they belong to this user and no one else can write to them:
//! a cached render is SQL that `apply` runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::model_cache::private_folder;
use crate::project::CliProject;

/// Folders whose cache file was not written for this long are removed.
const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Takes this run's unchanged renders from the project's cache (when there is a cache folder
/// that only this user can write to).
pub fn open(proj: &mut CliProject) {
    let Some(dir) = folder(&proj.project.config.path) else {
        return;
    };
    if dir.parent().is_some_and(private_folder) && private_folder(&dir) {
        proj.project.cache_renders_in(&dir);
    } else {
        tracing::debug!(
            folder = %dir.display(),
            "no render cache: the folder is not this user's alone"
        );
    }
}

/// Keeps this run's renders for the next command; when that wrote the cache, removes the
/// caches of projects not used for [`MAX_AGE`] (a command that changed nothing reads no
/// other folder).
pub fn save(proj: &mut CliProject) {
    match proj.project.save_render_cache() {
        Ok(true) => {
            if let Some(root) = crate::model_cache::cache_dir() {
                remove_old(&root.join("renders"), SystemTime::now());
            }
        }
        Ok(false) => {}
        Err(error) => tracing::debug!(%error, "the render cache is not written"),
    }
}

/// The project's folder in the cache folder, if there is one.
fn folder(spawn_toml: &Path) -> Option<PathBuf> {
    Some(folder_in(&crate::model_cache::cache_dir()?, spawn_toml))
}

/// `renders/<16 hex of the canonical path of spawn_toml>` in `root`.
fn folder_in(root: &Path, spawn_toml: &Path) -> PathBuf {
    let path = std::fs::canonicalize(spawn_toml).unwrap_or_else(|_| spawn_toml.to_path_buf());
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    root.join("renders").join(&hex::encode(digest)[..16])
}

/// Removes the project folders of `renders` whose files were all written over [`MAX_AGE`]
/// before `now`; errors are ignored (another process may remove them at the same time).
fn remove_old(renders: &Path, now: SystemTime) {
    let Ok(projects) = std::fs::read_dir(renders) else {
        return;
    };
    for project in projects.flatten() {
        let newest = std::fs::read_dir(project.path()).ok().and_then(|files| {
            files
                .flatten()
                .filter_map(|f| f.metadata().and_then(|m| m.modified()).ok())
                .max()
        });
        let old = newest
            .and_then(|written| now.duration_since(written).ok())
            .is_some_and(|age| age > MAX_AGE);
        if old {
            let _ = std::fs::remove_dir_all(project.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_unwritten_for_thirty_days_are_removed() {
        let renders = tempfile::tempdir().expect("tempdir");
        for project in ["recent", "old", "empty"] {
            std::fs::create_dir(renders.path().join(project)).expect("mkdir");
        }
        for project in ["recent", "old"] {
            std::fs::write(renders.path().join(project).join("cache.bin"), "x").expect("write");
        }
        let written = SystemTime::now();
        // Seen 31 days later, `old`'s file is out of date; `recent`'s was just written then.
        let later = written + MAX_AGE + Duration::from_secs(24 * 3600);
        std::fs::write(renders.path().join("recent").join("cache.bin"), "y").expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(renders.path().join("recent").join("cache.bin"))
            .expect("open");
        file.set_modified(later).expect("set mtime");
        remove_old(renders.path(), later);
        let mut left: Vec<String> = std::fs::read_dir(renders.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["empty", "recent"]);
    }

    #[test]
    fn each_project_has_a_folder_of_its_own_whichever_way_it_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("b")).expect("mkdir");
        let (a, b) = (
            dir.path().join("spawn.toml"),
            dir.path().join("b/spawn.toml"),
        );
        std::fs::write(&a, "").expect("write");
        std::fs::write(&b, "").expect("write");
        let root = Path::new("/cache");
        assert_ne!(folder_in(root, &a), folder_in(root, &b));
        assert_eq!(
            folder_in(root, &a),
            folder_in(root, &dir.path().join("b/../spawn.toml")),
            "the same file by another path"
        );
        assert!(folder_in(root, &a).starts_with("/cache/renders"));
    }
}
