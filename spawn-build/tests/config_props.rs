//! Property tests of the `spawn.toml` parser, `SpawnToml::parse` (what `SpawnToml::load`
//! runs on the file's text).
//!
//! * It never panics, on arbitrary text or on TOML-like text made of the keys it knows,
//!   values of every kind, junk and non-ASCII; a syntax error names the file and a line and
//!   column that exist in the text.
//! * A valid file, written by a TOML serialiser from generated settings (target names and
//!   values with quotes, spaces and non-ASCII), parses to those settings: folders resolved
//!   against the folder of `spawn.toml`, defaults where a key is missing, and other keys of
//!   a target kept as they are.
//!
//! Reproducing a failure: see `support/mod.rs`.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use spawn_build::spawn_toml::{ConfigError, SpawnToml, DEFAULT_ENVIRONMENT, DEFAULT_SPAWN_SCHEMA};
use support::toml_text::toml_text;

const KEYS: &[&str] = &[
    "spawn_folder",
    "target",
    "variables",
    "targets",
    "targets.local",
    "targets.\"x y\"",
    "environment",
    "spawn_schema",
    "spawn_database",
    "url",
    "engine",
    "command",
];

/// Checks the result of parsing `text`: settings, or an error pointing into `text`.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    let path = Path::new("/project/spawn.toml");
    match SpawnToml::parse(path, text) {
        Ok(config) => {
            if let Some(name) = &config.default_target {
                prop_assert!(config.targets.contains_key(name));
            }
            for (name, target) in &config.targets {
                prop_assert_eq!(&target.name, name);
            }
        }
        Err(ConfigError::Parse {
            path: named,
            message,
        }) => {
            prop_assert_eq!(named, path);
            // `line L, column C: …` when the TOML parser knows where.
            if let Some((line, column)) = message
                .strip_prefix("line ")
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(position, _)| position.split_once(", column "))
            {
                let line: usize = line.parse().expect("a line number");
                let column: usize = column.parse().expect("a column number");
                let lines: Vec<&str> = text.split('\n').collect();
                prop_assert!((1..=lines.len()).contains(&line), "{}", message);
                let columns = lines[line - 1].chars().count() + 1;
                prop_assert!((1..=columns).contains(&column), "{}", message);
            }
        }
        Err(ConfigError::UnknownTarget { path: named, .. }) => prop_assert_eq!(named, path),
        Err(error @ ConfigError::Read { .. }) => {
            return Err(TestCaseError::fail(format!("parse read a file: {error}")))
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(support::config(1024))]

    /// Arbitrary text: settings or an error, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_parse(&text)?;
    }

    /// TOML-like text made of the keys `spawn.toml` has: settings or an error.
    #[test]
    fn toml_like_text_never_panics(text in toml_text(KEYS)) {
        check_parse(&text)?;
    }
}

/// One generated `[targets.<name>]` section.
#[derive(Debug, Clone)]
struct TargetSettings {
    environment: Option<String>,
    spawn_schema: Option<String>,
    spawn_database: Option<String>,
    url: Option<String>,
    variables: Option<String>,
    engine: Option<String>,
}

/// Text for names and values: quotes, backslashes, spaces, `$` and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.'\"\\\\$é日😀-]{1,12}"
}

/// A relative folder, with or without a trailing slash.
fn folder() -> impl Strategy<Value = String> {
    "[a-z0-9_é]{1,8}(/[a-z0-9_é ]{1,8})?/?"
}

fn target_settings() -> impl Strategy<Value = TargetSettings> {
    (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(folder()),
        option::of(text()),
    )
        .prop_map(
            |(environment, spawn_schema, spawn_database, url, variables, engine)| TargetSettings {
                environment,
                spawn_schema,
                spawn_database,
                url,
                variables,
                engine,
            },
        )
}

/// Generated settings: `(spawn_folder, variables, targets, index of the default target)`.
type Settings = (
    Option<String>,
    Option<String>,
    BTreeMap<String, TargetSettings>,
    Option<usize>,
);

fn settings() -> impl Strategy<Value = Settings> {
    (
        option::of(folder()),
        option::of(folder()),
        btree_map(text(), target_settings(), 0..4),
        option::of(0..4usize),
    )
}

