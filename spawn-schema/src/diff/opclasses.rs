//! Operator families and operator classes.

use super::Stmt;
use crate::model::{ObjectId, OperatorClass, OperatorFamily};
use crate::render::{ident, qualified};

/// `schema.name USING method`, as `CREATE`, `DROP`, `COMMENT ON` and `ALTER` name them.
pub(crate) fn designation(id: &ObjectId) -> String {
    format!(
        "{} USING {}",
        qualified(&id.schema, &id.name),
        ident(&id.sub)
    )
}

pub(crate) fn create_family(id: &ObjectId, f: &OperatorFamily) -> Vec<Stmt> {
    let name = designation(id);
    let mut stmts = vec![Stmt::new(format!("CREATE OPERATOR FAMILY {name}"))];
    if !f.members.is_empty() {
        stmts.push(Stmt::new(format!(
            "ALTER OPERATOR FAMILY {name} ADD {}",
            f.members.join(", ")
        )));
    }
    stmts
}

pub(crate) fn create_class(id: &ObjectId, c: &OperatorClass) -> Stmt {
    let mut items = c.members.clone();
    if let Some(storage) = &c.storage {
        items.push(format!("STORAGE {storage}"));
    }
    Stmt::new(format!(
        "CREATE OPERATOR CLASS {}{} FOR TYPE {} USING {} FAMILY {} AS {}",
        qualified(&id.schema, &id.name),
        if c.default { " DEFAULT" } else { "" },
        c.input_type,
        ident(&id.sub),
        c.family,
        items.join(", ")
    ))
}
