//! Functions, procedures and aggregates (every language but C and internal).

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Function, Object, ObjectId, ObjectKind};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn functions(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT p.oid::int8, n.nspname::text, p.proname::text, \
             array_to_string(ARRAY(SELECT format_type(x.t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY AS x(t, i) \
                                   ORDER BY x.i), ', '), \
             p.prokind::text, \
             CASE WHEN p.prokind = 'a' THEN {aggregate} ELSE pg_get_functiondef(p.oid) END, \
             pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), \
             pg_get_userbyid(p.proowner)::text, {acl} \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
             LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid \
             WHERE (p.prokind = 'a' OR l.lanname NOT IN ('c', 'internal')) AND {ns} AND {ext}",
            aggregate = AGGREGATE_DEF,
            acl = self.acl_columns("p.proacl", 'f', "p.proowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_proc", "p.oid"),
        );
        for row in self.fetch("functions", &sql).await? {
            let c = Cols::new(&row, "functions");
            let id = ObjectId::part(
                ObjectKind::Function,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
                c.get::<String>(3)?,
            );
            self.oids.insert((Catalog::Proc, c.get(0)?, 0), id.clone());
            let definition: Option<String> = c.get(5)?;
            let function = Function {
                kind: c.get(4)?,
                definition: definition.unwrap_or_default().trim_end().to_string(),
                arguments: c.get(6)?,
                result: c.get(7)?,
                meta: self.meta(&c, 8, Catalog::Proc)?,
            };
            self.insert(id, Object::Function(Box::new(function)));
        }
        Ok(())
    }
}

/// `CREATE AGGREGATE …` built from `pg_aggregate` (the server has no deparser for it).
const AGGREGATE_DEF: &str = "'CREATE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || \
    CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(p.oid) END || ') (' || \
    concat_ws(', ', \
      'SFUNC = ' || ag.aggtransfn::regproc::text, \
      'STYPE = ' || format_type(ag.aggtranstype, NULL), \
      CASE WHEN ag.aggtransspace <> 0 THEN 'SSPACE = ' || ag.aggtransspace END, \
      CASE WHEN ag.aggfinalfn <> 0 THEN 'FINALFUNC = ' || ag.aggfinalfn::regproc::text END, \
      CASE WHEN ag.aggfinalextra THEN 'FINALFUNC_EXTRA' END, \
      CASE WHEN ag.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || ag.aggcombinefn::regproc::text END, \
      CASE WHEN ag.aggserialfn <> 0 THEN 'SERIALFUNC = ' || ag.aggserialfn::regproc::text END, \
      CASE WHEN ag.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || ag.aggdeserialfn::regproc::text END, \
      CASE WHEN ag.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(ag.agginitval) END, \
      CASE WHEN ag.aggmtransfn <> 0 THEN 'MSFUNC = ' || ag.aggmtransfn::regproc::text || \
           ', MINVFUNC = ' || ag.aggminvtransfn::regproc::text || ', MSTYPE = ' || format_type(ag.aggmtranstype, NULL) END, \
      CASE WHEN ag.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || ag.aggmfinalfn::regproc::text END, \
      CASE WHEN ag.aggminitval IS NOT NULL THEN 'MINITCOND = ' || quote_literal(ag.aggminitval) END, \
      CASE WHEN ag.aggsortop <> 0 THEN 'SORTOP = ' || (SELECT 'OPERATOR(' || quote_ident(opn.nspname) || '.' || o.oprname || ')' \
           FROM pg_operator o JOIN pg_namespace opn ON opn.oid = o.oprnamespace WHERE o.oid = ag.aggsortop) END, \
      CASE WHEN ag.aggkind = 'h' THEN 'HYPOTHETICAL' END, \
      CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END \
    ) || ')'";
