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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Meta, ObjectKind};

    #[test]
    fn optional_functions_are_written_only_when_set() {
        let id = ObjectId::new(ObjectKind::TextSearchParser, "app", "p");
        let mut parser = TextSearchParser {
            start: "prsd_start".into(),
            get_token: "prsd_nexttoken".into(),
            end: "prsd_end".into(),
            lex_types: "prsd_lextype".into(),
            headline: None,
            meta: Meta::default(),
        };
        assert_eq!(
            create_parser(&id, &parser).sql,
            "CREATE TEXT SEARCH PARSER app.p (START = prsd_start, GETTOKEN = prsd_nexttoken, \
             END = prsd_end, LEXTYPES = prsd_lextype)"
        );
        let before = parser.clone();
        parser.headline = Some("prsd_headline".into());
        assert!(create_parser(&id, &parser)
            .sql
            .ends_with(", HEADLINE = prsd_headline)"));
        assert_eq!(compare_parser(&before, &parser), Change::Recreate);

        let id = ObjectId::new(ObjectKind::TextSearchTemplate, "app", "t");
        let template = TextSearchTemplate {
            init: None,
            lexize: "dsimple_lexize".into(),
            meta: Meta::default(),
        };
        assert_eq!(
            create_template(&id, &template).sql,
            "CREATE TEXT SEARCH TEMPLATE app.t (LEXIZE = dsimple_lexize)"
        );
        let with_init = TextSearchTemplate {
            init: Some("dsimple_init".into()),
            ..template.clone()
        };
        assert_eq!(
            create_template(&id, &with_init).sql,
            "CREATE TEXT SEARCH TEMPLATE app.t (INIT = dsimple_init, LEXIZE = dsimple_lexize)"
        );
        assert_eq!(compare_template(&template, &with_init), Change::Recreate);
        assert_eq!(compare_template(&template, &template.clone()), Change::Same);
    }
}
