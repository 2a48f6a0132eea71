//! Operators.

use super::Stmt;
use crate::model::{ObjectId, Operator};
use crate::render::ident;

/// `schema.name (left, right)`, as `DROP`, `COMMENT ON` and `ALTER … OWNER TO` name it.
pub(crate) fn signature(id: &ObjectId) -> String {
    format!("{} ({})", name(id), id.sub)
}

/// `schema.name` (an operator's name is never quoted).
fn name(id: &ObjectId) -> String {
    format!("{}.{}", ident(&id.schema), id.name)
}

pub(crate) fn create_operator(id: &ObjectId, o: &Operator) -> Stmt {
    let (left, right) = id.sub.split_once(", ").unwrap_or(("NONE", &id.sub));
    let mut parts = vec![format!("FUNCTION = {}", o.function)];
    if left != "NONE" {
        parts.push(format!("LEFTARG = {left}"));
    }
    parts.push(format!("RIGHTARG = {right}"));
    let options = [
        ("COMMUTATOR", &o.commutator),
        ("NEGATOR", &o.negator),
        ("RESTRICT", &o.restrict),
        ("JOIN", &o.join),
    ];
    for (option, value) in options {
        if let Some(value) = value {
            parts.push(format!("{option} = {value}"));
        }
    }
    if o.hashes {
        parts.push("HASHES".into());
    }
    if o.merges {
        parts.push("MERGES".into());
    }
    Stmt::new(format!(
        "CREATE OPERATOR {} ({})",
        name(id),
        parts.join(", ")
    ))
}
