//! Rename hints of `spawn migration generate` (`--rename table:old=new`, …) and the
//! suggestions printed when a plan drops one object and creates a likely successor.
//!
//! A hint becomes an `ALTER … RENAME` statement. It is run on the scratch database that holds
//! the migrations' schema before that is compared with the desired one, so the plan sees the
//! object as renamed (its data, indexes and dependents kept) and the new migration starts
//! with the same statement.

use std::fmt;

use anyhow::{anyhow, bail, Result};
use spawn_schema::model::{Object, ObjectKind};
use spawn_schema::{Action, ObjectId, Schema};

/// What `--rename` renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameKind {
    Table,
    Column,
    View,
    MaterializedView,
    Function,
    Procedure,
    Type,
    Schema,
}

/// One `--rename KIND:OLD=NEW`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameHint {
    pub kind: RenameKind,
    /// As given (`schema.name`, `table.column`, `schema.table.column`, `name`).
    pub old: String,
    /// The new name (unqualified).
    pub new: String,
}

const FORMS: &str =
    "table:OLD=NEW, column:TABLE.OLD=NEW, view:OLD=NEW, materialized-view:OLD=NEW, \
                     function:OLD=NEW, procedure:OLD=NEW, type:OLD=NEW or schema:OLD=NEW \
                     (OLD may be schema-qualified: table:app.users=people)";

impl std::str::FromStr for RenameHint {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let wrong = |why: &str| anyhow!("--rename {text}: {why}; write {FORMS}");
        let (kind, rest) = text
            .split_once(':')
            .ok_or_else(|| wrong("no `KIND:` in front"))?;
        let kind = match kind {
            "table" => RenameKind::Table,
            "column" => RenameKind::Column,
            "view" => RenameKind::View,
            "materialized-view" | "materialized_view" => RenameKind::MaterializedView,
            "function" => RenameKind::Function,
            "procedure" => RenameKind::Procedure,
            "type" => RenameKind::Type,
            "schema" => RenameKind::Schema,
            _ => return Err(wrong(&format!("unknown kind `{kind}`"))),
        };
        let (old, new) = rest
            .split_once('=')
            .ok_or_else(|| wrong("no `=NEW` after the old name"))?;
        let (old, new) = (old.trim(), new.trim());
        if old.is_empty() || new.is_empty() {
            return Err(wrong("a name is empty"));
        }
        if new.contains('.') {
            return Err(wrong(
                "the new name is unqualified (it stays in its schema or table)",
            ));
        }
        let parts = old.split('.').count();
        let fits = match kind {
            RenameKind::Column => (2..=3).contains(&parts),
            RenameKind::Schema => parts == 1,
            _ => (1..=2).contains(&parts),
        };
        if !fits {
            return Err(wrong("the old name has the wrong number of parts"));
        }
        Ok(Self {
            kind,
            old: old.to_string(),
            new: new.to_string(),
        })
    }
}

impl fmt::Display for RenameHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            RenameKind::Table => "table",
            RenameKind::Column => "column",
            RenameKind::View => "view",
            RenameKind::MaterializedView => "materialized-view",
            RenameKind::Function => "function",
            RenameKind::Procedure => "procedure",
            RenameKind::Type => "type",
            RenameKind::Schema => "schema",
        };
        write!(f, "{kind}:{}={}", self.old, self.new)
    }
}

/// `"name"` as an identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `a.b.c` quoted part by part.
fn qualified(name: &str) -> String {
    name.split('.').map(ident).collect::<Vec<_>>().join(".")
}

impl RenameHint {
    /// The `ALTER … RENAME` statement.
    pub fn sql(&self) -> Result<String> {
        let new = ident(&self.new);
        Ok(match self.kind {
            RenameKind::Table => format!("ALTER TABLE {} RENAME TO {new}", qualified(&self.old)),
            RenameKind::View => format!("ALTER VIEW {} RENAME TO {new}", qualified(&self.old)),
            RenameKind::MaterializedView => format!(
                "ALTER MATERIALIZED VIEW {} RENAME TO {new}",
                qualified(&self.old)
            ),
            RenameKind::Function => {
                format!("ALTER FUNCTION {} RENAME TO {new}", qualified(&self.old))
            }
            RenameKind::Procedure => {
                format!("ALTER PROCEDURE {} RENAME TO {new}", qualified(&self.old))
            }
            RenameKind::Type => format!("ALTER TYPE {} RENAME TO {new}", qualified(&self.old)),
            RenameKind::Schema => format!("ALTER SCHEMA {} RENAME TO {new}", ident(&self.old)),
            RenameKind::Column => {
                let Some((table, column)) = self.old.rsplit_once('.') else {
                    bail!("--rename {self}: write column:TABLE.OLD=NEW");
                };
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {new}",
                    qualified(table),
                    ident(column)
                )
            }
        })
    }
}

