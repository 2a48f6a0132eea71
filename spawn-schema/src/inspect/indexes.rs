//! Indexes: read as their catalog parts on either connection, their definitions composed
//! once the table columns are known (see [`indexdef`](super::indexdef)), and asked of
//! `pg_get_indexdef` only where composing cannot be sure.

use super::copyout::CopyCols;
use super::exprdef::{ExprNeeds, Routine, TypeInfo};
use super::indexdef::{IndexTrees, Needs, OpClass, Outcome, RawIndex, Support, TypeFacts};
use super::{not_extension_member, ns_filter, query_error, Catalog, Cols, Inspector};
use crate::model::{Index, Object, ObjectKind};
use crate::SchemaError;

/// An `int2vector` or `oidvector` (sent as text: as arrays they would start at 0, which the
/// driver does not decode).
fn numbers<T: std::str::FromStr>(c: &CopyCols<'_>, index: usize) -> Result<Vec<T>, SchemaError> {
    let text: String = c.get(index)?;
    text.split_whitespace()
        .map(|n| {
            n.parse().map_err(|_| SchemaError::Query {
                what: "indexes",
                source: sqlx::Error::Decode(format!("unexpected vector element {n:?}").into()),
            })
        })
        .collect()
}

/// The statistics targets of an index's columns, read as `number=target` strings.
fn index_statistics(items: Option<Vec<String>>) -> Vec<(i32, i32)> {
    items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let (number, target) = item.split_once('=')?;
            Some((number.parse().ok()?, target.parse().ok()?))
        })
        .collect()
}

/// Rounds of facts read on demand (a domain over a domain needs one per level) before the
/// server is asked instead.
const FACT_ROUNDS: usize = 3;

/// Below this many definitions, [`Inspector::compose_all`] composes on one thread (starting a
/// second costs more than it saves).
const PARALLEL_FROM: usize = 1_000;

/// Runs `pass` over `items` (with the index of the first item it gets): over two halves on two
/// threads when there are enough items and cores, else over all of them here; the facts both
/// halves wait for, merged, and whether any waits.
///
/// Composing definitions is CPU work on data read already; with 6,000 indexes it is a step
/// of its own between the last query and the end of the inspection, which a second core
/// halves.
fn in_parts<T: Send>(
    items: &mut [T],
    pass: impl Fn(usize, &mut [T]) -> (Needs, bool) + Sync,
) -> (Needs, bool) {
    if items.len() < PARALLEL_FROM || cores() < 2 {
        return pass(0, items);
    }
    let middle = items.len() / 2;
    let (first, second) = items.split_at_mut(middle);
    let ((mut needs, waiting), (more, more_waiting)) = std::thread::scope(|scope| {
        let other = scope.spawn(|| pass(middle, second));
        let mine = pass(0, first);
        let theirs = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (mine, theirs)
    });
    needs.extend(more);
    (needs, waiting || more_waiting)
}

/// The cores this process may use, asked once (on Linux the answer reads the cgroup's files).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// How many definitions [`Inspector::compose_all`] composes first, to learn the facts most of
/// the others wait for too.
const SAMPLE: usize = 100;

impl Inspector {
    /// The operator classes and reserved words index definitions are composed with (see
    /// [`indexdef`](super::indexdef)).
    pub(super) async fn index_support(&mut self) -> Result<(), SchemaError> {
        let rows = self
            .fetch_unfiltered(
                "operator classes",
                "SELECT oc.oid::int8, oc.opcmethod::int8, oc.opcintype::int8, oc.opcdefault, oc.opckeytype <> 0, \
                 CASE WHEN n.nspname = 'pg_catalog' THEN quote_ident(oc.opcname) \
                      ELSE quote_ident(n.nspname) || '.' || quote_ident(oc.opcname) END, \
                 t.typtype = 'd', \
                 CASE WHEN t.typtype = 'p' AND t.typnamespace = 'pg_catalog'::regnamespace THEN t.typname::text END, \
                 t.typcategory::text, t.typispreferred, \
                 EXISTS (SELECT FROM pg_amproc p JOIN pg_am a ON a.oid = oc.opcmethod \
                         WHERE p.amprocfamily = oc.opcfamily AND p.amprocnum = CASE a.amname \
                           WHEN 'btree' THEN 5 WHEN 'hash' THEN 3 WHEN 'gist' THEN 10 \
                           WHEN 'gin' THEN 7 WHEN 'spgist' THEN 7 WHEN 'brin' THEN 5 END) \
                 FROM pg_opclass oc JOIN pg_namespace n ON n.oid = oc.opcnamespace \
                 JOIN pg_type t ON t.oid = oc.opcintype",
            )
            .await?;
        let mut opclasses = Vec::with_capacity(rows.len());
        for row in &rows {
            let c = Cols::new(row, "operator classes");
            opclasses.push((
                c.get(0)?,
                OpClass {
                    method: c.get(1)?,
                    input_type: c.get(2)?,
                    is_default: c.get(3)?,
                    has_key_type: c.get(4)?,
                    printed: c.get(5)?,
                    input_is_domain: c.get(6)?,
                    input_pseudo: c.get(7)?,
                    input_category: c.get(8)?,
                    input_preferred: c.get(9)?,
                    takes_options: c.get(10)?,
                },
            ));
        }
        let keywords = self
            .fetch_unfiltered(
                "keywords",
                "SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'",
            )
            .await?
            .iter()
            .map(|row| Cols::new(row, "keywords").get::<String>(0))
            .collect::<Result<Vec<_>, _>>()?;
        self.index_support = Support::new(opclasses, keywords);
        Ok(())
    }

