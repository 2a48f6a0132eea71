//! SQL callbacks around a migration run ([`Callbacks`]), like Flyway's: the rendered
//! `callbacks/before_migrate.sql`, `after_migrate.sql`, `before_each.sql` and
//! `after_each.sql` of a project, each a [`Callback`].
//!
//! Like migrations they are templates rendered at build time (by `spawn-build`), so the
//! runtime only ever sees finished SQL. `before_each` and `after_each` see the migration's
//! name as the template variable `migration`: a template that uses it is rendered once per
//! migration ([`Callback::migration`] names it), one that does not is rendered once and
//! serves every migration ([`Callbacks::before_each_of`] finds the right one).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::origin::{component_of_line, LineOrigin};
use crate::statement::Statement;

/// Which callback a [`Callback`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallbackKind {
    /// `callbacks/before_migrate.sql`: once, before the first pending migration of a run.
    BeforeMigrate,
    /// `callbacks/after_migrate.sql`: once, after the last migration a run applied.
    AfterMigrate,
    /// `callbacks/before_each.sql`: before each migration, in its transaction.
    BeforeEach,
    /// `callbacks/after_each.sql`: after each migration, in its transaction.
    AfterEach,
}

impl CallbackKind {
    /// Every kind, in the order a run meets them.
    pub const ALL: [CallbackKind; 4] = [
        CallbackKind::BeforeMigrate,
        CallbackKind::BeforeEach,
        CallbackKind::AfterEach,
        CallbackKind::AfterMigrate,
    ];

    /// The template's file name in `callbacks/`, e.g. `before_each.sql`.
    #[must_use]
    pub const fn file_name(self) -> &'static str {
        match self {
            CallbackKind::BeforeMigrate => "before_migrate.sql",
            CallbackKind::AfterMigrate => "after_migrate.sql",
            CallbackKind::BeforeEach => "before_each.sql",
            CallbackKind::AfterEach => "after_each.sql",
        }
    }

    /// The file as messages name it, relative to the spawn folder: `callbacks/before_each.sql`.
    #[must_use]
    pub const fn file(self) -> &'static str {
        match self {
            CallbackKind::BeforeMigrate => "callbacks/before_migrate.sql",
            CallbackKind::AfterMigrate => "callbacks/after_migrate.sql",
            CallbackKind::BeforeEach => "callbacks/before_each.sql",
            CallbackKind::AfterEach => "callbacks/after_each.sql",
        }
    }

    /// The kind whose file name (in `callbacks/`) is `name`.
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.file_name() == name)
    }
}

impl fmt::Display for CallbackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file())
    }
}

/// One rendered callback: its SQL, statements and line origins, like a
/// [`Migration`](crate::Migration)'s. It always runs in a transaction and is never recorded
/// in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// Which callback it is.
    pub kind: CallbackKind,
    /// For `before_each`/`after_each` rendered for one migration (the template uses the
    /// variable `migration`): that migration's name. `None`: it serves every migration.
    pub migration: Option<Cow<'static, str>>,
    /// The rendered SQL.
    pub sql: Cow<'static, str>,
    /// Its statements, in order.
    pub statements: Cow<'static, [Statement]>,
    /// Which component produced which lines (`None`: the callback file itself). May be empty.
    pub origins: Cow<'static, [LineOrigin]>,
}

impl Callback {
    /// A callback of `kind` serving every migration, executing `sql` whose statements are
    /// given; no line origins.
    #[must_use]
    pub fn new(
        kind: CallbackKind,
        sql: impl Into<Cow<'static, str>>,
        statements: impl Into<Cow<'static, [Statement]>>,
    ) -> Self {
        Self {
            kind,
            migration: None,
            sql: sql.into(),
            statements: statements.into(),
            origins: Cow::Borrowed(&[]),
        }
    }

    /// The text of one statement (without its `;`), or `""` for a span outside the SQL.
    #[must_use]
    pub fn statement_sql(&self, statement: &Statement) -> &str {
        statement.text(&self.sql)
    }

    /// The component that produced `line` (1-based, of the rendered SQL), if known:
    /// `Some(None)` for the callback file itself, `None` when there are no origins.
    #[must_use]
    pub fn origin_of_line(&self, line: u32) -> Option<Option<&str>> {
        component_of_line(&self.origins, line)
    }

