//! Dependencies between inspected objects, from `pg_depend` (one query).
//!
//! The query runs first and returns bare OIDs: it also tells which objects belong to an
//! extension, which every later query leaves out. Its rows are translated into identities
//! at the end, once every object's OID is known.

use super::{Catalog, Cols, Inspector};
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
    pub(super) fn dependencies(&mut self) -> Result<(), SchemaError> {
        let mut deps = std::mem::take(&mut self.extra_deps);
        for (id, catalog, parent) in std::mem::take(&mut self.inherited_from) {
            if let Some(to) = self.oids.get(&(catalog, parent, 0)) {
                deps.push(Dependency {
                    from: id,
                    to: to.clone(),
                    kind: DepKind::Auto,
                });
            }
        }
        let raw = std::mem::take(&mut self.raw_deps);
        deps.reserve(raw.len());
        for dep in &raw {
            let Some(from) = self.resolve(dep.from) else {
                continue;
            };
            // What belongs to an extension stands for the extension.
            let to = match self.member_of.get(&(dep.to.0, dep.to.1)) {
                Some(ext) => self.oids.get(&(Catalog::Extension, *ext, 0)).cloned(),
                None => self.resolve(dep.to),
            };
            let Some(to) = to else { continue };
            if from == to {
                continue;
            }
            let kind = if dep.automatic {
                DepKind::Auto
            } else {
                DepKind::Normal
            };
            deps.push(Dependency { from, to, kind });
        }
        deps.retain(|d| {
            d.from != d.to
                && self.schema.objects.contains_key(&d.from)
                && self.schema.objects.contains_key(&d.to)
        });
        deps.sort();
        // One edge per pair: an automatic dependency wins over a normal one (it is dropped
        // together with what it depends on).
        deps.dedup_by(|later, earlier| later.from == earlier.from && later.to == earlier.to);
        self.schema.dependencies = deps;
        Ok(())
    }

    fn resolve(&self, (catalog, oid, sub): (i64, i64, i32)) -> Option<ObjectId> {
        let catalog = Catalog::from_oid(catalog)?;
        self.oids
            .get(&(catalog, oid, sub))
            .or_else(|| {
                if sub != 0 {
                    self.oids.get(&(catalog, oid, 0))
                } else {
                    None
                }
            })
            .cloned()
    }
}
