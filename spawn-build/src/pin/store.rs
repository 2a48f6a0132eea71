//! The object store under `pinned/`, pinning a `components/` folder into it, and reading a
//! pinned snapshot back.
//!
//! Objects live at `pinned/<first 2 hex>/<remaining hex>`; blobs are raw file bytes, trees
//! are the TOML documents of [`super::tree`]. Writes are atomic (temporary file + rename) and
//! existing objects are left alone, so concurrent pins of the same content are harmless.
//! Every read checks the bytes against the hash they are filed under.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::PinError;
use super::hash::{HashAlgorithm, ObjectHash};
use super::tree::{decode_tree, encode_tree, sort_entries, EntryKind, TreeEntry};

/// A content-addressed object store (the `pinned/` folder of a project).
#[derive(Debug, Clone)]
pub struct PinStore {
    dir: PathBuf,
    algorithm: HashAlgorithm,
}

impl PinStore {
    /// A store in `pinned_dir` that pins new snapshots with SHA-256.
    pub fn new(pinned_dir: impl Into<PathBuf>) -> Self {
        Self::with_algorithm(pinned_dir, HashAlgorithm::Sha256)
    }

    /// A store in `pinned_dir` that pins with `algorithm` (XXH3-128 reproduces the original
    /// spawn CLI's pins). Reading works for both algorithms either way.
    pub fn with_algorithm(pinned_dir: impl Into<PathBuf>, algorithm: HashAlgorithm) -> Self {
        Self {
            dir: pinned_dir.into(),
            algorithm,
        }
    }

    /// The `pinned/` folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The algorithm [`PinStore::pin`] hashes new objects with.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Where the object named `hash` is (or would be) stored.
    pub fn object_path(&self, hash: &ObjectHash) -> PathBuf {
        self.dir.join(hash.relative_path())
    }

