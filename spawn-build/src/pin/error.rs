//! Errors of the pin store. Each names the file or object concerned and, where there is
//! one, what to do about it; callers add the migration name.

use std::io;
use std::path::PathBuf;

use super::hash::ObjectHash;

/// Everything that can go wrong while pinning, reading a snapshot or handling `lock.toml`.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// An I/O error on a named path.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "list", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An object the snapshot needs is not in the store.
    #[error(
        "pinned object {hash} ({}) is missing; restore the pinned/ folder from version control \
         (it must be committed together with lock.toml)",
        path.display()
    )]
    MissingObject {
        /// The object's hash.
        hash: ObjectHash,
        /// Where it should be.
        path: PathBuf,
    },

    /// A file in the store that is not named like an object.
    #[error(
        "{} is not a pinned object (objects are named <2 hex>/<rest of the hash>): remove it",
        path.display()
    )]
    NotAnObject {
        /// The file.
        path: PathBuf,
    },

    /// An object's bytes do not hash to its name.
    #[error(
        "pinned object {hash} ({}) is corrupt: its content hashes to {actual}; restore it from \
         version control (pinned objects must never be edited)",
        path.display()
    )]
    CorruptObject {
        /// The object's hash (its name).
        hash: ObjectHash,
        /// Its file.
        path: PathBuf,
        /// What its current bytes hash to.
        actual: ObjectHash,
    },

    /// An object that should be a tree could not be decoded as one.
    #[error("pinned object {hash} ({}) is not a valid tree: {reason}", path.display())]
    InvalidTree {
        /// The tree's hash.
        hash: ObjectHash,
        /// Its file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file name with a backslash (the original spawn could never pin those).
    #[error("cannot pin {}: file names containing a backslash cannot be pinned; rename the file", path.display())]
    BackslashInName {
        /// The offending file.
        path: PathBuf,
    },

    /// A file name that is not valid UTF-8.
    #[error("cannot pin {}: the file name is not valid UTF-8; rename the file", path.display())]
    NonUtf8Name {
        /// The offending file.
        path: PathBuf,
    },

    /// Something in `components/` that is neither a file nor a directory.
    #[error(
        "cannot pin {}: {what}; only regular files and directories (or symbolic links to them) \
         can be pinned",
        path.display()
    )]
    UnsupportedFile {
        /// The offending path.
        path: PathBuf,
        /// What it is ("broken symbolic link", "not a regular file or directory").
        what: &'static str,
    },

    /// A directory symlink that leads back to one of its ancestors.
    #[error("cannot pin {}: symbolic link loop (it leads back to {})", path.display(), target.display())]
    SymlinkLoop {
        /// The link.
        path: PathBuf,
        /// The ancestor directory it resolves to.
        target: PathBuf,
    },

    /// A `lock.toml` that is not `pin = "<hash>"`.
    #[error("{}:{line}: {message}; a lock file holds one line, pin = \"<hash>\"", path.display())]
    InvalidLock {
        /// The lock file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl PinError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        PinError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
