//! Rewrite rules of tables and views other than a view's own `_RETURN` rule.

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Object, ObjectKind, Rule};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn rules(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT r.oid::int8, n.nspname::text, c.relname::text, r.rulename::text, \
             pg_get_ruledef(r.oid), r.ev_enabled::text \
             FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE r.rulename <> '_RETURN' AND {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("rules", &sql).await? {
            let c = Cols::new(&row, "rules");
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::Rule, c.get(1)?, c.get(2)?, c.get(3)?);
            self.oids.insert((Catalog::Rewrite, oid, 0), id.clone());
            let definition: String = c.get(4)?;
            let rule = Rule {
                definition: definition.trim_end().trim_end_matches(';').to_string(),
                enabled: c.get(5)?,
                meta: crate::model::Meta {
                    comment: self.comment(Catalog::Rewrite, oid, 0),
                    ..Default::default()
                },
            };
            self.insert(id, Object::Rule(Box::new(rule)));
        }
        Ok(())
    }
}
