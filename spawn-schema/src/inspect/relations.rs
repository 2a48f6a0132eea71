//! Tables, columns, defaults, constraints, indexes, views, materialized views, sequences,
//! triggers, policies and extended statistics.

use super::constraintdef::{with_storage, RawKey};
use super::indexdef::ColumnFacts;
use super::types::collation_expr;
use super::{not_extension_member, ns_filter, split_us, Catalog, Cols, Inspector, MetaRow};
use crate::model::{
    Column, ColumnDefault, Constraint, DepKind, Dependency, ForeignTable, Meta, Name, Object,
    ObjectId, ObjectKind, PartitionOf, Policy, Sequence, Statistics, Table, Trigger, View,
};
use crate::SchemaError;

impl Inspector {
    pub(super) async fn sequences(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, \
             s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, c.relpersistence = 'u', \
             (SELECT tn.nspname || chr(31) || tc.relname || chr(31) || ta.attname FROM pg_depend d \
              JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
              JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid \
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass \
              AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1), \
             pg_get_userbyid(c.relowner)::text, {acl} \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {ns} AND {ext} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
               AND d.objid = c.oid AND d.deptype = 'i')",
            acl = self.acl_columns("c.relacl", 's', "c.relowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("sequences", &sql).await? {
            let c = Cols::new(&row, "sequences");
            let id = ObjectId::new(
                ObjectKind::Sequence,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
            );
            self.oids.insert((Catalog::Class, c.get(0)?, 0), id.clone());
            let owned_by = c.get::<Option<String>>(11)?.map(|s| {
                let p = split_us(&s);
                (
                    p[0].clone(),
                    p.get(1).cloned().unwrap_or_default(),
                    p.get(2).cloned().unwrap_or_default(),
                )
            });
            let seq = Sequence {
                data_type: c.get(3)?,
                start: c.get(4)?,
                increment: c.get(5)?,
                min: c.get(6)?,
                max: c.get(7)?,
                cache: c.get(8)?,
                cycle: c.get(9)?,
                unlogged: c.get(10)?,
                owned_by,
                meta: self.meta(&c, 12, Catalog::Class)?,
            };
            self.insert(id, Object::Sequence(Box::new(seq)));
        }
        Ok(())
    }

    pub(super) async fn tables(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT c.oid::int8, c.reltype::int8, n.nspname::text, c.relname::text, c.relpersistence = 'u', \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, coalesce(c.reloptions, '{{}}'), \
             c.relrowsecurity, c.relforcerowsecurity, c.relreplident::text, \
             CASE WHEN c.relreplident = 'i' THEN (SELECT ic.relname::text FROM pg_index i \
              JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident LIMIT 1) END, \
             coalesce(inh.parents, '{{}}'), \
             c.relispartition, CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
             (SELECT am.amname::text FROM pg_am am WHERE am.oid = c.relam AND am.amname <> 'heap'), \
             pg_get_userbyid(c.relowner)::text, {acl}, rt.typarray::int8, fs.srvname::text, ft.ftoptions \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_type rt ON rt.oid = c.reltype \
             LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver \
             LEFT JOIN (SELECT ih.inhrelid, array_agg(pn.nspname || chr(31) || pc.relname ORDER BY ih.inhseqno) AS parents \
                        FROM pg_inherits ih JOIN pg_class pc ON pc.oid = ih.inhparent \
                        JOIN pg_namespace pn ON pn.oid = pc.relnamespace GROUP BY ih.inhrelid) inh ON inh.inhrelid = c.oid \
             WHERE c.relkind IN ('r', 'p', 'f') AND {ns} AND {ext}",
            acl = self.acl_columns("c.relacl", 'r', "c.relowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        let mut rows = self.fetch_copy("tables", &sql).await?;
        while let Some(c) = rows.next_row()? {
            let (schema, name): (String, String) = (c.get(2)?, c.get(3)?);
            let id = self.id(ObjectKind::Table, &schema, &name, "");
            self.oids.insert((Catalog::Class, c.get(0)?, 0), id.clone());
            self.type_oids(&id, c.get(1)?, c.get::<Option<i64>>(18)?.unwrap_or(0));
            let options: Vec<String> = c.get(6)?;
            let parents: Vec<(String, String)> = c
                .get::<Vec<String>>(11)?
                .iter()
                .map(|s| {
                    let p = split_us(s);
                    (p[0].clone(), p.get(1).cloned().unwrap_or_default())
                })
                .collect();
            let is_partition: bool = c.get(12)?;
            let partition_of = match (is_partition, parents.first()) {
                (true, Some((ps, pn))) => Some(PartitionOf {
                    parent_schema: ps.clone(),
                    parent: pn.clone(),
                    bound: c.get::<Option<String>>(13)?.unwrap_or_default(),
                    meta: Meta::default(),
                }),
                _ => None,
            };
            if let Some(p) = &partition_of {
                let pid = ObjectId::new(ObjectKind::Partition, &schema, &name);
                for to in [
                    id.clone(),
                    ObjectId::new(ObjectKind::Table, &p.parent_schema, &p.parent),
                ] {
                    self.extra_deps.push(Dependency {
                        from: pid.clone(),
                        to,
                        kind: DepKind::Auto,
                    });
                }
                self.insert(pid, Object::Partition(Box::new(p.clone())));
            }
            let foreign_options: Option<Vec<String>> = c.get(20)?;
            let table = Table {
                columns: Vec::new(),
                unlogged: c.get(4)?,
                partition_key: c.get(5)?,
                options,
                rls_enabled: c.get(7)?,
                rls_forced: c.get(8)?,
                replica_identity: c.get(9)?,
                replica_identity_index: c.get(10)?,
                inherits: if is_partition { Vec::new() } else { parents },
                partition_of,
                access_method: c.get(14)?,
                foreign: c.get::<Option<String>>(19)?.map(|server| ForeignTable {
                    server,
                    options: Vec::new(),
                }),
                meta: self.meta(&c, 15, Catalog::Class)?,
            };
            let mut table = table;
            if let Some(foreign) = &mut table.foreign {
                foreign.options = foreign_options.unwrap_or_default();
            }
            self.insert(id, Object::Table(Box::new(table)));
        }
        Ok(())
    }

    /// Table columns, their defaults and generation expressions.
    pub(super) async fn columns(&mut self) -> Result<(), SchemaError> {
        // Defaults cannot refer to columns, so they are deparsed without their table (which
        // would make the server open every table); generated columns' expressions need it.
        // The table of a column is known by its OID (tables are read first), and the rows
        // are put in order here rather than sorted by the server.
        let sql = format!(
            "SELECT a.attrelid::int8, a.attnum::int4, a.attname::text, \
             format_type(a.atttypid, a.atttypmod), a.attnotnull, {coll}, a.attidentity::text, a.attgenerated::text, \
             pg_get_expr(ad.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE ad.adrelid END), \
             a.attislocal, a.attinhcount > 0, NULL::text, {acl}, ad.oid::int8, \
             a.atttypid::int8, a.attcollation::int8, \
             CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int4 END \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND {ns} AND {ext}",
            coll = collation_expr("a.attcollation", "t.typcollation"),
            acl = self.acl_columns("a.attacl", 'c', "c.relowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        let mut rows = self
            .fetch_map("columns", &sql, |c| {
                Ok(ColumnRow {
                    table: c.get(0)?,
                    number: c.get(1)?,
                    name: c.get(2)?,
                    generated: !c.get::<&str>(7)?.is_empty(),
                    expression: c.get(8)?,
                    attrdef: c.get(14)?,
                    type_oid: c.get(15)?,
                    collation_oid: c.get(16)?,
                    column: Column {
                        position: 0,
                        data_type: c.get(3)?,
                        not_null: c.get(4)?,
                        collation: c.get(5)?,
                        identity: c.get(6)?,
                        generated: None,
                        is_local: c.get(9)?,
                        inherited: c.get(10)?,
                        statistics: c.get(17)?,
                        fdw_options: Vec::new(),
                        meta: c.meta(11, None)?,
                    },
                })
            })
            .await?;
        rows.sort_unstable_by_key(|r| (r.table, r.number));
        let mut position = 0;
        // The table of the rows at hand, and the names of its columns so far (stored in the
        // table when its rows are done: one lookup per table).
        let mut current: Option<TableAtHand> = None;
        let mut column_names: Vec<String> = Vec::new();
        // Inherited columns depend on the same column of each parent.
        let mut inherited: Vec<(ObjectId, ObjectId)> = Vec::new();
        for row in rows {
            let ColumnRow {
                table: relid,
                number: attnum,
                generated,
                expression,
                mut column,
                ..
            } = row;
            let table_id = match &current {
                Some(table) if table.oid == relid => table.id.clone(),
                _ => {
                    let Some(id) = self.oids.get(&(Catalog::Class, relid, 0)).cloned() else {
                        continue;
                    };
                    if let Some(previous) = current.take() {
                        self.set_table_columns(&previous.id, std::mem::take(&mut column_names));
                    }
                    let parents: Vec<(String, String)> = match self.schema.objects.get(&id) {
                        Some(Object::Table(t)) => t
                            .partition_of
                            .iter()
                            .map(|p| (p.parent_schema.clone(), p.parent.clone()))
                            .chain(t.inherits.iter().cloned())
                            .collect(),
                        _ => Vec::new(),
                    };
                    let parents = parents
                        .iter()
                        .map(|(schema, name)| (self.name(schema), self.name(name)))
                        .collect();
                    position = 0;
                    current = Some(TableAtHand {
                        oid: relid,
                        id: id.clone(),
                        parents,
                    });
                    id
                }
            };
            let name = self.name(&row.name);
            self.column_facts.insert(
                (relid, attnum),
                ColumnFacts {
                    name: name.clone(),
                    type_oid: row.type_oid,
                    collation: row.collation_oid,
                },
            );
            let id = ObjectId::part(
                ObjectKind::Column,
                table_id.schema.clone(),
                table_id.name.clone(),
                name.clone(),
            );
            self.oids
                .insert((Catalog::Class, relid, attnum), id.clone());
            // A generated column's expression is an attrdef too: it stands for the column.
            let attrdef_id = if generated {
                id.clone()
            } else {
                id.with_kind(ObjectKind::ColumnDefault)
            };
            if let Some(attrdef) = row.attrdef {
                self.oids.insert((Catalog::AttrDef, attrdef, 0), attrdef_id);
            }
            position += 1;
            let (is_inherited, is_local) = (column.inherited, column.is_local);
            column.position = position;
            column.generated = if generated { expression.clone() } else { None };
            column.meta.comment = self.comment(Catalog::Class, relid, attnum);
            self.extra_deps.push(Dependency {
                from: id.clone(),
                to: table_id.clone(),
                kind: DepKind::Auto,
            });
            if let (false, Some(expression)) = (generated, expression) {
                let did = id.with_kind(ObjectKind::ColumnDefault);
                self.extra_deps.push(Dependency {
                    from: did.clone(),
                    to: id.clone(),
                    kind: DepKind::Auto,
                });
                self.insert(
                    did,
                    Object::ColumnDefault(Box::new(ColumnDefault {
                        expression,
                        meta: Meta::default(),
                    })),
                );
            }
            column_names.push(name.to_string());
            if is_inherited && !is_local {
                if let Some(table) = &current {
                    for (ps, pn) in &table.parents {
                        inherited.push((
                            id.clone(),
                            ObjectId::part(
                                ObjectKind::Column,
                                ps.clone(),
                                pn.clone(),
                                name.clone(),
                            ),
                        ));
                    }
                }
            }
            self.insert(id, Object::Column(Box::new(column)));
        }
        if let Some(last) = current.take() {
            self.set_table_columns(&last.id, column_names);
        }
        for (from, to) in inherited {
            self.extra_deps.push(Dependency {
                from,
                to,
                kind: DepKind::Auto,
            });
        }
        Ok(())
    }

    /// Stores the names of a table's columns, in order.
    fn set_table_columns(&mut self, table: &ObjectId, columns: Vec<String>) {
        if let Some(Object::Table(t)) = self.schema.objects.get_mut(table) {
            t.columns = columns;
        }
    }

    /// Constraints. Keys and foreign keys of the common shapes come without a definition,
    /// which [`Inspector::finish_constraints`] composes; the rest have the server's.
    pub(super) async fn constraints(&mut self) -> Result<(), SchemaError> {
        let (nulls_not_distinct, set_columns) = if self.version >= 150000 {
            ("ci.indnullsnotdistinct", "co.confdelsetcols IS NOT NULL")
        } else {
            ("false", "false")
        };
        let sql = format!(
            "SELECT co.oid::int8, co.conindid::int8, n.nspname::text, c.relname::text, co.conname::text, co.contype::text, \
             CASE WHEN co.contype = 'f' AND NOT {set_columns} THEN NULL \
                  WHEN co.contype = 'c' THEN NULL \
                  WHEN co.contype IN ('p', 'u') AND ci.indnatts = ci.indnkeyatts AND NOT {nulls_not_distinct} \
                       AND cic.reltablespace = 0 THEN NULL \
                  ELSE pg_get_constraintdef(co.oid) END, \
             NULL::text, NULL::text[], NULL::text[], \
             co.conparentid::int8, co.conrelid::int8, co.conkey, co.confrelid::int8, co.confkey, \
             co.confmatchtype::text, co.confupdtype::text, co.confdeltype::text, \
             co.condeferrable, co.condeferred, co.convalidated, \
             CASE WHEN co.contype IN ('p', 'u') THEN (SELECT string_agg(quote_ident(split_part(o, '=', 1)) || '=' \
               || quote_literal(substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(cic.reloptions) o) END, \
             CASE WHEN co.contype = 'c' THEN co.conbin::text END, co.connoinherit \
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_index ci ON ci.indexrelid = co.conindid AND co.contype IN ('p', 'u') \
             LEFT JOIN pg_class cic ON cic.oid = ci.indexrelid \
             WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND (co.conislocal OR co.conparentid <> 0) \
             AND c.relkind IN ('r', 'p') AND {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        let first = |text: String| text.chars().next().unwrap_or(' ');
        let mut rows = self.fetch_copy("constraints", &sql).await?;
        while let Some(c) = rows.next_row()? {
            let oid: i64 = c.get(0)?;
            let id = self.id(ObjectKind::Constraint, c.get(2)?, c.get(3)?, c.get(4)?);
            let kind: String = c.get(5)?;
            self.oids.insert((Catalog::Constraint, oid, 0), id.clone());
            if matches!(kind.as_str(), "p" | "u" | "x") {
                self.oids.insert((Catalog::Class, c.get(1)?, 0), id.clone());
            }
            let parent: i64 = c.get(10)?;
            if parent != 0 {
                self.inherited_from
                    .push((id.clone(), Catalog::Constraint, parent));
            }
            let definition: Option<String> = c.get(6)?;
            // `pg_get_constraintdef` leaves out the storage parameters of a key's index.
            let storage: Option<String> = c.get(21)?;
            let deferrable: bool = c.get(18)?;
            let definition = definition.map(|d| match &storage {
                Some(storage) => with_storage(&d, storage, deferrable),
                None => d,
            });
            let con = Constraint {
                kind,
                definition: definition.clone().unwrap_or_default(),
                inherited: parent != 0,
                meta: self.meta(&c, 7, Catalog::Constraint)?,
            };
            if definition.is_some() {
                self.insert(id, Object::Constraint(Box::new(con)));
                continue;
            }
            let key = RawKey {
                oid,
                kind: first(con.kind.clone()),
                table: c.get(11)?,
                columns: c.get::<Option<Vec<i16>>>(12)?.unwrap_or_default(),
                referenced_table: c.get(13)?,
                referenced_columns: c.get::<Option<Vec<i16>>>(14)?.unwrap_or_default(),
                match_type: first(c.get(15)?),
                on_update: first(c.get(16)?),
                on_delete: first(c.get(17)?),
                deferrable,
                deferred: c.get(19)?,
                validated: c.get(20)?,
                storage,
                check: c.get(22)?,
                no_inherit: c.get(23)?,
            };
            self.pending_constraints.push((id, con, key));
        }
        Ok(())
    }

    pub(super) async fn views(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT c.oid::int8, c.reltype::int8, n.nspname::text, c.relname::text, c.relkind::text, \
             pg_get_viewdef(c.oid), coalesce(c.reloptions, '{{}}'), \
             ARRAY(SELECT a.attname || chr(31) || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum), \
             pg_get_userbyid(c.relowner)::text, {acl}, rt.typarray::int8 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_type rt ON rt.oid = c.reltype \
             WHERE c.relkind IN ('v', 'm') AND {ns} AND {ext}",
            acl = self.acl_columns("c.relacl", 'r', "c.relowner"),
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        let mut rows = self.fetch_copy("views", &sql).await?;
        while let Some(c) = rows.next_row()? {
            let kind = if c.get::<String>(4)? == "m" {
                ObjectKind::MaterializedView
            } else {
                ObjectKind::View
            };
            let id = self.id(kind, c.get(2)?, c.get(3)?, "");
            self.oids.insert((Catalog::Class, c.get(0)?, 0), id.clone());
            self.type_oids(&id, c.get(1)?, c.get::<Option<i64>>(11)?.unwrap_or(0));
            let definition: String = c.get(5)?;
            let options: Vec<String> = c.get(6)?;
            let columns = c
                .get::<Vec<String>>(7)?
                .iter()
                .map(|s| {
                    let p = split_us(s);
                    (p[0].clone(), p.get(1).cloned().unwrap_or_default())
                })
                .collect();
            let view = View {
                definition: definition.trim_end().trim_end_matches(';').to_string(),
                columns,
                options,
                meta: self.meta(&c, 8, Catalog::Class)?,
            };
            self.insert(id, Object::View(Box::new(view)));
        }
        Ok(())
    }

    pub(super) async fn triggers(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT tg.oid::int8, n.nspname::text, c.relname::text, tg.tgname::text, pg_get_triggerdef(tg.oid), \
             tg.tgenabled::text, NULL::text, NULL::text[], NULL::text[] \
             FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             \
             WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("triggers", &sql).await? {
            let c = Cols::new(&row, "triggers");
            let id = ObjectId::part(
                ObjectKind::Trigger,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
                c.get::<String>(3)?,
            );
            self.oids
                .insert((Catalog::Trigger, c.get(0)?, 0), id.clone());
            let trigger = Trigger {
                definition: c.get(4)?,
                enabled: c.get(5)?,
                meta: self.meta(&c, 6, Catalog::Trigger)?,
            };
            self.insert(id, Object::Trigger(Box::new(trigger)));
        }
        Ok(())
    }

    pub(super) async fn policies(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT p.oid::int8, n.nspname::text, c.relname::text, p.polname::text, p.polpermissive, p.polcmd::text, \
             ARRAY(SELECT coalesce(pg_get_userbyid(nullif(r, 0))::text, '') FROM unnest(p.polroles) r ORDER BY 1), \
             pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), \
             NULL::text, NULL::text[], NULL::text[] \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "c.oid"),
        );
        for row in self.fetch("policies", &sql).await? {
            let c = Cols::new(&row, "policies");
            let id = ObjectId::part(
                ObjectKind::Policy,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
                c.get::<String>(3)?,
            );
            self.oids
                .insert((Catalog::Policy, c.get(0)?, 0), id.clone());
            let command = match c.get::<String>(5)?.as_str() {
                "r" => "SELECT",
                "a" => "INSERT",
                "w" => "UPDATE",
                "d" => "DELETE",
                _ => "ALL",
            };
            let policy = Policy {
                permissive: c.get(4)?,
                command: command.to_string(),
                roles: c.get(6)?,
                using: c.get(7)?,
                with_check: c.get(8)?,
                meta: self.meta(&c, 9, Catalog::Policy)?,
            };
            self.insert(id, Object::Policy(Box::new(policy)));
        }
        Ok(())
    }

    pub(super) async fn statistics(&mut self) -> Result<(), SchemaError> {
        let sql = format!(
            "SELECT s.oid::int8, n.nspname::text, s.stxname::text, pg_get_statisticsobjdef(s.oid), \
             pg_get_userbyid(s.stxowner)::text, NULL::text[], NULL::text[] \
             FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace \
             WHERE {ns} AND {ext}",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_statistic_ext", "s.oid"),
        );
        for row in self.fetch("statistics", &sql).await? {
            let c = Cols::new(&row, "statistics");
            let id = ObjectId::new(
                ObjectKind::Statistics,
                c.get::<String>(1)?,
                c.get::<String>(2)?,
            );
            self.oids
                .insert((Catalog::StatisticExt, c.get(0)?, 0), id.clone());
            let stats = Statistics {
                definition: c.get(3)?,
                meta: self.meta(&c, 4, Catalog::StatisticExt)?,
            };
            self.insert(id, Object::Statistics(Box::new(stats)));
        }
        Ok(())
    }
}

/// One row of the columns query, decoded as it arrives (the rows are put in order after).
struct ColumnRow {
    table: i64,
    number: i32,
    name: String,
    generated: bool,
    expression: Option<String>,
    attrdef: Option<i64>,
    type_oid: i64,
    collation_oid: i64,
    /// Everything but the position, generation expression and comment, set in order.
    column: Column,
}

/// The table whose columns are being read: its OID, identity, and parents (schema, name).
struct TableAtHand {
    oid: i64,
    id: ObjectId,
    parents: Vec<(Name, Name)>,
}
