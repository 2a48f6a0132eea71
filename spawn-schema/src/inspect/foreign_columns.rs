//! What foreign tables have besides what tables have: their columns' options, and their
//! CHECK constraints.
//!
//! PostgreSQL never checks a foreign table's CHECK against the remote data: it trusts it. It
//! still records `NOT VALID` when asked (`pg_get_constraintdef` says so), and `VALIDATE
//! CONSTRAINT` only clears the mark; the diff treats them like any table's checks.
//!
//! Read after the columns, on the first connection: few rows, deparsed by the server.

use super::{not_extension_member, ns_filter, Catalog, Cols, Inspector};
use crate::model::{Constraint, Object, ObjectKind};
use crate::SchemaError;

impl Inspector {
    /// Sets the options of foreign tables' columns, and reads foreign tables' CHECK
    /// constraints (the constraints of other tables are read with them).
    pub(super) async fn foreign_table_parts(&mut self) -> Result<(), SchemaError> {
        self.foreign_column_options().await?;
        self.foreign_table_checks().await
    }

    async fn foreign_column_options(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT a.attrelid::int8, a.attnum::int4, a.attfdwoptions \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'f' AND a.attnum > 0 AND NOT a.attisdropped \
             AND a.attfdwoptions IS NOT NULL AND {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("foreign table column options", &sql).await? {
            let c = Cols::new(&row, "foreign table column options");
            let key = (Catalog::Class, c.get::<i64>(0)?, c.get::<i32>(1)?);
            let Some(id) = self.oids.get(&key).cloned() else {
                continue;
            };
            if let Some(Object::Column(column)) = self.schema.objects.get_mut(&id) {
                column.fdw_options = c.get(2)?;
            }
        }
        Ok(())
    }

    async fn foreign_table_checks(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT co.oid::int8, n.nspname::text, c.relname::text, co.conname::text, \
             pg_get_constraintdef(co.oid), NULL::text, NULL::text[], NULL::text[] \
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE co.contype = 'c' AND co.conislocal AND c.relkind = 'f' AND {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("foreign table checks", &sql).await? {
            let c = Cols::new(&row, "foreign table checks");
            let id = self.id(ObjectKind::Constraint, c.get(1)?, c.get(2)?, c.get(3)?);
            self.oids
                .insert((Catalog::Constraint, c.get(0)?, 0), id.clone());
            let check = Constraint {
                kind: "c".to_string(),
                definition: c.get(4)?,
                inherited: false,
                meta: self.meta(&c, 5, Catalog::Constraint)?,
            };
            self.insert(id, Object::Constraint(Box::new(check)));
        }
        Ok(())
    }
}
