//! User mappings, read from `pg_user_mappings` (the catalog itself is for superusers only).
//!
//! The view shows a mapping's options only to a superuser, to the mapped role (with `USAGE`
//! on the server) and, for a `PUBLIC` mapping, to the server's owner; the same condition is
//! evaluated here, and options the inspecting role cannot read are `None` (not compared,
//! never changed by a plan). A `password` option is a secret: it is left out of what is read,
//! so a plan (printed, written into a migration file, logged by CI) never carries it and never
//! changes it; passwords are set outside migrations.

use super::{not_extension_member, Catalog, Cols, Inspector};
use crate::model::{Meta, Object, ObjectKind, UserMapping};
use crate::SchemaError;

/// Whether the inspecting role may read a mapping's options (`u`: `pg_user_mappings`, `s`:
/// `pg_foreign_server`), as the view decides.
const OPTIONS_VISIBLE: &str = "(u.umuser <> 0 AND u.usename = current_user \
     AND (pg_has_role(s.srvowner, 'USAGE') OR has_server_privilege(s.oid, 'USAGE'))) \
     OR (u.umuser = 0 AND pg_has_role(s.srvowner, 'USAGE')) \
     OR coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)";

impl Inspector {
    /// User mappings, read like the other objects of the whole database only when no
    /// `schemas` option restricts the inspection.
    pub(super) async fn user_mappings(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT u.umid::int8, s.srvname::text, \
             CASE WHEN u.umuser = 0 THEN 'public' ELSE u.usename::text END, \
             CASE WHEN {OPTIONS_VISIBLE} THEN ARRAY(SELECT o FROM unnest(u.umoptions) o \
             WHERE o NOT LIKE 'password=%') END \
             FROM pg_user_mappings u JOIN pg_foreign_server s ON s.oid = u.srvid \
             WHERE cardinality($1::text[]) = 0 AND cardinality($2::text[]) >= 0 AND {ext}",
            ext = not_extension_member("pg_user_mapping", "u.umid"),
        );
        for row in self.fetch("user mappings", &sql).await? {
            let c = Cols::new(&row, "user mappings");
            let id = self.id(ObjectKind::UserMapping, "", c.get(1)?, c.get(2)?);
            self.oids
                .insert((Catalog::UserMapping, c.get(0)?, 0), id.clone());
            let mapping = UserMapping {
                options: c.get(3)?,
                meta: Meta::default(),
            };
            self.insert(id, Object::UserMapping(Box::new(mapping)));
        }
        Ok(())
    }
}
