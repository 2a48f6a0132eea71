//! Extensions, collations, enums, domains, composite types and sequences.

use super::{Change, DiffContext, Stmt};
use crate::model::{Collation, Composite, Domain, EnumType, Extension, ObjectId, Sequence};
use crate::render::{ident, literal, qualified};

pub(crate) fn create_extension(id: &ObjectId, e: &Extension, ctx: &DiffContext) -> Stmt {
    let mut sql = format!(
        "CREATE EXTENSION {} WITH SCHEMA {}",
        ident(&id.name),
        ident(&e.schema)
    );
    if !ctx.options.ignore_extension_versions {
        sql.push_str(&format!(" VERSION {}", literal(&e.version)));
    }
    Stmt::new(sql)
}

pub(crate) fn compare_extension(
    id: &ObjectId,
    a: &Extension,
    b: &Extension,
    ctx: &DiffContext,
) -> Change {
    let version_changes = a.version != b.version && !ctx.options.ignore_extension_versions;
    if version_changes && !a.update_targets.contains(&b.version) {
        // No update path (e.g. a downgrade): drop and create again.
        return Change::Recreate;
    }
    let mut stmts = Vec::new();
    if a.schema != b.schema {
        stmts.push(Stmt::new(format!(
            "ALTER EXTENSION {} SET SCHEMA {}",
            ident(&id.name),
            ident(&b.schema)
        )));
    }
    if version_changes {
        stmts.push(Stmt::new(format!(
            "ALTER EXTENSION {} UPDATE TO {}",
            ident(&id.name),
            literal(&b.version)
        )));
    }
    Change::alter(stmts)
}

pub(crate) fn create_collation(id: &ObjectId, c: &Collation) -> Stmt {
    let mut opts = Vec::new();
    match c.provider.as_str() {
        "i" => {
            opts.push("provider = icu".to_string());
            opts.push(format!(
                "locale = {}",
                literal(c.locale.as_deref().unwrap_or_default())
            ));
        }
        _ => {
            opts.push("provider = libc".to_string());
            let collate = c.lc_collate.as_deref().unwrap_or_default();
            let ctype = c.lc_ctype.as_deref().unwrap_or_default();
            if collate == ctype {
                opts.push(format!("locale = {}", literal(collate)));
            } else {
                opts.push(format!("lc_collate = {}", literal(collate)));
                opts.push(format!("lc_ctype = {}", literal(ctype)));
            }
        }
    }
    if !c.deterministic {
        opts.push("deterministic = false".to_string());
    }
    Stmt::new(format!(
        "CREATE COLLATION {} ({})",
        qualified(&id.schema, &id.name),
        opts.join(", ")
    ))
}

pub(crate) fn create_enum(id: &ObjectId, e: &EnumType) -> Stmt {
    let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
    Stmt::new(format!(
        "CREATE TYPE {} AS ENUM ({})",
        qualified(&id.schema, &id.name),
        labels.join(", ")
    ))
}

pub(crate) fn compare_enum(id: &ObjectId, a: &EnumType, b: &EnumType) -> Change {
    if a.labels == b.labels {
        return Change::Same;
    }
    // Values only added, the old ones in the same order: ADD VALUE in place.
    let kept: Vec<&String> = b.labels.iter().filter(|l| a.labels.contains(l)).collect();
    let in_order = kept.len() == a.labels.len() && kept.iter().zip(&a.labels).all(|(x, y)| *x == y);
    if !in_order {
        return Change::ConvertEnum;
    }
    let name = qualified(&id.schema, &id.name);
    let mut stmts = Vec::new();
    for (i, label) in b.labels.iter().enumerate() {
        if a.labels.contains(label) {
            continue;
        }
        let place = match b.labels[..i].iter().rev().find(|l| a.labels.contains(l)) {
            Some(prev) => format!(" AFTER {}", literal(prev)),
            None => match b.labels[i + 1..].iter().find(|l| a.labels.contains(l)) {
                Some(next) => format!(" BEFORE {}", literal(next)),
                None => String::new(),
            },
        };
        stmts.push(Stmt::new(format!(
            "ALTER TYPE {name} ADD VALUE {}{place}",
            literal(label)
        )));
    }
    Change::alter(stmts)
}

/// Why converting an enum from `a` to `b` may lose data.
pub(crate) fn enum_removal_reason(id: &ObjectId, a: &EnumType, b: &EnumType) -> Option<String> {
    let removed: Vec<&String> = a.labels.iter().filter(|l| !b.labels.contains(l)).collect();
    if removed.is_empty() {
        None
    } else {
        let list: Vec<String> = removed.iter().map(|l| literal(l)).collect();
        Some(format!(
            "removes value(s) {} of enum {id}; rows using them make the conversion fail",
            list.join(", ")
        ))
    }
}

