//! The typed, comparable model of a database schema.
//!
//! Every object has a stable [`ObjectId`] made of names only (never OIDs), so the same object in
//! two databases has the same identity. A [`Schema`] is a flat map from identity to [`Object`],
//! plus the dependencies between objects (from `pg_depend`), expressed as identities.

mod encode;
mod objects;

pub use encode::DecodeError;
pub use objects::*;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A name in an [`ObjectId`]: shared, so identities clone without allocating and the
/// many identities that repeat a schema or table name hold it once.
pub type Name = Arc<str>;

/// What an [`ObjectId`] constructor takes as a name: a string, or a [`Name`] to share.
pub trait IntoName {
    /// The shared name.
    fn into_name(self) -> Name;
}

impl IntoName for &str {
    fn into_name(self) -> Name {
        Name::from(self)
    }
}

impl IntoName for String {
    fn into_name(self) -> Name {
        Name::from(self)
    }
}

impl IntoName for &String {
    fn into_name(self) -> Name {
        Name::from(self.as_str())
    }
}

impl IntoName for Name {
    fn into_name(self) -> Name {
        self
    }
}

impl IntoName for &Name {
    fn into_name(self) -> Name {
        self.clone()
    }
}

/// The kind of a schema object. The order of the variants is the tie-break order of plans.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ObjectKind {
    /// `CREATE SCHEMA`.
    Schema,
    /// `CREATE EXTENSION`.
    Extension,
    /// `CREATE COLLATION`.
    Collation,
    /// An enum type.
    Enum,
    /// A domain (with its constraints).
    Domain,
    /// A composite type (`CREATE TYPE … AS (…)`).
    Composite,
    /// A range type.
    Range,
    /// A function, procedure or aggregate; the signature holds the argument types.
    Function,
    /// A foreign-data wrapper not created by an extension; `name` only.
    ForeignDataWrapper,
    /// A foreign server (`CREATE SERVER`); `name` only.
    ForeignServer,
    /// A user mapping (`CREATE USER MAPPING`); `name` is the server, `sub` the role
    /// (`public` for `PUBLIC`, a name no role can have).
    UserMapping,
    /// A sequence.
    Sequence,
    /// A table (regular or partitioned).
    Table,
    /// A column of a table; `name` is the table, `sub` the column.
    Column,
    /// The default of a column; `name` is the table, `sub` the column.
    ColumnDefault,
    /// A partition's attachment to its parent; `name` is the partition.
    Partition,
    /// A table constraint; `name` is the table, `sub` the constraint.
    Constraint,
    /// An index (of a table or materialized view).
    Index,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A trigger; `name` is the table, `sub` the trigger.
    Trigger,
    /// A row-level security policy; `name` is the table, `sub` the policy.
    Policy,
    /// Extended statistics (`CREATE STATISTICS`).
    Statistics,
    /// A rewrite rule of a table or view other than a view's own (`CREATE RULE`); `name` is
    /// the relation, `sub` the rule.
    Rule,
    /// An operator; `sub` is its argument types (`integer, integer`, `NONE` for a prefix
    /// operator's left one).
    Operator,
    /// An operator family; `sub` is its index access method.
    OperatorFamily,
    /// An operator class (with its members); `sub` is its index access method.
    OperatorClass,
    /// A cast (`CREATE CAST`); `name` is `source AS target`, schema empty.
    Cast,
    /// A text search parser.
    TextSearchParser,
    /// A text search template.
    TextSearchTemplate,
    /// A text search dictionary.
    TextSearchDictionary,
    /// A text search configuration (with its token mappings).
    TextSearchConfiguration,
    /// A publication; `name` only.
    Publication,
    /// An event trigger; `name` only.
    EventTrigger,
    /// `ALTER DEFAULT PRIVILEGES` of a role (`name`) for one kind of object (`sub`: `TABLES`,
    /// `SEQUENCES`, `FUNCTIONS`, `TYPES` or `SCHEMAS`), in a schema (`schema`, or empty for
    /// all schemas). Inspected with the privileges only.
    DefaultPrivileges,
}

