//! Schemas and extensions.

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Extension, Meta, Object, ObjectId, ObjectKind, SchemaDef};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn schemas(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT n.oid::int8, n.nspname::text, pg_get_userbyid(n.nspowner)::text, {acl} \
             FROM pg_namespace n WHERE {ns} AND {ext}",
            acl = self.acl_columns("n.nspacl", 'n', "n.nspowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_namespace", "n.oid"),
        );
        for row in self.fetch("schemas", &sql).await? {
            let c = Cols::new(&row, "schemas");
            let name: String = c.get(1)?;
            let id = ObjectId::new(ObjectKind::Schema, "", &name);
            self.oids
                .insert((Catalog::Namespace, c.get(0)?, 0), id.clone());
            self.insert(
                id,
                Object::Schema(Box::new(SchemaDef {
                    meta: self.meta(&c, 2, Catalog::Namespace)?,
                })),
            );
        }
        Ok(())
    }

    pub(super) async fn extensions(&mut self) -> Result<(), SchemaError> {
        let sql = "SELECT e.oid::int8, e.extname::text, n.nspname::text, e.extversion, \
             ARRAY(SELECT u.target FROM pg_extension_update_paths(e.extname) u \
                   WHERE u.source = e.extversion AND u.path IS NOT NULL ORDER BY 1) \
             FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname <> 'plpgsql' \
             AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[])) \
             AND NOT (n.nspname = ANY($2::text[])) AND cardinality($3::int8[]) >= 0";
        for row in self.fetch("extensions", sql).await? {
            let c = Cols::new(&row, "extensions");
            let name: String = c.get(1)?;
            let id = ObjectId::new(ObjectKind::Extension, "", &name);
            self.oids
                .insert((Catalog::Extension, c.get(0)?, 0), id.clone());
            let ext = Extension {
                schema: c.get(2)?,
                version: c.get(3)?,
                update_targets: c.get(4)?,
                meta: Meta {
                    comment: self.comment(Catalog::Extension, c.get(0)?, 0),
                    ..Meta::default()
                },
            };
            self.insert(id, Object::Extension(Box::new(ext)));
        }
        Ok(())
    }
}