/// `(name, type)` of each column of a table, in order.
fn columns(schema: &Schema, table: &ObjectId) -> Option<Vec<(String, String)>> {
    let Some(Object::Table(t)) = schema.objects.get(table) else {
        return None;
    };
    Some(
        t.columns
            .iter()
            .map(|c| {
                let id = ObjectId::part(ObjectKind::Column, &table.schema, &table.name, c.as_str());
                let ty = match schema.objects.get(&id) {
                    Some(Object::Column(col)) => col.data_type.clone(),
                    _ => String::new(),
                };
                (c.clone(), ty)
            })
            .collect(),
    )
}

/// `--rename` flags for what the plan drops and creates that looks like a rename: a dropped
/// and a created table of one schema with the same columns, and a dropped and an added column
/// of one table with the same type (when that pairing is the only one).
pub fn suggestions(plan: &spawn_schema::Plan, source: &Schema, target: &Schema) -> Vec<String> {
    let of = |kind: ObjectKind, action: Action| -> Vec<&ObjectId> {
        plan.changes
            .iter()
            .filter(|c| c.object.kind == kind && c.action == action)
            .map(|c| &c.object)
            .collect()
    };
    let mut out = Vec::new();
    let (dropped, created) = (
        of(ObjectKind::Table, Action::Drop),
        of(ObjectKind::Table, Action::Create),
    );
    for old in &dropped {
        let old_columns = columns(source, old);
        let matches: Vec<&&ObjectId> = created
            .iter()
            .filter(|new| new.schema == old.schema && columns(target, new) == old_columns)
            .collect();
        if let [new] = matches.as_slice() {
            out.push(format!(
                "--rename table:{}.{}={}",
                old.schema, old.name, new.name
            ));
        }
    }
    let (dropped, added) = (
        of(ObjectKind::Column, Action::Drop),
        of(ObjectKind::Column, Action::Create),
    );
    let type_of = |schema: &Schema, id: &ObjectId| match schema.objects.get(id) {
        Some(Object::Column(c)) => Some(c.data_type.clone()),
        _ => None,
    };
    for old in &dropped {
        let ty = type_of(source, old);
        let same_table = |id: &&&ObjectId| id.schema == old.schema && id.name == old.name;
        let candidates: Vec<&&ObjectId> = added
            .iter()
            .filter(same_table)
            .filter(|new| type_of(target, new) == ty)
            .collect();
        let rivals = dropped
            .iter()
            .filter(same_table)
            .filter(|other| type_of(source, other) == ty)
            .count();
        if let ([new], 1) = (candidates.as_slice(), rivals) {
            out.push(format!(
                "--rename column:{}.{}.{}={}",
                old.schema, old.name, old.sub, new.sub
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_parse_into_alter_rename() {
        let h: RenameHint = "table:app.users=people".parse().expect("parse");
        assert_eq!(
            h.sql().expect("sql"),
            "ALTER TABLE \"app\".\"users\" RENAME TO \"people\""
        );
        let h: RenameHint = "column:users.name=full_name".parse().expect("parse");
        assert_eq!(
            h.sql().expect("sql"),
            "ALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\""
        );
        let h: RenameHint = "schema:old=new".parse().expect("parse");
        assert_eq!(
            h.sql().expect("sql"),
            "ALTER SCHEMA \"old\" RENAME TO \"new\""
        );
        assert_eq!(h.to_string(), "schema:old=new");
    }

    #[test]
    fn bad_hints_say_what_to_write() {
        for (bad, why) in [
            ("users=people", "no `KIND:`"),
            ("index:a=b", "unknown kind `index`"),
            ("table:a", "no `=NEW`"),
            ("column:name=x", "wrong number of parts"),
            ("table:a=s.b", "unqualified"),
        ] {
            let e = bad.parse::<RenameHint>().expect_err(bad).to_string();
            assert!(
                e.contains(why) && e.contains("column:TABLE.OLD=NEW"),
                "{bad}: {e}"
            );
        }
    }
}
