//! Tree objects: the byte-exact TOML form of one directory of a snapshot.
//!
//! A tree is `[[entries]]` tables with the keys `kind`, `hash` and `name` in that order,
//! separated by one empty line, ending with a single `\n`; an empty directory is the line
//! `entries = []`. Entries are sorted by the bytes of their *sort key* (the name, plus a
//! trailing `/` for directories). Names are quoted exactly as the original spawn CLI's TOML
//! serialiser did, because the bytes (and therefore every hash above them) depend on it.
//! Encoding is written by hand for that reason; decoding goes through the `toml` crate.

use serde::Deserialize;

use super::hash::ObjectHash;

/// Whether an entry names a file (blob) or a directory (tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum EntryKind {
    /// A file's exact bytes.
    Blob,
    /// A directory, itself a tree object.
    Tree,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            EntryKind::Blob => "Blob",
            EntryKind::Tree => "Tree",
        }
    }
}

/// One entry of a tree object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// File or tree.
    pub kind: EntryKind,
    /// Hash of the named object.
    pub hash: ObjectHash,
    /// Bare file or directory name (no `/`).
    pub name: String,
}

impl TreeEntry {
    /// The byte string entries are ordered by: the name, with `/` appended for directories.
    pub fn sort_key(&self) -> Vec<u8> {
        let mut key = self.name.as_bytes().to_vec();
        if self.kind == EntryKind::Tree {
            key.push(b'/');
        }
        key
    }
}

/// Sorts entries into tree order (byte-wise by [`TreeEntry::sort_key`]).
pub fn sort_entries(entries: &mut [TreeEntry]) {
    entries.sort_by_cached_key(TreeEntry::sort_key);
}

/// The exact bytes of a tree object holding `entries`, which must already be in tree order
/// (see [`sort_entries`]).
pub fn encode_tree(entries: &[TreeEntry]) -> String {
    if entries.is_empty() {
        return "entries = []\n".to_owned();
    }
    let mut out = String::new();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("[[entries]]\nkind = \"");
        out.push_str(entry.kind.as_str());
        out.push_str("\"\nhash = \"");
        out.push_str(&entry.hash.to_string());
        out.push_str("\"\nname = ");
        out.push_str(&quote_name(&entry.name));
        out.push('\n');
    }
    out
}

/// Quotes a name as a TOML string the way the original's serialiser did (PINS.md §3):
/// names with `"` or `\` become literal strings when that is possible, everything else a
/// basic string with escapes.
pub fn quote_name(name: &str) -> String {
    if name.contains(['"', '\\']) {
        if let Some(literal) = literal_string(name) {
            return literal;
        }
    }
    basic_string(name)
}

fn is_forbidden_in_literal(c: char) -> bool {
    (c.is_ascii_control() && c != '\t') || c == '\u{7f}'
}

fn literal_string(name: &str) -> Option<String> {
    if name.contains("'''") || name.chars().any(is_forbidden_in_literal) {
        return None;
    }
    if !name.contains('\'') {
        return Some(format!("'{name}'"));
    }
    if name.ends_with('\'') {
        return None;
    }
    Some(format!("'''{name}'''"))
}

