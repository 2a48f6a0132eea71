//! The dependency graph of one schema, indexed both ways.
//!
//! [`Schema::dependencies`] is sorted by dependent, so the dependencies of an object are a
//! slice found by binary search; a second index, sorted by a hash of the dependency's target,
//! answers "who depends on this" (sorting by hash is a sort of integers; comparing the
//! targets themselves would compare their names).

use std::hash::BuildHasher;

use crate::model::{DepKind, Dependency, ObjectId, Schema};

/// A fixed seed: the order of dependents must not change from one run to the next.
fn target_hash(id: &ObjectId) -> u64 {
    foldhash::fast::FixedState::with_seed(0).hash_one(id)
}

/// Who depends on whom in one schema.
pub(crate) struct Graph<'a> {
    /// Sorted by `from` (as the schema keeps them).
    deps: &'a [Dependency],
    /// (hash of `to`, index into `deps`), sorted: the dependents of an object are found in
    /// the run of its hash, in the order of `deps`.
    by_target: Vec<(u64, u32)>,
}

impl<'a> Graph<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        let deps = schema.dependencies.as_slice();
        let mut by_target: Vec<(u64, u32)> = deps
            .iter()
            .enumerate()
            .map(|(i, d)| (target_hash(&d.to), i as u32))
            .collect();
        by_target.sort_unstable();
        Self { deps, by_target }
    }

    /// The objects that depend on `id`.
    pub fn dependents<'s>(
        &'s self,
        id: &ObjectId,
    ) -> impl Iterator<Item = (&'a ObjectId, DepKind)> + 's {
        let hash = target_hash(id);
        let start = self.by_target.partition_point(|(h, _)| *h < hash);
        let deps = self.deps;
        let id = id.clone();
        self.by_target[start..]
            .iter()
            .take_while(move |(h, _)| *h == hash)
            .map(move |(_, i)| &deps[*i as usize])
            .filter(move |d| d.to == id)
            .map(|d| (&d.from, d.kind))
    }

    /// The objects `id` depends on.
    pub fn dependencies(
        &self,
        id: &ObjectId,
    ) -> impl Iterator<Item = (&'a ObjectId, DepKind)> + 'a {
        let start = self.deps.partition_point(|d| d.from < *id);
        let id = id.clone();
        self.deps[start..]
            .iter()
            .take_while(move |d| d.from == id)
            .map(|d| (&d.to, d.kind))
    }
}