    /// Indexes not backing a constraint, read as their parts: their definitions are composed
    /// once the table columns are known too ([`Inspector::finish_indexes`]).
    pub(super) async fn indexes(&mut self) -> Result<(), SchemaError> {
        let nulls_not_distinct = if self.version >= 150000 {
            "i.indnullsnotdistinct"
        } else {
            "false"
        };
        let sql = format!(
            "SELECT ic.oid::int8, n.nspname::text, ic.relname::text, tn.nspname::text, tc.relname::text, \
             NULL::text, NULL::text[], NULL::text[], \
             h.inhparent::int8, i.indrelid::int8, i.indisunique, {nulls_not_distinct}, am.amname::text, \
             ic.relkind = 'I', i.indnkeyatts::int4, i.indkey::text, i.indclass::text, \
             i.indcollation::text, i.indoption::text, \
             i.indexprs::text, i.indpred::text, ic.reloptions IS NOT NULL, \
             CASE WHEN i.indexprs IS NOT NULL THEN ARRAY(SELECT a.attnum::int4 || '=' || a.attstattarget::int4 \
               FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0 ORDER BY a.attnum) END \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace \
             JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
             JOIN pg_am am ON am.oid = ic.relam \
             LEFT JOIN pg_inherits h ON h.inhrelid = i.indexrelid \
             WHERE tc.relkind IN ('r', 'p', 'm') AND {ns} AND {ext} \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                             AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))",
            ns = ns_filter("n"),
            ext = not_extension_member("pg_class", "tc.oid"),
        );
        let mut rows = self.fetch_copy("indexes", &sql).await?;
        while let Some(c) = rows.next_row()? {
            let oid: i64 = c.get(0)?;
            let (schema, name): (String, String) = (c.get(1)?, c.get(2)?);
            let id = self.id(ObjectKind::Index, &schema, &name, "");
            self.oids.insert((Catalog::Class, oid, 0), id.clone());
            let parent: Option<i64> = c.get(8)?;
            if let Some(parent) = parent {
                self.inherited_from
                    .push((id.clone(), Catalog::Class, parent));
            }
            let raw = RawIndex {
                oid,
                name,
                table_schema: c.get(3)?,
                table_name: c.get(4)?,
                table_oid: c.get(9)?,
                unique: c.get(10)?,
                nulls_not_distinct: c.get(11)?,
                access_method: c.get(12)?,
                partitioned: c.get(13)?,
                key_count: usize::try_from(c.get::<i32>(14)?).unwrap_or(0),
                keys: numbers(&c, 15)?,
                classes: numbers(&c, 16)?,
                collations: numbers(&c, 17)?,
                options: numbers(&c, 18)?,
                has_options: c.get(21)?,
                expression_tree: c.get(19)?,
                predicate: c.get(20)?,
            };
            let index = Index {
                table: (raw.table_schema.clone(), raw.table_name.clone()),
                definition: String::new(),
                inherited: parent.is_some(),
                statistics: index_statistics(c.get(22)?),
                meta: self.meta(&c, 5, Catalog::Class)?,
            };
            self.pending_indexes.push((id, index, raw));
        }
        Ok(())
    }

    /// Composes the definitions of the indexes read, reading the facts they wait for, and
    /// asks `pg_get_indexdef` for the rest; then adds the indexes to the schema.
    pub(super) async fn finish_indexes(&mut self) -> Result<(), SchemaError> {
        let pending = std::mem::take(&mut self.pending_indexes);
        let total = pending.len();
        let trees: Vec<IndexTrees<'_>> = pending
            .iter()
            .map(|(_, _, raw)| IndexTrees::read(raw))
            .collect();
        let compose_one = |ins: &Inspector, i: usize, needs: &mut Needs| {
            ins.index_support
                .compose(&pending[i].2, &trees[i], &ins.column_facts, needs)
        };
        let outcomes = self.compose_all(total, compose_one).await?;
        drop(trees);
        let mut by_server = Vec::new();
        for ((id, mut index, raw), outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Done(definition) => {
                    index.definition = definition;
                    self.insert(id, Object::Index(Box::new(index)));
                }
                _ => by_server.push((id, index, raw.oid)),
            }
        }
        tracing::debug!(
            composed = total - by_server.len(),
            by_server = by_server.len(),
            "index definitions"
        );
        if by_server.is_empty() {
            return Ok(());
        }
        let oids: Vec<i64> = by_server.iter().map(|(_, _, oid)| *oid).collect();
        let mut definitions = self
            .server_definitions("index definitions", "pg_get_indexdef", &oids)
            .await?;
        for (id, mut index, oid) in by_server {
            tracing::trace!(index = %id.name, "index definition asked of the server");
            index.definition = definitions.remove(&oid).unwrap_or_default();
            self.insert(id, Object::Index(Box::new(index)));
        }
        Ok(())
    }

    /// Composes `count` definitions with `compose`, reading the facts they wait for between
    /// passes; a definition still waiting after [`FACT_ROUNDS`] is left to the server. A
    /// sample goes first: the facts it waits for are most often what the others need too, so
    /// that these are composed in one pass rather than waiting once each.
    pub(super) async fn compose_all(
        &mut self,
        count: usize,
        compose: impl Fn(&Inspector, usize, &mut Needs) -> Outcome + Sync,
    ) -> Result<Vec<Outcome>, SchemaError> {
        let mut outcomes: Vec<Option<Outcome>> = Vec::new();
        outcomes.resize_with(count, || None);
        for limit in [SAMPLE.min(count), count] {
            for round in 0..=FACT_ROUNDS {
                let last = round == FACT_ROUNDS;
                let this = &*self;
                let pass = |start: usize, part: &mut [Option<Outcome>]| {
                    let mut needs = Needs::default();
                    let mut waiting = false;
                    for (i, outcome) in part.iter_mut().enumerate() {
                        if outcome.is_some() {
                            continue;
                        }
                        match compose(this, start + i, &mut needs) {
                            Outcome::Waiting if !last => waiting = true,
                            Outcome::Waiting => *outcome = Some(Outcome::Server),
                            decided => *outcome = Some(decided),
                        }
                    }
                    (needs, waiting)
                };
                let (needs, waiting) = in_parts(&mut outcomes[..limit], pass);
                if !waiting {
                    break;
                }
                self.read_facts(needs).await?;
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Outcome::Server))
            .collect())
    }

    /// Reads the facts composed definitions wait for: key types, collation names, and what
    /// expressions use.
    pub(super) async fn read_facts(&mut self, mut needs: Needs) -> Result<(), SchemaError> {
        if needs.is_empty() {
            return Ok(());
        }
        for list in [&mut needs.types, &mut needs.collations] {
            list.sort_unstable();
            list.dedup();
        }
        self.read_expression_facts(std::mem::take(&mut needs.expressions))
            .await?;
        if !needs.types.is_empty() {
            let is_array = if self.version >= 140000 {
                "t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc"
            } else {
                "t.typelem <> 0 AND t.typlen = -1"
            };
            let sql = format!(
                "SELECT t.oid::int8, t.typtype::text, t.typcategory::text, t.typbasetype::int8, \
                 {is_array}, t.typrelid <> 0, \
                 coalesce((SELECT e.typrelid <> 0 FROM pg_type e WHERE e.oid = t.typelem AND {is_array}), false), \
                 ARRAY(SELECT c.casttarget::int8 FROM pg_cast c WHERE c.castsource = t.oid \
                       AND c.castmethod = 'b' AND c.castcontext = 'i') \
                 FROM pg_type t WHERE t.oid = ANY($1::int8[]::oid[])"
            );
            let rows = sqlx::query(&sql)
                .bind(&needs.types)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(query_error("index key types"))?;
            for row in &rows {
                let c = Cols::new(row, "index key types");
                self.index_support.types.insert(
                    c.get(0)?,
                    TypeFacts {
                        typtype: c.get(1)?,
                        category: c.get(2)?,
                        base_type: c.get(3)?,
                        is_array: c.get(4)?,
                        is_composite: c.get(5)?,
                        is_composite_array: c.get(6)?,
                        binary_casts: c.get(7)?,
                    },
                );
            }
        }
        if !needs.collations.is_empty() {
            let rows = sqlx::query(
                "SELECT c.oid::int8, CASE WHEN n.nspname = 'pg_catalog' THEN quote_ident(c.collname) \
                 ELSE quote_ident(n.nspname) || '.' || quote_ident(c.collname) END \
                 FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace \
                 WHERE c.oid = ANY($1::int8[]::oid[])",
            )
            .bind(&needs.collations)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(query_error("index collations"))?;
            for row in &rows {
                let c = Cols::new(row, "index collations");
                self.index_support.collations.insert(c.get(0)?, c.get(1)?);
            }
        }
        Ok(())
    }

    /// Reads the functions, operators and types the expressions being composed use, in one
    /// query.
    async fn read_expression_facts(&mut self, mut needs: ExprNeeds) -> Result<(), SchemaError> {
        if needs.is_empty() {
            return Ok(());
        }
        for list in [&mut needs.functions, &mut needs.operators] {
            list.sort_unstable();
            list.dedup();
        }
        needs.types.sort_unstable();
        needs.types.dedup();
        let (type_oids, typmods): (Vec<i64>, Vec<i32>) = needs.types.iter().copied().unzip();
        let rows = sqlx::query(
            "SELECT 'f', p.oid::int8, 0, p.proname::text, n.nspname::text, ARRAY(SELECT unnest(p.proargtypes)::int8), \
             p.prokind = 'f' AND p.provariadic = 0 \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = ANY($1::int8[]::oid[]) \
             UNION ALL \
             SELECT 'o', o.oid::int8, 0, o.oprname::text, n.nspname::text, ARRAY[o.oprleft, o.oprright]::int8[], \
             o.oprkind IN ('b', 'l') \
             FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE o.oid = ANY($2::int8[]::oid[]) \
             UNION ALL \
             SELECT 't', t.oid::int8, m.typmod, format_type(t.oid, m.typmod), t.typtype::text, \
             ARRAY[CASE WHEN t.typtype = 'b' AND t.typlen = -1 THEN t.typelem ELSE 0 END, t.typcollation]::int8[], true \
             FROM unnest($3::int8[], $4::int4[]) m(oid, typmod) JOIN pg_type t ON t.oid = m.oid::oid",
        )
        .bind(&needs.functions)
        .bind(&needs.operators)
        .bind(&type_oids)
        .bind(&typmods)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(query_error("expression facts"))?;
        let facts = &mut self.index_support.expressions;
        for row in &rows {
            let c = Cols::new(row, "expression facts");
            let kind: &str = c.get(0)?;
            let oid: i64 = c.get(1)?;
            let name: String = c.get(3)?;
            let schema: String = c.get(4)?;
            let numbers: Vec<i64> = c.get(5)?;
            let plain: bool = c.get(6)?;
            match kind {
                "t" => {
                    facts.type_names.insert((oid, c.get(2)?), name);
                    facts.types.insert(
                        oid,
                        TypeInfo {
                            typtype: schema,
                            element: numbers.first().copied().unwrap_or(0),
                            collation: numbers.get(1).copied().unwrap_or(0),
                        },
                    );
                }
                kind => {
                    let routine = Routine {
                        name,
                        schema,
                        arg_types: numbers,
                        plain,
                    };
                    if kind == "f" {
                        facts.functions.insert(oid, routine);
                    } else {
                        facts.operators.insert(oid, routine);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether [`in_parts`] splits work on this machine.
    fn splits() -> bool {
        cores() >= 2
    }

    /// Runs [`in_parts`] over `count` items with a pass that marks each item with its index,
    /// waits for a type numbered by where its part starts, and waits only in a second part.
    fn run(count: usize) -> (Vec<Option<usize>>, Needs, bool) {
        let mut items: Vec<Option<usize>> = vec![None; count];
        let (needs, waiting) = in_parts(&mut items, |start, part| {
            for (i, item) in part.iter_mut().enumerate() {
                assert_eq!(*item, None, "item {} visited twice", start + i);
                *item = Some(start + i);
            }
            let needs = Needs {
                types: vec![start as i64],
                ..Needs::default()
            };
            (needs, start > 0)
        });
        (items, needs, waiting)
    }

    #[test]
    fn many_items_are_each_composed_once_at_their_index_and_both_halves_needs_are_kept() {
        let (items, needs, waiting) = run(2_500);
        assert!(items.iter().enumerate().all(|(i, item)| *item == Some(i)));
        if splits() {
            assert_eq!(needs.types, vec![0, 1_250]);
            assert!(waiting, "the second half's waiting is reported");
        } else {
            assert_eq!(needs.types, vec![0]);
            assert!(!waiting);
        }
    }

    #[test]
    fn few_items_are_composed_in_one_pass() {
        let (items, needs, waiting) = run(PARALLEL_FROM - 1);
        assert!(items.iter().enumerate().all(|(i, item)| *item == Some(i)));
        assert_eq!(needs.types, vec![0]);
        assert!(!waiting);
    }
}
