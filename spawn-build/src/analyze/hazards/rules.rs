//! The hazards of one statement other than `ALTER TABLE` (see `alter_table`): index
//! builds, drops and deletes, rewrites by `VACUUM FULL` and `CLUSTER`, refreshes, explicit
//! locks, and statements that cannot run in a transaction.

use std::collections::HashSet;

use super::super::classify::{classify, StatementKind, HEAD_LEN};
use super::alter_table::alter_table;
use super::catalog::Catalog;
use super::tokens::Tokens;
use super::types::parse_type;
use super::{Hazard, Raw};

/// What the rules know while reading one migration: the catalog (kept across migrations)
/// and the tables and materialized views this migration created.
pub(crate) struct State<'c> {
    pub catalog: &'c mut Catalog,
    pub created: HashSet<String>,
}

impl State<'_> {
    fn is_new(&self, table: &str) -> bool {
        self.created.contains(table)
    }
}

/// The hazards of the statement `t`, updating `state` with what it creates or changes.
pub(crate) fn statement(t: &Tokens<'_>, state: &mut State<'_>) -> Vec<Raw> {
    if t.is(0, "WITH") {
        // `WITH … AS (…) DELETE …`: the statements in the common table expressions (a
        // `DELETE` or `UPDATE` there changes the table as much as one on its own), then the
        // statement after them.
        let Some((bodies, main)) = ctes(t) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for body in bodies {
            if t.is_any(body.start, &["DELETE", "UPDATE", "INSERT", "WITH"]) {
                out.extend(statement(&Tokens(t.0[body].to_vec()), state));
            }
        }
        out.extend(statement(&Tokens(t.0[main..].to_vec()), state));
        return out;
    }
    let mut out = Vec::new();
    let head = &t.0[..t.len().min(HEAD_LEN)];
    if let StatementKind::NonTransactional { what } = classify(head) {
        // VACUUM leaves nothing half-done if it fails; VACUUM FULL is caught below.
        if !t.is(0, "VACUUM") && !concurrent_on_new_table(t, state) {
            out.push(Raw::new(
                Hazard::NonTransactional,
                format!(
                    "{what} cannot run in a transaction: if it fails, what it did so far stays \
                     (e.g. an INVALID index, to drop before running it again)"
                ),
            ));
        }
    }
    if let Some(table) = on_table(t) {
        // Triggers being dropped, policies and rules: ACCESS EXCLUSIVE on their table.
        if !state.is_new(&table) {
            out.push(Raw::brief(&table));
        }
    } else if t.is(0, "CREATE") {
        create(t, state, &mut out);
    } else if t.are(0, &["ALTER", "TABLE"]) {
        out.extend(alter_table(t, state.catalog, &state.created));
        if let Some((old, new)) = renamed_table(t) {
            if state.created.remove(&old) {
                state.created.insert(new);
            }
        }
    } else if t.is(0, "DROP") {
        drop(t, state, &mut out);
    } else if t.is(0, "TRUNCATE") {
        let i = t.skip(1, &["TABLE"]);
        for table in names(t, i) {
            if !state.is_new(&table) {
                out.push(Raw::brief(&table));
                out.push(Raw::new(
                    Hazard::DataLoss,
                    format!("TRUNCATE deletes every row of {table}"),
                ));
            }
        }
    } else if t.are(0, &["DELETE", "FROM"]) {
        let i = t.skip(2, &["ONLY"]);
        if let Some((table, _)) = t.name(i) {
            if !state.is_new(&table) && t.find(i..t.len(), "WHERE").is_none() {
                out.push(Raw::new(
                    Hazard::DataLoss,
                    format!("DELETE without WHERE deletes every row of {table}"),
                ));
            }
        }
    } else if t.is(0, "UPDATE") {
        let i = t.skip(1, &["ONLY"]);
        if let Some((table, _)) = t.name(i) {
            if !state.is_new(&table) && t.find(i..t.len(), "WHERE").is_none() {
                out.push(Raw::new(
                    Hazard::LongRunning,
                    format!(
                        "UPDATE without WHERE writes a new version of every row of {table} in \
                         one transaction, locking each row until it commits; update in batches \
                         instead"
                    ),
                ));
            }
        }
    } else if t.is(0, "VACUUM") {
        let full = t.is(1, "FULL")
            || (t.is_punct(1, "(")
                && (2..t.after_group(1))
                    .any(|j| t.is(j, "FULL") && !t.is_any(j + 1, &["FALSE", "OFF", "0"])));
        if full {
            let i = if t.is_punct(1, "(") {
                t.after_group(1)
            } else {
                2
            };
            let i = t.skip(i, &["FREEZE"]);
            let i = t.skip(i, &["VERBOSE"]);
            let i = t.skip(i, &["ANALYZE"]);
            rewrite(t, i, state, "VACUUM FULL", &mut out);
        }
    } else if t.is(0, "CLUSTER") {
        let i = t.skip(1, &["VERBOSE"]);
        let i = if t.is_punct(i, "(") {
            t.after_group(i)
        } else {
            i
        };
        rewrite(t, i, state, "CLUSTER", &mut out);
    } else if t.are(0, &["REFRESH", "MATERIALIZED", "VIEW"]) && !t.is(3, "CONCURRENTLY") {
        if let Some((view, _)) = t.name(3) {
            if !state.is_new(&view) {
                out.push(Raw::new(
                    Hazard::AccessExclusiveLock,
                    format!(
                        "REFRESH MATERIALIZED VIEW holds an ACCESS EXCLUSIVE lock on {view} \
                         while it recomputes it: reads of it wait; with a unique index, \
                         REFRESH … CONCURRENTLY lets them go on"
                    ),
                ));
            }
        }
    } else if t.is(0, "LOCK") {
        lock(t, state, &mut out);
    } else if t.is(0, "REINDEX") && !t.is(2, "CONCURRENTLY") && !t.is_punct(1, "(") {
        let what = t.lower(1).to_ascii_uppercase();
        out.push(Raw::new(
            Hazard::BlockingIndexBuild,
            format!(
                "REINDEX {what} blocks writes to the table, and reads that use the index, until \
                 it is rebuilt; REINDEX CONCURRENTLY (in a `-- spawn:no-transaction` migration) \
                 does not"
            ),
        ));
    } else if t.is(0, "SELECT") {
        if let Some(into) = t.find(0..t.len(), "INTO") {
            let i = t.skip(into + 1, &["TABLE"]);
            if let Some((table, _)) = t.name(i) {
                state.created.insert(table);
            }
        }
    }
    out
}

