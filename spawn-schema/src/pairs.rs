//! Walking two sequences sorted by identity side by side (a merge join), so that pairing
//! the objects of two schemas costs one comparison per object rather than a tree search.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::iter::Peekable;

use crate::model::{Dependency, ObjectId};

/// The identities of both maps in order, each with its value on either side.
pub(crate) fn pair_up<'a, V, W>(
    left: &'a BTreeMap<ObjectId, V>,
    right: &'a BTreeMap<ObjectId, W>,
) -> impl Iterator<Item = (&'a ObjectId, Option<&'a V>, Option<&'a W>)> {
    let (mut left, mut right) = (left.iter().peekable(), right.iter().peekable());
    std::iter::from_fn(move || {
        let order = match (left.peek(), right.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((l, _)), Some((r, _))) => l.cmp(r),
        };
        Some(match order {
            Ordering::Less => left.next().map(|(id, v)| (id, Some(v), None))?,
            Ordering::Greater => right.next().map(|(id, w)| (id, None, Some(w)))?,
            Ordering::Equal => {
                let (id, v) = left.next()?;
                let (_, w) = right.next()?;
                (id, Some(v), Some(w))
            }
        })
    })
}

/// The dependencies (sorted by dependent, as [`Schema::dependencies`] keeps them) whose
/// dependent is a key of `map`, each with that key's value.
///
/// [`Schema::dependencies`]: crate::model::Schema::dependencies
pub(crate) fn dependencies_of_keys<'a, V>(
    dependencies: &'a [Dependency],
    map: &'a BTreeMap<ObjectId, V>,
) -> impl Iterator<Item = (&'a Dependency, &'a V)> {
    let mut keys: Peekable<_> = map.iter().peekable();
    let mut deps = dependencies.iter();
    // The dependencies of one object are consecutive and share its identity: the answer for
    // the first holds for the rest, without comparing names again.
    let mut last: Option<(&'a ObjectId, Option<&'a V>)> = None;
    std::iter::from_fn(move || loop {
        let dep = deps.next()?;
        if let Some((from, found)) = last {
            if from.same(&dep.from) {
                match found {
                    Some(value) => return Some((dep, value)),
                    None => continue,
                }
            }
        }
        let found = loop {
            let Some((key, value)) = keys.peek() else {
                break None;
            };
            match (*key).cmp(&dep.from) {
                Ordering::Less => {
                    keys.next();
                }
                Ordering::Equal => break Some(*value),
                Ordering::Greater => break None,
            }
        };
        last = Some((&dep.from, found));
        if let Some(value) = found {
            return Some((dep, value));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DepKind, ObjectKind};

    fn id(name: &str) -> ObjectId {
        ObjectId::new(ObjectKind::Table, "s", name)
    }

    #[test]
    fn pairs_both_sides_in_order() {
        let left: BTreeMap<_, _> = [(id("a"), 1), (id("c"), 3), (id("d"), 4)].into();
        let right: BTreeMap<_, _> = [(id("b"), 20), (id("c"), 30), (id("e"), 50)].into();
        let pairs: Vec<_> = pair_up(&left, &right)
            .map(|(k, l, r)| (k.name.to_string(), l.copied(), r.copied()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), Some(1), None),
                ("b".into(), None, Some(20)),
                ("c".into(), Some(3), Some(30)),
                ("d".into(), Some(4), None),
                ("e".into(), None, Some(50)),
            ]
        );
    }

    #[test]
    fn finds_the_dependencies_of_keys() {
        let dep = |from: &str, to: &str| Dependency {
            from: id(from),
            to: id(to),
            kind: DepKind::Normal,
        };
        let deps = vec![
            dep("a", "x"),
            dep("b", "x"),
            dep("b", "y"),
            dep("d", "x"),
            dep("f", "z"),
        ];
        let keys: BTreeMap<_, _> = [(id("b"), 1), (id("c"), 2), (id("f"), 3), (id("g"), 4)].into();
        let found: Vec<_> = dependencies_of_keys(&deps, &keys)
            .map(|(d, v)| (d.from.name.to_string(), d.to.name.to_string(), *v))
            .collect();
        assert_eq!(
            found,
            vec![
                ("b".into(), "x".into(), 1),
                ("b".into(), "y".into(), 1),
                ("f".into(), "z".into(), 3),
            ]
        );
    }
}