impl ObjectKind {
    /// The words used for this kind in summaries.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Collation => "collation",
            ObjectKind::Enum => "enum",
            ObjectKind::Domain => "domain",
            ObjectKind::Composite => "composite type",
            ObjectKind::Range => "range type",
            ObjectKind::Function => "function",
            ObjectKind::ForeignDataWrapper => "foreign-data wrapper",
            ObjectKind::ForeignServer => "foreign server",
            ObjectKind::UserMapping => "user mapping",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::ColumnDefault => "column default",
            ObjectKind::Partition => "partition",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Policy => "policy",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Rule => "rule",
            ObjectKind::Operator => "operator",
            ObjectKind::OperatorFamily => "operator family",
            ObjectKind::OperatorClass => "operator class",
            ObjectKind::Cast => "cast",
            ObjectKind::TextSearchParser => "text search parser",
            ObjectKind::TextSearchTemplate => "text search template",
            ObjectKind::TextSearchDictionary => "text search dictionary",
            ObjectKind::TextSearchConfiguration => "text search configuration",
            ObjectKind::Publication => "publication",
            ObjectKind::EventTrigger => "event trigger",
            ObjectKind::DefaultPrivileges => "default privileges",
        }
    }

    /// Kinds whose names share the relation/type namespace of a schema: dropping one and
    /// creating another of the same name must happen in that order.
    pub fn in_relation_namespace(self) -> bool {
        matches!(
            self,
            ObjectKind::Enum
                | ObjectKind::Domain
                | ObjectKind::Composite
                | ObjectKind::Range
                | ObjectKind::Sequence
                | ObjectKind::Table
                | ObjectKind::Index
                | ObjectKind::View
                | ObjectKind::MaterializedView
        )
    }
}

/// The stable identity of an object: its kind and names, never OIDs.
///
/// * top-level objects: `schema` + `name` (`sub` empty); schemas, extensions, publications,
///   event triggers and casts (`source AS target`) use `name` only;
/// * functions and operators: `sub` is the list of argument types, e.g. `integer, text[]`;
/// * parts of a table (columns, defaults, constraints, triggers, policies, rules): `name` is
///   the table (or view, for rules) and `sub` the part's own name.
///
/// The parts ([`IdParts`], read through `Deref`: `id.kind`, `id.name`, …) are shared: a clone
/// is one reference count, and the tens of thousands of dependencies of a big schema name
/// their ends without copying them. Identities compare by kind, then schema, name and sub
/// as strings; the same identity (or names shared by one inspection) compare equal without
/// reading the strings.
#[derive(Clone)]
pub struct ObjectId(Arc<IdParts>);

/// What an [`ObjectId`] is made of.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IdParts {
    /// What kind of object.
    pub kind: ObjectKind,
    /// The schema (empty for schemas and extensions).
    pub schema: Name,
    /// The object's name (the table, for parts of a table).
    pub name: Name,
    /// The part's name or the function's signature; empty otherwise.
    pub sub: Name,
}

impl std::ops::Deref for ObjectId {
    type Target = IdParts;

    fn deref(&self) -> &IdParts {
        &self.0
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::hash::Hash for ObjectId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.schema.hash(state);
        self.name.hash(state);
        self.sub.hash(state);
    }
}

impl ObjectId {
    /// A top-level object in a schema.
    pub fn new(kind: ObjectKind, schema: impl IntoName, name: impl IntoName) -> Self {
        Self::part(kind, schema, name, empty_name())
    }

    /// A part of a table (or a function with its signature).
    pub fn part(
        kind: ObjectKind,
        schema: impl IntoName,
        name: impl IntoName,
        sub: impl IntoName,
    ) -> Self {
        Self(Arc::new(IdParts {
            kind,
            schema: schema.into_name(),
            name: name.into_name(),
            sub: sub.into_name(),
        }))
    }

    /// Where the shared parts live: the same identity, not merely an equal one.
    pub(crate) fn address(&self) -> *const IdParts {
        Arc::as_ptr(&self.0)
    }

    /// Whether both are the very same identity (clones of one another), which implies equal.
    pub(crate) fn same(&self, other: &ObjectId) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The same names under another kind (a column's default, a default's column).
    pub fn with_kind(&self, kind: ObjectKind) -> Self {
        Self::part(
            kind,
            self.schema.clone(),
            self.name.clone(),
            self.sub.clone(),
        )
    }

    /// The table (or materialized view) this object is a part of, for columns, defaults,
    /// constraints, triggers, policies, partitions; indexes know their table from the object.
    pub fn owning_table(&self) -> Option<ObjectId> {
        match self.kind {
            ObjectKind::Column
            | ObjectKind::ColumnDefault
            | ObjectKind::Constraint
            | ObjectKind::Trigger
            | ObjectKind::Policy
            | ObjectKind::Partition => Some(ObjectId::new(
                ObjectKind::Table,
                self.schema.clone(),
                self.name.clone(),
            )),
            _ => None,
        }
    }
}

/// The empty name (of schemas, extensions and top-level objects' `sub`), allocated once.
pub(crate) fn empty_name() -> Name {
    static EMPTY: std::sync::LazyLock<Name> = std::sync::LazyLock::new(|| Name::from(""));
    EMPTY.clone()
}

/// Two names in order, by pointer first: interned names are equal when they are the same.
fn cmp_names(a: &Name, b: &Name) -> std::cmp::Ordering {
    if Arc::ptr_eq(a, b) {
        std::cmp::Ordering::Equal
    } else {
        a.cmp(b)
    }
}

