//! Index definitions put together from `pg_index`, byte for byte as `pg_get_indexdef` prints
//! them.
//!
//! `pg_get_indexdef` decides for every key column whether its operator class is the default
//! one for the column's type, which scans the access method's operator classes once per
//! column; with thousands of indexes that is most of an inspection's server time. Here the
//! operator classes are read once, the decision is made in Rust (following the server's rules:
//! an exact match, else the one binary-coercible class, preferred types first), and the
//! statement is assembled from the catalog row. Only the parts that need the server's deparser
//! (expressions, predicates) are still deparsed by it.
//!
//! Whatever cannot be decided with certainty — an access method of an extension, operator
//! class options, storage parameters, an index on a materialized view, a type the rounds of
//! [`Needs`] could not resolve — is [`Outcome::Server`]: the caller asks `pg_get_indexdef`. The
//! round-trip tests compare every composed definition with `pg_get_indexdef`.

use std::collections::HashSet;

use super::FastMap;
use crate::model::Name;

/// One row of the index query: what `pg_get_indexdef` reads.
#[derive(Debug)]
pub(crate) struct RawIndex {
    pub oid: i64,
    pub name: String,
    pub table_schema: String,
    pub table_name: String,
    pub table_oid: i64,
    pub unique: bool,
    pub nulls_not_distinct: bool,
    pub access_method: String,
    /// A partitioned index (printed `ON ONLY`).
    pub partitioned: bool,
    pub key_count: usize,
    /// Table column numbers, 0 for an expression.
    pub keys: Vec<i16>,
    pub classes: Vec<i64>,
    pub collations: Vec<i64>,
    pub options: Vec<i16>,
    /// Each expression column's text (`pg_get_indexdef(index, column, false)`), by column.
    pub expressions: Vec<Option<String>>,
    /// The index's own attribute types (the expressions' types), by column.
    pub attribute_types: Vec<i64>,
    /// `pg_index.indexprs` as text, to read the expressions' collations from.
    pub expression_tree: Option<String>,
    pub predicate: Option<String>,
    /// Storage parameters or operator class options, which only the server prints.
    pub has_options: bool,
}

/// A table column an index can name.
#[derive(Debug, Clone)]
pub(crate) struct ColumnFacts {
    pub name: Name,
    pub type_oid: i64,
    pub collation: i64,
}

/// An operator class.
#[derive(Debug, Clone)]
pub(crate) struct OpClass {
    pub method: i64,
    pub input_type: i64,
    pub is_default: bool,
    /// It stores another type than it indexes (`opckeytype`).
    pub has_key_type: bool,
    /// As `pg_get_indexdef` prints it (qualified unless in `pg_catalog`).
    pub printed: String,
    /// The input type's facts: a domain, a polymorphic pseudo-type's name, the category and
    /// whether it is preferred in it.
    pub input_is_domain: bool,
    pub input_pseudo: Option<String>,
    pub input_category: String,
    pub input_preferred: bool,
}

/// What the default operator class rules need to know of a key type.
#[derive(Debug, Clone)]
pub(crate) struct TypeFacts {
    pub typtype: String,
    pub category: String,
    pub base_type: i64,
    pub is_array: bool,
    pub is_composite: bool,
    pub is_composite_array: bool,
    /// Types it can be cast to without a function, implicitly.
    pub binary_casts: Vec<i64>,
}

/// What the catalog told once: operator classes, reserved words, and the facts read on demand.
#[derive(Debug, Default)]
pub(crate) struct Support {
    opclasses: FastMap<i64, OpClass>,
    /// (access method, type) → its default operator class (non-domain input types only).
    exact_defaults: FastMap<(i64, i64), i64>,
    /// Access method → its default operator classes.
    defaults_by_method: FastMap<i64, Vec<i64>>,
    keywords: HashSet<String>,
    pub types: FastMap<i64, TypeFacts>,
    /// Collation OID → its name as printed.
    pub collations: FastMap<i64, String>,
}

/// Facts a definition is waiting for.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    pub types: Vec<i64>,
    pub collations: Vec<i64>,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.collations.is_empty()
    }
}

/// The result of composing one definition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Done(String),
    /// Facts are missing (now listed in the [`Needs`]); try again once they are read.
    Waiting,
    /// Only `pg_get_indexdef` can tell.
    Server,
}

