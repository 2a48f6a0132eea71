//! Property tests of the pin store's parsers: object hashes (`ObjectHash`'s `FromStr`),
//! `lock.toml` (`read_lock`, `write_lock`) and tree objects (`decode_tree`, `encode_tree`).
//!
//! * None of them panics, on arbitrary text, TOML-like text or (lock files and trees)
//!   arbitrary bytes; what they reject, they reject with an error that points into the input.
//! * They read what they write: a hash's text parses back to it (in upper case too), and
//!   only 32 or 64 hex digits parse; `write_lock` then `read_lock` gives the pin back, and so
//!   does a hand-edited lock file with comments and other keys; any list of entries with
//!   valid, distinct names (quotes, backslashes, control characters, non-ASCII), sorted,
//!   encodes to bytes that decode to the same entries and encode again to the same bytes,
//!   and every quoted name is a TOML string holding exactly that name.
//!
//! Reproducing a failure: see `support/mod.rs`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use spawn_build::pin::tree::{decode_tree, encode_tree, quote_name, sort_entries};
use spawn_build::pin::{read_lock, write_lock, EntryKind, ObjectHash, PinError, TreeEntry};
use support::toml_text::toml_text;

fn object_hash() -> impl Strategy<Value = ObjectHash> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(ObjectHash::Sha256),
        any::<[u8; 16]>().prop_map(ObjectHash::Xxh3_128),
    ]
}

/// Text that is often almost a hash.
fn hash_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F]{30,66}",
        "[0-9a-fA-FgG ]{32}|[0-9a-f]{63}[0-9a-fé]",
        any::<String>(),
    ]
}

/// Checks what `FromStr` makes of `text`.
fn check_hash_text(text: &str) -> Result<(), TestCaseError> {
    let is_hash = matches!(text.len(), 32 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit());
    match text.parse::<ObjectHash>() {
        Ok(hash) => {
            prop_assert!(is_hash, "{:?} parsed", text);
            prop_assert_eq!(hash.to_string(), text.to_ascii_lowercase());
            prop_assert_eq!(hash.algorithm().hex_len(), text.len());
            let lower = text.to_ascii_lowercase();
            prop_assert_eq!(
                hash.relative_path(),
                Path::new(&lower[..2]).join(&lower[2..])
            );
        }
        Err(error) => {
            prop_assert!(!is_hash, "{:?} rejected", text);
            prop_assert_eq!(error.text, text);
        }
    }
    Ok(())
}

/// Reads `contents` as a lock file in `dir`; an error must name the file and a line of it.
fn read_lock_bytes(dir: &Path, contents: &[u8]) -> Result<Option<ObjectHash>, TestCaseError> {
    // A new file each time: rewriting one file in place makes ext4 flush it to disk.
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!(
        "lock-{}.toml",
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("write the lock file");
    let result = read_lock(&path);
    std::fs::remove_file(&path).expect("remove the lock file");
    match result {
        Ok(hash) => {
            prop_assert!(hash.is_some(), "an existing lock file reads as no pin");
            Ok(hash)
        }
        Err(PinError::InvalidLock {
            path: named, line, ..
        }) => {
            let lines = contents.iter().filter(|&&b| b == b'\n').count() + 1;
            prop_assert_eq!(named, path);
            prop_assert!((1..=lines).contains(&line), "line {} of {}", line, lines);
            Ok(None)
        }
        Err(PinError::Io { .. }) => {
            prop_assert!(std::str::from_utf8(contents).is_err(), "I/O error on UTF-8");
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!("unexpected error {other:?}"))),
    }
}

const LOCK_KEYS: &[&str] = &["pin", "pin", "hash", "migration"];

/// A hand-edited lock file for `hash`: comments, blank lines and other keys around the pin.
fn lock_text(hash: ObjectHash) -> impl Strategy<Value = String> {
    let comment = "# [^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,20}";
    let value = "[1-9][0-9]{0,2}|\"[^\"\\\\\\x00-\\x1f\\x7f]{0,8}\"|\\[1, 'x'\\]";
    let other = prop_oneof![
        Just(String::new()),
        comment,
        value.prop_map(|v| format!("= {v}"))
    ];
    let pin = select(vec![
        format!("\"{hash}\""),
        format!("'{hash}'"),
        format!("\"{}\"", hash.to_string().to_ascii_uppercase()),
    ]);
    let table = select(&["", "[table]\nx = 1"][..]);
    (vec(other, 0..6), 0..6usize, pin, option::of(comment), table).prop_map(
        |(others, at, pin, comment, table)| {
            let mut lines: Vec<String> = others
                .into_iter()
                .enumerate()
                // `= value` lines become keys of their own; the others stay as they are.
                .map(|(i, line)| match line.strip_prefix('=') {
                    Some(value) => format!("key_{i} ={value}"),
                    None => line,
                })
                .collect();
            let comment = comment.map(|c| format!("  {c}")).unwrap_or_default();
            lines.insert(at.min(lines.len()), format!("pin = {pin}{comment}"));
            lines.push(table.to_owned());
            lines.join("\n")
        },
    )
}

