//! Indexes of partitioned tables, created so that their partitions' indexes get the target's
//! names.
//!
//! `CREATE INDEX … ON parent` lets PostgreSQL create the partitions' indexes under names of
//! its own choosing, which seldom are the target's (pagila names them `idx_fk_payment_p2020_01_…`).
//! So a partitioned index the plan creates is created `ON ONLY` its table, each of its
//! partitions' indexes is created under its own name (or kept, when it exists already) and
//! attached with `ALTER INDEX … ATTACH PARTITION`, level by level for sub-partitions. The
//! partitioned index is created once its table's partitions are attached: a partition
//! attached later would get an index of PostgreSQL's naming.
//!
//! A partition created or attached under a partitioned index that exists already gets its
//! copy from PostgreSQL, under a name of PostgreSQL's choosing (or an existing index's, which
//! it attaches): the plan renames it to the target's name, finding it by its parent and table.

use std::collections::BTreeMap;

use super::{Node, Phase, State};
use crate::deps::Graph;
use crate::diff::{DiffContext, Stmt};
use crate::model::{Object, ObjectId, ObjectKind};
use crate::render::{literal, qualified};

/// Whether an index definition is that of a partitioned table's index.
pub(super) fn is_partitioned(definition: &str) -> bool {
    definition.contains(" ON ONLY ")
}

/// `ALTER INDEX parent ATTACH PARTITION child`.
pub(super) fn attach_statement(parent: &ObjectId, child: &ObjectId) -> Stmt {
    Stmt::new(format!(
        "ALTER INDEX {} ATTACH PARTITION {}",
        qualified(&parent.schema, &parent.name),
        qualified(&child.schema, &child.name)
    ))
}

/// Makes the partitions' copies of every partitioned index the plan creates explicit: created
/// by the plan (their `attach_to` set) or, when they exist already, attached by an alter.
/// Records in each such index the partitions whose attachment must come first (`after`).
pub(super) fn partition_indexes(
    ctx: &DiffContext,
    target_graph: &Graph,
    nodes: &mut BTreeMap<ObjectId, Node>,
) {
    let partitioned = |id: &ObjectId| matches!(ctx.target.objects.get(id), Some(Object::Index(i)) if is_partitioned(&i.definition));
    let mut work: Vec<ObjectId> = nodes
        .iter()
        .filter(|(id, n)| {
            id.kind == ObjectKind::Index && n.creates() && !n.created_implicitly && partitioned(id)
        })
        .map(|(id, _)| id.clone())
        .collect();
    while let Some(parent) = work.pop() {
        let children: Vec<ObjectId> = target_graph
            .dependents(&parent)
            .map(|(child, _)| child)
            .filter(|child| {
                matches!(ctx.target.objects.get(*child), Some(Object::Index(i)) if i.inherited)
            })
            .cloned()
            .collect();
        let mut after = Vec::new();
        for child in children {
            if let Some(Object::Index(index)) = ctx.target.objects.get(&child) {
                let partition =
                    ObjectId::new(ObjectKind::Partition, &index.table.0, &index.table.1);
                if nodes.get(&partition).is_some_and(Node::creates) {
                    after.push((partition, Phase::Create));
                }
            }
            match nodes.get_mut(&child) {
                Some(node) if node.creates() => {
                    node.created_implicitly = false;
                    node.created_by = None;
                    node.attach_to = Some(parent.clone());
                    if partitioned(&child) {
                        work.push(child);
                    }
                }
                Some(node) => node.alter.push(attach_statement(&parent, &child)),
                None => {
                    let mut node = Node::new(State::Alter);
                    node.alter.push(attach_statement(&parent, &child));
                    nodes.insert(child, node);
                }
            }
        }
        if let Some(node) = nodes.get_mut(&parent) {
            node.after.extend(after);
        }
    }
}

/// Makes the partitions' indexes that PostgreSQL creates by itself (a partition created or
/// attached under an existing partitioned index) be renamed to the target's names.
pub(super) fn rename_partition_indexes(
    ctx: &DiffContext,
    target_graph: &Graph,
    nodes: &mut BTreeMap<ObjectId, Node>,
) {
    let mut renames = Vec::new();
    for (id, node) in nodes.iter() {
        if id.kind != ObjectKind::Index || !node.creates() || !node.created_implicitly {
            continue;
        }
        if node.created_by.is_some() {
            continue;
        }
        let Some(Object::Index(index)) = ctx.target.objects.get(id) else {
            continue;
        };
        if !index.inherited {
            continue;
        }
        let parent = target_graph
            .dependencies(id)
            .map(|(to, _)| to)
            .find(|to| to.kind == ObjectKind::Index)
            .cloned();
        if let Some(parent) = parent {
            let partition = ObjectId::new(ObjectKind::Partition, &index.table.0, &index.table.1);
            let attached = nodes.get(&partition).is_some_and(Node::creates);
            renames.push((id.clone(), parent, attached.then_some(partition)));
        }
    }
    for (id, parent, partition) in renames {
        if let Some(node) = nodes.get_mut(&id) {
            node.rename_under = Some(parent);
            node.after.extend(partition.map(|p| (p, Phase::Create)));
        }
    }
}

/// Renames the index PostgreSQL made for `child`'s table under `parent` to `child`'s name
/// (a `DO` block: PostgreSQL chose the name).
pub(super) fn rename_statement(
    parent: &ObjectId,
    child: &ObjectId,
    table: &(String, String),
) -> Stmt {
    Stmt::new(format!(
        "DO $spawn$DECLARE made name; BEGIN \
         SELECT c.relname INTO made FROM pg_catalog.pg_inherits h \
         JOIN pg_catalog.pg_index x ON x.indexrelid = h.inhrelid \
         JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid \
         WHERE h.inhparent = {}::pg_catalog.regclass AND x.indrelid = {}::pg_catalog.regclass; \
         IF made IS DISTINCT FROM {} THEN \
         EXECUTE pg_catalog.format('ALTER INDEX %I.%I RENAME TO %I', {}, made, {}); \
         END IF; END$spawn$",
        literal(&qualified(&parent.schema, &parent.name)),
        literal(&qualified(&table.0, &table.1)),
        literal(&child.name),
        literal(&child.schema),
        literal(&child.name),
    ))
}
