//! Which statements may lose data.
//!
//! Data lives in tables, columns, sequences (their current value) and extensions (their
//! configuration tables); dropping one of those loses it. A column type change that is not a
//! known widening may fail or truncate values; removing enum values fails on (or loses) rows
//! that use them. Dropping views, functions, indexes, constraints and the like loses no data:
//! they are recreated from the target's definitions when the target still has them.

use crate::model::{ObjectId, ObjectKind};

/// Why dropping this object loses data, if it does.
pub fn drop_reason(id: &ObjectId) -> Option<String> {
    match id.kind {
        ObjectKind::Table => Some(format!("drops table {id} and its rows")),
        ObjectKind::Column => Some(format!("drops column {id} and its values")),
        ObjectKind::Sequence => Some(format!("drops sequence {id} and its current value")),
        ObjectKind::Extension => Some(format!("drops extension {id} and any data it holds")),
        ObjectKind::Schema => Some(format!("drops schema {id}")),
        _ => None,
    }
}

/// Why changing a column from `from` to `to` may lose data, unless it is a known widening.
pub fn type_change_reason(id: &ObjectId, from: &str, to: &str) -> Option<String> {
    if is_widening(from, to) {
        None
    } else {
        Some(format!(
            "changes the type of {id} from {from} to {to}, which may fail or lose data"
        ))
    }
}

/// A type change that keeps every value.
fn is_widening(from: &str, to: &str) -> bool {
    const INTS: [&str; 3] = ["smallint", "integer", "bigint"];
    let rank = |t: &str| INTS.iter().position(|i| *i == t);
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        return a <= b;
    }
    if rank(from).is_some() && to == "numeric" {
        return true;
    }
    if from == "real" && to == "double precision" {
        return true;
    }
    let text_like = |t: &str| t == "text" || t == "character varying";
    if (from.starts_with("character varying")
        || from.starts_with("character(")
        || from == "character")
        && text_like(to)
    {
        return true;
    }
    if let (Some(a), Some(b)) = (varchar_len(from), varchar_len(to)) {
        return a <= b;
    }
    if from.starts_with("numeric(") && to == "numeric" {
        return true;
    }
    if let (Some((p1, s1)), Some((p2, s2))) = (numeric_spec(from), numeric_spec(to)) {
        return s2 >= s1 && p2 - s2 >= p1 - s1;
    }
    false
}

fn varchar_len(t: &str) -> Option<u32> {
    t.strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

fn numeric_spec(t: &str) -> Option<(i64, i64)> {
    let inner = t.strip_prefix("numeric(")?.strip_suffix(')')?;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<i64>());
    let p = parts.next()?.ok()?;
    let s = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((p, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widenings_are_safe() {
        let id = ObjectId::part(ObjectKind::Column, "public", "t", "c");
        assert!(type_change_reason(&id, "integer", "bigint").is_none());
        assert!(type_change_reason(&id, "character varying(10)", "text").is_none());
        assert!(
            type_change_reason(&id, "character varying(10)", "character varying(20)").is_none()
        );
        assert!(type_change_reason(&id, "numeric(10,2)", "numeric(12,2)").is_none());
        assert!(type_change_reason(&id, "bigint", "integer").is_some());
        assert!(type_change_reason(&id, "text", "character varying(5)").is_some());
        assert!(type_change_reason(&id, "numeric(10,2)", "numeric(10,1)").is_some());
        assert!(type_change_reason(&id, "text", "integer").is_some());
    }
}
