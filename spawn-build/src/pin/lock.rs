//! `migrations/<name>/lock.toml`: the one line `pin = "<root tree hash>"` that ties a
//! migration to a snapshot of `components/`; or, for a repeatable migration (never pinned),
//! `repeatable = true` (see [`crate::layout::Markers`]).

use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;

use super::error::PinError;
use super::hash::ObjectHash;
use super::store::write_atomically;

#[derive(Deserialize)]
struct LockFile {
    pin: Option<toml::Spanned<String>>,
    #[serde(default)]
    repeatable: bool,
}

/// Reads a lock file. A missing file is `Ok(None)` (the migration is not pinned); anything
/// other than a TOML document with a `pin` hash is an error naming the file and line.
/// Other keys are ignored, as the original spawn CLI ignored them.
pub fn read_lock(path: &Path) -> Result<Option<ObjectHash>, PinError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PinError::io("read", path, e)),
    };
    parse_lock(&text, path)
}

/// The pin of a lock file's text; `None` for a repeatable migration's `repeatable = true`
/// without one.
fn parse_lock(text: &str, path: &Path) -> Result<Option<ObjectHash>, PinError> {
    let invalid = |offset: usize, message: String| PinError::InvalidLock {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        message,
    };
    let lock: LockFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        invalid(offset, e.message().trim_end().to_owned())
    })?;
    let Some(pin) = lock.pin else {
        return if lock.repeatable {
            Ok(None)
        } else {
            Err(invalid(0, "missing field `pin`".to_owned()))
        };
    };
    let offset = pin.span().start;
    pin.get_ref()
        .parse::<ObjectHash>()
        .map(Some)
        .map_err(|e| invalid(offset, e.to_string()))
}

/// Whether the lock file at `path` says `repeatable = true` (false when it is missing or
/// unreadable: reading it for its pin reports that).
pub fn lock_says_repeatable(path: &Path) -> bool {
    fs::read_to_string(path)
        .ok()
        .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        .and_then(|table| table.get("repeatable").and_then(toml::Value::as_bool))
        .unwrap_or(false)
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Writes `pin = "<hash>"` and a newline to `path` (atomically), replacing any old lock.
pub fn write_lock(path: &Path, pin: &ObjectHash) -> Result<(), PinError> {
    write_atomically(path, format!("pin = \"{pin}\"\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin::hash::HashAlgorithm;

    #[test]
    fn round_trip_and_exact_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m/lock.toml");
        assert_eq!(read_lock(&path).expect("missing is fine"), None);
        let hash = HashAlgorithm::Xxh3_128.hash(b"entries = []\n");
        write_lock(&path, &hash).expect("write");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "pin = \"3c9035096da0374a13055e4b2e489938\"\n"
        );
        assert_eq!(read_lock(&path).expect("read"), Some(hash));
        let sha = HashAlgorithm::Sha256.hash(b"x");
        write_lock(&path, &sha).expect("overwrite");
        assert_eq!(read_lock(&path).expect("read"), Some(sha));
    }

    #[test]
    fn garbage_is_rejected_with_file_and_line() {
        let p = Path::new("migrations/m/lock.toml");
        let err = parse_lock("# comment\npin = \"nothex\"\n", p).expect_err("bad hash");
        let msg = err.to_string();
        assert!(msg.starts_with("migrations/m/lock.toml:2: "), "{msg}");
        assert!(msg.contains("nothex"), "{msg}");

        let err = parse_lock("\n\npin = \n", p).expect_err("bad toml");
        assert!(
            err.to_string().starts_with("migrations/m/lock.toml:3: "),
            "{err}"
        );

        let err = parse_lock("other = 1\n", p).expect_err("no pin");
        assert!(err.to_string().contains("pin"), "{err}");
    }
}
