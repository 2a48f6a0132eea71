//! Looking up components (templates and data files) by name, pinned or from `components/`.
//!
//! A name is a path relative to `components/` with `/` separators, used as an exact key:
//! no `./`, no empty segments, case-sensitive, never relative to the including template
//! (PINS.md §6). A name starting with `/` or containing a `..` segment is an error, since it
//! would leave `components/`. Pinned lookups go to the [`Snapshot`]; directory lookups follow
//! the same rules on disk, so a render reads the same files before and after pinning.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::ComponentSource;
use crate::pin::{PinError, Snapshot};

/// Why a component could not be looked up (as opposed to simply not existing).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    #[error(
        "{name:?} is outside components/: names are paths relative to components/ and may not \
         start with `/` or contain `..`"
    )]
    Escapes { name: String },
    #[error("could not read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A pinned object could not be read; the [`PinError`] itself is kept by
    /// [`Components::take_pin_failure`], so the render can report it as such.
    #[error("{0}")]
    Pin(String),
}

type Cached = Option<Arc<[u8]>>;

/// The components one render reads from, with a cache and a record of what was read.
pub(crate) struct Components {
    source: ComponentSource,
    cache: Mutex<HashMap<String, Cached>>,
    files_read: Mutex<BTreeSet<PathBuf>>,
    found: Mutex<BTreeSet<String>>,
    pin_failure: Mutex<Option<PinError>>,
}

impl Components {
    pub(crate) fn new(source: ComponentSource) -> Self {
        Self {
            source,
            cache: Mutex::default(),
            files_read: Mutex::default(),
            found: Mutex::default(),
            pin_failure: Mutex::default(),
        }
    }

    /// The names of the components found so far (pinned or not).
    pub(crate) fn found(&self) -> BTreeSet<String> {
        self.found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first pinned object that could not be read (missing or corrupt), if any.
    pub(crate) fn take_pin_failure(&self) -> Option<PinError> {
        self.pin_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether no name was looked up yet (no template included or imported, no data file
    /// read).
    pub(crate) fn none_looked_up(&self) -> bool {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Working-tree files read so far.
    pub(crate) fn files_read(&self) -> BTreeSet<PathBuf> {
        self.files_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The bytes of the component `name`, or `None` if there is no such file.
    pub(crate) fn read(&self, name: &str) -> Result<Cached, LookupError> {
        if escapes(name) {
            return Err(LookupError::Escapes {
                name: name.to_owned(),
            });
        }
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return Ok(hit.clone());
        }
        let found: Cached = match &self.source {
            ComponentSource::Pinned(snapshot) => match read_pinned(snapshot, name) {
                Ok(found) => found,
                Err(e) => {
                    let message = e.to_string();
                    self.pin_failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(e);
                    return Err(LookupError::Pin(message));
                }
            },
            ComponentSource::Directory(root) => match read_from_dir(root, name)? {
                Some((path, bytes)) => {
                    self.files_read
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(path);
                    Some(bytes.into())
                }
                None => None,
            },
        };
        if found.is_some() {
            self.found
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned());
        }
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), found.clone());
        Ok(found)
    }

    /// Where names are looked up, for messages.
    pub(crate) fn describe(&self) -> String {
        match &self.source {
            ComponentSource::Directory(root) => root.display().to_string(),
            ComponentSource::Pinned(s) => {
                format!("the pinned snapshot {} of components/", s.root())
            }
        }
    }

    /// How to show the component `name` as a file in messages.
    pub(crate) fn display_name(&self, name: &str) -> String {
        match &self.source {
            ComponentSource::Directory(root) => root.join(name).display().to_string(),
            ComponentSource::Pinned(_) => format!("pinned components/{name}"),
        }
    }
}

/// Whether `name` would leave `components/`.
fn escapes(name: &str) -> bool {
    name.starts_with(['/', '\\'])
        || Path::new(name).is_absolute()
        || name.split(['/', '\\']).any(|segment| segment == "..")
}

fn read_pinned(snapshot: &Snapshot, name: &str) -> Result<Cached, PinError> {
    Ok(snapshot.get(name)?.map(Arc::from))
}

/// Reads `components/<name>` if `name` is a canonical key naming a file there.
fn read_from_dir(root: &Path, name: &str) -> Result<Option<(PathBuf, Vec<u8>)>, LookupError> {
    let canonical_key = !name.is_empty()
        && name
            .split('/')
            .all(|s| !s.is_empty() && s != "." && !s.contains(['\\', '\0']));
    if !canonical_key {
        return Ok(None);
    }
    let mut path = root.to_path_buf();
    for segment in name.split('/') {
        // Exact, case-sensitive match even on file systems that ignore case.
        if !dir_has_entry(&path, OsStr::new(segment))? {
            return Ok(None);
        }
        path.push(segment);
    }
    let io_err = |path: &Path, source| LookupError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {
            let bytes = fs::read(&path).map_err(|e| io_err(&path, e))?;
            Ok(Some((path, bytes)))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path, e)),
    }
}

fn dir_has_entry(dir: &Path, name: &OsStr) -> Result<bool, LookupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(false)
        }
        Err(e) => {
            return Err(LookupError::Io {
                path: dir.to_path_buf(),
                source: e,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| LookupError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        if entry.file_name() == name {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_names_are_rejected() {
        for name in ["/etc/passwd", "../x.sql", "a/../../x", "a/..", "\\x"] {
            assert!(escapes(name), "{name}");
        }
        for name in ["a.sql", "a/b.sql", "..a", "a..b/c", "./a.sql"] {
            assert!(!escapes(name), "{name}");
        }
    }

    #[test]
    fn directory_lookups_use_exact_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("data")).expect("mkdir");
        fs::write(dir.path().join("data/logo.bin"), [1u8, 2]).expect("write");
        let comps = Components::new(ComponentSource::Directory(dir.path().to_path_buf()));
        assert_eq!(
            comps.read("data/logo.bin").expect("read").as_deref(),
            Some(&[1u8, 2][..])
        );
        for miss in [
            "./data/logo.bin",
            "data//logo.bin",
            "DATA/logo.bin",
            "data",
            "data/",
            "nope",
        ] {
            assert!(comps.read(miss).expect("lookup").is_none(), "{miss}");
        }
        assert!(matches!(
            comps.read("../x"),
            Err(LookupError::Escapes { .. })
        ));
        assert_eq!(
            comps.files_read(),
            BTreeSet::from([dir.path().join("data/logo.bin")])
        );
    }
}
