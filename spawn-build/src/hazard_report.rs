//! The hazards of a project's migrations, placed in their files: what
//! [`compile()`](crate::compile()) warns of (or, for
//! [`Config::deny_hazards`](crate::Config::deny_hazards),
//! fails on) and what `spawn migration hazards` lists.
//!
//! [`project_hazards`] reads compiled migrations in apply order with one
//! [`Scanner`], so that column types and constraints known
//! from earlier migrations make later findings precise, and reports the findings of the
//! migrations chosen (by default, those still being written: not pinned before this run).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::analyze::hazards::{Finding, Hazard, Scanner};
use crate::layout::Layout;
use crate::project::{origin_of, CompiledMigration};
use crate::source_lines::SourceLines;

/// A [`Finding`] in a migration's file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationFinding {
    pub migration: String,
    /// The migration's `up.sql`.
    pub file: PathBuf,
    /// The component the statement's line came from, if not `up.sql`.
    pub component: Option<String>,
    /// The statement's line in `up.sql`, when its first rendered line is found there
    /// (`finding.line` is the line in the rendered SQL, which `{% include %}`s and other
    /// template tags above it shift).
    pub file_line: Option<u32>,
    /// The environments whose render has this finding.
    pub environments: Vec<String>,
    #[serde(flatten)]
    pub finding: Finding,
}

impl fmt::Display for MigrationFinding {
    /// `<file>:<line>: <hazard>: <message>`, or, for a statement not found in `up.sql` as
    /// rendered, `<file> (rendered line <n>[, from component <c>]): …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let line = self.finding.line;
        match (&self.component, self.file_line) {
            (Some(component), _) => write!(
                f,
                "{file} (rendered line {line}, from component {component})"
            )?,
            (None, Some(file_line)) => write!(f, "{file}:{file_line}")?,
            (None, None) => write!(f, "{file} (rendered line {line})")?,
        }
        write!(f, ": {}", self.finding)
    }
}

impl MigrationFinding {
    /// The `cargo:warning` text: the finding and how to accept it.
    pub fn warning(&self) -> String {
        format!(
            "{self} (accept with -- spawn:allow {})",
            self.finding.hazard
        )
    }
}

/// A `-- spawn:allow` name in a migration's file that accepts nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationUnusedAllow {
    pub migration: String,
    /// The migration's `up.sql`.
    pub file: PathBuf,
    /// The comment's line in the rendered SQL.
    pub line: u32,
    /// The comment's line in `up.sql`, when found there.
    pub file_line: Option<u32>,
    /// The component the comment came from, if not `up.sql`.
    pub component: Option<String>,
    pub hazard: Hazard,
}

impl fmt::Display for MigrationUnusedAllow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let line = self.line;
        match (&self.component, self.file_line) {
            (Some(component), _) => write!(
                f,
                "{file} (rendered line {line}, from component {component})"
            )?,
            (None, Some(file_line)) => write!(f, "{file}:{file_line}")?,
            (None, None) => write!(f, "{file} (rendered line {line})")?,
        }
        write!(
            f,
            ": `-- spawn:allow {}` accepts nothing: its statement has no {} hazard; remove it",
            self.hazard, self.hazard
        )
    }
}

/// What [`project_hazards`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectHazards {
    /// Every finding, allowed ones included, in order.
    pub findings: Vec<MigrationFinding>,
    /// `-- spawn:allow` names that accept nothing in any environment.
    pub unused_allows: Vec<MigrationUnusedAllow>,
}

/// The findings of the migrations for which `report` is true, in order; `migrations` are
/// all of them, in apply order, so that what earlier ones establish is known. Migrations
/// after the last one reported are not read: nothing they establish is asked for (so a
/// project whose migrations are all pinned costs a build nothing here, however long its
/// history).
pub fn project_hazards(
    layout: &Layout,
    migrations: &[CompiledMigration],
    report: impl Fn(&CompiledMigration) -> bool,
) -> ProjectHazards {
    let mut scanner = Scanner::new();
    let mut out: Vec<MigrationFinding> = Vec::new();
    let mut unused_allows = Vec::new();
    let Some(last) = migrations.iter().rposition(&report) else {
        return ProjectHazards::default();
    };
    for (index, migration) in migrations[..=last].iter().enumerate() {
        let Some(first) = migration.renders.first() else {
            continue;
        };
        if report(migration) {
            let file = layout.migration(&migration.name).up_sql();
            let source = std::fs::read_to_string(&file).unwrap_or_default();
            let source_lines = SourceLines::new(&source);
            // (line, hazard, message) → index in `out` of its finding (one per migration).
            let mut seen: HashMap<(u32, Hazard, String), usize> = HashMap::new();
            let mut unused: Option<Vec<MigrationUnusedAllow>> = None;
            for render in &migration.renders {
                let rendered: Vec<&str> = render.sql.lines().collect();
                let report = scanner
                    .clone()
                    .migration_report(&render.sql, &render.analysis);
                let here: Vec<MigrationUnusedAllow> = report
                    .unused_allows
                    .iter()
                    .map(|u| {
                        let component = origin_of(&render.origins, u.line);
                        MigrationUnusedAllow {
                            migration: migration.name.clone(),
                            file: file.clone(),
                            line: u.line,
                            file_line: match component {
                                Some(_) => None,
                                None => source_lines.line_of(&rendered, u.line),
                            },
                            component,
                            hazard: u.hazard,
                        }
                    })
                    .collect();
                // Unused only if unused in every environment.
                unused = Some(match unused {
                    None => here,
                    Some(before) => before
                        .into_iter()
                        .filter(|b| {
                            here.iter().any(|h| {
                                h.hazard == b.hazard
                                    && (h.file_line, h.line) == (b.file_line, b.line)
                            })
                        })
                        .collect(),
                });
                for finding in report.findings {
                    let key = (finding.line, finding.hazard, finding.message.clone());
                    if let Some(&same) = seen.get(&key) {
                        out[same].environments.push(render.environment.clone());
                        continue;
                    }
                    seen.insert(key, out.len());
                    let component = origin_of(&render.origins, finding.line);
                    let file_line = match component {
                        Some(_) => None,
                        None => source_lines.line_of(&rendered, finding.line),
                    };
                    out.push(MigrationFinding {
                        migration: migration.name.clone(),
                        file: file.clone(),
                        component,
                        file_line,
                        environments: vec![render.environment.clone()],
                        finding,
                    });
                }
            }
            unused_allows.extend(unused.unwrap_or_default());
        }
        // The last one reported establishes nothing anyone asks for.
        if index < last {
            scanner.learn(&first.sql, &first.analysis);
        }
    }
    ProjectHazards {
        findings: out,
        unused_allows,
    }
}

/// The findings among `findings` that are denied: not allowed, and of a hazard in `deny`.
pub fn denied<'a>(
    findings: &'a [MigrationFinding],
    deny: &'a [Hazard],
) -> impl Iterator<Item = &'a MigrationFinding> + 'a {
    findings
        .iter()
        .filter(move |f| !f.finding.allowed && deny.contains(&f.finding.hazard))
}
