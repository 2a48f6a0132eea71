//! Comparing one object with its counterpart, and the SQL that creates, drops or alters it.
//!
//! [`compare`] decides per object whether it is unchanged, can be altered in place, or must be
//! dropped and recreated; [`create`] and [`drop`] render the statements of whole objects. The
//! ordering of all those statements is [`crate::plan`]'s job.

mod database_wide;
mod foreign;
mod meta;
mod opclasses;
mod operators;
pub(crate) mod renames;
mod routines;
mod rules;
mod tables;
mod textsearch;
mod textsearch_parsers;
mod types;
mod wrappers;

use crate::model::{Object, ObjectId, ObjectKind, Schema};
use crate::render::{ident, qualified};
use crate::Options;

/// One SQL statement (without the final semicolon) and why it may lose data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stmt {
    pub sql: String,
    pub unsafe_reason: Option<String>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            unsafe_reason: None,
        }
    }

    pub fn risky(sql: impl Into<String>, reason: Option<String>) -> Self {
        Self {
            sql: sql.into(),
            unsafe_reason: reason,
        }
    }
}

/// How an object that exists on both sides differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Identical.
    Same,
    /// Changed in place.
    Alter {
        stmts: Vec<Stmt>,
        /// The objects depending on this one must be dropped first and recreated after
        /// (e.g. views using a column whose type changes).
        invalidates: bool,
        /// The change removes the object's dependency on its owner (a sequence's OWNED BY),
        /// so dropping the owner does not drop it.
        detaches: bool,
    },
    /// Must be dropped and created again.
    Recreate,
    /// An enum whose values were removed or reordered: renamed away, created anew, the
    /// columns converted, the old type dropped.
    ConvertEnum,
}

impl Change {
    fn alter(stmts: Vec<Stmt>) -> Self {
        if stmts.is_empty() {
            Change::Same
        } else {
            Change::Alter {
                stmts,
                invalidates: false,
                detaches: false,
            }
        }
    }
}

/// What renderers need: both schemas and the options.
pub(crate) struct DiffContext<'a> {
    pub source: &'a Schema,
    pub target: &'a Schema,
    pub options: &'a Options,
}

