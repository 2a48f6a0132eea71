//! Recognising renamed columns, so a rename keeps the data instead of dropping it.
//!
//! A column of the source that the target lacks, and a column of the target that the source
//! lacks, at the same position of the same table and with the same definition (type,
//! collation, NOT NULL, identity, generation, default), are taken as one column renamed — when
//! that pairing is unambiguous.

use std::collections::{BTreeMap, HashMap};

use super::Stmt;
use crate::model::{Object, ObjectId, ObjectKind, Schema};
use crate::pairs::pair_up;
use crate::render::{ident, qualified};

/// Finds renamed columns. Returns the source with those columns renamed (so the rest of the
/// diff sees them as unchanged) and the `RENAME COLUMN` statements, or `None` when there are
/// no renames.
pub(crate) fn detect(source: &Schema, target: &Schema) -> Option<(Schema, Vec<(ObjectId, Stmt)>)> {
    // (table, position) → dropped / added column ids
    let mut dropped: BTreeMap<(ObjectId, i32), Vec<&ObjectId>> = BTreeMap::new();
    let mut added: BTreeMap<(ObjectId, i32), Vec<&ObjectId>> = BTreeMap::new();
    for (id, from, to) in pair_up(&source.objects, &target.objects) {
        match (from, to) {
            (Some(Object::Column(c)), None) if c.is_local => {
                if let Some(table) = id.owning_table().filter(|t| target.objects.contains_key(t)) {
                    dropped.entry((table, c.position)).or_default().push(id);
                }
            }
            (None, Some(Object::Column(c))) if c.is_local => {
                if let Some(table) = id.owning_table() {
                    added.entry((table, c.position)).or_default().push(id);
                }
            }
            _ => {}
        }
    }
    if dropped.is_empty() {
        return None;
    }
    let default_of = |schema: &Schema, id: &ObjectId| match schema
        .objects
        .get(&id.with_kind(ObjectKind::ColumnDefault))
    {
        Some(Object::ColumnDefault(d)) => Some(d.expression.clone()),
        _ => None,
    };
    let mut renames: HashMap<ObjectId, ObjectId> = HashMap::new();
    for (key, olds) in &dropped {
        let (Some(news), [old]) = (added.get(key), olds.as_slice()) else {
            continue;
        };
        let [new] = news.as_slice() else { continue };
        let (Some(Object::Column(a)), Some(Object::Column(b))) =
            (source.objects.get(*old), target.objects.get(*new))
        else {
            continue;
        };
        let same = a.data_type == b.data_type
            && a.collation == b.collation
            && a.not_null == b.not_null
            && a.identity == b.identity
            && a.generated == b.generated
            && default_of(source, old) == default_of(target, new);
        if same {
            renames.insert((*old).clone(), (*new).clone());
        }
    }
    if renames.is_empty() {
        return None;
    }
    let rename_id = |id: &ObjectId| -> ObjectId {
        if matches!(id.kind, ObjectKind::Column | ObjectKind::ColumnDefault) {
            let column = id.with_kind(ObjectKind::Column);
            if let Some(new) = renames.get(&column) {
                return new.with_kind(id.kind);
            }
        }
        id.clone()
    };
    let mut renamed = source.clone();
    renamed.objects = source
        .objects
        .iter()
        .map(|(id, object)| {
            let mut object = object.clone();
            if let Object::Table(t) = &mut object {
                for c in &mut t.columns {
                    let old = ObjectId::part(ObjectKind::Column, &id.schema, &id.name, c.as_str());
                    if let Some(new) = renames.get(&old) {
                        *c = new.sub.to_string();
                    }
                }
            }
            (rename_id(id), object)
        })
        .collect();
    for dep in &mut renamed.dependencies {
        dep.from = rename_id(&dep.from);
        dep.to = rename_id(&dep.to);
    }
    renamed.dependencies.sort();
    let mut stmts: Vec<(ObjectId, Stmt)> = renames
        .iter()
        .map(|(old, new)| {
            let sql = format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                qualified(&old.schema, &old.name),
                ident(&old.sub),
                ident(&new.sub)
            );
            (new.clone(), Stmt::new(sql))
        })
        .collect();
    stmts.sort_by(|a, b| a.0.cmp(&b.0));
    Some((renamed, stmts))
}
