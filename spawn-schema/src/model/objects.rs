//! The object types of the model, one struct per kind.

/// One privilege of a grantee on an object, as `aclexplode` reports it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Grant {
    /// The role, or empty for `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `USAGE`, `EXECUTE`, …
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
}

/// What most objects have besides their definition: owner, comment and privileges.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// The owning role (`None` for objects without owners of their own).
    pub owner: Option<String>,
    /// `COMMENT ON …`.
    pub comment: Option<String>,
    /// The effective privileges (`None` when privileges were not inspected, or the kind has
    /// none).
    pub acl: Option<Vec<Grant>>,
    /// The privileges the object has by default for its owner (what a new object gets).
    pub default_acl: Vec<Grant>,
}

/// Any object of the model. Each kind is boxed: the schema's map moves and holds objects as
/// one pointer each (tens of thousands of them, of up to a few hundred bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Object {
    /// A schema.
    Schema(Box<SchemaDef>),
    /// An extension.
    Extension(Box<Extension>),
    /// A collation.
    Collation(Box<Collation>),
    /// An enum type.
    Enum(Box<EnumType>),
    /// A domain.
    Domain(Box<Domain>),
    /// A composite type.
    Composite(Box<Composite>),
    /// A range type.
    Range(Box<RangeType>),
    /// A function, procedure or aggregate.
    Function(Box<Function>),
    /// A foreign-data wrapper.
    ForeignDataWrapper(Box<ForeignDataWrapper>),
    /// A foreign server.
    ForeignServer(Box<ForeignServer>),
    /// A user mapping.
    UserMapping(Box<UserMapping>),
    /// A sequence.
    Sequence(Box<Sequence>),
    /// A table.
    Table(Box<Table>),
    /// A column.
    Column(Box<Column>),
    /// A column default.
    ColumnDefault(Box<ColumnDefault>),
    /// A partition's attachment.
    Partition(Box<PartitionOf>),
    /// A table constraint.
    Constraint(Box<Constraint>),
    /// An index.
    Index(Box<Index>),
    /// A view or materialized view.
    View(Box<View>),
    /// A trigger.
    Trigger(Box<Trigger>),
    /// A policy.
    Policy(Box<Policy>),
    /// Extended statistics.
    Statistics(Box<Statistics>),
    /// A rewrite rule.
    Rule(Box<Rule>),
    /// An operator.
    Operator(Box<Operator>),
    /// An operator family.
    OperatorFamily(Box<OperatorFamily>),
    /// An operator class.
    OperatorClass(Box<OperatorClass>),
    /// A cast.
    Cast(Box<Cast>),
    /// A text search parser.
    TextSearchParser(Box<TextSearchParser>),
    /// A text search template.
    TextSearchTemplate(Box<TextSearchTemplate>),
    /// A text search dictionary.
    TextSearchDictionary(Box<TextSearchDictionary>),
    /// A text search configuration.
    TextSearchConfiguration(Box<TextSearchConfiguration>),
    /// A publication.
    Publication(Box<Publication>),
    /// An event trigger.
    EventTrigger(Box<EventTrigger>),
    /// Default privileges.
    DefaultPrivileges(Box<DefaultPrivileges>),
}

impl Object {
    /// The object's owner, comment and privileges.
    pub fn meta(&self) -> &Meta {
        match self {
            Object::Schema(o) => &o.meta,
            Object::Extension(o) => &o.meta,
            Object::Collation(o) => &o.meta,
            Object::Enum(o) => &o.meta,
            Object::Domain(o) => &o.meta,
            Object::Composite(o) => &o.meta,
            Object::Range(o) => &o.meta,
            Object::Function(o) => &o.meta,
            Object::ForeignDataWrapper(o) => &o.meta,
            Object::ForeignServer(o) => &o.meta,
            Object::UserMapping(o) => &o.meta,
            Object::Sequence(o) => &o.meta,
            Object::Table(o) => &o.meta,
            Object::Column(o) => &o.meta,
            Object::ColumnDefault(o) => &o.meta,
            Object::Partition(o) => &o.meta,
            Object::Constraint(o) => &o.meta,
            Object::Index(o) => &o.meta,
            Object::View(o) => &o.meta,
            Object::Trigger(o) => &o.meta,
            Object::Policy(o) => &o.meta,
            Object::Statistics(o) => &o.meta,
            Object::Rule(o) => &o.meta,
            Object::Operator(o) => &o.meta,
            Object::OperatorFamily(o) => &o.meta,
            Object::OperatorClass(o) => &o.meta,
            Object::Cast(o) => &o.meta,
            Object::TextSearchParser(o) => &o.meta,
            Object::TextSearchTemplate(o) => &o.meta,
            Object::TextSearchDictionary(o) => &o.meta,
            Object::TextSearchConfiguration(o) => &o.meta,
            Object::Publication(o) => &o.meta,
            Object::EventTrigger(o) => &o.meta,
            Object::DefaultPrivileges(o) => &o.meta,
        }
    }
}