/// Compares an object present in both schemas.
pub(crate) fn compare(id: &ObjectId, from: &Object, to: &Object, ctx: &DiffContext) -> Change {
    let change = match (from, to) {
        (Object::Schema(_), Object::Schema(_)) => Change::Same,
        (Object::Extension(a), Object::Extension(b)) => types::compare_extension(id, a, b, ctx),
        (Object::Collation(a), Object::Collation(b)) => recreate_unless(
            a.provider == b.provider
                && a.lc_collate == b.lc_collate
                && a.lc_ctype == b.lc_ctype
                && a.locale == b.locale
                && a.deterministic == b.deterministic,
        ),
        (Object::Enum(a), Object::Enum(b)) => types::compare_enum(id, a, b),
        (Object::Domain(a), Object::Domain(b)) => types::compare_domain(id, a, b),
        (Object::Composite(a), Object::Composite(b)) => types::compare_composite(id, a, b),
        (Object::Range(a), Object::Range(b)) => recreate_unless(a.options == b.options),
        (Object::Function(a), Object::Function(b)) => routines::compare_function(a, b),
        (Object::Sequence(a), Object::Sequence(b)) => types::compare_sequence(id, a, b),
        (Object::Table(a), Object::Table(b)) => tables::compare_table(id, a, b),
        (Object::Column(a), Object::Column(b)) => tables::compare_column(id, a, b, ctx),
        (Object::ColumnDefault(a), Object::ColumnDefault(b)) => {
            if a.expression == b.expression {
                Change::Same
            } else {
                Change::alter(vec![Stmt::new(format!(
                    "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                    qualified(&id.schema, &id.name),
                    ident(&id.sub),
                    b.expression
                ))])
            }
        }
        (Object::Partition(a), Object::Partition(b)) => recreate_unless(a == b),
        (Object::Constraint(a), Object::Constraint(b)) => tables::compare_constraint(id, a, b),
        (Object::Index(a), Object::Index(b)) => tables::compare_index(id, a, b),
        (Object::View(a), Object::View(b)) => routines::compare_view(id, a, b),
        (Object::Trigger(a), Object::Trigger(b)) => tables::compare_trigger(id, a, b),
        (Object::Policy(a), Object::Policy(b)) => recreate_unless(
            a.permissive == b.permissive
                && a.command == b.command
                && a.roles == b.roles
                && a.using == b.using
                && a.with_check == b.with_check,
        ),
        (Object::Statistics(a), Object::Statistics(b)) => {
            recreate_unless(a.definition == b.definition)
        }
        (Object::Rule(a), Object::Rule(b)) => rules::compare_rule(id, a, b),
        (Object::ForeignDataWrapper(a), Object::ForeignDataWrapper(b)) => {
            wrappers::compare_wrapper(id, a, b)
        }
        (Object::ForeignServer(a), Object::ForeignServer(b)) => foreign::compare_server(id, a, b),
        (Object::UserMapping(a), Object::UserMapping(b)) => wrappers::compare_mapping(id, a, b),
        (Object::Operator(a), Object::Operator(b)) => recreate_unless(
            a.function == b.function
                && a.commutator == b.commutator
                && a.negator == b.negator
                && a.restrict == b.restrict
                && a.join == b.join
                && a.hashes == b.hashes
                && a.merges == b.merges,
        ),
        (Object::OperatorFamily(a), Object::OperatorFamily(b)) => {
            recreate_unless(a.members == b.members)
        }
        (Object::OperatorClass(a), Object::OperatorClass(b)) => recreate_unless(
            a.default == b.default
                && a.input_type == b.input_type
                && a.family == b.family
                && a.storage == b.storage
                && a.members == b.members,
        ),
        (Object::Cast(a), Object::Cast(b)) => recreate_unless(
            a.method == b.method && a.function == b.function && a.context == b.context,
        ),
        (Object::TextSearchParser(a), Object::TextSearchParser(b)) => {
            textsearch_parsers::compare_parser(a, b)
        }
        (Object::TextSearchTemplate(a), Object::TextSearchTemplate(b)) => {
            textsearch_parsers::compare_template(a, b)
        }
        (Object::TextSearchDictionary(a), Object::TextSearchDictionary(b)) => {
            recreate_unless(a.template == b.template && a.options == b.options)
        }
        (Object::TextSearchConfiguration(a), Object::TextSearchConfiguration(b)) => {
            textsearch::compare_configuration(id, a, b)
        }
        (Object::Publication(a), Object::Publication(b)) => {
            database_wide::compare_publication(id, a, b)
        }
        (Object::EventTrigger(a), Object::EventTrigger(b)) => {
            database_wide::compare_event_trigger(id, a, b)
        }
        (Object::DefaultPrivileges(a), Object::DefaultPrivileges(b)) => {
            Change::alter(meta::default_privileges(id, &a.grants, &b.grants))
        }
        _ => Change::Recreate,
    };
    // Owner, comment and privileges are altered in place unless the object is recreated
    // (whose creation sets them anyway).
    match change {
        Change::Same | Change::Alter { .. } => {
            let extra = meta::alter_meta(id, from, to, ctx);
            match change {
                Change::Same => Change::alter(extra),
                Change::Alter {
                    mut stmts,
                    invalidates,
                    detaches,
                } => {
                    stmts.extend(extra);
                    Change::Alter {
                        stmts,
                        invalidates,
                        detaches,
                    }
                }
                other => other,
            }
        }
        other => other,
    }
}

fn recreate_unless(same: bool) -> Change {
    if same {
        Change::Same
    } else {
        Change::Recreate
    }
}

