//! The round-trip oracle of `../shared/fixtures/diff/README.md`, in Rust.
//!
//! For a pair of schema files (either may be absent, meaning an empty database): load both
//! into fresh databases, diff, apply the plan to the first in one transaction, then require
//! (1) a second diff to be empty and (2) the normalised `pg_dump --schema-only` of both
//! databases (plus their extension versions) to be equal.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use spawn_schema::{inspect, Options};
use spawn_tests::{server, TestDb};

/// The shared fixtures (`../shared/fixtures/diff` from the repository root).
pub fn shared_fixtures() -> Option<PathBuf> {
    spawn_tests::shared_dir("fixtures/diff")
}

/// This crate's own fixtures.
pub fn own_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The options the oracle diffs with.
pub fn oracle_options() -> Options {
    Options::default().with_privileges(true).allow_unsafe(true)
}

fn tool(name: &str) -> PathBuf {
    server()
        .cluster()
        .map(|c| c.binaries().tool(name))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn run(mut cmd: Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    out
}

/// A URL libpq understands: sqlx's URLs carry parameters of their own, which psql rejects.
pub fn libpq_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    const KNOWN: [&str; 7] = [
        "host",
        "port",
        "user",
        "password",
        "sslmode",
        "dbname",
        "application_name",
    ];
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| KNOWN.contains(&kv.split('=').next().unwrap_or_default()))
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

fn psql(url: &str) -> Command {
    let url = libpq_url(url);
    let mut cmd = Command::new(tool("psql"));
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url]);
    cmd.env("PGOPTIONS", "-c client_min_messages=warning");
    bounded_connect(&mut cmd);
    cmd
}

/// libpq waits for ever for a server that does not answer: bound the connects of psql and
/// pg_dump as the harness bounds its own.
fn bounded_connect(cmd: &mut Command) {
    cmd.env(
        "PGCONNECT_TIMEOUT",
        spawn_tests::CONNECT_TIMEOUT.as_secs().to_string(),
    );
}

/// Roles are cluster-wide and tests run in parallel: one setup.sql at a time.
static SETUP: Mutex<()> = Mutex::new(());

pub fn run_setup(dir: &Path) {
    let setup = dir.join("setup.sql");
    if !setup.is_file() {
        return;
    }
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = psql(&server().url("postgres"));
    cmd.arg("-f").arg(&setup);
    let out = run(cmd, "setup.sql");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !stderr.contains("already exists") {
        panic!("{}: setup.sql failed: {stderr}", dir.display());
    }
}

