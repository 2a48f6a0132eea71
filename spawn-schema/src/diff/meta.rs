//! Owners, comments and privileges, which every kind of object handles alike.

use std::collections::BTreeMap;

use super::{DiffContext, Stmt};
use crate::model::{Grant, Meta, Object, ObjectId, ObjectKind};
use crate::render::{ident, literal, qualified, role, Designator};

/// How `COMMENT ON`, `ALTER … OWNER TO` and `GRANT … ON` name this object.
pub(crate) fn designator(id: &ObjectId, object: &Object) -> Designator {
    let name = qualified(&id.schema, &id.name);
    let d = |comment_on: String, owner_of: Option<String>, grant_on: Option<String>| Designator {
        comment_on,
        owner_of,
        grant_on,
        column: None,
    };
    match (id.kind, object) {
        (ObjectKind::Schema, _) => {
            let s = format!("SCHEMA {}", ident(&id.name));
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::Extension, _) => d(format!("EXTENSION {}", ident(&id.name)), None, None),
        (ObjectKind::Collation, _) => {
            let s = format!("COLLATION {name}");
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::Domain, _) => {
            let s = format!("DOMAIN {name}");
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::Enum | ObjectKind::Composite | ObjectKind::Range, _) => {
            let s = format!("TYPE {name}");
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::Function, Object::Function(f)) => {
            let s = format!("{} {}", f.keyword(), super::routines::signature(id, f));
            let grant = if f.kind == "p" {
                s.clone()
            } else {
                format!("FUNCTION {}", super::routines::signature(id, f))
            };
            d(s.clone(), Some(s), Some(grant))
        }
        (ObjectKind::Sequence, _) => {
            let s = format!("SEQUENCE {name}");
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::Table, Object::Table(t)) if t.foreign.is_some() => {
            let s = format!("FOREIGN TABLE {name}");
            d(s.clone(), Some(s), Some(format!("TABLE {name}")))
        }
        (ObjectKind::Table, _) => {
            let s = format!("TABLE {name}");
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::ForeignServer, _) => {
            let s = format!("SERVER {}", ident(&id.name));
            d(
                s.clone(),
                Some(s),
                Some(format!("FOREIGN SERVER {}", ident(&id.name))),
            )
        }
        (ObjectKind::ForeignDataWrapper, _) => {
            let s = format!("FOREIGN DATA WRAPPER {}", ident(&id.name));
            d(s.clone(), Some(s.clone()), Some(s))
        }
        (ObjectKind::TextSearchParser, _) => d(format!("TEXT SEARCH PARSER {name}"), None, None),
        (ObjectKind::TextSearchTemplate, _) => {
            d(format!("TEXT SEARCH TEMPLATE {name}"), None, None)
        }
        (ObjectKind::View, _) => d(
            format!("VIEW {name}"),
            Some(format!("VIEW {name}")),
            Some(format!("TABLE {name}")),
        ),
        (ObjectKind::MaterializedView, _) => d(
            format!("MATERIALIZED VIEW {name}"),
            Some(format!("MATERIALIZED VIEW {name}")),
            Some(format!("TABLE {name}")),
        ),
        (ObjectKind::Column, _) => Designator {
            comment_on: format!("COLUMN {name}.{}", ident(&id.sub)),
            owner_of: None,
            grant_on: Some(format!("TABLE {name}")),
            column: Some(ident(&id.sub)),
        },
        (ObjectKind::Constraint, _) => d(
            format!("CONSTRAINT {} ON {name}", ident(&id.sub)),
            None,
            None,
        ),
        (ObjectKind::Trigger, _) => d(format!("TRIGGER {} ON {name}", ident(&id.sub)), None, None),
        (ObjectKind::Policy, _) => d(format!("POLICY {} ON {name}", ident(&id.sub)), None, None),
        (ObjectKind::Index, _) => d(format!("INDEX {name}"), None, None),
        (ObjectKind::Statistics, _) => {
            let s = format!("STATISTICS {name}");
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::Rule, _) => d(format!("RULE {} ON {name}", ident(&id.sub)), None, None),
        (ObjectKind::Operator, _) => {
            let s = format!("OPERATOR {}", super::operators::signature(id));
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::OperatorFamily, _) => {
            let s = format!("OPERATOR FAMILY {}", super::opclasses::designation(id));
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::OperatorClass, _) => {
            let s = format!("OPERATOR CLASS {}", super::opclasses::designation(id));
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::Cast, _) => d(format!("CAST ({})", id.name), None, None),
        (ObjectKind::TextSearchDictionary, _) => {
            let s = format!("TEXT SEARCH DICTIONARY {name}");
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::TextSearchConfiguration, _) => {
            let s = format!("TEXT SEARCH CONFIGURATION {name}");
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::Publication, _) => {
            let s = format!("PUBLICATION {}", ident(&id.name));
            d(s.clone(), Some(s), None)
        }
        (ObjectKind::EventTrigger, _) => {
            let s = format!("EVENT TRIGGER {}", ident(&id.name));
            d(s.clone(), Some(s), None)
        }
        _ => d(String::new(), None, None),
    }
}

/// Comment, owner and privileges of a newly created object.
pub(crate) fn create_meta(id: &ObjectId, object: &Object, ctx: &DiffContext) -> Vec<Stmt> {
    let to = object.meta();
    let baseline = Meta {
        owner: Some(ctx.source.current_user.clone()),
        comment: None,
        acl: to.acl.as_ref().map(|_| to.default_acl.clone()),
        default_acl: to.default_acl.clone(),
    };
    diff_meta(&designator(id, object), &baseline, to, ctx)
}

