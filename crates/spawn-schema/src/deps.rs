//! The dependency graph of one schema, indexed both ways.

use std::collections::HashMap;

use crate::model::{DepKind, ObjectId, Schema};

/// Who depends on whom in one schema (built from [`Schema::dependencies`]).
pub(crate) struct Graph<'a> {
    dependents: HashMap<&'a ObjectId, Vec<(&'a ObjectId, DepKind)>>,
    dependencies: HashMap<&'a ObjectId, Vec<(&'a ObjectId, DepKind)>>,
}

impl<'a> Graph<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        let mut dependents: HashMap<&ObjectId, Vec<(&ObjectId, DepKind)>> = HashMap::new();
        let mut dependencies: HashMap<&ObjectId, Vec<(&ObjectId, DepKind)>> = HashMap::new();
        for dep in &schema.dependencies {
            dependents.entry(&dep.to).or_default().push((&dep.from, dep.kind));
            dependencies.entry(&dep.from).or_default().push((&dep.to, dep.kind));
        }
        Self { dependents, dependencies }
    }

    /// The objects that depend on `id` (sorted by identity: dependencies are sorted).
    pub fn dependents(&self, id: &ObjectId) -> &[(&'a ObjectId, DepKind)] {
        self.dependents.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The objects `id` depends on.
    pub fn dependencies(&self, id: &ObjectId) -> &[(&'a ObjectId, DepKind)] {
        self.dependencies.get(id).map(Vec::as_slice).unwrap_or(&[])
    }
}