    /// Snapshots `components_dir` into the store and returns the root tree's hash.
    ///
    /// A missing `components_dir` pins as the empty tree. Symbolic links are followed; file
    /// names must be UTF-8 and free of backslashes.
    pub fn pin(&self, components_dir: &Path) -> Result<ObjectHash, PinError> {
        match fs::metadata(components_dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.write_object(encode_tree(&[]).as_bytes())
            }
            Err(e) => Err(PinError::io("read", components_dir, e)),
            Ok(meta) if meta.is_dir() => self.pin_dir(components_dir, &mut Vec::new()),
            Ok(_) => Err(PinError::UnsupportedFile {
                path: components_dir.to_path_buf(),
                what: "components/ is not a directory",
            }),
        }
    }

    fn pin_dir(&self, dir: &Path, ancestors: &mut Vec<PathBuf>) -> Result<ObjectHash, PinError> {
        let canonical = fs::canonicalize(dir).map_err(|e| PinError::io("resolve", dir, e))?;
        if let Some(target) = ancestors.iter().find(|a| **a == canonical) {
            return Err(PinError::SymlinkLoop {
                path: dir.to_path_buf(),
                target: target.clone(),
            });
        }
        ancestors.push(canonical);

        let mut entries = Vec::new();
        let listing = fs::read_dir(dir).map_err(|e| PinError::io("list", dir, e))?;
        for item in listing {
            let item = item.map_err(|e| PinError::io("list", dir, e))?;
            let path = item.path();
            let name = item
                .file_name()
                .into_string()
                .map_err(|_| PinError::NonUtf8Name { path: path.clone() })?;
            if name.contains('\\') {
                return Err(PinError::BackslashInName { path });
            }
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(PinError::UnsupportedFile {
                        path,
                        what: "broken symbolic link",
                    })
                }
                Err(e) => return Err(PinError::io("read", path, e)),
            };
            let (kind, hash) = if meta.is_dir() {
                (EntryKind::Tree, self.pin_dir(&path, ancestors)?)
            } else if meta.is_file() {
                let bytes = fs::read(&path).map_err(|e| PinError::io("read", &path, e))?;
                (EntryKind::Blob, self.write_object(&bytes)?)
            } else {
                return Err(PinError::UnsupportedFile {
                    path,
                    what: "not a regular file or directory",
                });
            };
            entries.push(TreeEntry { kind, hash, name });
        }
        ancestors.pop();

        sort_entries(&mut entries);
        self.write_object(encode_tree(&entries).as_bytes())
    }

    /// Stores `bytes` under their hash (unless already present) and returns that hash.
    fn write_object(&self, bytes: &[u8]) -> Result<ObjectHash, PinError> {
        let hash = self.algorithm.hash(bytes);
        let path = self.object_path(&hash);
        if path.is_file() {
            return Ok(hash);
        }
        write_atomically(&path, bytes)?;
        Ok(hash)
    }

    /// Reads the object `hash` and checks that its bytes hash to it.
    pub fn read_object(&self, hash: &ObjectHash) -> Result<Vec<u8>, PinError> {
        let path = self.object_path(hash);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(PinError::MissingObject { hash: *hash, path })
            }
            Err(e) => return Err(PinError::io("read", path, e)),
        };
        let actual = hash.algorithm().hash(&bytes);
        if actual != *hash {
            return Err(PinError::CorruptObject {
                hash: *hash,
                path,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Reads and verifies every tree under `root` and returns the snapshot it describes.
    /// Blobs are verified later, when they are read through [`Snapshot::get`].
    pub fn snapshot(&self, root: &ObjectHash) -> Result<Snapshot, PinError> {
        let mut walk = SnapshotWalk {
            store: self,
            trees: HashMap::new(),
            files: BTreeMap::new(),
        };
        walk.visit(root, "")?;
        Ok(Snapshot {
            store: self.clone(),
            root: *root,
            trees: walk.trees.into_keys().collect(),
            files: walk.files,
        })
    }
}

struct SnapshotWalk<'a> {
    store: &'a PinStore,
    trees: HashMap<ObjectHash, Vec<TreeEntry>>,
    files: BTreeMap<String, ObjectHash>,
}

impl SnapshotWalk<'_> {
    fn visit(&mut self, tree: &ObjectHash, prefix: &str) -> Result<(), PinError> {
        let entries = match self.trees.get(tree) {
            Some(entries) => entries.clone(),
            None => {
                let entries = self.load(tree)?;
                self.trees.insert(*tree, entries.clone());
                entries
            }
        };
        for entry in entries {
            let path = if prefix.is_empty() {
                entry.name
            } else {
                format!("{prefix}/{}", entry.name)
            };
            match entry.kind {
                EntryKind::Blob => {
                    self.files.insert(path, entry.hash);
                }
                EntryKind::Tree => self.visit(&entry.hash, &path)?,
            }
        }
        Ok(())
    }

    fn load(&self, tree: &ObjectHash) -> Result<Vec<TreeEntry>, PinError> {
        let bytes = self.store.read_object(tree)?;
        let invalid = |reason: String| PinError::InvalidTree {
            hash: *tree,
            path: self.store.object_path(tree),
            reason,
        };
        let entries = decode_tree(&bytes).map_err(|e| invalid(e.0))?;
        if let Some(e) = entries
            .iter()
            .find(|e| e.hash.algorithm() != tree.algorithm())
        {
            return Err(invalid(format!(
                "entry {:?} is a {} hash inside a {} tree",
                e.name,
                e.hash.algorithm(),
                tree.algorithm()
            )));
        }
        Ok(entries)
    }
}

/// A pinned `components/` folder: relative path (`schema/tables/books.sql`) → blob.
///
/// Paths are exact keys: no normalisation, no `./`, case-sensitive (PINS.md §6).
#[derive(Debug, Clone)]
pub struct Snapshot {
    store: PinStore,
    root: ObjectHash,
    trees: BTreeSet<ObjectHash>,
    files: BTreeMap<String, ObjectHash>,
}

impl Snapshot {
    /// The root tree's hash (what `lock.toml` names).
    pub fn root(&self) -> &ObjectHash {
        &self.root
    }

    /// The store the snapshot reads from.
    pub fn store(&self) -> &PinStore {
        &self.store
    }