fn basic_string(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Why a tree object could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDecodeError(pub String);

#[derive(Deserialize)]
struct RawTree {
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    kind: EntryKind,
    hash: String,
    name: String,
}

/// Decodes the bytes of a tree object. Entry names must be single path segments (not empty,
/// `.`, `..`, and without `/`), and appear at most once.
pub fn decode_tree(bytes: &[u8]) -> Result<Vec<TreeEntry>, TreeDecodeError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| TreeDecodeError(format!("not valid UTF-8 ({e})")))?;
    let raw: RawTree = toml::from_str(text)
        .map_err(|e| TreeDecodeError(format!("not a tree: {}", e.message())))?;
    let mut seen = std::collections::HashSet::new();
    raw.entries
        .into_iter()
        .map(|e| {
            let hash = e
                .hash
                .parse::<ObjectHash>()
                .map_err(|err| TreeDecodeError(err.to_string()))?;
            if e.name.is_empty() || e.name == "." || e.name == ".." || e.name.contains('/') {
                return Err(TreeDecodeError(format!("invalid entry name {:?}", e.name)));
            }
            if !seen.insert(e.name.clone()) {
                return Err(TreeDecodeError(format!("entry {:?} appears twice", e.name)));
            }
            Ok(TreeEntry {
                kind: e.kind,
                hash,
                name: e.name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin::hash::HashAlgorithm;

    fn xxh(hex: &str) -> ObjectHash {
        hex.parse().expect("test hash")
    }

    #[test]
    fn name_quoting_table_from_pins_md() {
        let cases = [
            (".gitkeep", r#"".gitkeep""#),
            ("with space.sql", r#""with space.sql""#),
            ("it's.sql", r#""it's.sql""#),
            ("q\"uote.sql", r#"'q"uote.sql'"#),
            ("both'\"quotes.sql", r#"'''both'"quotes.sql'''"#),
            ("Ünïcödé-títles.sql", r#""Ünïcödé-títles.sql""#),
            ("tab\t\"q.sql", "'tab\t\"q.sql'"),
            ("a'''b\"c.sql", r#""a'''b\"c.sql""#),
            ("q\"'", r#""q\"'""#),
            ("esc\u{1b}\"x.sql", r#""esc\u001B\"x.sql""#),
            ("del\u{7f}.sql", r#""del\u007F.sql""#),
            ("cr\rq.sql", r#""cr\rq.sql""#),
            ("back\\slash", r#"'back\slash'"#),
            ("nl\nx", r#""nl\nx""#),
        ];
        for (name, expected) in cases {
            assert_eq!(quote_name(name), expected, "name {name:?}");
        }
    }

    #[test]
    fn quoted_names_decode_back() {
        for name in [
            "q\"uote.sql",
            "both'\"quotes.sql",
            "a'''b\"c.sql",
            "q\"'",
            "esc\u{1b}\"x",
            "tab\t\"q",
        ] {
            let entry = TreeEntry {
                kind: EntryKind::Blob,
                hash: HashAlgorithm::Xxh3_128.hash(b""),
                name: name.to_owned(),
            };
            let decoded =
                decode_tree(encode_tree(std::slice::from_ref(&entry)).as_bytes()).expect("decodes");
            assert_eq!(decoded, vec![entry]);
        }
    }

    #[test]
    fn empty_tree_bytes_and_hash() {
        let bytes = encode_tree(&[]);
        assert_eq!(bytes, "entries = []\n");
        assert_eq!(
            HashAlgorithm::Xxh3_128.hash(bytes.as_bytes()).to_string(),
            "3c9035096da0374a13055e4b2e489938"
        );
        assert!(decode_tree(bytes.as_bytes()).expect("decodes").is_empty());
    }

    #[test]
    fn gitkeep_tree_bytes_and_hash() {
        let entries = [TreeEntry {
            kind: EntryKind::Blob,
            hash: HashAlgorithm::Xxh3_128.hash(b""),
            name: ".gitkeep".to_owned(),
        }];
        let bytes = encode_tree(&entries);
        assert_eq!(
            bytes,
            "[[entries]]\nkind = \"Blob\"\nhash = \"99aa06d3014798d86001c324468d497f\"\nname = \".gitkeep\"\n"
        );
        assert_eq!(
            HashAlgorithm::Xxh3_128.hash(bytes.as_bytes()).to_string(),
            "2a4c013df679b98b8e2eddf1c88cefe2"
        );
    }

    #[test]
    fn two_level_tree_from_pins_md() {
        let entries = [
            TreeEntry {
                kind: EntryKind::Blob,
                hash: xxh("99aa06d3014798d86001c324468d497f"),
                name: ".gitkeep".into(),
            },
            TreeEntry {
                kind: EntryKind::Tree,
                hash: xxh("18e29adbfc872c08683d24d37dcda5ea"),
                name: "data".into(),
            },
            TreeEntry {
                kind: EntryKind::Tree,
                hash: xxh("7c39dbc242f1160543e035d66e31c565"),
                name: "functions".into(),
            },
        ];
        let bytes = encode_tree(&entries);
        assert!(bytes.contains("\n\n[[entries]]\nkind = \"Tree\""));
        assert!(bytes.ends_with("name = \"functions\"\n"));
        assert_eq!(
            HashAlgorithm::Xxh3_128.hash(bytes.as_bytes()).to_string(),
            "1f99c3e5e6a3282abd8ae053dfc56821"
        );
    }

    #[test]
    fn sort_rule_puts_directories_after_dash_and_dot() {
        let h = HashAlgorithm::Xxh3_128.hash(b"");
        let blob = |n: &str| TreeEntry {
            kind: EntryKind::Blob,
            hash: h,
            name: n.into(),
        };
        let tree = |n: &str| TreeEntry {
            kind: EntryKind::Tree,
            hash: h,
            name: n.into(),
        };
        let mut entries = vec![
            blob("views_extra.sql"),
            tree("views"),
            blob("views.sql"),
            blob("views-legacy.sql"),
            tree("tables"),
            blob("all_tables.sql"),
            blob("a.sql"),
            blob("A.sql"),
        ];
        sort_entries(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "A.sql",
                "a.sql",
                "all_tables.sql",
                "tables",
                "views-legacy.sql",
                "views.sql",
                "views",
                "views_extra.sql"
            ]
        );
    }

    #[test]
    fn decode_rejects_bad_trees() {
        assert!(decode_tree(b"not toml [").is_err());
        assert!(
            decode_tree(b"[[entries]]\nkind = \"Blob\"\nhash = \"xyz\"\nname = \"a\"\n").is_err()
        );
        let bad_name = "[[entries]]\nkind = \"Blob\"\nhash = \"99aa06d3014798d86001c324468d497f\"\nname = \"../a\"\n";
        assert!(decode_tree(bad_name.as_bytes()).is_err());
    }
}
