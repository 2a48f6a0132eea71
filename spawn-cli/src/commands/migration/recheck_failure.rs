//! The message for a generated migration that fails where the re-check applies it. It names
//! the failing statement by file and line (the new `up.sql`, or the component the statement
//! came from), gives PostgreSQL's error, and says what to do. The migrator's advice about
//! resuming a run is left out: it concerns the scratch database, not the user's.

use std::path::{Path, PathBuf};

use spawn_build::source_lines::SourceLines;
use spawn_runtime::MigrateError;

use super::session::migrate_message;

/// What to print when the new migrations (`migrations`: name and `up.sql`; `components`: the
/// component files written with them) failed with `error` in the re-check.
pub fn recheck_failure(
    error: &MigrateError,
    migrations: &[(String, PathBuf)],
    components: &[PathBuf],
) -> String {
    let files: Vec<String> = migrations
        .iter()
        .map(|(_, up)| up.display().to_string())
        .collect();
    let (subject, are, them) = match files.len() {
        1 => ("the generated migration", "is", "it"),
        _ => ("a generated migration", "are", "them"),
    };
    let cause = match error.failure() {
        Some(failure) => {
            let at = failure.statement.as_ref().map(|s| {
                let place = migrations
                    .iter()
                    .find(|(name, _)| *name == failure.name)
                    .map(|(_, up)| {
                        let statement = Statement {
                            first_line: &s.first_line,
                            line: s.line,
                            component: s.component.as_deref(),
                        };
                        place_of(&statement, up, components)
                    })
                    .unwrap_or_else(|| format!("{}, line {}", failure.name, s.line));
                format!("\n  {place}: {}", s.first_line)
            });
            let mut text = format!("{}\n  {}", at.unwrap_or_default(), failure.error);
            if let Some(remark) = &failure.remark {
                text.push_str(&format!("\n  ({remark})"));
            }
            crate::output::redact(&text)
        }
        None => format!(" {}", migrate_message(error)),
    };
    format!(
        "re-check: {subject} fails on the migrations' schema (a scratch database, with the rows \
         the migrations insert):{cause}\n\
         A database the migrations built would refuse it the same way. {} {are} written and \
         pinned: fix {them} (after changing a component, re-pin with `spawn migration pin \
         <name>`), or delete {them}",
        files.join(" and ")
    )
}

/// Where a failed statement is in the rendered migration.
#[derive(Debug, Clone, Copy)]
struct Statement<'a> {
    /// Its first line of text.
    first_line: &'a str,
    /// Its 1-based line in the rendered SQL.
    line: u32,
    /// The component (relative to `components/`) it came from, if not from `up.sql`.
    component: Option<&'a str>,
}

/// `file:line` of the failing statement: its line in `up` (the line of that text nearest to
/// where it rendered), or the component it came from.
fn place_of(statement: &Statement<'_>, up: &Path, components: &[PathBuf]) -> String {
    if let Some(component) = statement.component {
        let path = components
            .iter()
            .find(|p| p.ends_with(component))
            .map_or_else(
                || format!("components/{component}"),
                |p| p.display().to_string(),
            );
        return format!("{path} (included by {})", up.display());
    }
    let source = std::fs::read_to_string(up).unwrap_or_default();
    let line = SourceLines::new(&source)
        .line_of_text(statement.first_line, statement.line)
        .unwrap_or(statement.line);
    format!("{}:{line}", up.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_found_by_its_text_in_up_sql_and_a_component_by_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let up = dir.path().join("up.sql");
        std::fs::write(
            &up,
            "-- header\n\n{% include \"views/a.v.sql\" %}\n\nSELECT 1;\n\nALTER TABLE t VALIDATE \
             CONSTRAINT c;\n",
        )
        .expect("up.sql");
        // Rendered, the include took 4 lines: the statement is on line 10 there.
        let statement = Statement {
            line: 10,
            first_line: "ALTER TABLE t VALIDATE CONSTRAINT c;",
            component: None,
        };
        let component = dir.path().join("components/views/a.v.sql");
        assert_eq!(
            place_of(&statement, &up, std::slice::from_ref(&component)),
            format!("{}:7", up.display())
        );
        let from_component = Statement {
            line: 3,
            component: Some("views/a.v.sql"),
            ..statement
        };
        assert_eq!(
            place_of(&from_component, &up, std::slice::from_ref(&component)),
            format!("{} (included by {})", component.display(), up.display())
        );
    }
}