/// Sets `key` to `value` in `table` if there is a value.
fn put(table: &mut toml::Table, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        table.insert(key.to_owned(), toml::Value::String(value.clone()));
    }
}

/// `spawn.toml` holding `settings`, written by the `toml` crate's serialiser.
fn write_toml(settings: &Settings) -> String {
    let (spawn_folder, variables, targets, default) = settings;
    let mut file = toml::Table::new();
    put(&mut file, "spawn_folder", spawn_folder);
    put(&mut file, "variables", variables);
    let default = default.and_then(|i| targets.keys().nth(i)).cloned();
    put(&mut file, "target", &default);
    let mut sections = toml::Table::new();
    for (name, target) in targets {
        let mut section = toml::Table::new();
        put(&mut section, "environment", &target.environment);
        put(&mut section, "spawn_schema", &target.spawn_schema);
        put(&mut section, "spawn_database", &target.spawn_database);
        put(&mut section, "url", &target.url);
        put(&mut section, "variables", &target.variables);
        put(&mut section, "engine", &target.engine);
        sections.insert(name.clone(), toml::Value::Table(section));
    }
    if !targets.is_empty() {
        file.insert("targets".to_owned(), toml::Value::Table(sections));
    }
    toml::to_string(&file).expect("serialise spawn.toml")
}

/// `folder` resolved against `/project`, as documented: a trailing slash changes nothing.
fn resolved(folder: &str) -> std::path::PathBuf {
    Path::new("/project").join(folder.trim_end_matches('/'))
}

proptest! {
    #![proptest_config(support::config(512))]

    /// A valid file parses to the settings it was written from.
    #[test]
    fn valid_files_parse_to_their_settings(settings in settings()) {
        let text = write_toml(&settings);
        let config = SpawnToml::parse(Path::new("/project/spawn.toml"), &text)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        let (spawn_folder, variables, targets, _) = &settings;
        let expected_folder = spawn_folder.as_deref().map_or_else(|| "/project".into(), resolved);
        prop_assert_eq!(&config.spawn_folder, &expected_folder, "{}", text);
        prop_assert_eq!(config.variables.clone(), variables.as_deref().map(resolved));
        prop_assert_eq!(
            config.targets.keys().collect::<Vec<_>>(),
            targets.keys().collect::<Vec<_>>()
        );
        for (name, expected) in targets {
            let target = &config.targets[name];
            let or = |value: &Option<String>, default: &str| {
                value.clone().unwrap_or_else(|| default.to_owned())
            };
            prop_assert_eq!(&target.environment, &or(&expected.environment, DEFAULT_ENVIRONMENT));
            prop_assert_eq!(&target.spawn_schema, &or(&expected.spawn_schema, DEFAULT_SPAWN_SCHEMA));
            prop_assert_eq!(&target.spawn_database, &expected.spawn_database);
            prop_assert_eq!(&target.url, &expected.url);
            prop_assert_eq!(target.variables.clone(), expected.variables.as_deref().map(resolved));
            let engine = target.other.get("engine").and_then(toml::Value::as_str);
            prop_assert_eq!(engine, expected.engine.as_deref());
            prop_assert_eq!(target.other.len(), usize::from(expected.engine.is_some()));
        }
        match config.default_target() {
            Some(target) => prop_assert!(
                config.default_target.as_ref() == Some(&target.name) || config.targets.len() == 1
            ),
            None => prop_assert!(config.default_target.is_none() && config.targets.len() != 1),
        }
        check_parse(&text)?;
    }

    /// Lines of a valid file shuffled among junk lines: settings or an error.
    #[test]
    fn valid_files_with_junk_never_panic(
        settings in settings(),
        junk in toml_text(KEYS),
        cut in vec(any::<prop::sample::Index>(), 1..3),
    ) {
        let text = write_toml(&settings);
        let lines: Vec<&str> = text.lines().collect();
        let mut mixed: Vec<&str> = junk.lines().collect();
        for index in cut {
            if !lines.is_empty() {
                mixed.push(lines[index.index(lines.len())]);
            }
        }
        mixed.extend(&lines);
        check_parse(&mixed.join("\n"))?;
    }
}