/// `INDOPTION_DESC` and `INDOPTION_NULLS_FIRST` of `pg_index.indoption`.
const DESC: i16 = 1;
const NULLS_FIRST: i16 = 2;

impl Support {
    pub fn new(opclasses: Vec<(i64, OpClass)>, keywords: Vec<String>) -> Self {
        let mut support = Support {
            keywords: keywords.into_iter().collect(),
            ..Support::default()
        };
        for (oid, class) in opclasses {
            if class.is_default {
                support
                    .defaults_by_method
                    .entry(class.method)
                    .or_default()
                    .push(oid);
                if !class.input_is_domain {
                    support
                        .exact_defaults
                        .insert((class.method, class.input_type), oid);
                }
            }
            support.opclasses.insert(oid, class);
        }
        support
    }

    /// `quote_identifier`, with the server's own reserved words.
    pub fn ident(&self, name: &str) -> String {
        let plain = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !self.keywords.contains(name);
        if plain {
            name.to_string()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }

    /// The definition of `index`, or what it waits for.
    pub fn compose(
        &self,
        index: &RawIndex,
        columns: &FastMap<(i64, i32), ColumnFacts>,
        needs: &mut Needs,
    ) -> Outcome {
        let can_order = match index.access_method.as_str() {
            "btree" => true,
            "gist" | "gin" | "spgist" | "brin" | "hash" => false,
            _ => return Outcome::Server,
        };
        let columns_count = index.keys.len();
        if index.has_options
            || index.classes.len() != index.key_count
            || index.collations.len() != index.key_count
            || index.options.len() != index.key_count
            || index.key_count > columns_count
        {
            return Outcome::Server;
        }
        let mut sql = format!(
            "CREATE {}INDEX {} ON {}{}.{} USING {} (",
            if index.unique { "UNIQUE " } else { "" },
            self.ident(&index.name),
            if index.partitioned { "ONLY " } else { "" },
            self.ident(&index.table_schema),
            self.ident(&index.table_name),
            self.ident(&index.access_method),
        );
        let collations = index
            .expression_tree
            .as_deref()
            .map(expression_collations)
            .unwrap_or_default();
        let mut expression_number = 0;
        let mut waiting = false;
        for column in 0..columns_count {
            if column == index.key_count {
                sql.push_str(") INCLUDE (");
            } else if column > 0 {
                sql.push_str(", ");
            }
            let attnum = index.keys[column];
            let (key_type, key_collation) = if attnum != 0 {
                let Some(facts) = columns.get(&(index.table_oid, i32::from(attnum))) else {
                    return Outcome::Server;
                };
                sql.push_str(&self.ident(&facts.name));
                (facts.type_oid, Some(facts.collation))
            } else {
                let Some(Some(text)) = index.expressions.get(column) else {
                    return Outcome::Server;
                };
                sql.push_str(text);
                let collation = collations.get(expression_number).copied().flatten();
                expression_number += 1;
                // The index's attribute holds the expression's type unless the access method
                // or the operator class store another one.
                let stored = index.attribute_types.get(column).copied();
                let class_stores_other = index
                    .classes
                    .get(column)
                    .and_then(|c| self.opclasses.get(c))
                    .is_none_or(|c| c.has_key_type);
                match stored {
                    Some(t) if !class_stores_other && index.access_method != "hash" => {
                        (t, collation)
                    }
                    _ => return Outcome::Server,
                }
            };
            if column >= index.key_count {
                continue;
            }
            let collation = index.collations[column];
            if collation != 0 {
                // Printed when it is not the key's own; an expression's own collation must
                // have been read off its node.
                let Some(own) = key_collation else {
                    return Outcome::Server;
                };
                if collation != own {
                    match self.collations.get(&collation) {
                        Some(name) => {
                            sql.push_str(" COLLATE ");
                            sql.push_str(name);
                        }
                        None => {
                            needs.collations.push(collation);
                            waiting = true;
                        }
                    }
                }
            }
            let Some(class) = self.opclasses.get(&index.classes[column]) else {
                return Outcome::Server;
            };
            let printed = if class.is_default {
                match self.default_opclass(class.method, key_type, needs) {
                    Lookup::Found(default) => default != Some(index.classes[column]),
                    Lookup::Waiting => {
                        waiting = true;
                        false
                    }
                    Lookup::Server => return Outcome::Server,
                }
            } else {
                true
            };
            if printed {
                sql.push(' ');
                sql.push_str(&class.printed);
            }
            if can_order {
                let option = index.options[column];
                if option & DESC != 0 {
                    sql.push_str(" DESC");
                    if option & NULLS_FIRST == 0 {
                        sql.push_str(" NULLS LAST");
                    }
                } else if option & NULLS_FIRST != 0 {
                    sql.push_str(" NULLS FIRST");
                }
            }
        }
        if waiting {
            return Outcome::Waiting;
        }
        sql.push(')');
        if index.nulls_not_distinct {
            sql.push_str(" NULLS NOT DISTINCT");
        }
        if let Some(predicate) = &index.predicate {
            sql.push_str(" WHERE ");
            sql.push_str(predicate);
        }
        Outcome::Done(sql)
    }

    /// The server's default operator class of `method` for `type_oid` (`GetDefaultOpClass`):
    /// the one for the type itself (a domain's base type), else the only one the type is
    /// binary-coercible to, preferring the preferred type of the type's category.
    fn default_opclass(&self, method: i64, type_oid: i64, needs: &mut Needs) -> Lookup {
        if let Some(class) = self.exact_defaults.get(&(method, type_oid)) {
            return Lookup::Found(Some(*class));
        }
        // A domain stands for its base type (and a domain over a domain for that one's).
        let mut base = type_oid;
        let facts = loop {
            let Some(facts) = self.types.get(&base) else {
                needs.types.push(base);
                return Lookup::Waiting;
            };
            if facts.typtype != "d" {
                break facts;
            }
            if facts.base_type == 0 || facts.base_type == base {
                return Lookup::Server;
            }
            base = facts.base_type;
        };
        if let Some(class) = self.exact_defaults.get(&(method, base)) {
            return Lookup::Found(Some(*class));
        }
        let (mut compatible, mut preferred, mut found) = (0, 0, None);
        for oid in self.defaults_by_method.get(&method).into_iter().flatten() {
            let Some(class) = self.opclasses.get(oid) else {
                continue;
            };
            if class.input_is_domain || !binary_coercible(facts, class) {
                continue;
            }
            if class.input_preferred && class.input_category == facts.category {
                preferred += 1;
                found = Some(*oid);
            } else if preferred == 0 {
                compatible += 1;
                found = Some(*oid);
            }
        }
        Lookup::Found(if preferred == 1 || (preferred == 0 && compatible == 1) {
            found
        } else {
            None
        })
    }
}

/// The answer of [`Support::default_opclass`].
enum Lookup {
    Found(Option<i64>),
    Waiting,
    Server,
}

/// Whether a (base) type with `facts` is binary-coercible to `class`'s input type: the
/// polymorphic pseudo-types take their families, anything else needs an implicit cast
/// without a function.
fn binary_coercible(facts: &TypeFacts, class: &OpClass) -> bool {
    let polymorphic = match class.input_pseudo.as_deref() {
        Some("any" | "anyelement" | "anycompatible") => true,
        Some("anyarray" | "anycompatiblearray") => facts.is_array,
        Some("anynonarray" | "anycompatiblenonarray") => !facts.is_array,
        Some("anyenum") => facts.typtype == "e",
        Some("anyrange" | "anycompatiblerange") => facts.typtype == "r",
        Some("anymultirange" | "anycompatiblemultirange") => facts.typtype == "m",
        Some("record") => facts.is_composite,
        Some("_record") => facts.is_composite_array,
        _ => false,
    };
    polymorphic || facts.binary_casts.contains(&class.input_type)
}

/// The collation of each top-level expression of a `pg_node_tree` list, where the node says
/// it (`None` for a node kind not known here).
pub(crate) fn expression_collations(tree: &str) -> Vec<Option<i64>> {
    let mut result = Vec::new();
    let mut depth = 0usize;
    // The current top-level node: whether its name was read, the field awaiting its value,
    // and the collation.
    let mut named = false;
    let mut field: Option<String> = None;
    let mut collation: Option<i64> = None;
    let mut fields_of_node: Option<(&str, Option<i64>)> = None;
    let bytes = tree.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'{' | b'(' => {
                if depth == 1 && b == b'{' {
                    named = false;
                    collation = None;
                    fields_of_node = None;
                }
                depth += 1;
                field = None;
                i += 1;
            }
            b'}' | b')' => {
                depth = depth.saturating_sub(1);
                if depth == 1 && b == b'}' {
                    let value = match fields_of_node {
                        Some((_, Some(fixed))) => Some(fixed),
                        Some((_, None)) => collation,
                        None => None,
                    };
                    result.push(value);
                }
                field = None;
                i += 1;
            }
            b' ' | b'\n' | b'\t' | b'\r' => i += 1,
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b' ' | b'\n' | b'\t' | b'\r' | b'{' | b'}' | b'(' | b')'
                    )
                {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let token = &tree[start..i.min(tree.len())];
                if depth != 2 {
                    continue;
                }
                if !named {
                    named = true;
                    fields_of_node = collation_field(token);
                } else if let Some(stripped) = token.strip_prefix(':') {
                    field = Some(stripped.to_string());
                } else if let Some(f) = field.take() {
                    if let Some((wanted, None)) = fields_of_node {
                        if f == wanted {
                            collation = token.parse().ok();
                        }
                    }
                }
            }
        }
    }
    result
}

