//! Operators (not yet their classes and families).

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Object, ObjectKind, Operator};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn operators(&mut self) -> Result<(), SchemaError> {
        let other = |column: &str| {
            format!(
                "(SELECT 'OPERATOR(' || quote_ident(xn.nspname) || '.' || x.oprname || ')' FROM pg_operator x \
                 JOIN pg_namespace xn ON xn.oid = x.oprnamespace WHERE x.oid = o.{column})"
            )
        };
        let sql = format!(
            "SELECT o.oid::int8, n.nspname::text, o.oprname::text, \
             CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END, \
             CASE WHEN o.oprright = 0 THEN 'NONE' ELSE format_type(o.oprright, NULL) END, \
             o.oprcode::regproc::text, {commutator}, {negator}, \
             CASE WHEN o.oprrest <> 0 THEN o.oprrest::regproc::text END, \
             CASE WHEN o.oprjoin <> 0 THEN o.oprjoin::regproc::text END, o.oprcanhash, o.oprcanmerge, \
             pg_get_userbyid(o.oprowner)::text, NULL::text[], NULL::text[] \
             FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace \
             WHERE o.oprcode <> 0 AND {ns} AND {ext}",
            commutator = other("oprcom"),
            negator = other("oprnegate"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_operator", "o.oid"),
        );
        for row in self.fetch("operators", &sql).await? {
            let c = Cols::new(&row, "operators");
            let (left, right): (String, String) = (c.get(3)?, c.get(4)?);
            let id = self.id(
                ObjectKind::Operator,
                c.get(1)?,
                c.get(2)?,
                &format!("{left}, {right}"),
            );
            self.oids
                .insert((Catalog::Operator, c.get(0)?, 0), id.clone());
            let operator = Operator {
                function: c.get(5)?,
                commutator: c.get(6)?,
                negator: c.get(7)?,
                restrict: c.get(8)?,
                join: c.get(9)?,
                hashes: c.get(10)?,
                merges: c.get(11)?,
                meta: self.meta(&c, 12, Catalog::Operator)?,
            };
            self.insert(id, Object::Operator(Box::new(operator)));
        }
        Ok(())
    }
}
