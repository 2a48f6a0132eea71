//! What the hazard rules remember from earlier statements (of this migration and of the
//! migrations before it): column types, to tell a type change that rewrites from one that
//! does not, and validated `CHECK (column IS NOT NULL)` constraints, which let
//! `SET NOT NULL` skip its scan; and which tables are partitioned (an index `ON ONLY` one
//! builds nothing).

use std::collections::{HashMap, HashSet};

use super::tokens::Tokens;
use super::types::ColumnType;

/// A `CHECK (column IS NOT NULL)` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NotNullCheck {
    table: String,
    column: String,
    validated: bool,
}

/// Column types and not-null checks, by table (names as PostgreSQL folds them, without
/// schema).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    columns: HashMap<String, HashMap<String, ColumnType>>,
    checks: HashMap<String, NotNullCheck>,
    /// Tables created `PARTITION BY …`.
    partitioned: HashSet<String>,
}

impl Catalog {
    pub(crate) fn column(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.columns.get(table)?.get(column)
    }

    pub(crate) fn set_column(&mut self, table: &str, column: &str, ty: ColumnType) {
        self.columns
            .entry(table.to_owned())
            .or_default()
            .insert(column.to_owned(), ty);
    }

    pub(crate) fn drop_column(&mut self, table: &str, column: &str) {
        if let Some(columns) = self.columns.get_mut(table) {
            columns.remove(column);
        }
    }

    pub(crate) fn rename_column(&mut self, table: &str, old: &str, new: &str) {
        if let Some(columns) = self.columns.get_mut(table) {
            if let Some(ty) = columns.remove(old) {
                columns.insert(new.to_owned(), ty);
            }
        }
    }

    pub(crate) fn rename_table(&mut self, old: &str, new: &str) {
        if let Some(columns) = self.columns.remove(old) {
            self.columns.insert(new.to_owned(), columns);
        }
        if self.partitioned.remove(old) {
            self.partitioned.insert(new.to_owned());
        }
    }

    pub(crate) fn set_partitioned(&mut self, table: &str) {
        self.partitioned.insert(table.to_owned());
    }

    /// Whether `table` was created `PARTITION BY …`.
    pub(crate) fn is_partitioned(&self, table: &str) -> bool {
        self.partitioned.contains(table)
    }

    /// Forgets a table (dropped, or created anew).
    pub(crate) fn drop_table(&mut self, table: &str) {
        self.columns.remove(table);
        self.partitioned.remove(table);
        self.checks.retain(|_, c| c.table != table);
    }

    /// Records constraint `name` (unnamed: a name no `VALIDATE` can give) on `table` if the
    /// check expression whose `(` is at `open` is `(column IS NOT NULL)`.
    pub(crate) fn add_check(
        &mut self,
        table: &str,
        name: Option<&str>,
        t: &Tokens<'_>,
        open: usize,
        validated: bool,
    ) {
        let close = t.after_group(open);
        let Some((column, next)) = t.name(open + 1) else {
            return;
        };
        if t.are(next, &["IS", "NOT", "NULL"]) && next + 4 == close {
            let name = name.map_or_else(|| format!(" {table}.{column}"), str::to_owned);
            self.checks.insert(
                name,
                NotNullCheck {
                    table: table.to_owned(),
                    column,
                    validated,
                },
            );
        }
    }

    /// `VALIDATE CONSTRAINT name`.
    pub(crate) fn validate(&mut self, name: &str) {
        if let Some(check) = self.checks.get_mut(name) {
            check.validated = true;
        }
    }

    /// Whether a validated `CHECK (column IS NOT NULL)` is known on `table`.
    pub(crate) fn has_not_null_check(&self, table: &str, column: &str) -> bool {
        self.checks
            .values()
            .any(|c| c.validated && c.table == table && c.column == column)
    }
}
