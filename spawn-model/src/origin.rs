//! Which component produced which rendered lines ([`LineOrigin`]), and the lookup of one
//! line's component ([`component_of_line`]), used in build errors and migration failures.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Where a run of rendered lines came from: lines `first_line..` (1-based, up to the next
/// origin's `first_line`) were produced by `component`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineOrigin {
    /// The first rendered line (1-based) of the run.
    pub first_line: u32,
    /// The component, as a path relative to `components/`; `None` for lines produced by the
    /// migration's own `up.sql`.
    pub component: Option<Cow<'static, str>>,
}

impl LineOrigin {
    /// Lines from `first_line` on were produced by the migration's own `up.sql`.
    #[must_use]
    pub const fn from_up_sql(first_line: u32) -> Self {
        Self {
            first_line,
            component: None,
        }
    }

    /// Lines from `first_line` on were produced by `component` (relative to `components/`).
    #[must_use]
    pub fn from_component(first_line: u32, component: impl Into<Cow<'static, str>>) -> Self {
        Self {
            first_line,
            component: Some(component.into()),
        }
    }
}

/// The component that produced rendered line `line` (1-based) according to `origins` (runs
/// in line order): `Some(None)` for the migration's own `up.sql`, `None` when no run covers
/// the line (no origins are known).
#[must_use]
pub fn component_of_line(origins: &[LineOrigin], line: u32) -> Option<Option<&str>> {
    // The runs are in line order: the last one starting at or before `line`.
    let after = origins.partition_point(|o| o.first_line <= line);
    after
        .checked_sub(1)
        .and_then(|i| origins.get(i))
        .map(|o| o.component.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Vec<LineOrigin> {
        vec![
            LineOrigin::from_up_sql(1),
            LineOrigin::from_component(3, "checks/raise.sql"),
            LineOrigin::from_up_sql(5),
            LineOrigin::from_component(8, String::from("tables/orchard.sql")),
        ]
    }

    #[test]
    fn each_line_belongs_to_the_last_run_starting_at_or_before_it() {
        let origins = runs();
        let of = |line| component_of_line(&origins, line);
        assert_eq!(of(1), Some(None));
        assert_eq!(of(2), Some(None));
        assert_eq!(of(3), Some(Some("checks/raise.sql")));
        assert_eq!(of(4), Some(Some("checks/raise.sql")));
        assert_eq!(of(5), Some(None));
        assert_eq!(of(7), Some(None));
        assert_eq!(of(8), Some(Some("tables/orchard.sql")));
        assert_eq!(of(10_000), Some(Some("tables/orchard.sql")));
    }

    #[test]
    fn lines_before_every_run_or_without_runs_are_unknown() {
        assert_eq!(component_of_line(&[], 1), None);
        let late = [LineOrigin::from_component(4, "late.sql")];
        assert_eq!(component_of_line(&late, 0), None);
        assert_eq!(component_of_line(&late, 3), None);
        assert_eq!(component_of_line(&late, 4), Some(Some("late.sql")));
    }
}
