//! The dependency graph of one schema, indexed both ways.
//!
//! [`Schema::dependencies`] is sorted by dependent, so the dependencies of an object are a
//! slice found by binary search; a second, sorted index answers "who depends on this".

use crate::model::{DepKind, Dependency, ObjectId, Schema};

/// Who depends on whom in one schema.
pub(crate) struct Graph<'a> {
    /// Sorted by `from` (as the schema keeps them).
    deps: &'a [Dependency],
    /// Indices into `deps`, sorted by `to`.
    by_target: Vec<u32>,
}

impl<'a> Graph<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        let deps = schema.dependencies.as_slice();
        let mut by_target: Vec<u32> = (0..deps.len() as u32).collect();
        by_target.sort_by(|a, b| deps[*a as usize].to.cmp(&deps[*b as usize].to));
        Self { deps, by_target }
    }

    /// The objects that depend on `id`.
    pub fn dependents<'s>(
        &'s self,
        id: &ObjectId,
    ) -> impl Iterator<Item = (&'a ObjectId, DepKind)> + 's {
        let start = self
            .by_target
            .partition_point(|i| self.deps[*i as usize].to < *id);
        let deps = self.deps;
        let id = id.clone();
        self.by_target[start..]
            .iter()
            .map(move |i| &deps[*i as usize])
            .take_while(move |d| d.to == id)
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
