//! Dependencies between inspected objects, from `pg_depend` (one query).
//!
//! The query runs first and returns bare OIDs: it also tells which objects belong to an
//! extension, which every later query leaves out. Its rows are translated into identities
//! at the end, once every object's OID is known.

use super::{Catalog, Cols, FastMap, Inspector};
use crate::model::{DepKind, Dependency, ObjectId};
use crate::SchemaError;

/// Every normal, automatic and extension dependency between user objects (OIDs ≥ 16384).
/// Rules stand for their relation. For members of extensions (`deptype = 'e'`), the array
/// type of a member type comes along: it belongs to the extension too.
const DEPEND_SQL: &str = "\
SELECT
  CASE WHEN r.oid IS NULL THEN d.classid::int8 ELSE 1259 END,
  coalesce(r.ev_class, d.objid)::int8,
  CASE WHEN r.oid IS NULL THEN d.objsubid ELSE 0 END,
  CASE WHEN rr.oid IS NULL THEN d.refclassid::int8 ELSE 1259 END,
  coalesce(rr.ev_class, d.refobjid)::int8,
  CASE WHEN rr.oid IS NULL THEN d.refobjsubid ELSE 0 END,
  d.deptype::text,
  mt.typarray::int8
FROM pg_depend d
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
LEFT JOIN pg_rewrite rr ON d.refclassid = 'pg_rewrite'::regclass AND rr.oid = d.refobjid
LEFT JOIN pg_type mt ON d.deptype = 'e' AND d.classid = 'pg_type'::regclass AND mt.oid = d.objid
WHERE d.deptype IN ('n', 'a', 'e') AND d.objid >= 16384 AND d.refobjid >= 16384
  AND cardinality($1::text[]) >= 0 AND cardinality($2::text[]) >= 0
  AND cardinality($3::int8[]) >= 0";

/// One row of `pg_depend`: (catalog OID, object OID, sub-id) of both ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawDep {
    from: (i64, i64, i32),
    to: (i64, i64, i32),
    automatic: bool,
}

impl Inspector {
    /// Reads `pg_depend`: keeps the dependencies for [`Inspector::dependencies`] and records
    /// the members of extensions.
    pub(super) async fn read_dependencies(&mut self) -> Result<(), SchemaError> {
        let rows = self.fetch("dependencies", DEPEND_SQL).await?;
        self.raw_deps.reserve(rows.len());
        for row in &rows {
            let c = Cols::new(row, "dependencies");
            let from = (c.get(0)?, c.get(1)?, c.get(2)?);
            let to = (c.get(3)?, c.get(4)?, c.get(5)?);
            match c.get::<&str>(6)? {
                "e" => {
                    self.member_of.insert((from.0, from.1), to.1);
                    if let Some(array) = c.get::<Option<i64>>(7)?.filter(|a| *a != 0) {
                        self.member_of.insert((from.0, array), to.1);
                    }
                }
                kind => self.raw_deps.push(RawDep {
                    from,
                    to,
                    automatic: kind == "a",
                }),
            }
        }
        self.members = self
            .member_of
            .keys()
            .map(|(catalog, oid)| catalog << 32 | oid)
            .collect();
        self.members.sort_unstable();
        Ok(())
    }

    /// Translates the dependencies read by [`Inspector::read_dependencies`] into identities.
    ///
    /// Objects are numbered in identity order, so edges are sorted and deduplicated as pairs
    /// of integers (no string comparisons) and come out in the order [`Schema::dependencies`]
    /// promises. Edges to or from objects that were not inspected are left out.
    ///
    /// [`Schema::dependencies`]: crate::model::Schema::dependencies
    pub(super) fn dependencies(&mut self) -> Result<(), SchemaError> {
        let ids: Vec<&ObjectId> = self.schema.objects.keys().collect();
        let rank: FastMap<&ObjectId, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let extra = std::mem::take(&mut self.extra_deps);
        let inherited = std::mem::take(&mut self.inherited_from);
        let raw = std::mem::take(&mut self.raw_deps);
        let mut edges: Vec<(u32, u32, DepKind)> =
            Vec::with_capacity(extra.len() + inherited.len() + raw.len());
        let mut push = |from: Option<&ObjectId>, to: Option<&ObjectId>, kind: DepKind| {
            if let (Some(from), Some(to)) =
                (from.and_then(|f| rank.get(f)), to.and_then(|t| rank.get(t)))
            {
                if from != to {
                    edges.push((*from, *to, kind));
                }
            }
        };
        for dep in &extra {
            push(Some(&dep.from), Some(&dep.to), dep.kind);
        }
        for (id, catalog, parent) in &inherited {
            push(
                Some(id),
                self.oids.get(&(*catalog, *parent, 0)),
                DepKind::Auto,
            );
        }
        for dep in &raw {
            // What belongs to an extension stands for the extension.
            let to = match self.member_of.get(&(dep.to.0, dep.to.1)) {
                Some(ext) => self.oids.get(&(Catalog::Extension, *ext, 0)),
                None => self.resolve(dep.to),
            };
            let kind = if dep.automatic {
                DepKind::Auto
            } else {
                DepKind::Normal
            };
            push(self.resolve(dep.from), to, kind);
        }
        edges.sort_unstable();
        // One edge per pair: the first in (from, to, kind) order, so a normal dependency
        // wins over an automatic one.
        edges.dedup_by(|later, earlier| later.0 == earlier.0 && later.1 == earlier.1);
        let dependencies = edges
            .into_iter()
            .map(|(from, to, kind)| Dependency {
                from: ids[from as usize].clone(),
                to: ids[to as usize].clone(),
                kind,
            })
            .collect();
        self.schema.dependencies = dependencies;
        Ok(())
    }

    fn resolve(&self, (catalog, oid, sub): (i64, i64, i32)) -> Option<&ObjectId> {
        let catalog = Catalog::from_oid(catalog)?;
        self.oids.get(&(catalog, oid, sub)).or_else(|| {
            if sub != 0 {
                self.oids.get(&(catalog, oid, 0))
            } else {
                None
            }
        })
    }
}
