//! Foreign-data wrappers that do not come from an extension (those that do are the
//! extension's, like its other members).

use super::{not_extension_member, Catalog, Cols, Inspector};
use crate::model::{ForeignDataWrapper, Object, ObjectKind};
use crate::SchemaError;

impl Inspector {
    /// Foreign-data wrappers, read like the other objects of the whole database only when no
    /// `schemas` option restricts the inspection.
    pub(super) async fn foreign_data_wrappers(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT w.oid::int8, w.fdwname::text, \
             CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END, \
             CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END, \
             coalesce(w.fdwoptions, '{{}}'), pg_get_userbyid(w.fdwowner)::text, {acl} \
             FROM pg_foreign_data_wrapper w \
             WHERE cardinality($1::text[]) = 0 AND cardinality($2::text[]) >= 0 AND {ext}",
            acl = self.acl_columns("w.fdwacl", 'F', "w.fdwowner"),
            ext = not_extension_member("pg_foreign_data_wrapper", "w.oid"),
        );
        for row in self.fetch("foreign-data wrappers", &sql).await? {
            let c = Cols::new(&row, "foreign-data wrappers");
            let id = self.id(ObjectKind::ForeignDataWrapper, "", c.get(1)?, "");
            self.oids
                .insert((Catalog::ForeignDataWrapper, c.get(0)?, 0), id.clone());
            let wrapper = ForeignDataWrapper {
                handler: c.get(2)?,
                validator: c.get(3)?,
                options: c.get(4)?,
                meta: self.meta(&c, 5, Catalog::ForeignDataWrapper)?,
            };
            self.insert(id, Object::ForeignDataWrapper(Box::new(wrapper)));
        }
        Ok(())
    }
}
