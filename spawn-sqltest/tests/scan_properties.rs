//! Properties of the scanner on arbitrary input: it never panics, and without
//! meta-commands or variables nothing but whitespace is lost or invented.

use proptest::prelude::*;
use spawn_sqltest::psql::meta::validate_script;
use spawn_sqltest::psql::scan::{Item, Scanner};
use spawn_sqltest::psql::vars::Variables;

/// Scripts rich in the characters the lexers treat specially.
fn script(alphabet: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..60)
        .prop_map(|pieces| pieces.concat())
}

const EVERYTHING: &[&str] = &[
    "select", " ", "\n", "\r", "\t", ";", "'", "\"", "$", "$a$", "$$", "(", ")", "/*", "*/", "--",
    "-", "*", "/", "\\", "\\\\", "\\;", ":", "::", ":v", ":'v'", ":\"v\"", ":{?v}", "`", "E'",
    "U&'", "U&\"", "b'", "begin", "end", "case", "create", "function", "atomic", "\\echo", "\\set",
    "\\if", "\\elif", "\\else", "\\endif", "\\g", "\\gset", "\\d", "x", "1", "é", "\\x41", "''",
    "\u{feff}",
];

/// No backslash (no meta-commands), no colon (no variables), no dash (no `--` comments).
const PLAIN_SQL: &[&str] = &[
    "select",
    " ",
    "\n",
    "\r",
    "\t",
    "\x0c",
    ";",
    "'",
    "\"",
    "$",
    "$a$",
    "$$",
    "$b$",
    "(",
    ")",
    "/*",
    "*/",
    "*",
    "/",
    "E'",
    "U&'",
    "U&\"",
    "b'",
    "x'",
    "begin",
    "end",
    "case",
    "create",
    "or",
    "replace",
    "function",
    "procedure",
    "atomic",
    "x",
    "1",
    "1.5e3",
    "é",
    "''",
    "\"\"",
];

/// True if `sent` is `lines` concatenated, each line possibly cut where a `--` starts.
fn accounts_for(lines: &[String], sent: &str) -> bool {
    let Some((line, others)) = lines.split_first() else {
        return sent.is_empty();
    };
    (0..=line.len())
        .filter(|&at| at == line.len() || line[at..].starts_with("--"))
        .any(|at| {
            sent.strip_prefix(&line[..at])
                .is_some_and(|rest| accounts_for(others, rest))
        })
}

fn non_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

proptest! {
    #[test]
    fn never_panics(text in script(EVERYTHING), active in any::<bool>()) {
        let mut vars = Variables::new();
        vars.set("v", Some("a;b :v '")).expect("set v");
        let mut scanner = Scanner::new(text.as_str());
        // Every call consumes input or ends the script, so this terminates.
        for _ in 0..10_000 {
            match scanner.next(&vars, active) {
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => break,
            }
        }
        let _ = validate_script(&text);
    }

    #[test]
    fn plain_sql_loses_only_whitespace(text in script(PLAIN_SQL)) {
        let mut scanner = Scanner::new(text.as_str());
        let vars = Variables::new();
        let mut sent = String::new();
        while let Some(item) = scanner.next(&vars, true).expect("plain SQL scans") {
            match item {
                Item::Query { text, .. } => sent.push_str(&text),
                other => panic!("unexpected {other:?}"),
            }
        }
        prop_assert_eq!(non_whitespace(&sent), non_whitespace(&text));
    }

    #[test]
    fn dash_comments_are_the_only_other_loss(text in script(&[
        "select", " ", "\n", ";", "'", "--", "-", "/*", "*/", "x", "$$",
    ])) {
        let mut scanner = Scanner::new(text.as_str());
        let vars = Variables::new();
        let mut sent = String::new();
        while let Some(item) = scanner.next(&vars, true).expect("plain SQL scans") {
            if let Item::Query { text, .. } = item {
                sent.push_str(&text);
            }
        }
        // What was sent is the input's non-whitespace in order, with some `--…` line
        // comments (those before a query's first token) left out.
        let lines: Vec<String> = text.split('\n').map(non_whitespace).collect();
        prop_assert!(
            accounts_for(&lines, &non_whitespace(&sent)),
            "{:?} is not {:?} less some -- comments",
            sent,
            text
        );
    }
}
