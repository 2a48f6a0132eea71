//! Turning per-object changes into one ordered list of statements.
//!
//! 1. Every object is classified: created, dropped, altered in place, or recreated
//!    ([`crate::diff::compare`]).
//! 2. Changes propagate through the source's dependencies: whatever depends on a dropped or
//!    recreated object (or on a column whose type changes) is dropped first and, when the target
//!    still has it, recreated after. Objects that PostgreSQL drops by itself together with what
//!    they belong to (a table's columns and indexes, a column's default, an owned sequence) get
//!    no statement of their own; columns of a new table are written inside its `CREATE TABLE`.
//! 3. Each change becomes up to three steps (drop, alter, create — plus a final cleanup for
//!    enums converted through a renamed copy). Steps are ordered by a topological sort:
//!    drops follow the source's dependencies backwards, creates follow the target's forwards,
//!    alters sit between what they need. Ties are broken by phase, then by identity, so the
//!    output is deterministic.

mod attach;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::fmt::Write as _;

use tracing::warn;

use crate::deps::Graph;
use crate::diff::{self, Change, DiffContext, Stmt};
use crate::model::{DepKind, Name, Object, ObjectId, ObjectKind, Schema};
use crate::pairs::{dependencies_of_keys, pair_up};
use crate::{DiffError, Options};

/// What a statement (or a change) does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Action {
    /// Session settings the plan needs (`SET check_function_bodies = false`).
    Setup,
    /// Renames a column.
    Rename,
    /// Drops the object.
    Drop,
    /// Changes the object in place.
    Alter,
    /// Creates the object.
    Create,
    /// Drops and creates the object again (summaries only).
    Recreate,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::Setup => "setup",
            Action::Rename => "rename",
            Action::Drop => "drop",
            Action::Alter => "alter",
            Action::Create => "create",
            Action::Recreate => "recreate",
        }
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedStatement {
    /// The SQL, without the final semicolon.
    pub sql: String,
    /// The object it concerns (`None` for setup statements).
    pub object: Option<ObjectId>,
    /// What it does.
    pub action: Action,
    /// Why it may lose data, when it may.
    pub unsafe_reason: Option<String>,
}

/// One changed object of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectChange {
    /// The object.
    pub object: ObjectId,
    /// Created, dropped, altered, recreated or renamed.
    pub action: Action,
}

/// The ordered statements that turn one schema into another.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The statements in the order they must run.
    pub statements: Vec<PlannedStatement>,
    /// The changed objects, by identity.
    pub changes: Vec<ObjectChange>,
    /// The dependency cycles the ordering met and broke by identity, each as its steps in
    /// order (`Drop app.status -> Create app.status -> … -> Drop app.status`): where there is
    /// one, the order of its statements is a guess that may fail (also logged as a warning).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycles: Vec<String>,
}

impl Plan {
    /// Whether the schemas are the same (nothing to run).
    pub fn is_empty(&self) -> bool {
        self.statements.iter().all(|s| s.action == Action::Setup)
    }

    /// The statements that may lose data.
    pub fn unsafe_statements(&self) -> Vec<&PlannedStatement> {
        self.statements
            .iter()
            .filter(|s| s.unsafe_reason.is_some())
            .collect()
    }

    /// `Err` listing the unsafe statements, if there are any.
    pub fn check_safe(&self) -> Result<(), DiffError> {
        let risky = self.unsafe_statements();
        if risky.is_empty() {
            Ok(())
        } else {
            Err(DiffError::Unsafe {
                count: risky.len(),
                list: self.refusal_list(),
            })
        }
    }