/// A schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchemaDef {
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    /// The schema its objects live in.
    pub schema: String,
    /// `extversion`.
    pub version: String,
    /// The versions this installation can be updated to (`pg_extension_update_paths`).
    pub update_targets: Vec<String>,
    /// Comment.
    pub meta: Meta,
}

/// A collation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Collation {
    /// `c` (libc), `i` (ICU), `d` (default).
    pub provider: String,
    /// `LC_COLLATE` (libc).
    pub lc_collate: Option<String>,
    /// `LC_CTYPE` (libc).
    pub lc_ctype: Option<String>,
    /// The ICU locale.
    pub locale: Option<String>,
    /// `deterministic`.
    pub deterministic: bool,
    /// Owner, comment.
    pub meta: Meta,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    /// The labels in their sort order.
    pub labels: Vec<String>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A domain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Domain {
    /// The base type (`format_type`).
    pub base_type: String,
    /// `COLLATE`, when not the base type's.
    pub collation: Option<String>,
    /// `DEFAULT`.
    pub default: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
    /// CHECK constraints: name → definition (`pg_get_constraintdef`).
    pub constraints: Vec<(String, String)>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// One attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attribute {
    /// The name.
    pub name: String,
    /// The type (`format_type`).
    pub data_type: String,
    /// `COLLATE`, when not the type's default.
    pub collation: Option<String>,
}

/// A composite type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Composite {
    /// The attributes in order.
    pub attributes: Vec<Attribute>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A range type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RangeType {
    /// The options inside `CREATE TYPE … AS RANGE (…)`.
    pub options: String,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A function, procedure or aggregate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Function {
    /// `f` function, `p` procedure, `a` aggregate, `w` window function.
    pub kind: String,
    /// The full `CREATE OR REPLACE …` statement (`pg_get_functiondef`, or built for aggregates).
    pub definition: String,
    /// `pg_get_function_arguments` (with names and defaults).
    pub arguments: String,
    /// `pg_get_function_result`.
    pub result: Option<String>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

impl Function {
    /// `FUNCTION`, `PROCEDURE` or `AGGREGATE`.
    pub fn keyword(&self) -> &'static str {
        match self.kind.as_str() {
            "p" => "PROCEDURE",
            "a" => "AGGREGATE",
            _ => "FUNCTION",
        }
    }
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequence {
    /// `AS` type.
    pub data_type: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
    /// `UNLOGGED`.
    pub unlogged: bool,
    /// `OWNED BY` (schema, table, column).
    pub owned_by: Option<(String, String, String)>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// Its column names in order (the columns themselves are separate objects).
    pub columns: Vec<String>,
    /// `UNLOGGED`.
    pub unlogged: bool,
    /// `PARTITION BY …` (`pg_get_partkeydef`) for a partitioned table.
    pub partition_key: Option<String>,
    /// Storage parameters (`fillfactor=70`, …), in catalog order.
    pub options: Vec<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub rls_enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub rls_forced: bool,
    /// `d`, `n`, `f` or `i` (`relreplident`).
    pub replica_identity: String,
    /// The index of `REPLICA IDENTITY USING INDEX`.
    pub replica_identity_index: Option<String>,
    /// Parents by `INHERITS`, as (schema, table), in order.
    pub inherits: Vec<(String, String)>,
    /// The parent and bound, when this table is a partition.
    pub partition_of: Option<PartitionOf>,
    /// Table access method, when not `heap`.
    pub access_method: Option<String>,
    /// The server and options of a foreign table.
    pub foreign: Option<ForeignTable>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    /// Position among the table's live columns (1-based).
    pub position: i32,
    /// The type (`format_type`).
    pub data_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `COLLATE`, when not the type's default.
    pub collation: Option<String>,
    /// `a` (ALWAYS) or `d` (BY DEFAULT) for identity columns, empty otherwise.
    pub identity: String,
    /// The expression of a `GENERATED ALWAYS AS (…) STORED` column.
    pub generated: Option<String>,
    /// Defined locally (not only inherited).
    pub is_local: bool,
    /// Inherited from a parent (`attinhcount > 0`).
    pub inherited: bool,
    /// `ALTER COLUMN … SET STATISTICS` (`attstattarget`), when set.
    pub statistics: Option<i32>,
    /// A foreign table's column's options (`OPTIONS (…)`), as `key=value`, in catalog order.
    pub fdw_options: Vec<String>,
    /// Comment, column privileges.
    pub meta: Meta,
}

/// A column default.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnDefault {
    /// The expression (`pg_get_expr`).
    pub expression: String,
    /// Unused (defaults have no meta); kept so every object has one.
    pub meta: Meta,
}

/// A partition's place in its parent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionOf {
    /// The parent table's schema.
    pub parent_schema: String,
    /// The parent table.
    pub parent: String,
    /// `FOR VALUES …` / `DEFAULT`.
    pub bound: String,
    /// Unused.
    pub meta: Meta,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Constraint {
    /// `p`, `u`, `f`, `c`, `x`.
    pub kind: String,
    /// `pg_get_constraintdef`.
    pub definition: String,
    /// A partition's copy of its parent's constraint (created and dropped with it).
    pub inherited: bool,
    /// Comment.
    pub meta: Meta,
}

/// An index not backing a constraint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Index {
    /// The indexed table or materialized view (schema, name).
    pub table: (String, String),
    /// `pg_get_indexdef`.
    pub definition: String,
    /// A partition's copy of its parent's index (created and dropped with it).
    pub inherited: bool,
    /// `ALTER INDEX … ALTER COLUMN n SET STATISTICS`: (column number, target) of the
    /// expression columns that have one, in order.
    pub statistics: Vec<(i32, i32)>,
    /// Comment.
    pub meta: Meta,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct View {
    /// The query (`pg_get_viewdef`, without the final semicolon).
    pub definition: String,
    /// Its columns: (name, type).
    pub columns: Vec<(String, String)>,
    /// `WITH (…)` options, in catalog order.
    pub options: Vec<String>,
    /// Owner, comment, privileges.
    pub meta: Meta,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Trigger {
    /// `pg_get_triggerdef`.
    pub definition: String,
    /// `tgenabled`: `O`, `D`, `R` or `A`.
    pub enabled: String,
    /// Comment.
    pub meta: Meta,
}

/// A row-level security policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    /// `PERMISSIVE` or `RESTRICTIVE`.
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub command: String,
    /// Roles (empty string for `PUBLIC`), sorted.
    pub roles: Vec<String>,
    /// `USING (…)`.
    pub using: Option<String>,
    /// `WITH CHECK (…)`.
    pub with_check: Option<String>,
    /// Comment.
    pub meta: Meta,
}

/// Extended statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statistics {
    /// `pg_get_statisticsobjdef`.
    pub definition: String,
    /// Owner, comment.
    pub meta: Meta,
}

