//! Dependencies between inspected objects, from `pg_depend`.
//!
//! The members of extensions are read first (a small query): every later query leaves them
//! out. The dependencies themselves are read as bare OIDs, on a connection of their own
//! while the objects are read on the others, and translated into identities at the end,
//! once every object's OID is known.

use super::{Catalog, Cols, FastMap, Inspector, PG_CLASS, PG_TYPE};
use crate::model::{DepKind, Dependency, IdParts, ObjectId};
use crate::SchemaError;

/// The members of extensions: (catalog OID, object OID, extension OID, and for a type the
/// OID of its array type, which belongs to the extension too). One pass over `pg_depend`.
const MEMBERS_SQL: &str = "\
SELECT d.classid::int8, d.objid::int8, d.refobjid::int8, coalesce(t.typarray, 0)::int8
FROM pg_depend d LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
WHERE d.deptype = 'e' AND d.objid >= 16384 AND d.refobjid >= 16384
  AND cardinality($1::text[]) >= 0 AND cardinality($2::text[]) >= 0
  AND cardinality($3::int8[]) >= 0";

/// Every normal and automatic dependency between user objects (OIDs ≥ 16384), as bare OIDs:
/// no joins, so the plan cannot go wrong on catalogs that were never analysed.
const DEPEND_SQL: &str = "\
SELECT d.classid::int8, d.objid::int8, d.objsubid, d.refclassid::int8, d.refobjid::int8,
  d.refobjsubid, d.deptype = 'a'
FROM pg_depend d
WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384";

/// What the rows of `pg_depend` need translated: the relation of each view's `_RETURN` rule
/// (a view's dependencies are its rule's; other rules are objects of their own), and the
/// operator class or family each member operator and function of one belongs to (its
/// dependencies are the class's or family's).
const DEPEND_AUX_SQL: &str = "\
SELECT 'r', r.oid::int8, r.ev_class::int8 FROM pg_rewrite r
WHERE r.oid >= 16384 AND r.rulename = '_RETURN' AND cardinality($1::text[]) >= 0
  AND cardinality($2::text[]) >= 0 AND cardinality($3::int8[]) >= 0
UNION ALL
SELECT CASE WHEN d.refclassid = 'pg_opclass'::regclass THEN 'c' ELSE 'f' END, d.objid::int8, d.refobjid::int8
FROM pg_depend d
WHERE d.classid IN ('pg_amop'::regclass, 'pg_amproc'::regclass) AND d.objid >= 16384
  AND d.refclassid IN ('pg_opclass'::regclass, 'pg_opfamily'::regclass) AND d.deptype IN ('i', 'a')";

/// `pg_rewrite`'s OID: a rule stands for its relation.
const PG_REWRITE: i64 = 2618;
/// `pg_amop`'s and `pg_amproc`'s OIDs: an operator class's or family's member stands for it.
const PG_AMOP: i64 = 2602;
const PG_AMPROC: i64 = 2603;
/// `pg_opclass`'s and `pg_opfamily`'s OIDs.
const PG_OPCLASS: i64 = 2616;
const PG_OPFAMILY: i64 = 2753;

/// One row of `pg_depend`: (catalog OID, object OID, sub-id) of both ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawDep {
    from: (i64, i64, i32),
    to: (i64, i64, i32),
    automatic: bool,
}

impl Inspector {
    /// Records the members of extensions, which every later query leaves out (`$3`).
    pub(super) async fn read_extension_members(&mut self) -> Result<(), SchemaError> {
        for row in self.fetch("extension members", MEMBERS_SQL).await? {
            let c = Cols::new(&row, "extension members");
            let (catalog, oid, extension): (i64, i64, i64) = (c.get(0)?, c.get(1)?, c.get(2)?);
            self.member_of.insert((catalog, oid), extension);
            let array: i64 = c.get(3)?;
            if array != 0 {
                self.member_of.insert((PG_TYPE, array), extension);
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

    /// Reads `pg_depend`, keeping the dependencies for [`Inspector::dependencies`] with
    /// their ends translated (a view's rule stands for the view, an operator class's member
    /// for the class).
    pub(super) async fn read_dependencies(&mut self) -> Result<(), SchemaError> {
        let rows = self
            .fetch_map("dependencies", DEPEND_SQL, |c| {
                Ok(RawDep {
                    from: (c.get(0)?, c.get(1)?, c.get(2)?),
                    to: (c.get(3)?, c.get(4)?, c.get(5)?),
                    automatic: c.get(6)?,
                })
            })
            .await?;
        self.raw_deps = rows;

        let mut rule_relation: FastMap<i64, i64> = FastMap::default();
        let mut member_owner: FastMap<i64, (i64, i64, i32)> = FastMap::default();
        for row in self
            .fetch("rules and operator class members", DEPEND_AUX_SQL)
            .await?
        {
            let c = Cols::new(&row, "rules and operator class members");
            let (oid, other): (i64, i64) = (c.get(1)?, c.get(2)?);
            match c.get::<&str>(0)? {
                "r" => {
                    rule_relation.insert(oid, other);
                }
                "c" => {
                    member_owner.insert(oid, (PG_OPCLASS, other, 0));
                }
                _ => {
                    member_owner.insert(oid, (PG_OPFAMILY, other, 0));
                }
            }
        }
        let as_relation = |end: &mut (i64, i64, i32)| {
            if end.0 == PG_REWRITE {
                if let Some(relation) = rule_relation.get(&end.1) {
                    *end = (PG_CLASS, *relation, 0);
                }
            } else if end.0 == PG_AMOP || end.0 == PG_AMPROC {
                if let Some(owner) = member_owner.get(&end.1) {
                    *end = *owner;
                }
            }
        };
        for dep in &mut self.raw_deps {
            let loose_member = dep.from.0 == PG_AMOP || dep.from.0 == PG_AMPROC;
            as_relation(&mut dep.from);
            as_relation(&mut dep.to);
            // A family's loose member goes with its operator or function (automatically),
            // the family stays: for the family, what it needs.
            if loose_member && dep.from.0 == PG_OPFAMILY {
                dep.automatic = false;
            }
        }
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
        // Nearly every edge names its ends by the very identities the objects were stored
        // under (clones share their parts): found by address, without reading a name. An
        // equal identity made elsewhere is found by its place in the sorted list.
        let by_address: FastMap<*const IdParts, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.address(), i as u32))
            .collect();
        let rank = |id: &ObjectId| -> Option<u32> {
            by_address
                .get(&id.address())
                .copied()
                .or_else(|| ids.binary_search(&id).ok().map(|i| i as u32))
        };
        let extra = std::mem::take(&mut self.extra_deps);
        let inherited = std::mem::take(&mut self.inherited_from);
        let raw = std::mem::take(&mut self.raw_deps);
        let mut edges: Vec<(u32, u32, DepKind)> =
            Vec::with_capacity(extra.len() + inherited.len() + raw.len());
        let mut push = |from: Option<&ObjectId>, to: Option<&ObjectId>, kind: DepKind| {
            if let (Some(from), Some(to)) = (from.and_then(rank), to.and_then(rank)) {
                if from != to {
                    edges.push((from, to, kind));
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