    /// How many lines the rendered SQL has (at least 1).
    #[must_use]
    pub fn line_count(&self) -> u32 {
        let newlines = self.sql.matches('\n').count();
        u32::try_from(newlines + 1).unwrap_or(u32::MAX)
    }
}

/// The callbacks of a migration set, as rendered for one environment. The default is none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callbacks {
    /// `callbacks/before_migrate.sql`, if the project has one.
    pub before_migrate: Option<Callback>,
    /// `callbacks/after_migrate.sql`, if the project has one.
    pub after_migrate: Option<Callback>,
    /// `callbacks/before_each.sql`: one render serving every migration, or one per migration.
    pub before_each: Cow<'static, [Callback]>,
    /// `callbacks/after_each.sql`: one render serving every migration, or one per migration.
    pub after_each: Cow<'static, [Callback]>,
}

impl Callbacks {
    /// No callbacks (a `const` for static data).
    pub const NONE: Callbacks = Callbacks {
        before_migrate: None,
        after_migrate: None,
        before_each: Cow::Borrowed(&[]),
        after_each: Cow::Borrowed(&[]),
    };

    /// Whether there is no callback at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.before_migrate.is_none()
            && self.after_migrate.is_none()
            && self.before_each.is_empty()
            && self.after_each.is_empty()
    }

    /// `before_each` as rendered for migration `name`, if there is one.
    #[must_use]
    pub fn before_each_of(&self, name: &str) -> Option<&Callback> {
        for_migration(&self.before_each, name)
    }

    /// `after_each` as rendered for migration `name`, if there is one.
    #[must_use]
    pub fn after_each_of(&self, name: &str) -> Option<&Callback> {
        for_migration(&self.after_each, name)
    }
}

/// The render of `renders` for migration `name`, else the one serving every migration.
fn for_migration<'c>(renders: &'c [Callback], name: &str) -> Option<&'c Callback> {
    renders
        .iter()
        .find(|c| c.migration.as_deref() == Some(name))
        .or_else(|| renders.iter().find(|c| c.migration.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::Recovery;

    const ONE: &[Statement] = &[Statement {
        start: 0,
        end: 8,
        line: 1,
        recovery: Recovery::Transactional,
    }];

    static STATIC: Callbacks = Callbacks {
        before_migrate: Some(Callback {
            kind: CallbackKind::BeforeMigrate,
            migration: None,
            sql: Cow::Borrowed("SELECT 1;"),
            statements: Cow::Borrowed(ONE),
            origins: Cow::Borrowed(&[]),
        }),
        after_migrate: None,
        before_each: Cow::Borrowed(&[]),
        after_each: Cow::Borrowed(&[]),
    };

    #[test]
    fn each_callbacks_are_found_by_migration_or_shared() {
        let per = |name: &'static str, sql: &'static str| Callback {
            migration: Some(Cow::Borrowed(name)),
            ..Callback::new(CallbackKind::AfterEach, sql, ONE)
        };
        let callbacks = Callbacks {
            after_each: Cow::Owned(vec![per("a", "SELECT 'a';"), per("b", "SELECT 'b';")]),
            before_each: Cow::Owned(vec![Callback::new(
                CallbackKind::BeforeEach,
                "SELECT 0;",
                ONE,
            )]),
            ..Callbacks::default()
        };
        assert_eq!(callbacks.after_each_of("b").unwrap().sql, "SELECT 'b';");
        assert!(callbacks.after_each_of("c").is_none());
        assert_eq!(callbacks.before_each_of("zzz").unwrap().sql, "SELECT 0;");
        assert!(!callbacks.is_empty() && Callbacks::NONE.is_empty());
    }

    #[test]
    fn kinds_name_their_files() {
        assert_eq!(
            CallbackKind::from_file_name("after_each.sql"),
            Some(CallbackKind::AfterEach)
        );
        assert_eq!(CallbackKind::from_file_name("afterEach.sql"), None);
        assert_eq!(
            CallbackKind::BeforeMigrate.to_string(),
            "callbacks/before_migrate.sql"
        );
    }

    #[test]
    fn static_callbacks_round_trip_through_serde() {
        let json = serde_json::to_string(&STATIC).expect("serialize");
        let back: Callbacks = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, STATIC);
        let c = STATIC.before_migrate.as_ref().unwrap();
        assert_eq!(c.statement_sql(&c.statements[0]), "SELECT 1");
        assert_eq!(c.line_count(), 1);
        assert_eq!(c.origin_of_line(1), None);
    }
}
