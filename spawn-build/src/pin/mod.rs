//! Pinning: content-addressed snapshots of a project's `components/` folder.
//!
//! `spawn migration pin` stores every file (blob) and directory (tree) of `components/` in
//! `pinned/`, named by the hash of its bytes, and records the root tree's hash in the
//! migration's `lock.toml`. A pinned render reads templates and data files only from that
//! snapshot, so later edits to `components/` leave pinned migrations unchanged.
//!
//! The byte format is that of the original spawn CLI (see `compat/PINS.md`): its XXH3-128
//! pins are read and verified as they are; new pins use SHA-256 in the same layout.
//!
//! * [`hash`] — [`ObjectHash`] and [`HashAlgorithm`];
//! * [`tree`] — the exact bytes of tree objects;
//! * [`store`] — [`PinStore`] (pin, read objects) and [`Snapshot`] (path → verified bytes);
//! * [`lock`] — reading and writing `lock.toml`;
//! * [`verify`] — listing and verifying every file of the store ([`StoreReport`]);
//! * [`error`] — [`PinError`].

pub mod error;
pub mod hash;
pub mod lock;
pub mod store;
pub mod tree;
pub mod verify;

pub use error::PinError;
pub use hash::{HashAlgorithm, ObjectHash, ParseHashError};
pub use lock::{lock_says_repeatable, read_lock, write_lock};
pub use store::{PinStore, Snapshot};
pub use tree::{EntryKind, TreeEntry};
pub use verify::StoreReport;