/// The table of `DROP TRIGGER`, `{CREATE | ALTER | DROP} POLICY` and `{CREATE | DROP} RULE`
/// (`… name ON table`), which take an ACCESS EXCLUSIVE lock on it. (`CREATE TRIGGER` takes
/// SHARE ROW EXCLUSIVE.)
fn on_table(t: &Tokens<'_>) -> Option<String> {
    let i = t.skip(1, &["OR", "REPLACE"]);
    let kind = (t.is(0, "DROP") && t.is(i, "TRIGGER"))
        || (t.is_any(0, &["CREATE", "ALTER", "DROP"]) && t.is(i, "POLICY"))
        || (t.is_any(0, &["CREATE", "DROP"]) && t.is(i, "RULE"));
    if !kind {
        return None;
    }
    let i = t.skip(i + 1, &["IF", "EXISTS"]);
    let (_, next) = t.name(i)?;
    if t.is(0, "CREATE") && t.is(i - 1, "RULE") {
        // CREATE RULE name AS ON event TO table
        let to = t.find(next..t.len(), "TO")?;
        return t.name(to + 1).map(|(n, _)| n);
    }
    if !t.is(next, "ON") {
        return None;
    }
    t.name(next + 1).map(|(n, _)| n)
}

/// The bodies (inside the parentheses) of `WITH [RECURSIVE] name [(…)] AS [[NOT]
/// MATERIALIZED] (…), …` and the index of the statement after them.
fn ctes(t: &Tokens<'_>) -> Option<(Vec<std::ops::Range<usize>>, usize)> {
    let mut bodies = Vec::new();
    let mut i = t.skip(1, &["RECURSIVE"]);
    loop {
        let (_, next) = t.name(i)?;
        i = t.after_group(next);
        if !t.is(i, "AS") {
            return None;
        }
        i = t.skip(i + 1, &["NOT"]);
        i = t.skip(i, &["MATERIALIZED"]);
        if !t.is_punct(i, "(") {
            return None;
        }
        let open = i;
        i = t.after_group(i);
        bodies.push(open + 1..i.saturating_sub(1).max(open + 1));
        if !t.is_punct(i, ",") {
            return Some((bodies, i));
        }
        i += 1;
    }
}

