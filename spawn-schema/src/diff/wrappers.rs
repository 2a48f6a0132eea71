//! Foreign-data wrappers and user mappings.

use super::foreign::{alter_options, options_clause};
use super::{Change, Stmt};
use crate::model::{ForeignDataWrapper, ObjectId, UserMapping};
use crate::render::{ident, role};

pub(crate) fn create_wrapper(id: &ObjectId, w: &ForeignDataWrapper) -> Stmt {
    let mut sql = format!("CREATE FOREIGN DATA WRAPPER {}", ident(&id.name));
    if let Some(handler) = &w.handler {
        sql.push_str(&format!(" HANDLER {handler}"));
    }
    if let Some(validator) = &w.validator {
        sql.push_str(&format!(" VALIDATOR {validator}"));
    }
    sql.push_str(&options_clause(&w.options));
    Stmt::new(sql)
}

/// One `ALTER FOREIGN DATA WRAPPER` with every change: a new validator checks the options
/// given with it, so both go in the same statement.
pub(crate) fn compare_wrapper(
    id: &ObjectId,
    a: &ForeignDataWrapper,
    b: &ForeignDataWrapper,
) -> Change {
    let mut clauses = String::new();
    if a.handler != b.handler {
        match &b.handler {
            Some(handler) => clauses.push_str(&format!(" HANDLER {handler}")),
            None => clauses.push_str(" NO HANDLER"),
        }
    }
    if a.validator != b.validator {
        match &b.validator {
            Some(validator) => clauses.push_str(&format!(" VALIDATOR {validator}")),
            None => clauses.push_str(" NO VALIDATOR"),
        }
    }
    if let Some(options) = alter_options(&a.options, &b.options) {
        clauses.push_str(&options);
    }
    if clauses.is_empty() {
        return Change::Same;
    }
    Change::alter(vec![Stmt::new(format!(
        "ALTER FOREIGN DATA WRAPPER {}{clauses}",
        ident(&id.name)
    ))])
}

/// `FOR role SERVER server`, as the user mapping statements name a mapping.
pub(crate) fn mapping_designation(id: &ObjectId) -> String {
    let user = if *id.sub == *"public" {
        String::new()
    } else {
        id.sub.to_string()
    };
    format!("FOR {} SERVER {}", role(&user), ident(&id.name))
}

pub(crate) fn create_mapping(id: &ObjectId, m: &UserMapping) -> Stmt {
    let options = m.options.as_deref().map(options_clause).unwrap_or_default();
    Stmt::new(format!(
        "CREATE USER MAPPING {}{options}",
        mapping_designation(id)
    ))
}

/// Options are changed in place; options that could not be read on either side are left
/// as they are.
pub(crate) fn compare_mapping(id: &ObjectId, a: &UserMapping, b: &UserMapping) -> Change {
    let (Some(from), Some(to)) = (&a.options, &b.options) else {
        return Change::Same;
    };
    match alter_options(from, to) {
        Some(options) => Change::alter(vec![Stmt::new(format!(
            "ALTER USER MAPPING {}{options}",
            mapping_designation(id)
        ))]),
        None => Change::Same,
    }
}
