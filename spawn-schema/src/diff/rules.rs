//! Rewrite rules.

use super::{Change, Stmt};
use crate::model::{ObjectId, Rule};
use crate::render::{ident, qualified};

/// `ALTER TABLE … ENABLE/DISABLE RULE` for `ev_enabled`.
fn enable_rule(id: &ObjectId, enabled: &str) -> Stmt {
    let what = match enabled {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    };
    Stmt::new(format!(
        "ALTER TABLE {} {what} RULE {}",
        qualified(&id.schema, &id.name),
        ident(&id.sub)
    ))
}

pub(crate) fn create_rule(id: &ObjectId, rule: &Rule) -> Vec<Stmt> {
    let mut stmts = vec![Stmt::new(rule.definition.clone())];
    if rule.enabled != "O" {
        stmts.push(enable_rule(id, &rule.enabled));
    }
    stmts
}

pub(crate) fn compare_rule(id: &ObjectId, a: &Rule, b: &Rule) -> Change {
    if a.definition != b.definition {
        return Change::Recreate;
    }
    if a.enabled != b.enabled {
        return Change::alter(vec![enable_rule(id, &b.enabled)]);
    }
    Change::Same
}