pub(crate) fn create_domain(id: &ObjectId, d: &Domain) -> Stmt {
    let mut sql = format!(
        "CREATE DOMAIN {} AS {}",
        qualified(&id.schema, &id.name),
        d.base_type
    );
    if let Some(c) = &d.collation {
        sql.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(default) = &d.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    for (name, def) in &d.constraints {
        sql.push_str(&format!(" CONSTRAINT {} {def}", ident(name)));
    }
    Stmt::new(sql)
}

pub(crate) fn compare_domain(id: &ObjectId, a: &Domain, b: &Domain) -> Change {
    if a.base_type != b.base_type || a.collation != b.collation {
        return Change::Recreate;
    }
    let name = qualified(&id.schema, &id.name);
    let mut stmts = Vec::new();
    if a.default != b.default {
        stmts.push(Stmt::new(match &b.default {
            Some(d) => format!("ALTER DOMAIN {name} SET DEFAULT {d}"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
        }));
    }
    if a.not_null != b.not_null {
        let what = if b.not_null { "SET" } else { "DROP" };
        stmts.push(Stmt::new(format!("ALTER DOMAIN {name} {what} NOT NULL")));
    }
    for (cname, def) in &a.constraints {
        if !b.constraints.iter().any(|(n, d)| n == cname && d == def) {
            stmts.push(Stmt::new(format!(
                "ALTER DOMAIN {name} DROP CONSTRAINT {}",
                ident(cname)
            )));
        }
    }
    for (cname, def) in &b.constraints {
        if !a.constraints.iter().any(|(n, d)| n == cname && d == def) {
            stmts.push(Stmt::new(format!(
                "ALTER DOMAIN {name} ADD CONSTRAINT {} {def}",
                ident(cname)
            )));
        }
    }
    Change::alter(stmts)
}

fn attribute_sql(a: &crate::model::Attribute) -> String {
    let mut s = format!("{} {}", ident(&a.name), a.data_type);
    if let Some(c) = &a.collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    s
}

pub(crate) fn create_composite(id: &ObjectId, c: &Composite) -> Stmt {
    let attrs: Vec<String> = c.attributes.iter().map(attribute_sql).collect();
    Stmt::new(format!(
        "CREATE TYPE {} AS ({})",
        qualified(&id.schema, &id.name),
        attrs.join(", ")
    ))
}

pub(crate) fn compare_composite(id: &ObjectId, a: &Composite, b: &Composite) -> Change {
    if a.attributes == b.attributes {
        return Change::Same;
    }
    // Attributes only appended: ADD ATTRIBUTE in place.
    if b.attributes.len() > a.attributes.len()
        && b.attributes[..a.attributes.len()] == a.attributes[..]
    {
        let name = qualified(&id.schema, &id.name);
        let stmts = b.attributes[a.attributes.len()..]
            .iter()
            .map(|attr| {
                Stmt::new(format!(
                    "ALTER TYPE {name} ADD ATTRIBUTE {} CASCADE",
                    attribute_sql(attr)
                ))
            })
            .collect();
        return Change::alter(stmts);
    }
    Change::Recreate
}

fn sequence_options(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

fn owned_by(name: &str, s: &Sequence) -> Stmt {
    let owner = match &s.owned_by {
        Some((schema, table, column)) => format!("{}.{}", qualified(schema, table), ident(column)),
        None => "NONE".to_string(),
    };
    Stmt::new(format!("ALTER SEQUENCE {name} OWNED BY {owner}"))
}

pub(crate) fn create_sequence(id: &ObjectId, s: &Sequence) -> Vec<Stmt> {
    let name = qualified(&id.schema, &id.name);
    let mut stmts = vec![Stmt::new(format!(
        "CREATE {}SEQUENCE {name} {}",
        if s.unlogged { "UNLOGGED " } else { "" },
        sequence_options(s)
    ))];
    if s.owned_by.is_some() {
        stmts.push(owned_by(&name, s));
    }
    stmts
}

pub(crate) fn compare_sequence(id: &ObjectId, a: &Sequence, b: &Sequence) -> Change {
    let name = qualified(&id.schema, &id.name);
    let mut stmts = Vec::new();
    let options_of = |s: &Sequence| {
        (
            s.data_type.clone(),
            s.increment,
            s.min,
            s.max,
            s.start,
            s.cache,
            s.cycle,
        )
    };
    if options_of(a) != options_of(b) {
        stmts.push(Stmt::new(format!(
            "ALTER SEQUENCE {name} {}",
            sequence_options(b)
        )));
    }
    if a.unlogged != b.unlogged {
        let what = if b.unlogged { "UNLOGGED" } else { "LOGGED" };
        stmts.push(Stmt::new(format!("ALTER SEQUENCE {name} SET {what}")));
    }
    let detaches = a.owned_by != b.owned_by;
    if detaches {
        stmts.push(owned_by(&name, b));
    }
    if stmts.is_empty() {
        Change::Same
    } else {
        Change::Alter {
            stmts,
            invalidates: false,
            detaches,
        }
    }
}