/// A rewrite rule (not a view's own `_RETURN` rule).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// `pg_get_ruledef`, without the final semicolon.
    pub definition: String,
    /// `ev_enabled`: `O`, `D`, `R` or `A`.
    pub enabled: String,
    /// Comment.
    pub meta: Meta,
}

/// A cast.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cast {
    /// The source type (`format_type`).
    pub source: String,
    /// The target type (`format_type`).
    pub target: String,
    /// `f` (a function), `i` (`WITH INOUT`) or `b` (`WITHOUT FUNCTION`).
    pub method: String,
    /// The function with its argument types (`regprocedure`), for method `f`.
    pub function: Option<String>,
    /// `e` (explicit), `a` (`AS ASSIGNMENT`) or `i` (`AS IMPLICIT`).
    pub context: String,
    /// Comment.
    pub meta: Meta,
}

/// A text search parser (`CREATE TEXT SEARCH PARSER`): its functions, as `regproc` prints
/// them (schema-qualified unless in `pg_catalog`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextSearchParser {
    /// `START`.
    pub start: String,
    /// `GETTOKEN`.
    pub get_token: String,
    /// `END`.
    pub end: String,
    /// `LEXTYPES`.
    pub lex_types: String,
    /// `HEADLINE`, when it has one.
    pub headline: Option<String>,
    /// Comment (parsers have no owner).
    pub meta: Meta,
}

/// A text search template (`CREATE TEXT SEARCH TEMPLATE`): its functions, as `regproc`
/// prints them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextSearchTemplate {
    /// `INIT`, when it has one.
    pub init: Option<String>,
    /// `LEXIZE`.
    pub lexize: String,
    /// Comment (templates have no owner).
    pub meta: Meta,
}

/// A text search dictionary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextSearchDictionary {
    /// The template, schema-qualified.
    pub template: String,
    /// `dictinitoption` (`stopwords = 'english'`, …).
    pub options: Option<String>,
    /// Owner, comment.
    pub meta: Meta,
}

