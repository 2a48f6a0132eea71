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

use std::collections::BTreeMap;

use super::{Node, Phase, State};
use crate::deps::Graph;
use crate::diff::{DiffContext, Stmt};
use crate::model::{Object, ObjectId, ObjectKind};
use crate::render::qualified;

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
