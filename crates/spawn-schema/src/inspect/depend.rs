//! Dependencies between inspected objects, from `pg_depend` (one query).

use super::{Catalog, Cols, Inspector};
use crate::model::{DepKind, Dependency, ObjectId};
use crate::SchemaError;

/// Every normal and automatic dependency between user objects. Rules stand for their view,
/// column defaults for their column, array types for their element type, and members of an
/// extension for the extension.
const DEPEND_SQL: &str = "\
SELECT
  CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 'pg_class'
       ELSE d.classid::regclass::text END,
  CASE WHEN d.classid = 'pg_rewrite'::regclass THEN r.ev_class::int8
       WHEN d.classid = 'pg_attrdef'::regclass THEN ad.adrelid::int8
       ELSE d.objid::int8 END,
  CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 0
       WHEN d.classid = 'pg_attrdef'::regclass THEN ad.adnum::int4
       ELSE d.objsubid END,
  CASE WHEN e.refobjid IS NOT NULL THEN 'pg_extension'
       WHEN d.refclassid = 'pg_rewrite'::regclass THEN 'pg_class'
       ELSE d.refclassid::regclass::text END,
  CASE WHEN e.refobjid IS NOT NULL THEN e.refobjid::int8
       WHEN d.refclassid = 'pg_rewrite'::regclass THEN rr.ev_class::int8
       WHEN d.refclassid = 'pg_attrdef'::regclass THEN rad.adrelid::int8
       ELSE x.refoid::int8 END,
  CASE WHEN e.refobjid IS NOT NULL OR d.refclassid = 'pg_rewrite'::regclass THEN 0
       WHEN d.refclassid = 'pg_attrdef'::regclass THEN rad.adnum::int4
       ELSE d.refobjsubid END,
  d.deptype::text
FROM pg_depend d
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
LEFT JOIN pg_rewrite rr ON d.refclassid = 'pg_rewrite'::regclass AND rr.oid = d.refobjid
LEFT JOIN pg_attrdef rad ON d.refclassid = 'pg_attrdef'::regclass AND rad.oid = d.refobjid
LEFT JOIN pg_type at ON d.refclassid = 'pg_type'::regclass AND at.oid = d.refobjid
     AND at.typcategory = 'A' AND at.typelem <> 0
CROSS JOIN LATERAL (SELECT coalesce(at.typelem, d.refobjid) AS refoid) x
LEFT JOIN pg_depend e ON e.classid = d.refclassid AND e.objid = x.refoid AND e.deptype = 'e'
WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384
  AND cardinality($1::text[]) >= 0 AND cardinality($2::text[]) >= 0";

impl Inspector {
    pub(super) async fn dependencies(&mut self) -> Result<(), SchemaError> {
        let rows = self.fetch("dependencies", DEPEND_SQL).await?;
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
        deps.reserve(rows.len());
        for row in &rows {
            let c = Cols::new(row, "dependencies");
            let (Some(from), Some(to)) = (
                self.resolve(&c.get::<String>(0)?, c.get(1)?, c.get(2)?),
                self.resolve(&c.get::<String>(3)?, c.get(4)?, c.get(5)?),
            ) else {
                continue;
            };
            if from == to {
                continue;
            }
            let kind = if c.get::<String>(6)? == "a" {
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

    fn resolve(&self, catalog: &str, oid: i64, sub: i32) -> Option<ObjectId> {
        let catalog = Catalog::from_name(catalog)?;
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