    /// One line per unsafe statement: its first line and why it may lose data.
    fn refusal_list(&self) -> String {
        self.unsafe_statements()
            .iter()
            .map(|s| {
                format!(
                    "  {};  -- {}",
                    s.sql.lines().next().unwrap_or_default(),
                    s.unsafe_reason.as_deref().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The plan as one SQL script (empty when there is nothing to do).
    pub fn to_sql(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        let mut out = String::new();
        for s in &self.statements {
            out.push_str(&s.sql);
            out.push_str(";\n\n");
        }
        out.pop();
        out
    }

    /// Why the statements of each object may lose data, for the objects whose do.
    pub fn unsafe_reasons(&self) -> HashMap<&ObjectId, Vec<&str>> {
        let mut reasons: HashMap<&ObjectId, Vec<&str>> = HashMap::new();
        for s in &self.statements {
            if let (Some(id), Some(reason)) = (&s.object, &s.unsafe_reason) {
                reasons.entry(id).or_default().push(reason);
            }
        }
        reasons
    }

    /// A human-readable list of the changes, one per line.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let risky = self.unsafe_reasons();
        for c in &self.changes {
            let sign = match c.action {
                Action::Create => '+',
                Action::Drop => '-',
                Action::Recreate => '±',
                _ => '~',
            };
            let _ = write!(
                out,
                "{sign} {} {} {}",
                c.action.label(),
                c.object.kind.label(),
                c.object
            );
            if let Some(reasons) = risky.get(&c.object) {
                let _ = write!(out, "  [unsafe: {}]", reasons.join("; "));
            }
            out.push('\n');
        }
        out
    }
}

impl Schema {
    /// The plan that turns this schema (the source) into `target`.
    ///
    /// The plan always holds every statement, unsafe ones included; see
    /// [`Plan::unsafe_statements`] and [`Plan::check_safe`] (which `allow_unsafe` skips).
    pub fn diff(&self, target: &Schema, options: &Options) -> Result<Plan, DiffError> {
        let plan = build(self, target, options);
        if !options.allow_unsafe {
            plan.check_safe()?;
        }
        Ok(plan)
    }

    /// Like [`Schema::diff`] but never refuses: the caller inspects
    /// [`Plan::unsafe_statements`].
    pub fn plan(&self, target: &Schema, options: &Options) -> Plan {
        build(self, target, options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Create,
    Drop,
    Alter,
    Recreate,
    Convert,
}

#[derive(Debug, Clone)]
struct Node {
    state: State,
    alter: Vec<Stmt>,
    invalidates: bool,
    detaches: bool,
    /// Dropped implicitly together with this object.
    dropped_with: Option<ObjectId>,
    /// Created implicitly by this object's creation (`None` and `created_implicitly`: by
    /// something outside the plan, e.g. an inherited column).
    created_by: Option<ObjectId>,
    created_implicitly: bool,
    /// A partition's index created by the plan and then attached to this partitioned index.
    attach_to: Option<ObjectId>,
    /// Steps before this object's creation: the attachment of the partitions of a
    /// partitioned index, the `INHERIT` of a table that gets a parent's new column.
    after: Vec<(ObjectId, Phase)>,
    /// A dropped parent's column that its children keep: dropped `ONLY` from the parent.
    drop_only: bool,
    /// A partition's index PostgreSQL creates under this existing partitioned index, to be
    /// renamed to the target's name.
    rename_under: Option<ObjectId>,
}

impl Node {
    fn new(state: State) -> Self {
        Self {
            state,
            alter: Vec::new(),
            invalidates: false,
            detaches: false,
            dropped_with: None,
            created_by: None,
            created_implicitly: false,
            attach_to: None,
            after: Vec::new(),
            drop_only: false,
            rename_under: None,
        }
    }
    fn drops(&self) -> bool {
        matches!(self.state, State::Drop | State::Recreate | State::Convert)
    }
    fn creates(&self) -> bool {
        matches!(self.state, State::Create | State::Recreate | State::Convert)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Phase {
    Drop,
    Alter,
    Create,
    Cleanup,
}

fn build(source: &Schema, target: &Schema, options: &Options) -> Plan {
    let started = std::time::Instant::now();
    let lap = |what: &str| {
        tracing::debug!(
            what,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plan"
        )
    };
    let renamed;
    let (source, renames) = match options.detect_renames && !options.create_extensions_only {
        true => match diff::renames::detect(source, target) {
            Some((schema, stmts)) => {
                renamed = schema;
                (&renamed, stmts)
            }
            None => (source, Vec::new()),
        },
        false => (source, Vec::new()),
    };
    lap("renames");
    let ctx = DiffContext {
        source,
        target,
        options,
    };
    // The graphs are indexed on another thread while the objects are compared.
    let (mut nodes, (source_graph, target_graph)) = std::thread::scope(|scope| {
        let graphs = scope.spawn(|| (Graph::new(source), Graph::new(target)));
        let nodes = classify(&ctx);
        let graphs = graphs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (nodes, graphs)
    });
    lap("classified");
    if options.create_extensions_only {
        nodes.retain(|id, n| id.kind == ObjectKind::Extension && n.state == State::Create);
    } else {
        propagate(&ctx, &source_graph, &mut nodes);
    }
    lap("propagated");
    mark_implicit(&ctx, &source_graph, &target_graph, &mut nodes);
    attach::partition_indexes(&ctx, &target_graph, &mut nodes);
    attach::rename_partition_indexes(&ctx, &target_graph, &mut nodes);
    lap("implicit");
    let (steps, cycles) = order(&ctx, &nodes);
    lap("ordered");

    let mut statements = Vec::new();
    let creates_functions = steps.iter().any(|s| {
        s.id.kind == ObjectKind::Function
            && matches!(s.phase, Phase::Create | Phase::Alter)
            && !s.stmts.is_empty()
    });
    if creates_functions {
        statements.push(PlannedStatement {
            sql: "SET check_function_bodies = false".into(),
            object: None,
            action: Action::Setup,
            unsafe_reason: None,
        });
    }
    let mut changes: Vec<ObjectChange> = Vec::new();
    for (id, stmt) in renames {
        changes.push(ObjectChange {
            object: id.clone(),
            action: Action::Rename,
        });
        statements.push(PlannedStatement {
            sql: stmt.sql,
            object: Some(id),
            action: Action::Rename,
            unsafe_reason: None,
        });
    }
    for step in steps {
        let action = match step.phase {
            Phase::Drop | Phase::Cleanup => Action::Drop,
            Phase::Alter => Action::Alter,
            Phase::Create => Action::Create,
        };
        for stmt in step.stmts {
            // Only the CREATE EXTENSION itself, not the comment its control file sets anyway.
            if options.create_extensions_only && !stmt.sql.starts_with("CREATE EXTENSION") {
                continue;
            }
            statements.push(PlannedStatement {
                sql: stmt.sql,
                object: Some(step.id.clone()),
                action,
                unsafe_reason: stmt.unsafe_reason,
            });
        }
    }
    for (id, node) in &nodes {
        let action = match node.state {
            State::Create if node.created_implicitly => continue,
            State::Drop if node.dropped_with.is_some() => continue,
            State::Create => Action::Create,
            State::Drop => Action::Drop,
            State::Alter => Action::Alter,
            State::Recreate | State::Convert => Action::Recreate,
        };
        changes.push(ObjectChange {
            object: id.clone(),
            action,
        });
    }
    Plan {
        statements,
        changes,
        cycles,
    }
}

/// Step 1: what happens to each object on its own.
fn classify(ctx: &DiffContext) -> BTreeMap<ObjectId, Node> {
    // Both schemas are walked in identity order: the nodes come out sorted, and the map is
    // built from them in one go.
    let mut nodes = Vec::new();
    for (id, from, to) in pair_up(&ctx.source.objects, &ctx.target.objects) {
        let node = match (from, to) {
            (Some(_), None) => Node::new(State::Drop),
            (None, _) => Node::new(State::Create),
            (Some(from), Some(to)) => match diff::compare(id, from, to, ctx) {
                Change::Same => continue,
                Change::Alter {
                    stmts,
                    invalidates,
                    detaches,
                } => Node {
                    alter: stmts,
                    invalidates,
                    detaches,
                    ..Node::new(State::Alter)
                },
                Change::Recreate => Node::new(State::Recreate),
                Change::ConvertEnum => Node::new(State::Convert),
            },
        };
        nodes.push((id.clone(), node));
    }
    nodes.into_iter().collect()
}

/// Step 2: dependents of dropped or recreated objects are dropped (and recreated).
fn propagate(ctx: &DiffContext, graph: &Graph, nodes: &mut BTreeMap<ObjectId, Node>) {
    let mut queue: VecDeque<ObjectId> = nodes
        .iter()
        .filter(|(_, n)| n.drops() || (n.state == State::Alter && n.invalidates))
        .map(|(id, _)| id.clone())
        .collect();
    while let Some(x) = queue.pop_front() {
        let Some(xnode) = nodes.get(&x) else { continue };
        let (xstate, x_invalidating) = (
            xnode.state,
            xnode.state == State::Alter && xnode.invalidates,
        );
        let dependents: Vec<&ObjectId> = graph.dependents(&x).map(|(d, _)| d).collect();
        for d in dependents {
            if let Some(dn) = nodes.get(d) {
                if dn.drops()
                    || (dn.state == State::Alter && dn.detaches && d.kind == ObjectKind::Sequence)
                {
                    continue;
                }
            }
            if x_invalidating
                && matches!(
                    d.kind,
                    ObjectKind::Index
                        | ObjectKind::Constraint
                        | ObjectKind::Statistics
                        | ObjectKind::Sequence
                )
            {
                // PostgreSQL rebuilds these itself when a column's type changes.
                continue;
            }
            if xstate == State::Convert && d.kind == ObjectKind::Column {
                if let (Some(Object::Column(from)), Some(Object::Column(to))) =
                    (ctx.source.objects.get(d), ctx.target.objects.get(d))
                {
                    if from.data_type == to.data_type {
                        let reason = match (ctx.source.objects.get(&x), ctx.target.objects.get(&x))
                        {
                            (Some(Object::Enum(a)), Some(Object::Enum(b))) => {
                                diff::types_enum_reason(&x, a, b)
                            }
                            _ => None,
                        };
                        let node = nodes
                            .entry(d.clone())
                            .or_insert_with(|| Node::new(State::Alter));
                        node.alter
                            .insert(0, diff::enum_convert_column(d, &to.data_type, reason));
                        node.invalidates = true;
                        queue.push_back(d.clone());
                        continue;
                    }
                }
            }
            if xstate == State::Drop && keeps_inherited_column(ctx, &x, d) {
                // Dropped `ONLY` from the parent, the child's column stays, as its own.
                if let Some(xnode) = nodes.get_mut(&x) {
                    xnode.drop_only = true;
                }
                continue;
            }
            let state = if ctx.target.objects.contains_key(d) {
                State::Recreate
            } else {
                State::Drop
            };
            let node = nodes.entry(d.clone()).or_insert_with(|| Node::new(state));
            node.state = state;
            node.alter.clear();
            queue.push_back(d.clone());
        }
    }
}

/// Whether `table` inherits from `parent` in the target but not in the source (where it
/// exists): it joins the parent with `INHERIT`.
fn joins(ctx: &DiffContext, table: &ObjectId, parent: &ObjectId) -> bool {
    let inherits = |schema: &Schema| {
        matches!(schema.objects.get(table), Some(Object::Table(t))
            if t.inherits.iter().any(|(s, n)| **s == *parent.schema && **n == *parent.name))
    };
    ctx.source.objects.contains_key(table) && inherits(ctx.target) && !inherits(ctx.source)
}

/// Whether `id` is an inherited column in `schema`.
fn is_inherited_column(schema: &Schema, id: &ObjectId) -> bool {
    matches!(schema.objects.get(id), Some(Object::Column(c)) if c.inherited)
}

/// Whether `child` is a column inherited from the dropped column `parent` that the target
/// keeps in a table that is not a partition (whose columns always follow their parent's).
fn keeps_inherited_column(ctx: &DiffContext, parent: &ObjectId, child: &ObjectId) -> bool {
    let not_partition = |schema: &Schema| {
        matches!(
            child.owning_table().and_then(|t| schema.objects.get(&t)),
            Some(Object::Table(t)) if t.partition_of.is_none()
        )
    };
    parent.kind == ObjectKind::Column
        && child.kind == ObjectKind::Column
        && matches!(ctx.target.objects.get(child), Some(Object::Column(_)))
        && not_partition(ctx.source)
        && not_partition(ctx.target)
}

/// The table (or materialized view) an object is a part of.
fn table_of(id: &ObjectId, schema: &Schema) -> Option<ObjectId> {
    match (id.kind, schema.objects.get(id)) {
        (ObjectKind::Index, Some(Object::Index(i))) => {
            let table = ObjectId::new(ObjectKind::Table, &i.table.0, &i.table.1);
            Some(if schema.objects.contains_key(&table) {
                table
            } else {
                ObjectId::new(ObjectKind::MaterializedView, &i.table.0, &i.table.1)
            })
        }
        _ => id.owning_table(),
    }
}

/// Whether `table` is a partition or child of `parent` on both sides, without being detached.
fn stays_child(
    ctx: &DiffContext,
    nodes: &BTreeMap<ObjectId, Node>,
    table: &ObjectId,
    parent: &ObjectId,
) -> bool {
    let attached = |schema: &Schema| match schema.objects.get(table) {
        Some(Object::Table(t)) => {
            t.partition_of
                .as_ref()
                .is_some_and(|p| *p.parent_schema == *parent.schema && *p.parent == *parent.name)
                || t.inherits
                    .iter()
                    .any(|(s, n)| **s == *parent.schema && **n == *parent.name)
        }
        _ => false,
    };
    let partition = ObjectId::new(ObjectKind::Partition, &table.schema, &table.name);
    attached(ctx.source) && attached(ctx.target) && !nodes.get(&partition).is_some_and(Node::drops)
}

/// Step 2b: which drops and creates happen implicitly with another object's.
fn mark_implicit(
    ctx: &DiffContext,
    source_graph: &Graph,
    target_graph: &Graph,
    nodes: &mut BTreeMap<ObjectId, Node>,
) {
    let mut dropped_with = Vec::new();
    let mut created_by = Vec::new();
    // (parent's new column, child table that joins the parent): the column is added once
    // the table has joined (`INHERIT` wants every column the parent has then).
    let mut joined: Vec<(ObjectId, ObjectId)> = Vec::new();
    for (id, node) in nodes.iter() {
        if node.drops() && node.state != State::Convert {
            let own_table = table_of(id, ctx.source);
            let owner = source_graph
                .dependencies(id)
                .filter(|(_, kind)| *kind == DepKind::Auto)
                .map(|(to, _)| to)
                .filter(|to| {
                    nodes
                        .get(*to)
                        .is_some_and(|n| n.drops() && n.state != State::Convert)
                })
                .find(|to| {
                    // A partition's copy goes with the parent's original only while attached.
                    match (&own_table, table_of(to, ctx.source)) {
                        (Some(mine), Some(theirs))
                            if *mine != theirs && to.kind != ObjectKind::Table =>
                        {
                            stays_child(ctx, nodes, mine, &theirs)
                        }
                        _ => true,
                    }
                })
                // A constraint goes with its table: a CHECK's automatic dependency on its
                // column is also a normal one (its expression), and the normal one is kept.
                .or_else(|| {
                    own_table.as_ref().filter(|t| {
                        id.kind == ObjectKind::Constraint
                            && nodes
                                .get(*t)
                                .is_some_and(|n| n.drops() && n.state != State::Convert)
                    })
                });
            if let Some(owner) = owner {
                dropped_with.push((id.clone(), owner.clone()));
            }
        }
        if node.creates() && node.state != State::Convert {
            let creates = |to: &ObjectId| nodes.get(to).is_some_and(Node::creates);
            let inherited_from = |kind: ObjectKind| {
                target_graph
                    .dependencies(id)
                    .map(|(to, _)| to)
                    .find(|to| to.kind == kind)
                    .cloned()
            };
            let table = table_of(id, ctx.target);
            let creator = match (id.kind, ctx.target.objects.get(id)) {
                (ObjectKind::Column, Some(Object::Column(c))) => {
                    match table.clone().filter(|t| creates(t)) {
                        Some(t) => Some(Some(t)),
                        None if !c.is_local && c.inherited => inherited_from(ObjectKind::Column)
                            .filter(|parent| {
                                table
                                    .as_ref()
                                    .zip(parent.owning_table())
                                    .is_some_and(|(t, p)| {
                                        stays_child(ctx, nodes, t, &p)
                                            || (creates(parent) && joins(ctx, t, &p))
                                    })
                            })
                            .map(|parent| {
                                let new_column = creates(&parent);
                                if let (true, Some(t), Some(p)) =
                                    (new_column, &table, parent.owning_table())
                                {
                                    if !stays_child(ctx, nodes, t, &p) {
                                        joined.push((parent.clone(), t.clone()));
                                    }
                                }
                                new_column.then_some(parent)
                            }),
                        None => None,
                    }
                }
                (ObjectKind::Index, Some(Object::Index(i))) if i.inherited => {
                    Some(inherited_from(ObjectKind::Index).filter(|p| creates(p)))
                }
                (ObjectKind::Constraint, Some(Object::Constraint(c))) if c.inherited => {
                    Some(inherited_from(ObjectKind::Constraint).filter(|p| creates(p)))
                }
                (ObjectKind::Partition, _) => table.filter(|t| creates(t)).map(Some),
                _ => None,
            };
            if let Some(creator) = creator {
                created_by.push((id.clone(), creator));
            }
        }
    }
    for (id, owner) in dropped_with {
        if let Some(n) = nodes.get_mut(&id) {
            n.dropped_with = Some(owner);
        }
    }
    for (column, table) in joined {
        if let Some(n) = nodes.get_mut(&column) {
            n.after.push((table, Phase::Alter));
        }
    }
    for (id, creator) in created_by {
        if let Some(n) = nodes.get_mut(&id) {
            n.created_implicitly = true;
            n.created_by = creator;
        }
    }
    // A column added to an existing table gets its default in its ADD COLUMN: a NOT NULL one
    // cannot be added to a table with rows otherwise, and the rows take the default as they
    // would have in a table created with the column.
    let inlined: Vec<(ObjectId, ObjectId)> = nodes
        .iter()
        .filter(|(id, n)| {
            id.kind == ObjectKind::ColumnDefault && n.creates() && !n.created_implicitly
        })
        .map(|(id, _)| (id.clone(), id.with_kind(ObjectKind::Column)))
        .filter(|(_, column)| {
            nodes
                .get(column)
                .is_some_and(|c| c.creates() && !c.created_implicitly)
        })
        .collect();
    for (default, column) in inlined {
        if let Some(n) = nodes.get_mut(&default) {
            n.created_implicitly = true;
            n.created_by = Some(column);
        }
    }
}

struct Step {
    id: ObjectId,
    phase: Phase,
    stmts: Vec<Stmt>,
}

/// Step 3: the steps, and their topological order; and the cycles met (see [`topological`]).
fn order(ctx: &DiffContext, nodes: &BTreeMap<ObjectId, Node>) -> (Vec<Step>, Vec<String>) {
    let mut steps: Vec<Step> = Vec::new();
    let mut index: HashMap<(&ObjectId, Phase), usize> = HashMap::new();
    for (id, node) in nodes {
        let mut push = |phase: Phase, stmts: Vec<Stmt>| {
            index.insert((id, phase), steps.len());
            steps.push(Step {
                id: id.clone(),
                phase,
                stmts,
            });
        };
        match node.state {
            State::Convert => {
                push(Phase::Drop, vec![diff::enum_rename_away(id)]);
                let create = ctx
                    .target
                    .objects
                    .get(id)
                    .map(|o| diff::create(id, o, ctx, false))
                    .unwrap_or_default();
                push(Phase::Create, create);
                push(Phase::Cleanup, vec![diff::enum_drop_old(id)]);
                continue;
            }
            State::Alter => push(Phase::Alter, node.alter.clone()),
            State::Drop | State::Recreate | State::Create => {}
        }
        if node.drops() {
            let mut stmts = match (&node.dropped_with, ctx.source.objects.get(id)) {
                (None, Some(object)) => diff::drop(id, object),
                _ => Vec::new(),
            };
            if node.drop_only {
                for stmt in &mut stmts {
                    stmt.sql = stmt.sql.replacen("ALTER TABLE ", "ALTER TABLE ONLY ", 1);
                }
            }
            push(Phase::Drop, stmts);
        }
        if node.creates() {
            let mut stmts = ctx
                .target
                .objects
                .get(id)
                .map(|o| diff::create(id, o, ctx, node.created_implicitly))
                .unwrap_or_default();
            if let Some(parent) = &node.attach_to {
                stmts.insert(1.min(stmts.len()), attach::attach_statement(parent, id));
            }
            if let (Some(parent), Some(Object::Index(index))) =
                (&node.rename_under, ctx.target.objects.get(id))
            {
                stmts.insert(0, attach::rename_statement(parent, id, &index.table));
            }
            if let Some(expression) = inlined_default(ctx, nodes, id) {
                if let Some(add) = stmts.first_mut() {
                    add.sql.push_str(" DEFAULT ");
                    add.sql.push_str(expression);
                }
            }
            // A sequence's OWNED BY is a step of its own, after its column is added: an added
            // column's default (in its ADD COLUMN) may take values from it.
            if let Some(Object::Sequence(sequence)) = ctx.target.objects.get(id) {
                if sequence.owned_by.is_some() && stmts.len() > 1 {
                    let owned_by = stmts.split_off(1);
                    push(Phase::Create, stmts);
                    push(Phase::Alter, owned_by);
                    continue;
                }
            }
            push(Phase::Create, stmts);
        }
    }

    let drop_root = |id: &ObjectId| -> ObjectId {
        let mut current = id.clone();
        for _ in 0..16 {
            match nodes.get(&current).and_then(|n| n.dropped_with.clone()) {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    };
    let create_root = |id: &ObjectId| -> ObjectId {
        let mut current = id.clone();
        for _ in 0..16 {
            match nodes.get(&current).and_then(|n| n.created_by.clone()) {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    };

    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    let mut add = |from: Option<usize>, to: Option<usize>| {
        if let (Some(f), Some(t)) = (from, to) {
            if f != t {
                edges[f].push(t);
            }
        }
    };
    let step = |id: &ObjectId, phase: Phase| index.get(&(id, phase)).copied();

    // Drops follow the source's dependencies: dependents first.
    for (dep, x) in dependencies_of_keys(&ctx.source.dependencies, nodes) {
        let Some(y) = nodes.get(&dep.to) else {
            continue;
        };
        let (rx, ry) = (drop_root(&dep.from), drop_root(&dep.to));
        // An inherited column is dropped once it is its table's own: after its table leaves
        // the parent (`NO INHERIT`), or the parent's column is dropped `ONLY`.
        let own_table_leaves =
            y.state == State::Alter && dep.from.owning_table().as_ref() == Some(&dep.to);
        if x.drops()
            && x.dropped_with.is_none()
            && (y.drop_only || own_table_leaves)
            && is_inherited_column(ctx.source, &dep.from)
        {
            let phase = if y.drop_only {
                Phase::Drop
            } else {
                Phase::Alter
            };
            add(step(&dep.to, phase), step(&dep.from, Phase::Drop));
            continue;
        }
        if x.drops() && y.drops() && rx != ry {
            add(step(&rx, Phase::Drop), step(&ry, Phase::Drop));
        }
        if x.drops() && y.state == State::Alter {
            add(step(&rx, Phase::Drop), step(&dep.to, Phase::Alter));
        }
        // A converted enum's drop step only renames it away: what uses it is altered before
        // its cleanup (below), after the new type exists.
        if x.state == State::Alter && y.drops() && y.state != State::Convert {
            add(step(&dep.from, Phase::Alter), step(&ry, Phase::Drop));
        }
        if y.state == State::Convert {
            add(step(&rx, Phase::Drop), step(&dep.to, Phase::Cleanup));
            add(step(&dep.from, Phase::Alter), step(&dep.to, Phase::Cleanup));
        }
    }
    // Creates follow the target's dependencies: what is needed first.
    for (dep, x) in dependencies_of_keys(&ctx.target.dependencies, nodes) {
        let Some(y) = nodes.get(&dep.to) else {
            continue;
        };
        let (rx, ry) = (create_root(&dep.from), create_root(&dep.to));
        // A created sequence needs its owner column only for its OWNED BY step.
        let owned_by = step(&dep.from, Phase::Alter).filter(|_| {
            x.creates()
                && dep.from.kind == ObjectKind::Sequence
                && dep.to.kind == ObjectKind::Column
        });
        if let (Some(owned_by), true) = (owned_by, y.creates()) {
            add(step(&ry, Phase::Create), Some(owned_by));
            continue;
        }
        if x.creates() && y.creates() && rx != ry {
            add(step(&ry, Phase::Create), step(&rx, Phase::Create));
        }
        if x.creates() && y.state == State::Alter {
            add(step(&dep.to, Phase::Alter), step(&rx, Phase::Create));
        }
        if x.state == State::Alter && y.creates() {
            add(step(&ry, Phase::Create), step(&dep.from, Phase::Alter));
        }
        if x.state == State::Alter && y.state == State::Alter {
            add(step(&dep.to, Phase::Alter), step(&dep.from, Phase::Alter));
        }
    }
    // What must come before a creation (see `Node::after`).
    for (id, node) in nodes {
        for (before, phase) in &node.after {
            let before = match phase {
                Phase::Create => create_root(before),
                _ => before.clone(),
            };
            add(step(&before, *phase), step(&create_root(id), Phase::Create));
        }
    }
    // An object is dropped before it is created again; a converted enum is cleaned up last.
    // Objects sharing a name (a table replaced by a view) likewise.
    let mut names: HashMap<(Name, Name), Vec<ObjectId>> = HashMap::new();
    for (id, node) in nodes {
        if node.drops() && node.creates() {
            add(
                step(&drop_root(id), Phase::Drop),
                step(&create_root(id), Phase::Create),
            );
        }
        if node.state == State::Convert {
            add(step(id, Phase::Create), step(id, Phase::Cleanup));
        }
        // A created object's own later step (a sequence's OWNED BY).
        if node.creates() {
            add(step(id, Phase::Create), step(id, Phase::Alter));
        }
        if node.drops() {
            if let Some(key) = relation_name(id, ctx.source) {
                names.entry(key).or_default().push(id.clone());
            }
        }
    }
    for (id, node) in nodes {
        if !node.creates() {
            continue;
        }
        if let Some(others) = relation_name(id, ctx.target).and_then(|key| names.get(&key)) {
            for other in others.iter().filter(|o| *o != id) {
                add(
                    step(&drop_root(other), Phase::Drop),
                    step(&create_root(id), Phase::Create),
                );
            }
        }
    }
    // Partitions: detach before the parent's columns change; attach after.
    let mut parts_of: HashMap<ObjectId, Vec<&ObjectId>> = HashMap::new();
    for (id, node) in nodes {
        if node.drops() && matches!(id.kind, ObjectKind::Index | ObjectKind::Constraint) {
            if let Some(table) = table_of(id, ctx.source) {
                parts_of.entry(table).or_default().push(id);
            }
        }
    }
    for (id, node) in nodes {
        if id.kind != ObjectKind::Partition {
            continue;
        }
        let column_steps = |schema: &Schema, table: &ObjectId| -> Vec<usize> {
            schema
                .columns_of(table)
                .filter_map(|(cid, _)| nodes.get(cid).map(|n| (cid, n)))
                .flat_map(|(cid, n)| {
                    [Phase::Drop, Phase::Alter, Phase::Create]
                        .into_iter()
                        .filter(move |p| !(*p == Phase::Drop && n.dropped_with.is_some()))
                        .filter_map(|p| step(cid, p))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        if node.drops() && node.dropped_with.is_none() {
            if let Some(Object::Partition(p)) = ctx.source.objects.get(id) {
                let parent = ObjectId::new(ObjectKind::Table, &p.parent_schema, &p.parent);
                let child = ObjectId::new(ObjectKind::Table, &id.schema, &id.name);
                for s in column_steps(ctx.target, &parent)
                    .into_iter()
                    .chain(column_steps(ctx.source, &parent))
                    .chain(column_steps(ctx.source, &child))
                {
                    add(step(id, Phase::Drop), Some(s));
                }
                // The partition's copies of indexes and constraints become its own when
                // detached: drop them after.
                for part in parts_of.get(&child).into_iter().flatten() {
                    add(step(id, Phase::Drop), step(part, Phase::Drop));
                }
            }
        }
        if node.creates() && !node.created_implicitly {
            if let Some(Object::Partition(p)) = ctx.target.objects.get(id) {
                let parent = ObjectId::new(ObjectKind::Table, &p.parent_schema, &p.parent);
                let child = ObjectId::new(ObjectKind::Table, &id.schema, &id.name);
                for table in [&parent, &child] {
                    for s in column_steps(ctx.target, table)
                        .into_iter()
                        .chain(column_steps(ctx.source, table))
                    {
                        add(Some(s), step(id, Phase::Create));
                    }
                }
                // An attached table's index PostgreSQL would take for a partitioned index's
                // copy is dropped first, when the target has it no more.
                for part in parts_of.get(&child).into_iter().flatten() {
                    add(step(part, Phase::Drop), step(id, Phase::Create));
                }
            }
        }
    }
    // REPLICA IDENTITY USING INDEX needs the index.
    for (id, node) in nodes {
        if let (State::Alter, Some(Object::Table(t))) = (node.state, ctx.target.objects.get(id)) {
            if let Some(index) = &t.replica_identity_index {
                let index = ObjectId::new(ObjectKind::Index, &id.schema, index);
                add(step(&index, Phase::Create), step(id, Phase::Alter));
            }
        }
    }

    topological(steps, edges)
}

/// The shared name of relations and types in a schema (constraints backed by an index use
/// the index's name).
fn relation_name(id: &ObjectId, schema: &Schema) -> Option<(Name, Name)> {
    if id.kind.in_relation_namespace() {
        return Some((id.schema.clone(), id.name.clone()));
    }
    match schema.objects.get(id) {
        Some(Object::Constraint(c)) if matches!(c.kind.as_str(), "p" | "u" | "x") => {
            Some((id.schema.clone(), id.sub.clone()))
        }
        _ => None,
    }
}

/// The expression of the default of `column` when it is set by the column's ADD COLUMN (see
/// [`mark_implicit`]).
fn inlined_default<'a>(
    ctx: &DiffContext<'a>,
    nodes: &BTreeMap<ObjectId, Node>,
    column: &ObjectId,
) -> Option<&'a str> {
    if column.kind != ObjectKind::Column {
        return None;
    }
    let default = column.with_kind(ObjectKind::ColumnDefault);
    nodes
        .get(&default)
        .filter(|n| n.created_by.as_ref() == Some(column))?;
    match ctx.target.objects.get(&default) {
        Some(Object::ColumnDefault(d)) => Some(&d.expression),
        _ => None,
    }
}

/// A cycle among the steps not `done`, found from `stuck` (one of them when none is ready:
/// each waits for another not done), each step before the next, for the warning about it.
/// Walks back from `stuck` to a step it waits for until one repeats (rare: the reverse edges
/// are found here).
fn cycle_from(stuck: usize, edges: &[Vec<usize>], done: &[bool]) -> Vec<usize> {
    let mut waits_for = vec![None; edges.len()];
    for (from, targets) in edges.iter().enumerate().filter(|(from, _)| !done[*from]) {
        for &t in targets {
            waits_for[t].get_or_insert(from);
        }
    }
    let mut path = vec![stuck];
    let mut seen = HashMap::from([(stuck, 0)]);
    while let Some(before) = path.last().and_then(|&at| waits_for[at]) {
        if let Some(&from) = seen.get(&before) {
            let mut cycle = path.split_off(from);
            cycle.push(before);
            cycle.reverse();
            return cycle;
        }
        seen.insert(before, path.len());
        path.push(before);
    }
    path.reverse();
    path
}

/// Kahn's algorithm; among the steps that are ready, drops come first, then alters, then
/// creates, each by identity. Where none is ready (a cycle), the first remaining step by that
/// order is taken: the cycle is returned beside the order, and logged.
fn topological(steps: Vec<Step>, mut edges: Vec<Vec<usize>>) -> (Vec<Step>, Vec<String>) {
    let n = steps.len();
    let mut indegree = vec![0usize; n];
    for list in &mut edges {
        list.sort_unstable();
        list.dedup();
        for &t in list.iter() {
            indegree[t] += 1;
        }
    }
    let key = |i: usize| (steps[i].phase, &steps[i].id, i);
    let mut ready: BinaryHeap<Reverse<(Phase, &ObjectId, usize)>> = (0..n)
        .filter(|&i| indegree[i] == 0)
        .map(|i| Reverse(key(i)))
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut cycles = Vec::new();
    while order.len() < n {
        let next = match ready.pop() {
            Some(Reverse((_, _, i))) => i,
            None => {
                // A cycle: take the smallest remaining step and carry on.
                let Some(i) = (0..n).filter(|&i| !done[i]).min_by_key(|&i| key(i)) else {
                    break;
                };
                let cycle: Vec<String> = cycle_from(i, &edges, &done)
                    .into_iter()
                    .map(|s| format!("{:?} {}", steps[s].phase, steps[s].id))
                    .collect();
                let cycle = cycle.join(" -> ");
                warn!(object = %steps[i].id, %cycle, "dependency cycle; ordering by identity");
                cycles.push(cycle);
                i
            }
        };
        if done[next] {
            continue;
        }
        done[next] = true;
        order.push(next);
        for &t in &edges[next] {
            indegree[t] = indegree[t].saturating_sub(1);
            if indegree[t] == 0 && !done[t] {
                ready.push(Reverse(key(t)));
            }
        }
    }
    let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    let ordered = order.into_iter().filter_map(|i| slots[i].take()).collect();
    (ordered, cycles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, phase: Phase) -> Step {
        Step {
            id: ObjectId::new(ObjectKind::Table, "s", name),
            phase,
            stmts: Vec::new(),
        }
    }

    fn order_of(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| format!("{:?} {}", s.phase, s.id))
            .collect()
    }

    #[test]
    fn a_cycle_is_broken_by_identity_and_named_in_order() {
        // a before b, b before c, c before b; d stands alone.
        let steps = vec![
            step("a", Phase::Drop),
            step("b", Phase::Create),
            step("c", Phase::Alter),
            step("d", Phase::Create),
        ];
        let edges = vec![vec![1], vec![2], vec![1], Vec::new()];
        let (ordered, cycles) = topological(steps, edges);
        assert_eq!(
            order_of(&ordered),
            ["Drop s.a", "Create s.d", "Alter s.c", "Create s.b"],
            "a is ready first, then d; then the cycle is entered at its first step by \
             (phase, identity): c, an alter, before b, a create"
        );
        // From the step taken, each before the next.
        assert_eq!(cycles, ["Alter s.c -> Create s.b -> Alter s.c"]);
    }

    #[test]
    fn an_order_without_a_cycle_reports_none() {
        let steps = vec![step("a", Phase::Create), step("b", Phase::Drop)];
        let (ordered, cycles) = topological(steps, vec![vec![1], Vec::new()]);
        assert_eq!(order_of(&ordered), ["Create s.a", "Drop s.b"]);
        assert!(cycles.is_empty());
    }
}