impl PartialEq for ObjectId {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &Name, b: &Name| Arc::ptr_eq(a, b) || a == b;
        Arc::ptr_eq(&self.0, &other.0)
            || (self.kind == other.kind
                && same(&self.name, &other.name)
                && same(&self.sub, &other.sub)
                && same(&self.schema, &other.schema))
    }
}

impl Eq for ObjectId {}

impl Ord for ObjectId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.kind
            .cmp(&other.kind)
            .then_with(|| cmp_names(&self.schema, &other.schema))
            .then_with(|| cmp_names(&self.name, &other.name))
            .then_with(|| cmp_names(&self.sub, &other.sub))
    }
}

impl PartialOrd for ObjectId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ObjectKind::Schema
            | ObjectKind::Extension
            | ObjectKind::Publication
            | ObjectKind::EventTrigger
            | ObjectKind::ForeignDataWrapper
            | ObjectKind::ForeignServer => write!(f, "{}", self.name),
            ObjectKind::UserMapping => {
                write!(f, "for {} on server {}", self.sub, self.name)
            }
            ObjectKind::Cast => write!(f, "({})", self.name),
            ObjectKind::OperatorFamily | ObjectKind::OperatorClass => {
                write!(f, "{}.{} using {}", self.schema, self.name, self.sub)
            }
            ObjectKind::DefaultPrivileges if self.schema.is_empty() => {
                write!(f, "for role {} on {}", self.name, self.sub)
            }
            ObjectKind::DefaultPrivileges => write!(
                f,
                "for role {} in schema {} on {}",
                self.name, self.schema, self.sub
            ),
            ObjectKind::Function | ObjectKind::Operator => {
                write!(f, "{}.{}({})", self.schema, self.name, self.sub)
            }
            _ if self.sub.is_empty() => write!(f, "{}.{}", self.schema, self.name),
            ObjectKind::Column | ObjectKind::ColumnDefault => {
                write!(f, "{}.{}.{}", self.schema, self.name, self.sub)
            }
            _ => write!(f, "{} on {}.{}", self.sub, self.schema, self.name),
        }
    }
}

/// How one object depends on another.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum DepKind {
    /// `pg_depend` deptype `n`: the dependent must be dropped first.
    Normal,
    /// `pg_depend` deptype `a`, or a part of its table: dropped together with what it depends on.
    Auto,
}

/// One dependency: `from` depends on `to`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Dependency {
    /// The dependent object.
    pub from: ObjectId,
    /// The object depended on.
    pub to: ObjectId,
    /// How.
    pub kind: DepKind,
}

/// One database's schema: its objects and their dependencies.
///
/// [`Schema::encode`] turns it into bytes for a cache and [`Schema::decode`] reads them back.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    /// Every inspected object by identity (ordered, so iteration is deterministic).
    #[serde(deserialize_with = "encode::sorted_map")]
    pub objects: BTreeMap<ObjectId, Object>,
    /// Dependencies between inspected objects (sorted, without duplicates).
    pub dependencies: Vec<Dependency>,
    /// The role inspection connected as: objects a plan creates will belong to it.
    pub current_user: String,
    /// `server_version_num` of the server.
    pub server_version: i32,
}

impl Schema {
    /// The object with this identity.
    pub fn get(&self, id: &ObjectId) -> Option<&Object> {
        self.objects.get(id)
    }

    /// The columns of a table in their order.
    pub fn columns_of<'a>(
        &'a self,
        table: &'a ObjectId,
    ) -> impl Iterator<Item = (&'a ObjectId, &'a Column)> + 'a {
        let names: &[String] = match self.objects.get(table) {
            Some(Object::Table(t)) => &t.columns,
            _ => &[],
        };
        names.iter().filter_map(move |c| {
            let id = ObjectId::part(ObjectKind::Column, &table.schema, &table.name, c);
            match self.objects.get_key_value(&id) {
                Some((id, Object::Column(col))) => Some((id, &**col)),
                _ => None,
            }
        })
    }

    /// The objects of one kind (a range of the ordered map: kinds sort first).
    pub fn objects_of(&self, kind: ObjectKind) -> impl Iterator<Item = (&ObjectId, &Object)> {
        let first = ObjectId::new(kind, "", "");
        self.objects
            .range(first..)
            .take_while(move |(id, _)| id.kind == kind)
    }

    /// Whether a type name (as `format_type` prints it, possibly an array) is an enum of
    /// this schema.
    pub fn is_enum_type(&self, formatted: &str) -> bool {
        let base = formatted.trim_end_matches("[]");
        self.objects_of(ObjectKind::Enum)
            .any(|(id, _)| crate::render::qualified(&id.schema, &id.name) == base)
    }
}