/// Comment, owner and privileges of an object that exists on both sides.
pub(crate) fn alter_meta(
    id: &ObjectId,
    from: &Object,
    to: &Object,
    ctx: &DiffContext,
) -> Vec<Stmt> {
    let (a, b) = (from.meta(), to.meta());
    let differs = a.comment != b.comment
        || (ctx.options.with_privileges && (a.owner != b.owner || a.acl != b.acl));
    if !differs {
        return Vec::new();
    }
    diff_meta(&designator(id, to), a, b, ctx)
}

fn diff_meta(d: &Designator, from: &Meta, to: &Meta, ctx: &DiffContext) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    if from.comment != to.comment && !d.comment_on.is_empty() {
        let value = to
            .comment
            .as_deref()
            .map_or_else(|| "NULL".to_string(), literal);
        stmts.push(Stmt::new(format!("COMMENT ON {} IS {value}", d.comment_on)));
    }
    if !ctx.options.with_privileges {
        return stmts;
    }
    let mut from_acl = from.acl.clone();
    if let (Some(owner_of), Some(old), Some(new)) = (&d.owner_of, &from.owner, &to.owner) {
        if old != new {
            stmts.push(Stmt::new(format!(
                "ALTER {owner_of} OWNER TO {}",
                role(new)
            )));
            // A new owner takes over the old owner's privileges.
            from_acl = from_acl.map(|acl| {
                if acl == from.default_acl {
                    to.default_acl.clone()
                } else {
                    let mut moved: Vec<Grant> = acl
                        .into_iter()
                        .map(|mut g| {
                            if &g.grantee == old {
                                g.grantee = new.clone();
                            }
                            g
                        })
                        .collect();
                    moved.sort();
                    moved.dedup();
                    moved
                }
            });
        }
    }
    if let (Some(grant_on), Some(from_acl), Some(to_acl)) = (&d.grant_on, &from_acl, &to.acl) {
        stmts.extend(diff_acl(grant_on, d.column.as_deref(), from_acl, to_acl));
    }
    stmts
}

/// `ALTER DEFAULT PRIVILEGES … GRANT/REVOKE` statements turning one role's default privileges
/// on a kind of object (in a schema, or in all) into another.
pub(crate) fn default_privileges(id: &ObjectId, from: &[Grant], to: &[Grant]) -> Vec<Stmt> {
    let mut prefix = format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}", role(&id.name));
    if !id.schema.is_empty() {
        prefix.push_str(&format!(" IN SCHEMA {}", ident(&id.schema)));
    }
    diff_acl(&id.sub, None, from, to)
        .into_iter()
        .map(|stmt| Stmt::new(format!("{prefix} {}", stmt.sql)))
        .collect()
}

/// REVOKE and GRANT statements turning one privilege list into another, one statement per
/// grantee and kind of change.
fn diff_acl(on: &str, column: Option<&str>, from: &[Grant], to: &[Grant]) -> Vec<Stmt> {
    let key = |g: &Grant| (g.grantee.clone(), g.privilege.clone());
    let from_map: BTreeMap<_, bool> = from.iter().map(|g| (key(g), g.grantable)).collect();
    let to_map: BTreeMap<_, bool> = to.iter().map(|g| (key(g), g.grantable)).collect();
    // (grantee, statement kind) → privileges
    let mut revoke: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut revoke_option: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut grant: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut grant_option: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for ((grantee, privilege), grantable) in &from_map {
        match to_map.get(&(grantee.clone(), privilege.clone())) {
            None => revoke.entry(grantee).or_default().push(privilege),
            Some(false) if *grantable => revoke_option.entry(grantee).or_default().push(privilege),
            _ => {}
        }
    }
    for ((grantee, privilege), grantable) in &to_map {
        match from_map.get(&(grantee.clone(), privilege.clone())) {
            None if *grantable => grant_option.entry(grantee).or_default().push(privilege),
            None => grant.entry(grantee).or_default().push(privilege),
            Some(false) if *grantable => grant_option.entry(grantee).or_default().push(privilege),
            _ => {}
        }
    }
    let privs = |list: &[&str]| {
        let joined = list.join(", ");
        match column {
            Some(c) => list
                .iter()
                .map(|p| format!("{p} ({c})"))
                .collect::<Vec<_>>()
                .join(", "),
            None => joined,
        }
    };
    let mut stmts = Vec::new();
    for (grantee, list) in &revoke_option {
        stmts.push(Stmt::new(format!(
            "REVOKE GRANT OPTION FOR {} ON {on} FROM {}",
            privs(list),
            role(grantee)
        )));
    }
    for (grantee, list) in &revoke {
        stmts.push(Stmt::new(format!(
            "REVOKE {} ON {on} FROM {}",
            privs(list),
            role(grantee)
        )));
    }
    for (grantee, list) in &grant {
        stmts.push(Stmt::new(format!(
            "GRANT {} ON {on} TO {}",
            privs(list),
            role(grantee)
        )));
    }
    for (grantee, list) in &grant_option {
        stmts.push(Stmt::new(format!(
            "GRANT {} ON {on} TO {} WITH GRANT OPTION",
            privs(list),
            role(grantee)
        )));
    }
    stmts
}