/// A text search configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextSearchConfiguration {
    /// The parser, schema-qualified.
    pub parser: String,
    /// Token type → dictionaries (schema-qualified, in order), by token type.
    pub mappings: Vec<(String, Vec<String>)>,
    /// Owner, comment.
    pub meta: Meta,
}

/// A publication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    /// `FOR ALL TABLES`.
    pub all_tables: bool,
    /// Its tables as written after `TABLE` (schema-qualified, with a column list and a
    /// `WHERE` filter when they have one), sorted.
    pub tables: Vec<String>,
    /// Its schemas (`TABLES IN SCHEMA`), sorted.
    pub schemas: Vec<String>,
    /// `publish`: the operations published, as the option is written (`insert, update`).
    pub publish: String,
    /// `publish_via_partition_root`.
    pub via_root: bool,
    /// Owner, comment.
    pub meta: Meta,
}

/// An event trigger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventTrigger {
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop` or `table_rewrite`.
    pub event: String,
    /// `WHEN TAG IN (…)`, in order.
    pub tags: Vec<String>,
    /// The function, schema-qualified (it takes no arguments).
    pub function: String,
    /// `evtenabled`: `O`, `D`, `R` or `A`.
    pub enabled: String,
    /// Owner, comment.
    pub meta: Meta,
}

/// The privileges a role's new objects of one kind get (`ALTER DEFAULT PRIVILEGES`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DefaultPrivileges {
    /// The privileges new objects get.
    pub grants: Vec<Grant>,
    /// What they get without this entry: the built-in defaults for all schemas, nothing
    /// more in one schema.
    pub baseline: Vec<Grant>,
    /// Unused (default privileges have no owner or comment); kept so every object has one.
    pub meta: Meta,
}

/// An operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Operator {
    /// The function (`regproc`, schema-qualified unless in `pg_catalog`).
    pub function: String,
    /// `COMMUTATOR`, as `OPERATOR(schema.name)`.
    pub commutator: Option<String>,
    /// `NEGATOR`, as `OPERATOR(schema.name)`.
    pub negator: Option<String>,
    /// `RESTRICT` estimator.
    pub restrict: Option<String>,
    /// `JOIN` estimator.
    pub join: Option<String>,
    /// `HASHES`.
    pub hashes: bool,
    /// `MERGES`.
    pub merges: bool,
    /// Owner, comment.
    pub meta: Meta,
}

/// What makes a table a foreign table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForeignTable {
    /// The foreign server.
    pub server: String,
    /// Its options, as `key=value`, in catalog order.
    pub options: Vec<String>,
}

/// A foreign server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForeignServer {
    /// The foreign-data wrapper.
    pub wrapper: String,
    /// `TYPE`.
    pub server_type: Option<String>,
    /// `VERSION`.
    pub version: Option<String>,
    /// Its options, as `key=value`, in catalog order.
    pub options: Vec<String>,
    /// Owner, comment, privileges (`USAGE`).
    pub meta: Meta,
}

/// A foreign-data wrapper (`CREATE FOREIGN DATA WRAPPER`) not created by an extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ForeignDataWrapper {
    /// `HANDLER`, as `regproc` prints it.
    pub handler: Option<String>,
    /// `VALIDATOR`, as `regproc` prints it.
    pub validator: Option<String>,
    /// Its options, as `key=value`, in catalog order.
    pub options: Vec<String>,
    /// Owner, comment, privileges (`USAGE`).
    pub meta: Meta,
}

/// A user mapping (`CREATE USER MAPPING`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserMapping {
    /// Its options, as `key=value`, in catalog order; `None` when the inspecting role may not
    /// read them (`pg_user_mappings` shows them only to superusers, to the mapped role and,
    /// for `PUBLIC`, to the server's owner). Options that cannot be read are not compared.
    pub options: Option<Vec<String>>,
    /// Unused (user mappings have no owner, comment or privileges); kept so every object has
    /// one.
    pub meta: Meta,
}

/// An operator family.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperatorFamily {
    /// Its loose members (not a class's), as written after `ALTER OPERATOR FAMILY … ADD`
    /// (`OPERATOR 1 schema.<(type, type)`, `FUNCTION 1 (type, type) schema.f(type, type)`),
    /// sorted.
    pub members: Vec<String>,
    /// Owner, comment.
    pub meta: Meta,
}

/// An operator class.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperatorClass {
    /// `DEFAULT`.
    pub default: bool,
    /// `FOR TYPE`.
    pub input_type: String,
    /// `FAMILY`, schema-qualified.
    pub family: String,
    /// `STORAGE`, when it has one.
    pub storage: Option<String>,
    /// Its members, as written after `AS`, sorted.
    pub members: Vec<String>,
    /// Owner, comment.
    pub meta: Meta,
}
