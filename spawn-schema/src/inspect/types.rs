//! Collations, enums, domains, composite types and range types.

use super::{not_extension_member, ns_filter, split_us, Catalog, Cols, Inspector};
use crate::model::{
    Attribute, Collation, Composite, Domain, EnumType, Object, ObjectId, ObjectKind, RangeType,
};
use crate::SchemaError;

/// A collation name, quoted and qualified by the server, when it is not the type's default.
pub(crate) fn collation_expr(coll: &str, type_coll: &str) -> String {
    format!(
        "CASE WHEN {coll} <> {type_coll} THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) \
         FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {coll}) END"
    )
}

impl Inspector {
    pub(super) async fn collations(&mut self) -> Result<(), SchemaError> {
        let icu_locale = match self.version {
            v if v >= 170000 => "co.colllocale",
            v if v >= 150000 => "co.colliculocale",
            _ => "CASE WHEN co.collprovider = 'i' THEN co.collcollate END",
        };
        let sql = format!(
            "SELECT co.oid::int8, n.nspname::text, co.collname::text, co.collprovider::text, \
             co.collcollate::text, co.collctype::text, {icu_locale}::text, co.collisdeterministic, \
             pg_get_userbyid(co.collowner)::text, NULL::text[], NULL::text[] \
             FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_collation", "co.oid"),
        );
        for row in self.fetch("collations", &sql).await? {
            let c = Cols::new(&row, "collations");
            let id = ObjectId::new(
                ObjectKind::Collation,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
            );
            self.oids
                .insert((Catalog::Collation, c.get(0)?, 0), id.clone());
            let provider: String = c.get(3)?;
            let coll = Collation {
                lc_collate: if provider == "i" { None } else { c.get(4)? },
                lc_ctype: if provider == "i" { None } else { c.get(5)? },
                locale: if provider == "i" { c.get(6)? } else { None },
                provider,
                deterministic: c.get(7)?,
                meta: self.meta(&c, 8, Catalog::Collation)?,
            };
            self.insert(id, Object::Collation(Box::new(coll)));
        }
        Ok(())
    }

    pub(super) async fn enums(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT t.oid::int8, t.typarray::int8, n.nspname::text, t.typname::text, \
             ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), \
             pg_get_userbyid(t.typowner)::text, {acl} \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype = 'e' AND {ns} AND {ext}",
            acl = self.acl_columns("t.typacl", 'T', "t.typowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_type", "t.oid"),
        );
        for row in self.fetch("enums", &sql).await? {
            let c = Cols::new(&row, "enums");
            let id = ObjectId::new(ObjectKind::Enum, c.get::<String>(2)?, c.get::<String>(3)?);
            self.type_oids(&id, c.get(0)?, c.get(1)?);
            self.insert(
                id,
                Object::Enum(Box::new(EnumType {
                    labels: c.get(4)?,
                    meta: self.meta(&c, 5, Catalog::Type)?,
                })),
            );
        }
        Ok(())
    }

    pub(super) async fn domains(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT t.oid::int8, t.typarray::int8, n.nspname::text, t.typname::text, \
             format_type(t.typbasetype, t.typtypmod), {coll}, pg_get_expr(t.typdefaultbin, 0), t.typnotnull, \
             ARRAY(SELECT k.conname || chr(31) || pg_get_constraintdef(k.oid) FROM pg_constraint k \
                   WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname), \
             ARRAY(SELECT k.oid::int8 FROM pg_constraint k WHERE k.contypid = t.oid), \
             pg_get_userbyid(t.typowner)::text, {acl} \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype \
             WHERE t.typtype = 'd' AND {ns} AND {ext}",
            coll = collation_expr("t.typcollation", "bt.typcollation"),
            acl = self.acl_columns("t.typacl", 'T', "t.typowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_type", "t.oid"),
        );
        for row in self.fetch("domains", &sql).await? {
            let c = Cols::new(&row, "domains");
            let id = ObjectId::new(ObjectKind::Domain, c.get::<String>(2)?, c.get::<String>(3)?);
            self.type_oids(&id, c.get(0)?, c.get(1)?);
            for con in c.get::<Vec<i64>>(9)? {
                self.oids.insert((Catalog::Constraint, con, 0), id.clone());
            }
            let constraints = c
                .get::<Vec<String>>(8)?
                .iter()
                .map(|s| {
                    let mut p = split_us(s);
                    let def = p.pop().unwrap_or_default();
                    (p.pop().unwrap_or_default(), def)
                })
                .collect();
            let domain = Domain {
                base_type: c.get(4)?,
                collation: c.get(5)?,
                default: c.get(6)?,
                not_null: c.get(7)?,
                constraints,
                meta: self.meta(&c, 10, Catalog::Type)?,
            };
            self.insert(id, Object::Domain(Box::new(domain)));
        }
        Ok(())
    }

    pub(super) async fn composites(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT t.oid::int8, t.typarray::int8, c.oid::int8, n.nspname::text, t.typname::text, \
             ARRAY(SELECT a.attname || chr(31) || format_type(a.atttypid, a.atttypmod) || chr(31) || \
                   coalesce({coll}, '') FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum), \
             pg_get_userbyid(t.typowner)::text, {acl} \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid \
             WHERE t.typtype = 'c' AND c.relkind = 'c' AND {ns} AND {ext}",
            coll = collation_expr("a.attcollation", "at.typcollation"),
            acl = self.acl_columns("t.typacl", 'T', "t.typowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_type", "t.oid"),
        );
        for row in self.fetch("composite types", &sql).await? {
            let c = Cols::new(&row, "composite types");
            let id = ObjectId::new(
                ObjectKind::Composite,
                c.get::<String>(3)?,
                c.get::<String>(4)?,
            );
            self.type_oids(&id, c.get(0)?, c.get(1)?);
            self.oids.insert((Catalog::Class, c.get(2)?, 0), id.clone());
            let attributes = c
                .get::<Vec<String>>(5)?
                .iter()
                .map(|s| {
                    let p = split_us(s);
                    Attribute {
                        name: p.first().cloned().unwrap_or_default(),
                        data_type: p.get(1).cloned().unwrap_or_default(),
                        collation: p.get(2).filter(|s| !s.is_empty()).cloned(),
                    }
                })
                .collect();
            self.insert(
                id,
                Object::Composite(Box::new(Composite {
                    attributes,
                    meta: self.meta(&c, 6, Catalog::Type)?,
                })),
            );
        }
        Ok(())
    }

    pub(super) async fn ranges(&mut self) -> Result<(), SchemaError> {
        let multirange = if self.version >= 140000 {
            ", 'MULTIRANGE_TYPE_NAME = ' || (SELECT quote_ident(mn.nspname) || '.' || quote_ident(mt.typname) \
               FROM pg_type mt JOIN pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = r.rngmultitypid)"
        } else {
            ""
        };
        let multi_oids = if self.version >= 140000 {
            "ARRAY[r.rngmultitypid::int8, (SELECT mt.typarray::int8 FROM pg_type mt WHERE mt.oid = r.rngmultitypid)]"
        } else {
            "ARRAY[]::int8[]"
        };
        let sql = format!(
            "SELECT t.oid::int8, t.typarray::int8, n.nspname::text, t.typname::text, \
             concat_ws(', ', 'SUBTYPE = ' || format_type(r.rngsubtype, NULL), \
               (SELECT 'SUBTYPE_OPCLASS = ' || quote_ident(on_.nspname) || '.' || quote_ident(opc.opcname) \
                FROM pg_opclass opc JOIN pg_namespace on_ ON on_.oid = opc.opcnamespace \
                WHERE opc.oid = r.rngsubopc AND NOT opc.opcdefault), \
               'COLLATION = ' || {coll}, \
               CASE WHEN r.rngcanonical <> 0 THEN 'CANONICAL = ' || r.rngcanonical::regproc::text END, \
               CASE WHEN r.rngsubdiff <> 0 THEN 'SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text END \
               {multirange}), \
             {multi_oids}, \
             pg_get_userbyid(t.typowner)::text, {acl} \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_range r ON r.rngtypid = t.oid \
             JOIN pg_type st ON st.oid = r.rngsubtype \
             WHERE t.typtype = 'r' AND {ns} AND {ext}",
            coll = super::types::collation_expr("r.rngcollation", "st.typcollation"),
            acl = self.acl_columns("t.typacl", 'T', "t.typowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_type", "t.oid"),
        );
        for row in self.fetch("range types", &sql).await? {
            let c = Cols::new(&row, "range types");
            let id = ObjectId::new(ObjectKind::Range, c.get::<String>(2)?, c.get::<String>(3)?);
            self.type_oids(&id, c.get(0)?, c.get(1)?);
            for oid in c.get::<Vec<Option<i64>>>(5)?.into_iter().flatten() {
                self.oids.insert((Catalog::Type, oid, 0), id.clone());
            }
            self.insert(
                id,
                Object::Range(Box::new(RangeType {
                    options: c.get(4)?,
                    meta: self.meta(&c, 6, Catalog::Type)?,
                })),
            );
        }
        Ok(())
    }

    /// Maps a type and its array type to an identity.
    pub(super) fn type_oids(&mut self, id: &ObjectId, oid: i64, array: i64) {
        self.oids.insert((Catalog::Type, oid, 0), id.clone());
        if array != 0 {
            self.oids.insert((Catalog::Type, array, 0), id.clone());
        }
    }
}
