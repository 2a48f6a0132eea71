//! Operator families and operator classes, with their members: a class's own (created with
//! it, an internal dependency on it) and a family's loose ones (added to it by `ALTER
//! OPERATOR FAMILY … ADD`).

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Object, ObjectKind, OperatorClass, OperatorFamily};
use crate::SchemaError;

/// The `OPERATOR …` and `FUNCTION …` clauses of the members whose `pg_depend` row (`d`)
/// matches `owned`, sorted.
fn members(owned: &str) -> String {
    format!(
        "ARRAY(SELECT m FROM ( \
           SELECT 'OPERATOR ' || a.amopstrategy || ' ' || quote_ident(opn.nspname) || '.' || op.oprname \
             || '(' || format_type(a.amoplefttype, NULL) || ', ' || format_type(a.amoprighttype, NULL) || ')' \
             || CASE WHEN a.amoppurpose = 'o' THEN ' FOR ORDER BY ' || quote_ident(sfn.nspname) || '.' \
                  || quote_ident(sf.opfname) ELSE '' END AS m \
           FROM pg_amop a JOIN pg_operator op ON op.oid = a.amopopr \
           JOIN pg_namespace opn ON opn.oid = op.oprnamespace \
           LEFT JOIN pg_opfamily sf ON sf.oid = a.amopsortfamily LEFT JOIN pg_namespace sfn ON sfn.oid = sf.opfnamespace \
           JOIN pg_depend d ON d.classid = 'pg_amop'::regclass AND d.objid = a.oid AND {owned} \
           UNION ALL \
           SELECT 'FUNCTION ' || p.amprocnum || ' (' || format_type(p.amproclefttype, NULL) || ', ' \
             || format_type(p.amprocrighttype, NULL) || ') ' || p.amproc::regprocedure::text \
           FROM pg_amproc p JOIN pg_depend d ON d.classid = 'pg_amproc'::regclass AND d.objid = p.oid AND {owned} \
         ) members ORDER BY 1)",
    )
}

impl Inspector {
    pub(super) async fn operator_classes(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT f.oid::int8, n.nspname::text, f.opfname::text, am.amname::text, {loose}, \
             pg_get_userbyid(f.opfowner)::text, NULL::text[], NULL::text[] \
             FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod \
             WHERE {ns} AND {ext}",
            loose = members(
                "d.refclassid = 'pg_opfamily'::regclass AND d.refobjid = f.oid AND d.deptype = 'a'"
            ),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_opfamily", "f.oid"),
        );
        for row in self.fetch("operator families", &sql).await? {
            let c = Cols::new(&row, "operator families");
            let id = self.id(ObjectKind::OperatorFamily, c.get(1)?, c.get(2)?, c.get(3)?);
            self.oids
                .insert((Catalog::OpFamily, c.get(0)?, 0), id.clone());
            let family = OperatorFamily {
                members: c.get(4)?,
                meta: self.meta(&c, 5, Catalog::OpFamily)?,
            };
            self.insert(id, Object::OperatorFamily(Box::new(family)));
        }
        let sql = format!(
            "SELECT c.oid::int8, n.nspname::text, c.opcname::text, am.amname::text, c.opcdefault, \
             format_type(c.opcintype, NULL), quote_ident(fn.nspname) || '.' || quote_ident(f.opfname), \
             CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END, {own}, \
             pg_get_userbyid(c.opcowner)::text, NULL::text[], NULL::text[] \
             FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod \
             JOIN pg_opfamily f ON f.oid = c.opcfamily JOIN pg_namespace fn ON fn.oid = f.opfnamespace \
             WHERE {ns} AND {ext}",
            own = members(
                "d.refclassid = 'pg_opclass'::regclass AND d.refobjid = c.oid AND d.deptype = 'i'"
            ),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_opclass", "c.oid"),
        );
        for row in self.fetch("operator classes", &sql).await? {
            let c = Cols::new(&row, "operator classes");
            let id = self.id(ObjectKind::OperatorClass, c.get(1)?, c.get(2)?, c.get(3)?);
            self.oids
                .insert((Catalog::OpClass, c.get(0)?, 0), id.clone());
            let class = OperatorClass {
                default: c.get(4)?,
                input_type: c.get(5)?,
                family: c.get(6)?,
                storage: c.get(7)?,
                members: c.get(8)?,
                meta: self.meta(&c, 9, Catalog::OpClass)?,
            };
            self.insert(id, Object::OperatorClass(Box::new(class)));
        }
        Ok(())
    }
}
