//! Primary key, unique, foreign key and CHECK definitions put together from `pg_constraint`,
//! byte for byte as `pg_get_constraintdef` prints them.
//!
//! Key definitions are lists of column names, which `pg_get_constraintdef` looks up one
//! catalog row at a time; the names are known here already (the columns query), so these
//! constraints are composed once both connections are done. A CHECK constraint's expression
//! is deparsed from its node tree ([`super::exprdef`]): the server would open its table to do
//! it. Exclusion constraints, keys with a tablespace, INCLUDE columns, NULLS NOT DISTINCT or
//! `ON DELETE SET NULL (columns)`, and expressions outside what [`super::exprdef`] composes,
//! keep the server's definition. The round-trip tests compare every composed definition with
//! `pg_get_constraintdef`.
//!
//! Unlike `pg_get_constraintdef`, a key's definition here includes its index's storage
//! parameters (`WITH (fillfactor = …)`), so that they are created and compared too.

use super::exprdef::{Deparsed, Deparser};
use super::indexdef::{ColumnFacts, Needs, Outcome, Support};
use super::nodetree::{self, Node, Tree};
use super::{Catalog, FastMap, Inspector};
use crate::model::{Constraint, Object, ObjectId};
use crate::SchemaError;

/// What a key or foreign key's definition is made of.
#[derive(Debug)]
pub(crate) struct RawKey {
    pub oid: i64,
    pub kind: char,
    pub table: i64,
    pub columns: Vec<i16>,
    pub referenced_table: i64,
    pub referenced_columns: Vec<i16>,
    pub match_type: char,
    pub on_update: char,
    pub on_delete: char,
    pub deferrable: bool,
    pub deferred: bool,
    pub validated: bool,
    /// The index's storage parameters, as `WITH` takes them (keys only).
    pub storage: Option<String>,
    /// A CHECK constraint's expression (`conbin`) and whether it is `NO INHERIT`.
    pub check: Option<String>,
    pub no_inherit: bool,
}

/// The definition of `key`, or what it waits for.
pub(crate) fn compose(
    key: &RawKey,
    check: Option<&Tree<'_>>,
    support: &Support,
    columns: &FastMap<(i64, i32), ColumnFacts>,
    table_name: impl Fn(i64) -> Option<(String, String)>,
    needs: &mut Needs,
) -> Outcome {
    if key.kind == 'c' {
        return match check {
            Some(Tree::Node(expression)) => compose_check(key, expression, support, columns, needs),
            _ => Outcome::Server,
        };
    }
    match compose_key(key, support, columns, table_name) {
        Some(sql) => Outcome::Done(sql),
        None => Outcome::Server,
    }
}

/// `CHECK (expression)`, as the server prints it.
fn compose_check(
    key: &RawKey,
    expression: &Node<'_>,
    support: &Support,
    columns: &FastMap<(i64, i32), ColumnFacts>,
    needs: &mut Needs,
) -> Outcome {
    let quote = |name: &str| support.ident(name);
    let column = |attnum: i64| {
        let attnum = i32::try_from(attnum).ok()?;
        columns.get(&(key.table, attnum)).map(|c| &*c.name)
    };
    let deparser = Deparser {
        facts: &support.expressions,
        quote: &quote,
        column: &column,
    };
    match deparser.expression(expression, &mut needs.expressions) {
        Deparsed::Done(expression) => {
            let mut sql = format!("CHECK ({expression})");
            if key.no_inherit {
                sql.push_str(" NO INHERIT");
            }
            if !key.validated {
                sql.push_str(" NOT VALID");
            }
            Outcome::Done(sql)
        }
        Deparsed::Waiting => Outcome::Waiting,
        Deparsed::Server => Outcome::Server,
    }
}

