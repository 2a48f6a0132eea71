//! [`Problems`]: what went wrong while rendering a project, collected so that every problem
//! is listed but each cause only once.
//!
//! Rendering goes on after a problem so that one build lists them all, but one cause often
//! shows up many times: a thousand unpinned migrations, a missing pinned object shared by
//! every migration pinned to it, a bad variables file read for every migration. So:
//!
//! * every "not pinned" becomes one [`BuildError::NotPinned`] naming the count, the first few
//!   migrations and the one command that pins them all;
//! * every report of the same broken pinned object becomes one [`BuildError::PinnedObject`]
//!   naming the migrations pinned to it;
//! * a [`BuildError::Pin`] whose cause was reported already for another migration (pinning
//!   `components/` failed for each) is dropped;
//! * any other problem reported again with the same text is dropped.

use std::collections::HashSet;

use crate::error::BuildError;

/// Problems collected during a run, grouped (see the module documentation).
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<BuildError>,
    /// The text of every problem in `list` other than the two grouped kinds.
    seen: HashSet<String>,
}

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a problem, merging it into the group of its kind or dropping it if the same one
    /// was reported already.
    pub fn push(&mut self, problem: BuildError) {
        match problem {
            BuildError::Many(problems) => problems.into_iter().for_each(|p| self.push(p)),
            BuildError::NotPinned { migrations, hint } => {
                match self
                    .list
                    .iter_mut()
                    .find(|p| matches!(p, BuildError::NotPinned { .. }))
                {
                    Some(BuildError::NotPinned {
                        migrations: group,
                        hint: group_hint,
                    }) => {
                        add_names(group, migrations);
                        if group_hint.is_none() {
                            *group_hint = hint;
                        }
                    }
                    _ => self.list.push(BuildError::NotPinned { migrations, hint }),
                }
            }
            BuildError::PinnedObject { migrations, source } => {
                let text = source.to_string();
                let same = self.list.iter_mut().find_map(|p| match p {
                    BuildError::PinnedObject {
                        migrations: group,
                        source,
                    } if source.to_string() == text => Some(group),
                    _ => None,
                });
                match same {
                    Some(group) => add_names(group, migrations),
                    None => self
                        .list
                        .push(BuildError::PinnedObject { migrations, source }),
                }
            }
            other => {
                let key = match &other {
                    BuildError::Pin { source, .. } => format!("pin: {source}"),
                    other => other.to_string(),
                };
                if self.seen.insert(key) {
                    self.list.push(other);
                }
            }
        }
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: Problems) {
        other.list.into_iter().for_each(|p| self.push(p));
    }

    /// Says what else can be done about unpinned migrations (e.g. `--no-pin`), in the
    /// "not pinned" message.
    pub fn hint_unpinned(&mut self, text: &str) {
        self.list = std::mem::take(&mut self.list)
            .into_iter()
            .map(|p| p.hint_unpinned(text))
            .collect();
    }

    /// The migrations reported as not pinned.
    pub fn unpinned(&self) -> &[String] {
        self.list
            .iter()
            .find_map(|p| match p {
                BuildError::NotPinned { migrations, .. } => Some(migrations.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many problems there are (a group counts once).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The problems, in the order first found.
    pub fn iter(&self) -> impl Iterator<Item = &BuildError> + '_ {
        self.list.iter()
    }

    /// `Err` with every problem (one, or [`BuildError::Many`]), or `Ok` when there is none.
    pub fn into_result(self) -> Result<(), BuildError> {
        match BuildError::from_many(self.list) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl IntoIterator for Problems {
    type Item = BuildError;
    type IntoIter = std::vec::IntoIter<BuildError>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

/// Adds the names not in `group` yet, keeping the order.
fn add_names(group: &mut Vec<String>, names: Vec<String>) {
    for name in names {
        if !group.contains(&name) {
            group.push(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin::{HashAlgorithm, PinError};

    fn not_pinned(name: &str) -> BuildError {
        BuildError::NotPinned {
            migrations: vec![name.to_owned()],
            hint: None,
        }
    }

    #[test]
    fn unpinned_migrations_are_one_problem_naming_the_first_few() {
        let mut problems = Problems::new();
        for i in 0..1000 {
            problems.push(not_pinned(&format!("m{i:04}")));
        }
        assert_eq!(problems.len(), 1);
        assert_eq!(problems.unpinned().len(), 1000);
        problems.hint_unpinned("or pass --no-pin");
        let text = problems.into_result().expect_err("a problem").to_string();
        assert_eq!(
            text,
            "1000 migrations are not pinned (m0000, m0001, m0002 and 997 more); run \
             `spawn migration pin --all` and commit their lock.toml files and pinned/ \
             (or pass --no-pin)"
        );
    }

    #[test]
    fn one_broken_object_is_one_problem_naming_its_migrations() {
        let hash = HashAlgorithm::Sha256.hash(b"x");
        let missing = |m: &str| BuildError::PinnedObject {
            migrations: vec![m.to_owned()],
            source: Box::new(PinError::MissingObject {
                hash,
                path: "pinned/2d/711642".into(),
            }),
        };
        let mut problems = Problems::new();
        for m in ["a", "b", "a", "c", "d"] {
            problems.push(missing(m));
        }
        assert_eq!(problems.len(), 1);
        let text = problems.iter().map(|p| p.to_string()).collect::<String>();
        assert!(text.contains("is missing"), "{text}");
        assert!(
            text.ends_with("(pinned by 4 migrations: a, b, c and 1 more)"),
            "{text}"
        );
    }

    #[test]
    fn one_failure_to_pin_components_is_listed_once() {
        let mut problems = Problems::new();
        for m in ["a", "b", "c"] {
            problems.push(BuildError::Pin {
                migration: m.to_owned(),
                source: PinError::BackslashInName {
                    path: "components/x\\y.sql".into(),
                },
            });
        }
        assert_eq!(problems.len(), 1);
        let text = problems.iter().map(|p| p.to_string()).collect::<String>();
        assert!(text.starts_with("migration a: cannot pin"), "{text}");
    }

    #[test]
    fn the_same_problem_twice_is_listed_once() {
        let mut problems = Problems::new();
        for _ in 0..5 {
            problems.push(BuildError::Environment("bad".into()));
        }
        problems.push(BuildError::Environment("other".into()));
        assert_eq!(problems.len(), 2);
    }
}