/// Whether `t` is a `CREATE INDEX CONCURRENTLY` on a table this migration created.
fn concurrent_on_new_table(t: &Tokens<'_>, state: &State<'_>) -> bool {
    t.is(0, "CREATE") && index_table(t).is_some_and(|table| state.is_new(&table))
}

/// The table of `CREATE [UNIQUE] INDEX … ON [ONLY] table`.
fn index_table(t: &Tokens<'_>) -> Option<String> {
    let on = t.find(0..t.len(), "ON")?;
    let i = t.skip(on + 1, &["ONLY"]);
    t.name(i).map(|(n, _)| n)
}

/// `CREATE TABLE`, `CREATE INDEX`, `CREATE MATERIALIZED VIEW`.
fn create(t: &Tokens<'_>, state: &mut State<'_>, out: &mut Vec<Raw>) {
    let mut i = t.skip(1, &["OR", "REPLACE"]);
    if t.is_any(i, &["GLOBAL", "LOCAL"]) {
        i += 1;
    }
    if t.is_any(i, &["TEMP", "TEMPORARY", "UNLOGGED"]) {
        i += 1;
    }
    if t.is(i, "TABLE") || t.are(i, &["MATERIALIZED", "VIEW"]) {
        let i = t.skip(i, &["MATERIALIZED"]) + 1;
        let i = t.skip(i, &["IF", "NOT", "EXISTS"]);
        if let Some((table, next)) = t.name(i) {
            state.catalog.drop_table(&table);
            if t.is_punct(next, "(") {
                columns(t, next, &table, state.catalog);
            }
            let rest = t.after_group(next);
            if t.are(rest, &["PARTITION", "BY"]) {
                state.catalog.set_partitioned(&table);
            }
            state.created.insert(table);
        }
        return;
    }
    let unique = t.is(1, "UNIQUE");
    if t.is(if unique { 2 } else { 1 }, "INDEX") {
        let concurrently = t.is(if unique { 3 } else { 2 }, "CONCURRENTLY");
        // `ON ONLY` a partitioned table creates the parent's index alone, invalid and empty
        // until each partition's index is attached: nothing is built.
        let only_partitioned = t
            .find(0..t.len(), "ON")
            .is_some_and(|on| t.is(on + 1, "ONLY"))
            && index_table(t).is_some_and(|table| state.catalog.is_partitioned(&table));
        if let Some(table) = index_table(t).filter(|_| !only_partitioned) {
            if !concurrently && !state.is_new(&table) {
                out.push(Raw::new(
                    Hazard::BlockingIndexBuild,
                    format!(
                        "CREATE INDEX on {table} blocks writes to it (SHARE lock) until the index \
                         is built; use CREATE INDEX CONCURRENTLY in a `-- spawn:no-transaction` \
                         migration"
                    ),
                ));
            }
        }
    }
}

/// Records the column types of `CREATE TABLE table (…)`, whose `(` is at `open`.
fn columns(t: &Tokens<'_>, open: usize, table: &str, catalog: &mut Catalog) {
    let close = t.after_group(open);
    for item in t.split_commas(open + 1..close.saturating_sub(1)) {
        let constraint = [
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "CHECK",
            "FOREIGN",
            "EXCLUDE",
            "LIKE",
        ];
        if !t.is_any(item.start, &constraint) {
            if let Some((column, next)) = t.name(item.start) {
                if let Some((ty, _)) = parse_type(t, next) {
                    catalog.set_column(table, &column, ty);
                }
            }
        }
        if let Some(check) = t.find(item.clone(), "CHECK") {
            let name = (check >= 2 && t.is(check - 2, "CONSTRAINT"))
                .then(|| t.name(check - 1).map(|(n, _)| n))
                .flatten();
            let validated = !(item.start..item.end).any(|j| t.are(j, &["NOT", "VALID"]));
            catalog.add_check(table, name.as_deref(), t, check + 1, validated);
        }
    }
}

