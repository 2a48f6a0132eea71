//! The hazards of a project's migrations, placed in their files: what
//! [`compile()`](crate::compile()) warns of (or, for
//! [`Config::deny_hazards`](crate::Config::deny_hazards),
//! fails on) and what `spawn migration hazards` lists.
//!
//! [`project_hazards`] reads compiled migrations in apply order with one
//! [`Scanner`], so that column types and constraints known
//! from earlier migrations make later findings precise, and reports the findings of the
//! migrations chosen (by default, those still being written: not pinned before this run).

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use crate::analyze::hazards::{Finding, Hazard, Scanner};
use crate::layout::Layout;
use crate::project::{origin_of, CompiledMigration};

/// A [`Finding`] in a migration's file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationFinding {
    pub migration: String,
    /// The migration's `up.sql`.
    pub file: PathBuf,
    /// The component the statement's line came from (lines are then lines of the rendered
    /// SQL, not of `up.sql`).
    pub component: Option<String>,
    /// The environments whose render has this finding.
    pub environments: Vec<String>,
    #[serde(flatten)]
    pub finding: Finding,
}

impl fmt::Display for MigrationFinding {
    /// `<file>:<line>: <hazard>: <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.finding.line)?;
        if let Some(component) = &self.component {
            write!(f, " (rendered line, from component {component})")?;
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

/// The findings (allowed ones included) of the migrations for which `report` is true, in
/// order; `migrations` are all of them, in apply order, so that what earlier ones establish
/// is known.
pub fn project_hazards(
    layout: &Layout,
    migrations: &[CompiledMigration],
    report: impl Fn(&CompiledMigration) -> bool,
) -> Vec<MigrationFinding> {
    let mut scanner = Scanner::new();
    let mut out: Vec<MigrationFinding> = Vec::new();
    for migration in migrations {
        let Some(first) = migration.renders.first() else {
            continue;
        };
        if report(migration) {
            let mut seen = HashSet::new();
            for render in &migration.renders {
                let findings = scanner.clone().migration(&render.sql, &render.analysis);
                for finding in findings {
                    let key = (finding.line, finding.hazard, finding.message.clone());
                    if !seen.insert(key) {
                        if let Some(same) = out.iter_mut().rev().find(|f| {
                            f.migration == migration.name
                                && f.finding.line == finding.line
                                && f.finding.hazard == finding.hazard
                        }) {
                            same.environments.push(render.environment.clone());
                        }
                        continue;
                    }
                    out.push(MigrationFinding {
                        migration: migration.name.clone(),
                        file: layout.migration(&migration.name).up_sql(),
                        component: origin_of(&render.origins, finding.line),
                        environments: vec![render.environment.clone()],
                        finding,
                    });
                }
            }
        }
        scanner.migration(&first.sql, &first.analysis);
    }
    out
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
