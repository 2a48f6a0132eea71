//! Rewriting a [`Plan`] so that it does not block reads and writes of existing tables for
//! longer than a catalog update (`spawn migration generate --online`).
//!
//! The result is two lists: statements that still run in one transaction, and statements
//! that must run outside of one (in a `-- spawn:no-transaction` migration, after the first):
//!
//! - an index on an existing table is built with `CREATE INDEX CONCURRENTLY`;
//! - an index that is replaced (dropped and created again) is built concurrently under a
//!   temporary name first, then the old one is dropped concurrently and the new one renamed,
//!   so there is no moment without an index;
//! - a foreign key or check added to an existing table is added `NOT VALID` (no scan under
//!   the exclusive lock) and validated afterwards (a scan that lets writes through);
//! - `SET NOT NULL` on an existing table goes through a `CHECK (col IS NOT NULL) NOT VALID`
//!   that is validated first, so PostgreSQL does not scan the table under its exclusive lock.
//!
//! New tables are left alone: nobody uses them yet. Partitioned tables are left alone too
//! (PostgreSQL builds their indexes only in one go).

use std::collections::HashSet;

use crate::model::{Object, ObjectId, ObjectKind, Schema};
use crate::plan::{Action, Plan, PlannedStatement};
use crate::render::{ident, qualified};

/// A plan split for online application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlinePlan {
    /// What still runs in one transaction.
    pub plan: Plan,
    /// What must run after it, outside a transaction, one statement at a time.
    pub concurrent: Vec<PlannedStatement>,
}

/// Splits `plan` (from `source` to `target`) as the module documentation describes.
pub fn online(plan: &Plan, source: &Schema, target: &Schema) -> OnlinePlan {
    let created_tables: HashSet<&ObjectId> = plan
        .statements
        .iter()
        .filter(|s| s.action == Action::Create)
        .filter_map(|s| s.object.as_ref())
        .filter(|id| id.kind == ObjectKind::Table)
        .collect();
    // An existing, non-partitioned table of both schemas that the plan does not create anew.
    let existing = |schema: &str, name: &str| {
        let id = ObjectId::new(ObjectKind::Table, schema, name);
        let plain = |s: &Schema| matches!(s.objects.get(&id), Some(Object::Table(t)) if t.partition_key.is_none() && t.partition_of.is_none());
        plain(source) && plain(target) && !created_tables.contains(&id)
    };
    // Indexes the plan creates on existing tables; a unique one that a new foreign key may
    // need stays in the transaction, before that key.
    let new_references: Vec<&str> = plan
        .statements
        .iter()
        .filter(|s| s.action == Action::Create && s.sql.contains(" REFERENCES "))
        .map(|s| s.sql.as_str())
        .collect();
    let online_index = |id: &ObjectId| -> Option<(String, String)> {
        let Some(Object::Index(index)) = target.objects.get(id) else {
            return None;
        };
        let (schema, table) = &index.table;
        if index.inherited || !existing(schema, table) || index.definition.contains(" ON ONLY ") {
            return None;
        }
        let referenced = new_references.iter().any(|sql| {
            sql.contains(&format!("REFERENCES {}(", qualified(schema, table)))
                || sql.contains(&format!("REFERENCES {}(", ident(table)))
        });
        if index.definition.starts_with("CREATE UNIQUE") && referenced {
            return None;
        }
        Some((index.definition.clone(), qualified(schema, table)))
    };
    let dropped_indexes: HashSet<&ObjectId> = plan
        .statements
        .iter()
        .filter(|s| s.action == Action::Drop)
        .filter_map(|s| s.object.as_ref())
        .filter(|id| id.kind == ObjectKind::Index)
        .collect();

    let mut kept = Vec::new();
    let mut concurrent = Vec::new();
    let mut moved_indexes: HashSet<ObjectId> = HashSet::new();
    // Decided first: the drop of a replaced index moves with its creation.
    for s in &plan.statements {
        if let (Some(id), Action::Create) = (&s.object, s.action) {
            if id.kind == ObjectKind::Index && online_index(id).is_some() {
                moved_indexes.insert(id.clone());
            }
        }
    }
    for s in &plan.statements {
        let Some(id) = &s.object else {
            kept.push(s.clone());
            continue;
        };
        match (id.kind, s.action) {
            (ObjectKind::Index, Action::Drop) if moved_indexes.contains(id) => {
                // Replaced: dropped concurrently after its successor is built (below).
            }
            (ObjectKind::Index, Action::Create) if moved_indexes.contains(id) => {
                let Some((definition, _table)) = online_index(id) else {
                    kept.push(s.clone());
                    continue;
                };
                if !s.sql.starts_with("CREATE ") || !s.sql.contains(" INDEX ") {
                    // A comment or replica identity of the index: after it exists.
                    concurrent.push(s.clone());
                    continue;
                }
                let name = ident(&id.name);
                if dropped_indexes.contains(id) {
                    let temporary = temporary_name(&id.name, "_spawn_new");
                    let build = definition.replacen(
                        &format!("INDEX {name} ON "),
                        &format!("INDEX CONCURRENTLY {} ON ", ident(&temporary)),
                        1,
                    );
                    concurrent.push(statement(build, id, Action::Create));
                    concurrent.push(statement(
                        format!(
                            "DROP INDEX CONCURRENTLY {}",
                            qualified(&id.schema, &id.name)
                        ),
                        id,
                        Action::Drop,
                    ));
                    concurrent.push(statement(
                        format!(
                            "ALTER INDEX {} RENAME TO {name}",
                            qualified(&id.schema, &temporary)
                        ),
                        id,
                        Action::Alter,
                    ));
                } else {
                    let build = s.sql.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1);
                    concurrent.push(statement(build, id, Action::Create));
                }
            }
            (ObjectKind::Constraint, Action::Create) => match validated_later(s, id, &existing) {
                Some((add, validate)) => {
                    kept.push(PlannedStatement {
                        sql: add,
                        ..s.clone()
                    });
                    concurrent.push(statement(validate, id, Action::Alter));
                }
                None => kept.push(s.clone()),
            },
            (ObjectKind::Column, Action::Alter)
                if s.sql.ends_with(" SET NOT NULL") && existing(&id.schema, &id.name) =>
            {
                let table = qualified(&id.schema, &id.name);
                let check = ident(&temporary_name(&id.sub, "_not_null"));
                let column = ident(&id.sub);
                kept.push(statement(
                    format!("ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"),
                    id,
                    Action::Alter,
                ));
                for sql in [
                    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {check}"),
                    s.sql.clone(),
                    format!("ALTER TABLE {table} DROP CONSTRAINT {check}"),
                ] {
                    concurrent.push(statement(sql, id, Action::Alter));
                }
            }
            _ => kept.push(s.clone()),
        }
    }
    OnlinePlan {
        plan: Plan {
            statements: kept,
            changes: plan.changes.clone(),
            cycles: plan.cycles.clone(),
        },
        concurrent,
    }
}

