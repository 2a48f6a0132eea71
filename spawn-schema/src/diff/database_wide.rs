//! Casts, publications and event triggers.

use super::{Change, Stmt};
use crate::model::{Cast, EventTrigger, ObjectId, Publication};
use crate::render::{ident, literal};

pub(crate) fn create_cast(c: &Cast) -> Stmt {
    let how = match (c.method.as_str(), &c.function) {
        ("f", Some(function)) => format!("WITH FUNCTION {function}"),
        ("i", _) => "WITH INOUT".to_string(),
        _ => "WITHOUT FUNCTION".to_string(),
    };
    let context = match c.context.as_str() {
        "a" => " AS ASSIGNMENT",
        "i" => " AS IMPLICIT",
        _ => "",
    };
    Stmt::new(format!(
        "CREATE CAST ({} AS {}) {how}{context}",
        c.source, c.target
    ))
}

/// What follows `FOR` in `CREATE PUBLICATION` and `SET`/`DROP` in `ALTER PUBLICATION`: the
/// tables and the schemas; `None` when there are none.
fn members(p: &Publication) -> Option<String> {
    let mut parts = Vec::new();
    if !p.tables.is_empty() {
        parts.push(format!("TABLE {}", p.tables.join(", ")));
    }
    if !p.schemas.is_empty() {
        let schemas: Vec<String> = p.schemas.iter().map(|s| ident(s)).collect();
        parts.push(format!("TABLES IN SCHEMA {}", schemas.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn publication_options(p: &Publication) -> String {
    format!(
        "publish = {}, publish_via_partition_root = {}",
        literal(&p.publish),
        p.via_root
    )
}

pub(crate) fn create_publication(id: &ObjectId, p: &Publication) -> Stmt {
    let what = if p.all_tables {
        " FOR ALL TABLES".to_string()
    } else {
        members(p).map(|m| format!(" FOR {m}")).unwrap_or_default()
    };
    Stmt::new(format!(
        "CREATE PUBLICATION {}{what} WITH ({})",
        ident(&id.name),
        publication_options(p)
    ))
}

pub(crate) fn compare_publication(id: &ObjectId, a: &Publication, b: &Publication) -> Change {
    if a.all_tables != b.all_tables {
        return Change::Recreate;
    }
    let name = ident(&id.name);
    let mut stmts = Vec::new();
    if a.tables != b.tables || a.schemas != b.schemas {
        match (members(a), members(b)) {
            (_, Some(to)) => stmts.push(Stmt::new(format!("ALTER PUBLICATION {name} SET {to}"))),
            (Some(from), None) => {
                stmts.push(Stmt::new(format!("ALTER PUBLICATION {name} DROP {from}")))
            }
            (None, None) => {}
        }
    }
    if a.publish != b.publish || a.via_root != b.via_root {
        stmts.push(Stmt::new(format!(
            "ALTER PUBLICATION {name} SET ({})",
            publication_options(b)
        )));
    }
    Change::alter(stmts)
}

fn enable_event_trigger(id: &ObjectId, enabled: &str) -> Stmt {
    let what = match enabled {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    };
    Stmt::new(format!("ALTER EVENT TRIGGER {} {what}", ident(&id.name)))
}

pub(crate) fn create_event_trigger(id: &ObjectId, e: &EventTrigger) -> Vec<Stmt> {
    let when = if e.tags.is_empty() {
        String::new()
    } else {
        let tags: Vec<String> = e.tags.iter().map(|t| literal(t)).collect();
        format!(" WHEN TAG IN ({})", tags.join(", "))
    };
    let mut stmts = vec![Stmt::new(format!(
        "CREATE EVENT TRIGGER {} ON {}{when} EXECUTE FUNCTION {}()",
        ident(&id.name),
        ident(&e.event),
        e.function
    ))];
    if e.enabled != "O" {
        stmts.push(enable_event_trigger(id, &e.enabled));
    }
    stmts
}

pub(crate) fn compare_event_trigger(id: &ObjectId, a: &EventTrigger, b: &EventTrigger) -> Change {
    if a.event != b.event || a.tags != b.tags || a.function != b.function {
        return Change::Recreate;
    }
    if a.enabled != b.enabled {
        return Change::alter(vec![enable_event_trigger(id, &b.enabled)]);
    }
    Change::Same
}
