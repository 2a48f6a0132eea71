//! Text search parsers and templates: created, dropped and, when their functions change,
//! recreated (PostgreSQL cannot alter them but for their names and schemas).

use super::{Change, Stmt};
use crate::model::{ObjectId, TextSearchParser, TextSearchTemplate};
use crate::render::qualified;

pub(crate) fn create_parser(id: &ObjectId, p: &TextSearchParser) -> Stmt {
    let mut functions = format!(
        "START = {}, GETTOKEN = {}, END = {}, LEXTYPES = {}",
        p.start, p.get_token, p.end, p.lex_types
    );
    if let Some(headline) = &p.headline {
        functions.push_str(&format!(", HEADLINE = {headline}"));
    }
    Stmt::new(format!(
        "CREATE TEXT SEARCH PARSER {} ({functions})",
        qualified(&id.schema, &id.name)
    ))
}

pub(crate) fn compare_parser(a: &TextSearchParser, b: &TextSearchParser) -> Change {
    let same = a.start == b.start
        && a.get_token == b.get_token
        && a.end == b.end
        && a.lex_types == b.lex_types
        && a.headline == b.headline;
    if same {
        Change::Same
    } else {
        Change::Recreate
    }
}

pub(crate) fn create_template(id: &ObjectId, t: &TextSearchTemplate) -> Stmt {
    let init = t
        .init
        .as_deref()
        .map(|init| format!("INIT = {init}, "))
        .unwrap_or_default();
    Stmt::new(format!(
        "CREATE TEXT SEARCH TEMPLATE {} ({init}LEXIZE = {})",
        qualified(&id.schema, &id.name),
        t.lexize
    ))
}

pub(crate) fn compare_template(a: &TextSearchTemplate, b: &TextSearchTemplate) -> Change {
    if a.init == b.init && a.lexize == b.lexize {
        Change::Same
    } else {
        Change::Recreate
    }
}