/// `DROP TABLE` and `DROP SCHEMA` lose data; `DROP INDEX` locks.
fn drop(t: &Tokens<'_>, state: &mut State<'_>, out: &mut Vec<Raw>) {
    if t.is(1, "TABLE") {
        let i = t.skip(2, &["IF", "EXISTS"]);
        for table in names(t, i) {
            state.catalog.drop_table(&table);
            if !state.created.remove(&table) {
                out.push(Raw::brief(&table));
                out.push(Raw::new(
                    Hazard::DataLoss,
                    format!("DROP TABLE deletes {table} and all its rows"),
                ));
            }
        }
    } else if t.is(1, "SCHEMA") {
        let i = t.skip(2, &["IF", "EXISTS"]);
        for schema in names(t, i) {
            out.push(Raw::new(
                Hazard::DataLoss,
                format!("DROP SCHEMA deletes {schema} and, with CASCADE, every table in it"),
            ));
        }
    } else if t.is(1, "VIEW") || t.are(1, &["MATERIALIZED", "VIEW"]) {
        let i = t.skip(1, &["MATERIALIZED"]) + 1;
        let i = t.skip(i, &["IF", "EXISTS"]);
        for view in names(t, i) {
            if !state.created.remove(&view) {
                out.push(Raw::brief(&view));
            }
        }
    } else if t.is(1, "INDEX") && !t.is(2, "CONCURRENTLY") {
        out.push(Raw::new(
            Hazard::AccessExclusiveLock,
            "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table: brief, but every \
             query on the table queues behind it while it waits; use DROP INDEX CONCURRENTLY in \
             a `-- spawn:no-transaction` migration"
                .to_owned(),
        ));
    }
}

/// `VACUUM FULL` or `CLUSTER` of the tables named from `i` on (every table when none).
fn rewrite(t: &Tokens<'_>, i: usize, state: &State<'_>, what: &str, out: &mut Vec<Raw>) {
    let tables = names(t, i);
    let tables: Vec<String> = tables
        .into_iter()
        .filter(|table| !state.is_new(table))
        .collect();
    if tables.is_empty() && t.len() > i {
        return;
    }
    let target = if tables.is_empty() {
        "every table".to_owned()
    } else {
        tables.join(", ")
    };
    out.push(Raw::new(
        Hazard::TableRewrite,
        format!("{what} rewrites {target} and its indexes"),
    ));
    out.push(Raw::new(
        Hazard::AccessExclusiveLock,
        format!(
            "{what} holds an ACCESS EXCLUSIVE lock on {target} while it rewrites it: every read \
             and write waits until it finishes"
        ),
    ));
}

/// `LOCK [TABLE] [ONLY] names [IN mode MODE]`: ACCESS EXCLUSIVE unless another mode is named.
fn lock(t: &Tokens<'_>, state: &State<'_>, out: &mut Vec<Raw>) {
    let i = t.skip(1, &["TABLE"]);
    let i = t.skip(i, &["ONLY"]);
    let mode = t.find(i..t.len(), "IN");
    if mode.is_some_and(|m| !t.are(m + 1, &["ACCESS", "EXCLUSIVE"])) {
        return;
    }
    for table in names(t, i) {
        if !state.is_new(&table) {
            out.push(Raw::new(
                Hazard::AccessExclusiveLock,
                format!(
                    "LOCK takes an ACCESS EXCLUSIVE lock on {table} and holds it until the \
                     migration commits: every read and write of the table waits"
                ),
            ));
        }
    }
}

/// The comma-separated names from `i` on (`ONLY` and `*` skipped), up to the first token
/// that is not part of the list.
fn names(t: &Tokens<'_>, mut i: usize) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        i = t.skip(i, &["ONLY"]);
        let Some((name, next)) = t.name(i) else { break };
        if t.is_any(
            i,
            &[
                "CASCADE", "RESTRICT", "IN", "USING", "RESTART", "CONTINUE", "NOWAIT",
            ],
        ) {
            break;
        }
        out.push(name);
        i = next;
        if t.is_punct(i, "*") {
            i += 1;
        }
        if !t.is_punct(i, ",") {
            break;
        }
        i += 1;
    }
    out
}

/// `(old, new)` for `ALTER TABLE old RENAME TO new`.
fn renamed_table(t: &Tokens<'_>) -> Option<(String, String)> {
    let i = t.skip(2, &["IF", "EXISTS"]);
    let (old, i) = t.name(i)?;
    if !t.are(i, &["RENAME", "TO"]) {
        return None;
    }
    let (new, _) = t.name(i + 2)?;
    Some((old, new))
}