pub fn load(db: &TestDb, file: Option<&Path>) {
    let Some(file) = file else { return };
    let mut cmd = psql(&db.url);
    cmd.arg("-f").arg(file);
    let out = run(cmd, "psql -f");
    assert!(
        out.status.success(),
        "{} failed to load: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn apply(db: &TestDb, sql: &str, artifact: &Path) -> Result<(), String> {
    std::fs::write(artifact, sql).expect("write the plan");
    let mut cmd = psql(&db.url);
    cmd.arg("--single-transaction").arg("-f").arg(artifact);
    let out = run(cmd, "psql apply");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `pg_dump --schema-only` of a database, normalised, with the extension versions appended.
async fn normalised_dump(db: &TestDb) -> String {
    let mut cmd = Command::new(tool("pg_dump"));
    cmd.args([
        "--schema-only",
        "--no-tablespaces",
        "-d",
        &libpq_url(&db.url),
    ]);
    bounded_connect(&mut cmd);
    let out = run(cmd, "pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions: Vec<(String,)> =
        sqlx::query_as("SELECT extname || ' ' || extversion FROM pg_extension ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .expect("extension versions");
    let versions: Vec<String> = versions.into_iter().map(|(v,)| v).collect();
    normalise(&String::from_utf8_lossy(&out.stdout), &versions)
}

struct Entry {
    kind: String,
    schema: String,
    name: String,
    owner: String,
    body: Vec<String>,
}

/// Splits pg_dump output into its TOC entries (as `tools/diff_roundtrip.py` does): drops the
/// preamble, the `--` header blocks, `\restrict` lines and the SET lines between entries.
fn parse_dump(text: &str) -> Vec<Entry> {
    let lines: Vec<&str> = text.lines().collect();
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line == "--" && i + 2 < lines.len() && lines[i + 2] == "--" {
            let mid = lines[i + 1];
            if let Some(entry) = parse_header(mid) {
                entries.push(entry);
                current = Some(entries.len() - 1);
                i += 3;
                continue;
            }
            if mid.starts_with("-- PostgreSQL database dump") {
                current = None;
                i += 3;
                continue;
            }
        }
        let noise = line.starts_with("\\restrict ")
            || line.starts_with("\\unrestrict ")
            || line.starts_with("\\connect ")
            || is_inter_entry_set(line);
        if let (Some(c), false) = (current, noise) {
            entries[c].body.push(line.trim_end().to_string());
        }
        i += 1;
    }
    for e in &mut entries {
        while e.body.last().is_some_and(|l| l.trim().is_empty()) {
            e.body.pop();
        }
        while e.body.first().is_some_and(|l| l.trim().is_empty()) {
            e.body.remove(0);
        }
    }
    entries
}

fn parse_header(line: &str) -> Option<Entry> {
    let rest = line
        .strip_prefix("-- Data for Name: ")
        .or_else(|| line.strip_prefix("-- Name: "))?;
    let (name, rest) = rest.split_once("; Type: ")?;
    let (kind, rest) = rest.split_once("; Schema: ")?;
    let (schema, owner) = rest.split_once("; Owner: ")?;
    Some(Entry {
        kind: kind.into(),
        schema: schema.into(),
        name: name.into(),
        owner: owner.into(),
        body: Vec::new(),
    })
}

fn is_inter_entry_set(line: &str) -> bool {
    [
        "SET default_tablespace = ",
        "SET default_table_access_method = ",
        "SET default_with_oids = ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
        && line.ends_with(';')
}

/// Inside `CREATE TABLE … (` … `)`, the element order does not matter.
fn sort_table_columns(body: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    let is_create = |l: &str| {
        [
            "CREATE TABLE ",
            "CREATE UNLOGGED TABLE ",
            "CREATE FOREIGN TABLE ",
            "CREATE TEMPORARY TABLE ",
        ]
        .iter()
        .any(|p| l.starts_with(p))
            && l.ends_with('(')
    };
    while i < body.len() {
        let line = &body[i];
        if is_create(line) {
            let mut j = i + 1;
            let mut elems = Vec::new();
            while j < body.len() && !body[j].starts_with(')') {
                elems.push(body[j].trim_end_matches(',').to_string());
                j += 1;
            }
            elems.sort();
            out.push(line.clone());
            out.extend(elems);
            if j < body.len() {
                out.push(body[j].clone());
            }
            i = j + 1;
            continue;
        }
        out.push(line.clone());
        i += 1;
    }
    out
}

/// The comparable form of a dump: entries sorted by (type, schema, name, text).
pub fn normalise(dump: &str, extension_versions: &[String]) -> String {
    let mut blocks: Vec<(String, String, String, String)> = parse_dump(dump)
        .into_iter()
        .map(|e| {
            let body = if e.kind == "TABLE" {
                sort_table_columns(&e.body)
            } else {
                e.body
            };
            let head = format!("-- {} {}.{} (owner {})", e.kind, e.schema, e.name, e.owner);
            let text = std::iter::once(head)
                .chain(body)
                .collect::<Vec<_>>()
                .join("\n");
            (e.kind, e.schema, e.name, text)
        })
        .collect();
    for v in extension_versions {
        blocks.push((
            "EXTENSION VERSION".into(),
            "-".into(),
            v.clone(),
            format!("-- EXTENSION VERSION {v}"),
        ));
    }
    blocks.sort();
    let mut out = blocks
        .into_iter()
        .map(|b| b.3)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// A short line-by-line difference of two texts, for assertion messages.
fn text_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for l in &e {
        if !a.contains(l) {
            out.push_str(&format!("- {l}\n"));
        }
    }
    for l in &a {
        if !e.contains(l) {
            out.push_str(&format!("+ {l}\n"));
        }
    }
    out
}

pub async fn drop_db(db: TestDb) {
    db.pool.close().await;
    let mut admin = server().admin_connection().await;
    let _ = sqlx::raw_sql(&format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        db.name
    ))
    .execute(&mut admin)
    .await;
}

/// One direction of the oracle: migrate a database holding `from` (None: empty) to `to`.
/// Returns a description of the failure, if any.
pub async fn roundtrip(
    label: &str,
    dir: &Path,
    from: Option<&Path>,
    to: Option<&Path>,
) -> Result<(), String> {
    run_setup(dir);
    let options = oracle_options();
    let db_a = TestDb::new(&format!("{label}_a")).await;
    let db_b = TestDb::new(&format!("{label}_b")).await;
    load(&db_a, from);
    load(&db_b, to);
    let result = async {
        let source = inspect(&db_a.pool, &options)
            .await
            .map_err(|e| format!("inspect from: {e}"))?;
        let target = inspect(&db_b.pool, &options)
            .await
            .map_err(|e| format!("inspect to: {e}"))?;
        check_composed_definitions(&db_a, &source).await?;
        check_composed_definitions(&db_b, &target).await?;
        let plan = source.plan(&target, &options);
        let sql = plan.to_sql();
        let artifact = std::env::temp_dir().join(format!("{}.sql", db_a.name));
        apply(&db_a, &sql, &artifact)
            .map_err(|e| format!("apply failed: {e}\n--- plan:\n{sql}"))?;
        let _ = std::fs::remove_file(&artifact);
        let after = inspect(&db_a.pool, &options)
            .await
            .map_err(|e| format!("re-inspect: {e}"))?;
        let second = after.plan(&target, &options);
        let dump_a = normalised_dump(&db_a).await;
        let dump_b = normalised_dump(&db_b).await;
        let mut problems = Vec::new();
        // A plan that worked only because a cycle broken by identity happened to order it
        // well is a planner bug all the same.
        if !plan.cycles.is_empty() {
            problems.push(format!("dependency cycles:\n{}", plan.cycles.join("\n")));
        }
        if dump_a != dump_b {
            problems.push(format!(
                "schema differs after apply:\n{}",
                text_diff(&dump_b, &dump_a)
            ));
        }
        if !second.is_empty() {
            problems.push(format!("second diff not empty:\n{}", second.to_sql()));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}\n--- plan:\n{sql}", problems.join("\n")))
        }
    }
    .await;
    drop_db(db_a).await;
    drop_db(db_b).await;
    result
}

/// Requires every index and constraint definition inspection composed to be the server's
/// (`pg_get_indexdef`, `pg_get_constraintdef`), byte for byte (with the empty `search_path` inspection runs with).
/// The server's text with the one difference composed definitions make on purpose: in
/// `x = ANY ((ARRAY[…])::type[])`, the array literal's cast is left out.
pub fn without_array_literal_casts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["ANY ((ARRAY[", "ALL ((ARRAY["]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        // Up to the `(` before ARRAY, then the array up to its closing bracket.
        out.push_str(&rest[..at + 5]);
        let array = &rest[at + 6..];
        let (mut depth, mut quoted, mut end) = (0usize, false, None);
        for (i, c) in array.char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[at + 5..]);
            return out;
        };
        // `)::type[]` follows the array: dropped up to the `[]`.
        let after = &array[end..];
        match after
            .strip_prefix(")::")
            .and_then(|t| t.find("[]").map(|i| &t[i + 2..]))
        {
            Some(tail) => {
                out.push_str(&array[..end]);
                rest = tail;
            }
            None => {
                out.push('(');
                out.push_str(&array[..end]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

pub async fn check_composed_definitions(
    db: &TestDb,
    schema: &spawn_schema::Schema,
) -> Result<(), String> {
    let mut tx = db.pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::query("SET LOCAL search_path = ''")
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, pg_get_indexdef(c.oid) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    let server: std::collections::HashMap<(String, String), String> = rows
        .into_iter()
        .map(|(schema, name, definition)| ((schema, name), definition))
        .collect();
    let constraint_rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, co.conname::text, pg_get_constraintdef(co.oid) \
         FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    let constraints: std::collections::HashMap<(String, String, String), String> = constraint_rows
        .into_iter()
        .map(|(schema, table, name, definition)| ((schema, table, name), definition))
        .collect();
    let mut problems = Vec::new();
    for (id, object) in &schema.objects {
        if let spawn_schema::model::Object::Constraint(constraint) = object {
            let key = (
                id.schema.to_string(),
                id.name.to_string(),
                id.sub.to_string(),
            );
            // Storage parameters are added to keys (the server leaves them out).
            let ours = match constraint
                .definition
                .split_once(" WITH (")
                .filter(|_| matches!(constraint.kind.as_str(), "p" | "u"))
            {
                Some((head, tail)) => {
                    format!(
                        "{head}{}",
                        tail.split_once(')').map_or("", |(_, rest)| rest)
                    )
                }
                None => constraint.definition.clone(),
            };
            match constraints.get(&key) {
                Some(expected)
                    if *expected == ours || without_array_literal_casts(expected) == ours => {}
                expected => problems.push(format!(
                    "constraint {} on {}.{}: composed {:?}, pg_get_constraintdef {:?}",
                    key.2, key.0, key.1, constraint.definition, expected
                )),
            }
        }
        if let spawn_schema::model::Object::Index(index) = object {
            let key = (id.schema.to_string(), id.name.to_string());
            match server.get(&key) {
                Some(expected)
                    if *expected == index.definition
                        || without_array_literal_casts(expected) == index.definition => {}
                expected => problems.push(format!(
                    "index {}.{}: composed {:?}, pg_get_indexdef {:?}",
                    key.0, key.1, index.definition, expected
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Every direction of the oracle for one fixture folder: a→b, b→a, empty→b, b→empty.
pub async fn check_case(dir: &Path) {
    let a = dir.join("a.sql");
    let b = dir.join("b.sql");
    let label = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("case")
        .to_string();
    let mut failures = Vec::new();
    let directions: [(&str, Option<&Path>, Option<&Path>); 4] = [
        ("a_to_b", Some(&a), Some(&b)),
        ("b_to_a", Some(&b), Some(&a)),
        ("empty_to_b", None, Some(&b)),
        ("b_to_empty", Some(&b), None),
    ];
    for (name, from, to) in directions {
        if let Err(e) = roundtrip(&format!("{label}_{name}"), dir, from, to).await {
            failures.push(format!("=== {label} {name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
