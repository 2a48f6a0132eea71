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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Meta, ObjectKind};

    fn wrapper(
        handler: Option<&str>,
        validator: Option<&str>,
        options: &[&str],
    ) -> ForeignDataWrapper {
        ForeignDataWrapper {
            handler: handler.map(str::to_string),
            validator: validator.map(str::to_string),
            options: options.iter().map(|o| o.to_string()).collect(),
            meta: Meta::default(),
        }
    }

    fn sql(change: Change) -> Vec<String> {
        match change {
            Change::Alter { stmts, .. } => stmts.into_iter().map(|s| s.sql).collect(),
            Change::Same => Vec::new(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_wrapper_changes_in_one_statement() {
        let id = ObjectId::new(ObjectKind::ForeignDataWrapper, "", "w");
        let from = wrapper(Some("h"), None, &["a=1", "b=2"]);
        let to = wrapper(None, Some("public.v"), &["b=3", "c=4"]);
        assert_eq!(
            sql(compare_wrapper(&id, &from, &to)),
            [
                "ALTER FOREIGN DATA WRAPPER w NO HANDLER VALIDATOR public.v \
              OPTIONS (DROP a, SET b '3', ADD c '4')"
            ]
        );
        assert_eq!(
            sql(compare_wrapper(&id, &to, &to.clone())),
            Vec::<String>::new()
        );
        assert_eq!(
            create_wrapper(&id, &from).sql,
            "CREATE FOREIGN DATA WRAPPER w HANDLER h OPTIONS (a '1', b '2')"
        );
    }

    #[test]
    fn mappings_name_public_and_roles() {
        let public = ObjectId::part(ObjectKind::UserMapping, "", "my server", "public");
        let role = ObjectId::part(ObjectKind::UserMapping, "", "s", "App");
        assert_eq!(
            mapping_designation(&public),
            "FOR PUBLIC SERVER \"my server\""
        );
        assert_eq!(mapping_designation(&role), "FOR \"App\" SERVER s");
        let mapping = |options: Option<&[&str]>| UserMapping {
            options: options.map(|o| o.iter().map(|o| o.to_string()).collect()),
            meta: Meta::default(),
        };
        assert_eq!(
            create_mapping(&role, &mapping(Some(&["user=x"]))).sql,
            "CREATE USER MAPPING FOR \"App\" SERVER s OPTIONS (\"user\" 'x')"
        );
        // Options that could not be read are left alone.
        assert_eq!(
            compare_mapping(&role, &mapping(None), &mapping(Some(&["user=x"]))),
            Change::Same
        );
        assert_eq!(
            sql(compare_mapping(
                &role,
                &mapping(Some(&["user=x", "password=p"])),
                &mapping(Some(&["user=y"]))
            )),
            ["ALTER USER MAPPING FOR \"App\" SERVER s OPTIONS (DROP password, SET \"user\" 'y')"]
        );
    }
}
