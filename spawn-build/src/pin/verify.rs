//! Listing and verifying the files of a pin store in one walk over `pinned/`: every file must
//! be an object named by its hash (`pinned/<2 hex>/<rest>`) whose bytes hash to that name.
//!
//! This checks the store as a whole, objects no pin uses included; whether every pin's
//! snapshot is complete is [`crate::project::Project::verify_pins`]'s question.

use std::path::{Path, PathBuf};

use super::error::PinError;
use super::hash::ObjectHash;
use super::store::PinStore;

/// What [`PinStore::verify`] found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct StoreReport {
    /// Every file under `pinned/` (temporary files too, `.gitkeep` not), sorted.
    pub files: Vec<PathBuf>,
    /// Files that are not objects, and objects whose bytes do not hash to their name.
    pub problems: Vec<PinError>,
}

impl PinStore {
    /// Every file under `pinned/` (temporary files too, `.gitkeep` not), sorted. A missing
    /// `pinned/` folder holds none.
    pub fn files(&self) -> Result<Vec<PathBuf>, PinError> {
        let mut files = Vec::new();
        if !self.dir().is_dir() {
            return Ok(files);
        }
        for entry in walkdir::WalkDir::new(self.dir()).min_depth(1) {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(self.dir()).to_path_buf();
                PinError::io("list", path, e.into())
            })?;
            if entry.file_type().is_file() && entry.file_name() != ".gitkeep" {
                files.push(entry.into_path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// The hash the object file `file` is named by (`pinned/ab/cdef…` → `abcdef…`), or `None`
    /// when `file` is not named like an object of this store.
    pub fn hash_of_file(&self, file: &Path) -> Option<ObjectHash> {
        let rel = file.strip_prefix(self.dir()).ok()?;
        let parts: Vec<&str> = rel.iter().map(|c| c.to_str()).collect::<Option<_>>()?;
        match parts.as_slice() {
            [dir, rest] if dir.len() == 2 => format!("{dir}{rest}").parse().ok(),
            _ => None,
        }
    }

    /// Reads every file under `pinned/` once and checks that it is an object whose bytes
    /// hash to its name. `Err` only when the folder cannot be listed.
    pub fn verify(&self) -> Result<StoreReport, PinError> {
        let files = self.files()?;
        let problems = files
            .iter()
            .filter_map(|file| match self.hash_of_file(file) {
                None => Some(PinError::NotAnObject { path: file.clone() }),
                Some(hash) => self.read_object(&hash).err(),
            })
            .collect();
        Ok(StoreReport { files, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_listed_once_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let components = dir.path().join("components");
        std::fs::create_dir_all(&components).expect("mkdir");
        std::fs::write(components.join("a.sql"), "SELECT 1;\n").expect("write");
        let store = PinStore::new(dir.path().join("pinned"));
        let root = store.pin(&components).expect("pin");
        let snapshot = store.snapshot(&root).expect("snapshot");
        let blob = *snapshot.hash_of("a.sql").expect("a.sql pinned");
        std::fs::write(store.object_path(&blob), "tampered").expect("tamper");
        std::fs::write(store.dir().join("stray.txt"), "x").expect("write");
        std::fs::write(store.dir().join(".gitkeep"), "").expect("write");

        let report = store.verify().expect("verify");
        assert_eq!(report.files.len(), 3, "{:?}", report.files);
        assert_eq!(store.hash_of_file(&store.object_path(&root)), Some(root));
        let text: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text.iter()
                .any(|t| t.contains("stray.txt is not a pinned object")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains(&format!("{blob}")) && t.contains("is corrupt")),
            "{text:?}"
        );
    }

    #[test]
    fn a_missing_store_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = PinStore::new(dir.path().join("pinned"))
            .verify()
            .expect("verify");
        assert!(report.files.is_empty() && report.problems.is_empty());
    }
}