/// `ADD CONSTRAINT … NOT VALID` and its `VALIDATE CONSTRAINT`, for a foreign key or check
/// added to an existing table.
fn validated_later(
    s: &PlannedStatement,
    id: &ObjectId,
    existing: &impl Fn(&str, &str) -> bool,
) -> Option<(String, String)> {
    let table = qualified(&id.schema, &id.name);
    let prefix = format!("ALTER TABLE {table} ADD CONSTRAINT {} ", ident(&id.sub));
    let definition = s.sql.strip_prefix(&prefix)?;
    let checkable = definition.starts_with("FOREIGN KEY") || definition.starts_with("CHECK");
    if !checkable || definition.ends_with("NOT VALID") || !existing(&id.schema, &id.name) {
        return None;
    }
    Some((
        format!("{} NOT VALID", s.sql),
        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {}", ident(&id.sub)),
    ))
}

/// `name` + `suffix`, shortened to PostgreSQL's 63 bytes.
fn temporary_name(name: &str, suffix: &str) -> String {
    let mut base = name.to_string();
    while base.len() + suffix.len() > 63 {
        base.pop();
    }
    format!("{base}{suffix}")
}

fn statement(sql: String, id: &ObjectId, action: Action) -> PlannedStatement {
    PlannedStatement {
        sql,
        object: Some(id.clone()),
        action,
        unsafe_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_fit() {
        assert_eq!(temporary_name("i", "_spawn_new"), "i_spawn_new");
        assert_eq!(temporary_name(&"x".repeat(63), "_spawn_new").len(), 63);
    }
}
