//! Foreign servers and what foreign tables have of their own (server and options, their
//! columns' options).

use super::{Change, Stmt};
use crate::model::{ForeignServer, ObjectId};
use crate::render::{ident, literal, qualified};

/// `key value` pairs as written in `OPTIONS (…)`.
fn option(entry: &str) -> (&str, &str) {
    entry.split_once('=').unwrap_or((entry, ""))
}

/// `OPTIONS (k 'v', …)` of a new object; empty without options.
pub(crate) fn options_clause(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    let items: Vec<String> = options
        .iter()
        .map(|o| {
            let (key, value) = option(o);
            format!("{} {}", ident(key), literal(value))
        })
        .collect();
    format!(" OPTIONS ({})", items.join(", "))
}

/// `OPTIONS (DROP k, SET k 'v', ADD k 'v')` turning one list of options into another; `None`
/// when they are the same.
pub(crate) fn alter_options(from: &[String], to: &[String]) -> Option<String> {
    let mut items = Vec::new();
    for old in from {
        let (key, _) = option(old);
        if !to.iter().any(|o| option(o).0 == key) {
            items.push(format!("DROP {}", ident(key)));
        }
    }
    for new in to {
        let (key, value) = option(new);
        match from.iter().map(|o| option(o)).find(|(k, _)| *k == key) {
            Some((_, old)) if old == value => {}
            Some(_) => items.push(format!("SET {} {}", ident(key), literal(value))),
            None => items.push(format!("ADD {} {}", ident(key), literal(value))),
        }
    }
    (!items.is_empty()).then(|| format!(" OPTIONS ({})", items.join(", ")))
}

pub(crate) fn create_server(id: &ObjectId, s: &ForeignServer) -> Stmt {
    let mut sql = format!("CREATE SERVER {}", ident(&id.name));
    if let Some(t) = &s.server_type {
        sql.push_str(&format!(" TYPE {}", literal(t)));
    }
    if let Some(v) = &s.version {
        sql.push_str(&format!(" VERSION {}", literal(v)));
    }
    sql.push_str(&format!(" FOREIGN DATA WRAPPER {}", ident(&s.wrapper)));
    sql.push_str(&options_clause(&s.options));
    Stmt::new(sql)
}

pub(crate) fn compare_server(id: &ObjectId, a: &ForeignServer, b: &ForeignServer) -> Change {
    if a.wrapper != b.wrapper || a.server_type != b.server_type {
        return Change::Recreate;
    }
    let name = ident(&id.name);
    let mut stmts = Vec::new();
    if a.version != b.version {
        let version = b.version.as_deref().map_or("NULL".to_string(), literal);
        stmts.push(Stmt::new(format!("ALTER SERVER {name} VERSION {version}")));
    }
    if let Some(options) = alter_options(&a.options, &b.options) {
        stmts.push(Stmt::new(format!("ALTER SERVER {name}{options}")));
    }
    Change::alter(stmts)
}

/// `ALTER FOREIGN TABLE … ALTER COLUMN … OPTIONS (…)` turning a foreign table's column's
/// options into others; `None` when they are the same.
pub(crate) fn column_options(id: &ObjectId, from: &[String], to: &[String]) -> Option<Stmt> {
    alter_options(from, to).map(|options| {
        Stmt::new(format!(
            "ALTER FOREIGN TABLE {} ALTER COLUMN {}{options}",
            qualified(&id.schema, &id.name),
            ident(&id.sub)
        ))
    })
}