/// The statements that create an object. `implicit` means the object itself comes into being
/// with another statement (a column inside `CREATE TABLE`, a partition created `PARTITION OF`):
/// only its comment, owner and privileges are set.
pub(crate) fn create(
    id: &ObjectId,
    object: &Object,
    ctx: &DiffContext,
    implicit: bool,
) -> Vec<Stmt> {
    let mut stmts = if implicit {
        Vec::new()
    } else {
        match object {
            Object::Schema(_) => vec![Stmt::new(format!("CREATE SCHEMA {}", ident(&id.name)))],
            Object::Extension(e) => vec![types::create_extension(id, e, ctx)],
            Object::Collation(c) => vec![types::create_collation(id, c)],
            Object::Enum(e) => vec![types::create_enum(id, e)],
            Object::Domain(d) => vec![types::create_domain(id, d)],
            Object::Composite(c) => vec![types::create_composite(id, c)],
            Object::Range(r) => vec![Stmt::new(format!(
                "CREATE TYPE {} AS RANGE ({})",
                qualified(&id.schema, &id.name),
                r.options
            ))],
            Object::Function(f) => vec![Stmt::new(f.definition.clone())],
            Object::Sequence(s) => types::create_sequence(id, s),
            Object::Table(t) => tables::create_table(id, t, ctx),
            Object::Column(c) => vec![Stmt::new(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                qualified(&id.schema, &id.name),
                tables::column_definition(&id.sub, c)
            ))],
            Object::ColumnDefault(d) => vec![Stmt::new(format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                qualified(&id.schema, &id.name),
                ident(&id.sub),
                d.expression
            ))],
            Object::Partition(p) => vec![Stmt::new(format!(
                "ALTER TABLE {} ATTACH PARTITION {} {}",
                qualified(&p.parent_schema, &p.parent),
                qualified(&id.schema, &id.name),
                p.bound
            ))],
            Object::Constraint(c) => vec![Stmt::new(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                qualified(&id.schema, &id.name),
                ident(&id.sub),
                c.definition
            ))],
            Object::Index(i) => tables::create_index(id, i, ctx),
            Object::View(v) => vec![routines::create_view(id, v, false)],
            Object::Trigger(t) => tables::create_trigger(id, t),
            Object::Policy(p) => vec![tables::create_policy(id, p)],
            Object::Statistics(s) => vec![Stmt::new(s.definition.clone())],
            Object::Rule(r) => rules::create_rule(id, r),
            Object::Operator(o) => vec![operators::create_operator(id, o)],
            Object::ForeignDataWrapper(w) => vec![wrappers::create_wrapper(id, w)],
            Object::ForeignServer(s) => vec![foreign::create_server(id, s)],
            Object::UserMapping(m) => vec![wrappers::create_mapping(id, m)],
            Object::OperatorFamily(f) => opclasses::create_family(id, f),
            Object::OperatorClass(c) => vec![opclasses::create_class(id, c)],
            Object::Cast(c) => vec![database_wide::create_cast(c)],
            Object::TextSearchParser(p) => vec![textsearch_parsers::create_parser(id, p)],
            Object::TextSearchTemplate(t) => vec![textsearch_parsers::create_template(id, t)],
            Object::TextSearchDictionary(d) => vec![textsearch::create_dictionary(id, d)],
            Object::TextSearchConfiguration(c) => textsearch::create_configuration(id, c),
            Object::Publication(p) => vec![database_wide::create_publication(id, p)],
            Object::EventTrigger(e) => database_wide::create_event_trigger(id, e),
            Object::DefaultPrivileges(p) => meta::default_privileges(id, &p.baseline, &p.grants),
        }
    };
    // Settings that no CREATE statement takes (and that implicit creations lack).
    match object {
        Object::Column(c) => {
            stmts.extend(
                c.statistics
                    .map(|target| tables::column_statistics(id, target)),
            );
            stmts.extend(foreign::column_options(id, &[], &c.fdw_options));
        }
        Object::Index(i) => stmts.extend(tables::index_statistics(id, &[], &i.statistics)),
        _ => {}
    }
    stmts.extend(meta::create_meta(id, object, ctx));
    stmts
}