/// A key or foreign key's definition, or `None` when a name is not known here.
fn compose_key(
    key: &RawKey,
    support: &Support,
    columns: &FastMap<(i64, i32), ColumnFacts>,
    table_name: impl Fn(i64) -> Option<(String, String)>,
) -> Option<String> {
    let names = |table: i64, numbers: &[i16]| -> Option<String> {
        let mut list = Vec::with_capacity(numbers.len());
        for number in numbers {
            list.push(support.ident(&columns.get(&(table, i32::from(*number)))?.name));
        }
        Some(list.join(", "))
    };
    let mut sql = match key.kind {
        'p' => format!("PRIMARY KEY ({})", names(key.table, &key.columns)?),
        'u' => format!("UNIQUE ({})", names(key.table, &key.columns)?),
        'f' => {
            let (schema, name) = table_name(key.referenced_table)?;
            let mut sql = format!(
                "FOREIGN KEY ({}) REFERENCES {}.{}({})",
                names(key.table, &key.columns)?,
                support.ident(&schema),
                support.ident(&name),
                names(key.referenced_table, &key.referenced_columns)?
            );
            match key.match_type {
                'f' => sql.push_str(" MATCH FULL"),
                'p' => sql.push_str(" MATCH PARTIAL"),
                _ => {}
            }
            for (clause, action) in [
                (" ON UPDATE ", key.on_update),
                (" ON DELETE ", key.on_delete),
            ] {
                let action = match action {
                    'r' => "RESTRICT",
                    'c' => "CASCADE",
                    'n' => "SET NULL",
                    'd' => "SET DEFAULT",
                    _ => continue,
                };
                sql.push_str(clause);
                sql.push_str(action);
            }
            sql
        }
        _ => return None,
    };
    if let Some(storage) = &key.storage {
        sql.push_str(" WITH (");
        sql.push_str(storage);
        sql.push(')');
    }
    if key.deferrable {
        sql.push_str(" DEFERRABLE");
    }
    if key.deferred {
        sql.push_str(" INITIALLY DEFERRED");
    }
    if !key.validated {
        sql.push_str(" NOT VALID");
    }
    Some(sql)
}

/// A key's definition with `WITH (storage parameters)` where the grammar has it: before
/// `DEFERRABLE` and what follows it.
pub(crate) fn with_storage(definition: &str, storage: &str, deferrable: bool) -> String {
    let at = deferrable
        .then(|| definition.rfind(" DEFERRABLE"))
        .flatten()
        .unwrap_or(definition.len());
    format!(
        "{} WITH ({storage}){}",
        &definition[..at],
        &definition[at..]
    )
}

impl Inspector {
    /// Composes the definitions of the keys read without one, and asks
    /// `pg_get_constraintdef` for those it cannot; then adds them to the schema.
    pub(super) async fn finish_constraints(&mut self) -> Result<(), SchemaError> {
        let pending = std::mem::take(&mut self.pending_constraints);
        let total = pending.len();
        // A CHECK constraint's tree, read once for all the rounds.
        let checks: Vec<Option<Tree<'_>>> = pending
            .iter()
            .map(|(_, _, key)| {
                key.check
                    .as_deref()
                    .and_then(|text| nodetree::parse(text).ok())
            })
            .collect();
        let compose_one = |ins: &Inspector, i: usize, needs: &mut Needs| {
            let table_name = |oid: i64| {
                ins.oids
                    .get(&(Catalog::Class, oid, 0))
                    .map(|t| (t.schema.to_string(), t.name.to_string()))
            };
            compose(
                &pending[i].2,
                checks[i].as_ref(),
                &ins.index_support,
                &ins.column_facts,
                table_name,
                needs,
            )
        };
        let outcomes = self.compose_all(total, compose_one).await?;
        drop(checks);
        let mut by_server = Vec::new();
        for ((id, mut constraint, key), outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Done(definition) => {
                    constraint.definition = definition;
                    self.insert(id, Object::Constraint(Box::new(constraint)));
                }
                _ => by_server.push((id, constraint, key.oid)),
            }
        }
        tracing::debug!(
            composed = total - by_server.len(),
            by_server = by_server.len(),
            "constraint definitions"
        );
        if by_server.is_empty() {
            return Ok(());
        }
        let oids: Vec<i64> = by_server.iter().map(|(_, _, oid)| *oid).collect();
        let mut definitions = self
            .server_definitions("constraint definitions", "pg_get_constraintdef", &oids)
            .await?;
        for (id, mut constraint, oid) in by_server {
            tracing::trace!(constraint = %id, "constraint definition asked of the server");
            constraint.definition = definitions.remove(&oid).unwrap_or_default();
            self.insert(id, Object::Constraint(Box::new(constraint)));
        }
        Ok(())
    }
}

/// A constraint waiting for its definition.
pub(crate) type PendingConstraint = (ObjectId, Constraint, RawKey);