    /// Whether `path` names a file of the snapshot.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The hash of the file at `path`, if the snapshot has one.
    pub fn hash_of(&self, path: &str) -> Option<&ObjectHash> {
        self.files.get(path)
    }

    /// The bytes of the file at `path` (`None` if the snapshot has no such file), verified
    /// against their hash.
    pub fn get(&self, path: &str) -> Result<Option<Vec<u8>>, PinError> {
        match self.files.get(path) {
            Some(hash) => self.store.read_object(hash).map(Some),
            None => Ok(None),
        }
    }

    /// Every file of the snapshot: relative path and blob hash, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &ObjectHash)> + '_ {
        self.files.iter().map(|(path, hash)| (path.as_str(), hash))
    }

    /// Every object file the snapshot depends on (trees and blobs), sorted and deduplicated;
    /// meant for `cargo:rerun-if-changed`.
    pub fn object_paths(&self) -> Vec<PathBuf> {
        let hashes: BTreeSet<&ObjectHash> = self.trees.iter().chain(self.files.values()).collect();
        hashes
            .into_iter()
            .map(|h| self.store.object_path(h))
            .collect()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers never see a half-written file. Creates the parent directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PinError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(parent).map_err(|e| PinError::io("create", parent, e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        // Another writer may have stored the same content meanwhile.
        if !path.is_file() {
            return Err(PinError::io("write", path, e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    }

    fn components() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "a.sql", b"SELECT 1;\n");
        write(
            dir.path(),
            "schema/tables/books.sql",
            b"CREATE TABLE books ();\n",
        );
        write(dir.path(), "schema/views.sql", b"-- views\n");
        write(dir.path(), "data/logo.bin", &[0x89, 0x50, 0x00, 0xff]);
        fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
        dir
    }

    #[test]
    fn pin_snapshot_get_round_trip_sha256() {
        let comps = components();
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::new(store_dir.path());
        let root = store.pin(comps.path()).expect("pin");
        assert_eq!(root.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(store.pin(comps.path()).expect("re-pin"), root);

        let snap = store.snapshot(&root).expect("snapshot");
        assert_eq!(snap.root(), &root);
        let paths: Vec<&str> = snap.files().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "a.sql",
                "data/logo.bin",
                "schema/tables/books.sql",
                "schema/views.sql"
            ]
        );
        assert_eq!(
            snap.get("schema/tables/books.sql").expect("read"),
            Some(b"CREATE TABLE books ();\n".to_vec())
        );
        assert_eq!(
            snap.get("data/logo.bin").expect("read"),
            Some(vec![0x89, 0x50, 0x00, 0xff])
        );
        assert_eq!(snap.get("./a.sql").expect("read"), None);
        assert_eq!(snap.get("schema").expect("read"), None);
        assert_eq!(snap.get("A.sql").expect("read"), None);

        // 4 blobs + trees: root, schema, schema/tables, data, empty.
        let objects = snap.object_paths();
        assert_eq!(objects.len(), 9);
        assert!(objects.iter().all(|p| p.is_file()));
        // Every object hashes to its own path and no temporary files are left behind.
        for entry in walkdir::WalkDir::new(store_dir.path()) {
            let entry = entry.expect("walk");
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(store_dir.path()).expect("prefix");
                let hex: String = rel.iter().map(|c| c.to_string_lossy()).collect();
                let hash: ObjectHash = hex.parse().expect("object named by hash");
                assert!(hash.matches(&fs::read(entry.path()).expect("read")));
            }
        }
    }

    #[test]
    fn missing_components_dir_is_the_empty_tree() {
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::with_algorithm(store_dir.path(), HashAlgorithm::Xxh3_128);
        let root = store
            .pin(&store_dir.path().join("no-such-dir"))
            .expect("pin");
        assert_eq!(root.to_string(), "3c9035096da0374a13055e4b2e489938");
        assert!(store_dir
            .path()
            .join("3c/9035096da0374a13055e4b2e489938")
            .is_file());
        assert_eq!(store.snapshot(&root).expect("snapshot").files().count(), 0);
    }

    #[test]
    fn tampered_blob_is_detected_on_read() {
        let comps = components();
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::new(store_dir.path());
        let root = store.pin(comps.path()).expect("pin");
        let snap = store.snapshot(&root).expect("snapshot");
        let hash = *snap.hash_of("a.sql").expect("a.sql pinned");
        fs::write(store.object_path(&hash), b"DROP TABLE books;\n").expect("tamper");
        let err = snap.get("a.sql").expect_err("tampering must be detected");
        assert!(matches!(err, PinError::CorruptObject { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("pinned object {hash}")),
            "{err}"
        );
        assert!(err.to_string().contains("is corrupt"), "{err}");
    }

    #[test]
    fn missing_objects_are_detected() {
        let comps = components();
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::new(store_dir.path());
        let root = store.pin(comps.path()).expect("pin");
        let snap = store.snapshot(&root).expect("snapshot");

        let blob = *snap.hash_of("schema/views.sql").expect("pinned");
        fs::remove_file(store.object_path(&blob)).expect("remove");
        let err = snap.get("schema/views.sql").expect_err("missing blob");
        assert!(matches!(err, PinError::MissingObject { .. }), "{err}");
        assert!(err.to_string().contains("is missing"), "{err}");

        fs::remove_file(store.object_path(&root)).expect("remove root");
        let err = store.snapshot(&root).expect_err("missing root tree");
        assert!(
            matches!(err, PinError::MissingObject { hash, .. } if hash == root),
            "{err}"
        );
    }

    #[test]
    fn tampered_tree_is_detected() {
        let comps = components();
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::new(store_dir.path());
        let root = store.pin(comps.path()).expect("pin");
        fs::write(store.object_path(&root), b"entries = []\n").expect("tamper");
        let err = store.snapshot(&root).expect_err("tampered tree");
        assert!(matches!(err, PinError::CorruptObject { .. }), "{err}");
    }

    #[test]
    fn tree_entries_must_share_the_tree_algorithm() {
        let store_dir = tempfile::tempdir().expect("tempdir");
        let xxh_blob = HashAlgorithm::Xxh3_128.hash(b"");
        let tree = encode_tree(&[TreeEntry {
            kind: EntryKind::Blob,
            hash: xxh_blob,
            name: "x".into(),
        }]);
        let store = PinStore::new(store_dir.path());
        let root = store.write_object(tree.as_bytes()).expect("write");
        let err = store.snapshot(&root).expect_err("mixed algorithms");
        assert!(matches!(err, PinError::InvalidTree { .. }), "{err}");
    }

    #[test]
    fn backslash_names_cannot_be_pinned() {
        let comps = tempfile::tempdir().expect("tempdir");
        if fs::write(comps.path().join("bad\\name.sql"), b"x").is_err() {
            return; // the platform treats `\` as a separator
        }
        let store_dir = tempfile::tempdir().expect("tempdir");
        let err = PinStore::new(store_dir.path())
            .pin(comps.path())
            .expect_err("backslash");
        assert!(matches!(err, PinError::BackslashInName { .. }), "{err}");
        assert!(err.to_string().contains("bad\\name.sql"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_to_files_are_followed_and_loops_rejected() {
        let comps = components();
        std::os::unix::fs::symlink(comps.path().join("a.sql"), comps.path().join("link.sql"))
            .expect("symlink");
        let store_dir = tempfile::tempdir().expect("tempdir");
        let store = PinStore::new(store_dir.path());
        let snap = store
            .snapshot(&store.pin(comps.path()).expect("pin"))
            .expect("snapshot");
        assert_eq!(
            snap.get("link.sql").expect("read"),
            Some(b"SELECT 1;\n".to_vec())
        );

        std::os::unix::fs::symlink(comps.path(), comps.path().join("schema/loop"))
            .expect("symlink");
        let err = store.pin(comps.path()).expect_err("loop");
        assert!(matches!(err, PinError::SymlinkLoop { .. }), "{err}");
    }
}
