//! Text search dictionaries and configurations.

use super::{Change, Stmt};
use crate::model::{ObjectId, TextSearchConfiguration, TextSearchDictionary};
use crate::render::qualified;

pub(crate) fn create_dictionary(id: &ObjectId, d: &TextSearchDictionary) -> Stmt {
    let options = d
        .options
        .as_deref()
        .map(|o| format!(", {o}"))
        .unwrap_or_default();
    Stmt::new(format!(
        "CREATE TEXT SEARCH DICTIONARY {} (TEMPLATE = {}{options})",
        qualified(&id.schema, &id.name),
        d.template
    ))
}

/// `ADD MAPPING`, `ALTER MAPPING` and `DROP MAPPING` statements turning one configuration's
/// mappings into another's (both sorted by token type).
fn mappings(
    id: &ObjectId,
    from: &[(String, Vec<String>)],
    to: &[(String, Vec<String>)],
) -> Vec<Stmt> {
    let name = qualified(&id.schema, &id.name);
    let mut stmts = Vec::new();
    for (token, _) in from {
        if !to.iter().any(|(t, _)| t == token) {
            stmts.push(Stmt::new(format!(
                "ALTER TEXT SEARCH CONFIGURATION {name} DROP MAPPING FOR {token}"
            )));
        }
    }
    for (token, dictionaries) in to {
        let verb = match from.iter().find(|(t, _)| t == token) {
            Some((_, old)) if old == dictionaries => continue,
            Some(_) => "ALTER",
            None => "ADD",
        };
        stmts.push(Stmt::new(format!(
            "ALTER TEXT SEARCH CONFIGURATION {name} {verb} MAPPING FOR {token} WITH {}",
            dictionaries.join(", ")
        )));
    }
    stmts
}

pub(crate) fn create_configuration(id: &ObjectId, c: &TextSearchConfiguration) -> Vec<Stmt> {
    let mut stmts = vec![Stmt::new(format!(
        "CREATE TEXT SEARCH CONFIGURATION {} (PARSER = {})",
        qualified(&id.schema, &id.name),
        c.parser
    ))];
    stmts.extend(mappings(id, &[], &c.mappings));
    stmts
}

pub(crate) fn compare_configuration(
    id: &ObjectId,
    a: &TextSearchConfiguration,
    b: &TextSearchConfiguration,
) -> Change {
    if a.parser != b.parser {
        return Change::Recreate;
    }
    Change::alter(mappings(id, &a.mappings, &b.mappings))
}