/// The statements that drop an object.
pub(crate) fn drop(id: &ObjectId, object: &Object) -> Vec<Stmt> {
    let name = qualified(&id.schema, &id.name);
    let on_table = || format!("{} ON {}", ident(&id.sub), name);
    let sql = match (id.kind, object) {
        (ObjectKind::Schema, _) => format!("DROP SCHEMA {}", ident(&id.name)),
        (ObjectKind::Extension, _) => format!("DROP EXTENSION {}", ident(&id.name)),
        (ObjectKind::Collation, _) => format!("DROP COLLATION {name}"),
        (ObjectKind::Enum | ObjectKind::Composite | ObjectKind::Range, _) => {
            format!("DROP TYPE {name}")
        }
        (ObjectKind::Domain, _) => format!("DROP DOMAIN {name}"),
        (ObjectKind::Function, Object::Function(f)) => {
            format!("DROP {} {}", f.keyword(), routines::signature(id, f))
        }
        (ObjectKind::Sequence, _) => format!("DROP SEQUENCE {name}"),
        (ObjectKind::Table, Object::Table(t)) if t.foreign.is_some() => {
            format!("DROP FOREIGN TABLE {name}")
        }
        (ObjectKind::Table, _) => format!("DROP TABLE {name}"),
        (ObjectKind::ForeignDataWrapper, _) => {
            format!("DROP FOREIGN DATA WRAPPER {}", ident(&id.name))
        }
        (ObjectKind::ForeignServer, _) => format!("DROP SERVER {}", ident(&id.name)),
        (ObjectKind::UserMapping, _) => {
            format!("DROP USER MAPPING {}", wrappers::mapping_designation(id))
        }
        (ObjectKind::Column, _) => format!("ALTER TABLE {name} DROP COLUMN {}", ident(&id.sub)),
        (ObjectKind::ColumnDefault, _) => format!(
            "ALTER TABLE {name} ALTER COLUMN {} DROP DEFAULT",
            ident(&id.sub)
        ),
        (ObjectKind::Partition, Object::Partition(p)) => {
            format!(
                "ALTER TABLE {} DETACH PARTITION {name}",
                qualified(&p.parent_schema, &p.parent)
            )
        }
        (ObjectKind::Constraint, _) => {
            format!("ALTER TABLE {name} DROP CONSTRAINT {}", ident(&id.sub))
        }
        (ObjectKind::Index, _) => format!("DROP INDEX {name}"),
        (ObjectKind::View, _) => format!("DROP VIEW {name}"),
        (ObjectKind::MaterializedView, _) => format!("DROP MATERIALIZED VIEW {name}"),
        (ObjectKind::Trigger, _) => format!("DROP TRIGGER {}", on_table()),
        (ObjectKind::Policy, _) => format!("DROP POLICY {}", on_table()),
        (ObjectKind::Statistics, _) => format!("DROP STATISTICS {name}"),
        (ObjectKind::Rule, _) => format!("DROP RULE {}", on_table()),
        (ObjectKind::Operator, _) => format!("DROP OPERATOR {}", operators::signature(id)),
        (ObjectKind::OperatorFamily, _) => {
            format!("DROP OPERATOR FAMILY {}", opclasses::designation(id))
        }
        (ObjectKind::OperatorClass, _) => {
            format!("DROP OPERATOR CLASS {}", opclasses::designation(id))
        }
        (ObjectKind::Cast, _) => format!("DROP CAST ({})", id.name),
        (ObjectKind::TextSearchParser, _) => format!("DROP TEXT SEARCH PARSER {name}"),
        (ObjectKind::TextSearchTemplate, _) => format!("DROP TEXT SEARCH TEMPLATE {name}"),
        (ObjectKind::TextSearchDictionary, _) => format!("DROP TEXT SEARCH DICTIONARY {name}"),
        (ObjectKind::TextSearchConfiguration, _) => {
            format!("DROP TEXT SEARCH CONFIGURATION {name}")
        }
        (ObjectKind::Publication, _) => format!("DROP PUBLICATION {}", ident(&id.name)),
        (ObjectKind::EventTrigger, _) => format!("DROP EVENT TRIGGER {}", ident(&id.name)),
        (ObjectKind::DefaultPrivileges, Object::DefaultPrivileges(p)) => {
            return meta::default_privileges(id, &p.grants, &p.baseline);
        }
        (kind, _) => {
            tracing::warn!(?kind, %id, "object does not match its kind; not dropped");
            return Vec::new();
        }
    };
    vec![Stmt::risky(sql, crate::safety::drop_reason(id))]
}

/// For an enum being converted: the name the old type gets while columns move over.
pub(crate) fn enum_old_name(id: &ObjectId) -> String {
    format!("{}__spawn_old", id.name)
}

/// For an enum being converted: rename the old type away.
pub(crate) fn enum_rename_away(id: &ObjectId) -> Stmt {
    Stmt::new(format!(
        "ALTER TYPE {} RENAME TO {}",
        qualified(&id.schema, &id.name),
        ident(&enum_old_name(id))
    ))
}

/// For an enum being converted: drop the renamed old type.
pub(crate) fn enum_drop_old(id: &ObjectId) -> Stmt {
    Stmt::new(format!(
        "DROP TYPE {}",
        qualified(&id.schema, &enum_old_name(id))
    ))
}

/// For a column whose enum type is converted: change it to the new type through text.
pub(crate) fn enum_convert_column(
    column: &ObjectId,
    data_type: &str,
    reason: Option<String>,
) -> Stmt {
    let via = if data_type.ends_with("[]") {
        "text[]"
    } else {
        "text"
    };
    Stmt::risky(
        format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {data_type} USING {}::{via}::{data_type}",
            qualified(&column.schema, &column.name),
            ident(&column.sub),
            ident(&column.sub),
        ),
        reason,
    )
}

/// Why converting an enum may lose data (values removed).
pub(crate) fn types_enum_reason(
    id: &ObjectId,
    from: &crate::model::EnumType,
    to: &crate::model::EnumType,
) -> Option<String> {
    types::enum_removal_reason(id, from, to)
}
