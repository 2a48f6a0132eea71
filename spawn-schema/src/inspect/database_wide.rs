//! Objects of the database rather than of a schema: casts, publications and event
//! triggers, read only when no `schemas` option restricts the inspection (a publication or
//! an event trigger belongs to none of them); and default privileges (of all schemas, or of
//! one the options include), read with the privileges only.

use super::{not_extension_member, ns_filter, parse_grants, split_us, Catalog, Cols, Inspector};
use crate::model::{
    Cast, DefaultPrivileges, DepKind, Dependency, EventTrigger, Meta, Object, ObjectId, ObjectKind,
    Publication,
};
use crate::SchemaError;

/// `WHERE` clause part: no `schemas` option (and the other parameters bound, unused).
const WHOLE_DATABASE: &str =
    "cardinality($1::text[]) = 0 AND cardinality($2::text[]) >= 0 AND cardinality($3::int8[]) >= 0";

impl Inspector {
    /// Casts created by users (not those a range type makes to its multirange type).
    pub(super) async fn casts(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT c.oid::int8, format_type(c.castsource, NULL), format_type(c.casttarget, NULL), \
             c.castmethod::text, CASE WHEN c.castfunc <> 0 THEN c.castfunc::regprocedure::text END, \
             c.castcontext::text \
             FROM pg_cast c WHERE c.oid >= 16384 AND {WHOLE_DATABASE} AND {ext} \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass \
                             AND d.objid = c.oid AND d.deptype = 'i')",
            ext = not_extension_member("pg_cast", "c.oid"),
        );
        for row in self.fetch("casts", &sql).await? {
            let c = Cols::new(&row, "casts");
            let oid: i64 = c.get(0)?;
            let (source, target): (String, String) = (c.get(1)?, c.get(2)?);
            let id = self.id(ObjectKind::Cast, "", &format!("{source} AS {target}"), "");
            self.oids.insert((Catalog::Cast, oid, 0), id.clone());
            let cast = Cast {
                source,
                target,
                method: c.get(3)?,
                function: c.get(4)?,
                context: c.get(5)?,
                meta: crate::model::Meta {
                    comment: self.comment(Catalog::Cast, oid, 0),
                    ..Default::default()
                },
            };
            self.insert(id, Object::Cast(Box::new(cast)));
        }
        Ok(())
    }

    pub(super) async fn publications(&mut self) -> Result<(), SchemaError> {
        // Column lists, row filters and schemas came with PostgreSQL 15.
        let (columns, filter, schemas) = if self.version >= 150000 {
            (
                "CASE WHEN pr.prattrs IS NOT NULL THEN ' (' || (SELECT string_agg(quote_ident(a.attname), ', ' \
                 ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs)) \
                 || ')' ELSE '' END",
                "CASE WHEN pr.prqual IS NOT NULL THEN ' WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')' ELSE '' END",
                "ARRAY(SELECT sn.nspname::text FROM pg_publication_namespace pn \
                 JOIN pg_namespace sn ON sn.oid = pn.pnnspid WHERE pn.pnpubid = p.oid ORDER BY 1)",
            )
        } else {
            ("''", "''", "'{}'::text[]")
        };
        let sql = format!(
            "SELECT p.oid::int8, p.pubname::text, p.puballtables, \
             ARRAY(SELECT tn.nspname || chr(31) || tc.relname || chr(31) || {columns} || {filter} \
                   FROM pg_publication_rel pr JOIN pg_class tc ON tc.oid = pr.prrelid \
                   JOIN pg_namespace tn ON tn.oid = tc.relnamespace WHERE pr.prpubid = p.oid ORDER BY 1), \
             {schemas}, \
             concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END, \
                       CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END), \
             p.pubviaroot, pg_get_userbyid(p.pubowner)::text, NULL::text[], NULL::text[] \
             FROM pg_publication p WHERE {WHOLE_DATABASE}"
        );
        for row in self.fetch("publications", &sql).await? {
            let c = Cols::new(&row, "publications");
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::Publication, "", c.get(1)?, "");
            self.oids.insert((Catalog::Publication, oid, 0), id.clone());
            let mut tables = Vec::new();
            for entry in c.get::<Vec<String>>(3)? {
                let parts = split_us(&entry);
                let (schema, table) = (&parts[0], parts.get(1).cloned().unwrap_or_default());
                tables.push(format!(
                    "{}{}",
                    crate::render::qualified(schema, &table),
                    parts.get(2).map(String::as_str).unwrap_or_default()
                ));
                self.extra_deps.push(Dependency {
                    from: id.clone(),
                    to: ObjectId::new(ObjectKind::Table, schema, table),
                    kind: DepKind::Normal,
                });
            }
            tables.sort();
            let schemas: Vec<String> = c.get(4)?;
            for schema in &schemas {
                self.extra_deps.push(Dependency {
                    from: id.clone(),
                    to: ObjectId::new(ObjectKind::Schema, "", schema),
                    kind: DepKind::Normal,
                });
            }
            let publication = Publication {
                all_tables: c.get(2)?,
                tables,
                schemas,
                publish: c.get(5)?,
                via_root: c.get(6)?,
                meta: self.meta(&c, 7, Catalog::Publication)?,
            };
            self.insert(id, Object::Publication(Box::new(publication)));
        }
        Ok(())
    }

    pub(super) async fn event_triggers(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT e.oid::int8, e.evtname::text, e.evtevent::text, coalesce(e.evttags, '{{}}')::text[], \
             quote_ident(n.nspname) || '.' || quote_ident(p.proname), e.evtenabled::text, \
             pg_get_userbyid(e.evtowner)::text, NULL::text[], NULL::text[] \
             FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {WHOLE_DATABASE} AND {ext}",
            ext = not_extension_member("pg_event_trigger", "e.oid"),
        );
        for row in self.fetch("event triggers", &sql).await? {
            let c = Cols::new(&row, "event triggers");
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::EventTrigger, "", c.get(1)?, "");
            self.oids
                .insert((Catalog::EventTrigger, oid, 0), id.clone());
            let trigger = EventTrigger {
                event: c.get(2)?,
                tags: c.get(3)?,
                function: c.get(4)?,
                enabled: c.get(5)?,
                meta: self.meta(&c, 6, Catalog::EventTrigger)?,
            };
            self.insert(id, Object::EventTrigger(Box::new(trigger)));
        }
        Ok(())
    }

    pub(super) async fn default_privileges(&mut self) -> Result<(), SchemaError> {
        if !self.options.with_privileges {
            return Ok(());
        }
        let explode = |acl: &str| {
            format!(
                "ARRAY(SELECT coalesce(pg_get_userbyid(nullif(a.grantee, 0)), '') || chr(31) || \
                 a.privilege_type || chr(31) || a.is_grantable::text FROM aclexplode({acl}) a ORDER BY 1)"
            )
        };
        let sql = format!(
            "SELECT d.oid::int8, coalesce(n.nspname, '')::text, pg_get_userbyid(d.defaclrole)::text, \
             d.defaclobjtype::text, {grants}, \
             CASE WHEN d.defaclnamespace = 0 THEN {baseline} ELSE '{{}}'::text[] END \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
             WHERE (d.defaclnamespace = 0 OR {ns}) AND cardinality($3::int8[]) >= 0",
            grants = explode("d.defaclacl"),
            baseline = explode(
                "acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' WHEN 'T' THEN 'T' \
                 WHEN 'n' THEN 'n' WHEN 'f' THEN 'f' ELSE 'r' END::\"char\", d.defaclrole)"
            ),
            ns = ns_filter("n"),
        );
        for row in self.fetch("default privileges", &sql).await? {
            let c = Cols::new(&row, "default privileges");
            let schema: String = c.get(1)?;
            let kind = match c.get::<String>(3)?.as_str() {
                "S" => "SEQUENCES",
                "f" => "FUNCTIONS",
                "T" => "TYPES",
                "n" => "SCHEMAS",
                _ => "TABLES",
            };
            let id = self.id(ObjectKind::DefaultPrivileges, &schema, c.get(2)?, kind);
            if !schema.is_empty() {
                self.extra_deps.push(Dependency {
                    from: id.clone(),
                    to: ObjectId::new(ObjectKind::Schema, "", &schema),
                    kind: DepKind::Auto,
                });
            }
            let privileges = DefaultPrivileges {
                grants: parse_grants(&c.get::<Vec<String>>(4)?),
                baseline: parse_grants(&c.get::<Vec<String>>(5)?),
                meta: Meta::default(),
            };
            self.insert(id, Object::DefaultPrivileges(Box::new(privileges)));
        }
        Ok(())
    }
}
