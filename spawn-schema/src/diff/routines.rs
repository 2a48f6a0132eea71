//! Functions, procedures, aggregates, views and materialized views.

use super::{Change, Stmt};
use crate::model::{Function, ObjectId, ObjectKind, View};
use crate::render::qualified;

/// `schema.name(argument types)` (`(*)` for an aggregate without arguments).
pub(crate) fn signature(id: &ObjectId, f: &Function) -> String {
    let args = if f.kind == "a" && id.sub.is_empty() {
        "*"
    } else {
        &*id.sub
    };
    format!("{}({args})", qualified(&id.schema, &id.name))
}

pub(crate) fn compare_function(a: &Function, b: &Function) -> Change {
    if a.definition == b.definition {
        return Change::Same;
    }
    // CREATE OR REPLACE keeps the function's identity (and what depends on it) when its kind,
    // result type and parameters (names, defaults) stay.
    if a.kind == b.kind && a.kind != "a" && a.result == b.result && a.arguments == b.arguments {
        return Change::alter(vec![Stmt::new(b.definition.clone())]);
    }
    Change::Recreate
}

pub(crate) fn create_view(id: &ObjectId, v: &View, replace: bool) -> Stmt {
    let materialized = id.kind == ObjectKind::MaterializedView;
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    let name = qualified(&id.schema, &id.name);
    if materialized {
        Stmt::new(format!(
            "CREATE MATERIALIZED VIEW {name}{with} AS\n{}\nWITH DATA",
            v.definition
        ))
    } else {
        let or_replace = if replace { "OR REPLACE " } else { "" };
        Stmt::new(format!(
            "CREATE {or_replace}VIEW {name}{with} AS\n{}",
            v.definition
        ))
    }
}

pub(crate) fn compare_view(id: &ObjectId, a: &View, b: &View) -> Change {
    if a == b || (a.definition == b.definition && a.columns == b.columns && a.options == b.options)
    {
        return Change::Same;
    }
    if id.kind == ObjectKind::MaterializedView {
        if a.definition == b.definition && a.columns == b.columns {
            let name = qualified(&id.schema, &id.name);
            let stmts = super::tables::storage_options(
                &format!("ALTER MATERIALIZED VIEW {name}"),
                &a.options,
                &b.options,
            );
            return Change::alter(stmts);
        }
        return Change::Recreate;
    }
    // CREATE OR REPLACE VIEW may only append columns.
    let compatible =
        b.columns.len() >= a.columns.len() && b.columns[..a.columns.len()] == a.columns[..];
    if compatible {
        Change::alter(vec![create_view(id, b, true)])
    } else {
        Change::Recreate
    }
}