proptest! {
    #![proptest_config(support::config(1024))]

    /// Only 32 or 64 hex digits parse, to the hash that prints as them.
    #[test]
    fn hash_text_parses_only_when_it_is_a_hash(text in hash_like_text()) {
        check_hash_text(&text)?;
    }

    /// A hash's text parses back to it.
    #[test]
    fn hash_text_round_trips(hash in object_hash(), upper in any::<bool>()) {
        let text = hash.to_string();
        let text = if upper { text.to_ascii_uppercase() } else { text };
        prop_assert_eq!(text.parse::<ObjectHash>(), Ok(hash));
    }
}

proptest! {
    // Few cases: `write_lock` syncs the file to disk, and all hashes print alike.
    #![proptest_config(support::config(8))]

    /// `write_lock` then `read_lock` gives the pin back.
    #[test]
    fn lock_files_round_trip(hash in object_hash()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m/lock.toml");
        write_lock(&path, &hash).expect("write_lock");
        prop_assert_eq!(read_lock(&path).expect("read_lock"), Some(hash));
    }
}

/// Comments, other keys and a literal or upper-case pin do not change what is read.
#[test]
fn hand_edited_lock_files_read_as_their_pin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let strategy = object_hash().prop_flat_map(|hash| (Just(hash), lock_text(hash)));
    support::run(256, file!(), strategy, |(hash, text)| {
        prop_assert_eq!(
            read_lock_bytes(dir.path(), text.as_bytes())?,
            Some(hash),
            "{:?}",
            text
        );
        Ok(())
    });
}

/// Arbitrary bytes, text and TOML-like text: a pin or an error naming a line.
#[test]
fn lock_files_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let strategy = (
        vec(any::<u8>(), 0..100),
        any::<String>(),
        toml_text(LOCK_KEYS),
    );
    support::run(256, file!(), strategy, |(bytes, text, toml)| {
        for contents in [&bytes[..], text.as_bytes(), toml.as_bytes()] {
            read_lock_bytes(dir.path(), contents)?;
        }
        Ok(())
    });
}

/// Pieces of file names that need care in TOML.
#[rustfmt::skip]
const NAME_PIECES: &[&str] = &[
    "'", "''", "'''", "\"", "\\", "\t", "\n", "\r", "\u{7f}", "\u{1b}", "\0", "\u{8}", "\u{c}",
    "\u{85}", "\u{2028}", "é", "😀", " ", ".", "#", "=", "[", "]", "a", "B", "-", "_", "$",
];

/// A valid entry name: not empty, `.` or `..`, and without `/`.
fn entry_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^/]{1,12}",
        vec(select(NAME_PIECES), 1..6).prop_map(|pieces| pieces.concat()),
    ]
    .prop_filter("not a path segment", |name| name != "." && name != "..")
}

fn entry_kind() -> impl Strategy<Value = EntryKind> {
    prop_oneof![Just(EntryKind::Blob), Just(EntryKind::Tree)]
}

/// Entries with distinct names, in tree order.
fn entries() -> impl Strategy<Value = Vec<TreeEntry>> {
    btree_map(entry_name(), (entry_kind(), object_hash()), 0..8).prop_map(
        |entries: BTreeMap<String, (EntryKind, ObjectHash)>| {
            let mut entries: Vec<_> = entries
                .into_iter()
                .map(|(name, (kind, hash))| TreeEntry { kind, hash, name })
                .collect();
            sort_entries(&mut entries);
            entries
        },
    )
}

const TREE_KEYS: &[&str] = &["entries", "kind", "hash", "name"];

proptest! {
    #![proptest_config(support::config(512))]

    /// Encoded trees decode to their entries, and encode again to the same bytes.
    #[test]
    fn trees_round_trip(entries in entries()) {
        let bytes = encode_tree(&entries);
        let decoded = decode_tree(bytes.as_bytes());
        prop_assert_eq!(decoded.as_ref(), Ok(&entries), "{}", bytes);
        prop_assert_eq!(encode_tree(&entries), bytes);
    }

    /// A quoted name is a TOML string holding exactly the name.
    #[test]
    fn quoted_names_are_toml_strings_of_the_name(name in entry_name()) {
        let quoted = quote_name(&name);
        let document = format!("name = {quoted}");
        let table: toml::Table = toml::from_str(&document)
            .map_err(|e| TestCaseError::fail(format!("{document:?}: {e}")))?;
        prop_assert_eq!(table["name"].as_str(), Some(name.as_str()), "{}", document);
        if quoted.starts_with('\'') {
            prop_assert!(name.contains(['"', '\\']), "literal string for {:?}", name);
        }
    }

    /// Arbitrary bytes, text and TOML-like text: entries that are valid, or an error.
    #[test]
    fn tree_decoding_never_panics(
        bytes in vec(any::<u8>(), 0..100),
        text in any::<String>(),
        toml in toml_text(TREE_KEYS),
    ) {
        for contents in [&bytes[..], text.as_bytes(), toml.as_bytes()] {
            if let Ok(entries) = decode_tree(contents) {
                let mut names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
                prop_assert!(names.iter().all(|n| !n.is_empty() && *n != "." && *n != ".." && !n.contains('/')));
                names.sort_unstable();
                names.dedup();
                prop_assert_eq!(names.len(), entries.len(), "duplicate names");
            }
        }
    }
}
