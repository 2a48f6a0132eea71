//! Index definitions put together from `pg_index`, byte for byte as `pg_get_indexdef` prints
//! them.
//!
//! `pg_get_indexdef` decides for every key column whether its operator class is the default
//! one for the column's type, which scans the access method's operator classes once per
//! column; with thousands of indexes that is most of an inspection's server time. Here the
//! operator classes are read once, the decision is made in Rust (following the server's rules:
//! an exact match, else the one binary-coercible class, preferred types first), and the
//! statement is assembled from the catalog row; expressions and predicates are deparsed
//! from their node trees ([`super::exprdef`]).
//!
//! Whatever cannot be decided with certainty — an access method of an extension, operator
//! class options, storage parameters, an index on a materialized view, a type the rounds of
//! [`Needs`] could not resolve — is [`Outcome::Server`]: the caller asks `pg_get_indexdef`. The
//! round-trip tests compare every composed definition with `pg_get_indexdef`.

use std::collections::HashSet;

use super::exprdef::{self, Deparsed, Deparser, ExprNeeds};
use super::nodetree::{self, Node, Tree};
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
    /// `pg_index.indexprs`: the expression columns' node trees, in order.
    pub expression_tree: Option<String>,
    /// `pg_index.indpred`: the predicate's node tree.
    pub predicate: Option<String>,
    /// Storage parameters, which only the server prints.
    pub has_options: bool,
}

/// An index's node trees, read once for all the rounds of composing its definition.
pub(crate) struct IndexTrees<'a> {
    /// The expression columns in order; `None` when the text could not be read.
    expressions: Option<Vec<Node<'a>>>,
    /// The predicate, if any; `Some(None)` when it could not be read.
    predicate: Option<Option<Node<'a>>>,
}

impl<'a> IndexTrees<'a> {
    pub fn read(index: &'a RawIndex) -> Self {
        let expressions = match index.expression_tree.as_deref().map(nodetree::parse) {
            None => Some(Vec::new()),
            Some(Ok(Tree::List(items))) => items
                .into_iter()
                .map(|item| match item {
                    Tree::Node(node) => Some(node),
                    _ => None,
                })
                .collect(),
            Some(_) => None,
        };
        let predicate = index
            .predicate
            .as_deref()
            .map(|text| match nodetree::parse(text) {
                Ok(Tree::Node(node)) => Some(node),
                _ => None,
            });
        IndexTrees {
            expressions,
            predicate,
        }
    }
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
    /// Its family has the access method's options support function: an index column of this
    /// class may have options (`pg_attribute.attoptions`).
    pub takes_options: bool,
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
    /// What expressions use (functions, operators, types).
    pub expressions: exprdef::Facts,
}

/// Facts a definition is waiting for.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    pub types: Vec<i64>,
    pub collations: Vec<i64>,
    pub expressions: ExprNeeds,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.collations.is_empty() && self.expressions.is_empty()
    }

    /// Adds what `other` waits for (duplicates are removed when the facts are read).
    pub fn extend(&mut self, other: Needs) {
        self.types.extend(other.types);
        self.collations.extend(other.collations);
        self.expressions.extend(other.expressions);
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
    /// Whether it was read (there are always reserved words).
    pub fn is_read(&self) -> bool {
        !self.keywords.is_empty()
    }

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
        trees: &IndexTrees<'_>,
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
        let Some(expressions) = &trees.expressions else {
            return Outcome::Server;
        };
        let quote = |name: &str| self.ident(name);
        let column = |attnum: i64| {
            let attnum = i32::try_from(attnum).ok()?;
            columns.get(&(index.table_oid, attnum)).map(|c| &*c.name)
        };
        let deparser = Deparser {
            facts: &self.expressions,
            quote: &quote,
            column: &column,
        };
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
                let Some(expression) = expressions.get(expression_number) else {
                    return Outcome::Server;
                };
                expression_number += 1;
                match deparser.expression(expression, &mut needs.expressions) {
                    Deparsed::Done(text) if exprdef::looks_like_function(expression) => {
                        sql.push_str(&text)
                    }
                    Deparsed::Done(text) => {
                        sql.push('(');
                        sql.push_str(&text);
                        sql.push(')');
                    }
                    Deparsed::Waiting => waiting = true,
                    Deparsed::Server => return Outcome::Server,
                }
                let collation = node_collation(expression);
                // The key type is the expression's unless the access method or the operator
                // class store another one.
                let class_stores_other = index
                    .classes
                    .get(column)
                    .and_then(|c| self.opclasses.get(c))
                    .is_none_or(|c| c.has_key_type);
                match exprdef::expr_type(expression) {
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
            // Its options (`gist_trgm_ops(siglen = 32)`) are not read: only the server prints
            // them.
            if class.takes_options {
                return Outcome::Server;
            }
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
        if let Some(predicate) = &trees.predicate {
            let Some(predicate) = predicate else {
                return Outcome::Server;
            };
            match deparser.expression(predicate, &mut needs.expressions) {
                Deparsed::Done(text) => {
                    sql.push_str(" WHERE ");
                    sql.push_str(&text);
                }
                Deparsed::Waiting => return Outcome::Waiting,
                Deparsed::Server => return Outcome::Server,
            }
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

/// An expression's collation, where its node says it (`None` for a node kind not known here).
fn node_collation(node: &Node<'_>) -> Option<i64> {
    match collation_field(node.tag)? {
        (_, Some(fixed)) => Some(fixed),
        (field, None) => node.int(field),
    }
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
        let Ok(Tree::List(items)) = nodetree::parse(tree) else {
            panic!("a list")
        };
        let collations: Vec<Option<i64>> = items
            .iter()
            .map(|item| match item {
                Tree::Node(node) => node_collation(node),
                _ => None,
            })
            .collect();
        assert_eq!(collations, vec![Some(100), Some(0), Some(0), None]);
    }
}
