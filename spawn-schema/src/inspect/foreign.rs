//! Foreign servers (foreign tables are read with the tables; their wrappers, user mappings
//! and foreign tables' column options and checks in modules of their own).

use super::{not_extension_member, Catalog, Cols, Inspector};
use crate::model::{ForeignServer, Object, ObjectKind};
use crate::SchemaError;

impl Inspector {
    /// Foreign servers, read like the other objects of the whole database only when no
    /// `schemas` option restricts the inspection.
    pub(super) async fn foreign_servers(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT s.oid::int8, s.srvname::text, w.fdwname::text, s.srvtype, s.srvversion, \
             coalesce(s.srvoptions, '{{}}'), pg_get_userbyid(s.srvowner)::text, {acl} \
             FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw \
             WHERE cardinality($1::text[]) = 0 AND cardinality($2::text[]) >= 0 AND {ext}",
            acl = self.acl_columns("s.srvacl", 'S', "s.srvowner"),
            ext = not_extension_member("pg_foreign_server", "s.oid"),
        );
        for row in self.fetch("foreign servers", &sql).await? {
            let c = Cols::new(&row, "foreign servers");
            let id = self.id(ObjectKind::ForeignServer, "", c.get(1)?, "");
            self.oids
                .insert((Catalog::ForeignServer, c.get(0)?, 0), id.clone());
            let server = ForeignServer {
                wrapper: c.get(2)?,
                server_type: c.get(3)?,
                version: c.get(4)?,
                options: c.get(5)?,
                meta: self.meta(&c, 6, Catalog::ForeignServer)?,
            };
            self.insert(id, Object::ForeignServer(Box::new(server)));
        }
        Ok(())
    }
}