/// The field holding a node's result collation, or the collation itself for nodes whose
/// result cannot have one (booleans, rows).
fn collation_field(node: &str) -> Option<(&'static str, Option<i64>)> {
    Some(match node {
        "FUNCEXPR" => ("funccollid", None),
        "OPEXPR" | "DISTINCTEXPR" | "NULLIFEXPR" => ("opcollid", None),
        "VAR" => ("varcollid", None),
        "CONST" => ("constcollid", None),
        "PARAM" => ("paramcollid", None),
        "RELABELTYPE" | "COERCEVIAIO" | "ARRAYCOERCEEXPR" | "FIELDSELECT" | "COERCETODOMAIN" => {
            ("resultcollid", None)
        }
        // Older releases name some nodes without the `EXPR`.
        "COLLATE" | "COLLATEEXPR" => ("collOid", None),
        "CASE" | "CASEEXPR" => ("casecollid", None),
        "COALESCE" | "COALESCEEXPR" => ("coalescecollid", None),
        "MINMAX" | "MINMAXEXPR" => ("minmaxcollid", None),
        "SUBSCRIPTINGREF" => ("refcollid", None),
        "ARRAY" | "ARRAYEXPR" => ("array_collid", None),
        "BOOLEXPR" | "NULLTEST" | "BOOLEANTEST" | "SCALARARRAYOPEXPR" | "ROWCOMPARE"
        | "ROWCOMPAREEXPR" | "ROW" | "ROWEXPR" => ("", Some(0)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_collation_of_each_expression() {
        let tree =
            "({FUNCEXPR :funcid 870 :funcresulttype 25 :funcretset false :funcvariadic false \
            :funcformat 0 :funccollid 100 :inputcollid 100 :args ({RELABELTYPE :arg {VAR :varno 1 \
            :varattno 3 :vartype 1043 :vartypmod 104 :varcollid 950 :varlevelsup 0 :varnosyn 1 \
            :varattnosyn 3 :location 60} :resulttype 25 :resulttypmod -1 :resultcollid 950 \
            :relabelformat 2 :location -1}) :location 54} {OPEXPR :opno 551 :opfuncid 177 \
            :opresulttype 23 :opretset false :opcollid 0 :inputcollid 0 :args ({VAR :varno 1} \
            {CONST :consttype 23 :constvalue 4 [ 1 0 0 0 0 0 0 0 ]}) :location 3} \
            {NULLTEST :arg {VAR :varcollid 7} :nulltesttype 0} {WINDOWFUNC :wincollid 5})";
        assert_eq!(
            expression_collations(tree),
            vec![Some(100), Some(0), Some(0), None]
        );
    }

    #[test]
    fn escaped_brackets_do_not_count() {
        let tree = r#"({CONST :constcollid 100 :constvalue "a\}b\)c"} {VAR :varcollid 950})"#;
        assert_eq!(expression_collations(tree), vec![Some(100), Some(950)]);
    }
}
