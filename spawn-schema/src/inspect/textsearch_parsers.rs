//! Text search parsers and templates (their functions are written in C: creating either
//! needs a superuser).

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Meta, Object, ObjectKind, TextSearchParser, TextSearchTemplate};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn text_search_parsers(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT p.oid::int8, n.nspname::text, p.prsname::text, p.prsstart::regproc::text, \
             p.prstoken::regproc::text, p.prsend::regproc::text, p.prslextype::regproc::text, \
             CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::regproc::text END \
             FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_ts_parser", "p.oid"),
        );
        for row in self.fetch("text search parsers", &sql).await? {
            let c = Cols::new(&row, "text search parsers");
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::TextSearchParser, c.get(1)?, c.get(2)?, "");
            self.oids.insert((Catalog::TsParser, oid, 0), id.clone());
            let parser = TextSearchParser {
                start: c.get(3)?,
                get_token: c.get(4)?,
                end: c.get(5)?,
                lex_types: c.get(6)?,
                headline: c.get(7)?,
                meta: Meta {
                    comment: self.comment(Catalog::TsParser, oid, 0),
                    ..Default::default()
                },
            };
            self.insert(id, Object::TextSearchParser(Box::new(parser)));
        }
        let sql = format!(
            "SELECT t.oid::int8, n.nspname::text, t.tmplname::text, \
             CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::regproc::text END, t.tmpllexize::regproc::text \
             FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_ts_template", "t.oid"),
        );
        for row in self.fetch("text search templates", &sql).await? {
            let c = Cols::new(&row, "text search templates");
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::TextSearchTemplate, c.get(1)?, c.get(2)?, "");
            self.oids.insert((Catalog::TsTemplate, oid, 0), id.clone());
            let template = TextSearchTemplate {
                init: c.get(3)?,
                lexize: c.get(4)?,
                meta: Meta {
                    comment: self.comment(Catalog::TsTemplate, oid, 0),
                    ..Default::default()
                },
            };
            self.insert(id, Object::TextSearchTemplate(Box::new(template)));
        }
        Ok(())
    }
}
