//! `spawn test new|build|run|expect|compare`: the project's SQL regression tests.
//!
//! Tests are rendered through spawn-build (like migrations, from the working tree), checked
//! for meta-commands spawn cannot run before anything runs, and run by spawn-sqltest against
//! copies of a template database migrated for the target's environment.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use spawn_build::project::{PinPolicy, VariablesSource};
use spawn_build::sql_tests::SqlTest;
use spawn_runtime::Migrator;
use spawn_sqltest::report::{junit_xml, unified_diff, JunitCase};
use spawn_sqltest::runner::{self, RunConfig, TemplateState, TestCase, TestOutcome};
use spawn_sqltest::wire::ConnectTarget;

use crate::cli::{TestCommand, TestRunArgs};
use crate::commands::CommandContext;
use crate::exit::{CmdResult, Exit, ERROR, INTERRUPTED};
use crate::output::Paint;
use crate::project::{render_all, CliProject};

/// What `run`, `expect` and `compare` do with the outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Expect,
    Compare,
}

pub async fn run(ctx: &CommandContext<'_>, cmd: &TestCommand) -> CmdResult {
    match cmd {
        TestCommand::New { name } => new(ctx, name),
        TestCommand::Build { name, variables } => build(ctx, name, variables.as_deref()),
        TestCommand::Run(args) => run_tests(ctx, args, Mode::Run).await,
        TestCommand::Expect(args) => run_tests(ctx, args, Mode::Expect).await,
        TestCommand::Compare(args) => run_tests(ctx, args, Mode::Compare).await,
    }
}

fn new(ctx: &CommandContext<'_>, name: &str) -> CmdResult {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        crate::fail!("test name {name:?}: use letters, digits, `-` and `_` only");
    }
    let proj = ctx.project()?;
    let dir = proj.project.layout.tests_dir().join(name);
    if dir.exists() {
        crate::fail!(
            "{} exists already; nothing was overwritten. Choose another name, or edit its test.sql",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let test_sql = dir.join("test.sql");
    let text = format!(
        "{{# tests/{name}/test.sql\n   \
         A minijinja template rendered like a migration ({{% include %}}, {{{{ env }}}}, {{{{ variables }}}}).\n   \
         It runs against a copy of the migrated database; its output must match ./expected\n   \
         (write that with `spawn test expect {name}`). -#}}\n\
         SELECT 1 AS one;\n"
    );
    std::fs::write(&test_sql, text).with_context(|| format!("writing {}", test_sql.display()))?;
    ctx.out.success(format!("Created {}", test_sql.display()));
    ctx.out.line(format!(
        "Edit it, see its output with `spawn test run {name}`, then record it with `spawn test expect {name}`."
    ));
    Ok(())
}

fn build(ctx: &CommandContext<'_>, name: &str, variables: Option<&Path>) -> CmdResult {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let test = find_tests(&proj, &[name.to_owned()])?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no test named {name}"))?;
    let sql = render_test(
        &mut proj,
        &test,
        &target.environment,
        target.variables.as_deref(),
    )?;
    ctx.out.data(format!("{sql}\n"));
    Ok(())
}

/// The tests `names` select (names or globs), every test when none is given.
fn find_tests(proj: &CliProject, names: &[String]) -> Result<Vec<SqlTest>> {
    let all = proj.project.sql_tests().map_err(|e| anyhow!("{e}"))?;
    if names.is_empty() {
        if all.is_empty() {
            bail!(
                "no tests in {}: create one with `spawn test new <name>`",
                proj.project.layout.tests_dir().display()
            );
        }
        return Ok(all);
    }
    let mut chosen: Vec<SqlTest> = Vec::new();
    for name in names {
        let pattern =
            glob::Pattern::new(name).map_err(|e| anyhow!("test name pattern {name:?}: {e}"))?;
        let matched: Vec<&SqlTest> = all.iter().filter(|t| pattern.matches(&t.name)).collect();
        if matched.is_empty() {
            let known: Vec<&str> = all.iter().map(|t| t.name.as_str()).take(10).collect();
            bail!(
                "no test matches {name:?} in {}; the tests are: {}",
                proj.project.layout.tests_dir().display(),
                if known.is_empty() {
                    "(none: `spawn test new <name>` creates one)".to_owned()
                } else {
                    known.join(", ")
                }
            );
        }
        for t in matched {
            if !chosen.iter().any(|c| c.name == t.name) {
                chosen.push(t.clone());
            }
        }
    }
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(chosen)
}

fn render_test(
    proj: &mut CliProject,
    test: &SqlTest,
    environment: &str,
    variables: Option<&Path>,
) -> Result<String> {
    let rendered = proj
        .project
        .render_test(
            test,
            environment,
            &VariablesSource::File(variables.map(Path::to_path_buf)),
        )
        .map_err(|e| anyhow!("{e}"))?;
    Ok(rendered.sql)
}

async fn run_tests(ctx: &CommandContext<'_>, args: &TestRunArgs, mode: Mode) -> CmdResult {
    let out = ctx.out;
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, args.variables.as_deref())?;
    let tests = find_tests(&proj, &args.names)?;

    // Render and check every test before anything runs.
    let mut cases = Vec::with_capacity(tests.len());
    let mut problems = Vec::new();
    let mut missing_expected = Vec::new();
    for test in &tests {
        let sql = match render_test(
            &mut proj,
            test,
            &target.environment,
            target.variables.as_deref(),
        ) {
            Ok(sql) => sql,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        if let Err(errors) = spawn_sqltest::psql::meta::validate_script(&sql) {
            for e in errors {
                problems.push(format!("{}: {e}", test.test_sql().display()));
            }
            continue;
        }
        let expected = match mode {
            Mode::Compare => match std::fs::read_to_string(test.expected()) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    missing_expected.push(test.name.clone());
                    continue;
                }
                Err(e) => crate::fail!("reading {}: {e}", test.expected().display()),
            },
            Mode::Run | Mode::Expect => None,
        };
        cases.push(TestCase {
            name: test.name.clone(),
            sql,
            expected,
        });
    }
    if !problems.is_empty() {
        crate::fail!(
            "{} test(s) cannot run; nothing was run:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }

    let migrations = render_all(
        &mut proj,
        &target.environment,
        target.variables.as_deref(),
        PinPolicy::WorkingTreeIfUnpinned,
    )?;
    let fingerprint = runner::template::fingerprint(&migrations, &target.environment);
    let migrator = Migrator::new(migrations)
        .tracking_schema(&target.spawn_schema)
        .created_by_app("spawn test");
    let conn = target.connection().await?;
    let password = conn
        .password
        .clone()
        .or_else(|| std::env::var("PGPASSWORD").ok());
    let connect = ConnectTarget::from_options(&conn.options, password)
        .map_err(|e| anyhow!("{e}"))?
        .connect_timeout(Some(conn.connect_timeout));
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let config = RunConfig {
        connect,
        migrate_with: conn.options.clone(),
        template: runner::template_name(&proj.project.layout.spawn_folder, &target.environment),
        environment: target.environment.clone(),
        jobs,
        keep_failed: args.keep,
        always_own_database: false,
    };

    let started = Instant::now();
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| anyhow!("cannot listen for Ctrl-C: {e}; nothing was run"))?;
    let stop = async move {
        interrupts.recv().await;
    };
    let report = |outcome: &TestOutcome| {
        if mode == Mode::Compare {
            report_outcome(ctx, outcome);
        }
    };
    let result = runner::run(&config, &migrator, &fingerprint, cases, report, stop).await;
    let (outcomes, template) = match result {
        Ok(done) => done,
        Err(runner::RunError::Interrupted) => {
            out.error("interrupted: the test databases were dropped");
            return Err(Exit::Code(INTERRUPTED));
        }
        Err(e) => return Err(anyhow!("{}", crate::output::redact(&e.to_string())).into()),
    };
    if template == TemplateState::Built {
        tracing::info!(template = %config.template, "built the test template");
    }

    match mode {
        Mode::Run => {
            for outcome in &outcomes {
                if outcomes.len() > 1 {
                    out.data(format!("-- tests/{}\n", outcome.name));
                }
                out.data(&outcome.output);
            }
            Ok(())
        }
        Mode::Expect => {
            for (outcome, test) in outcomes.iter().zip(&tests) {
                std::fs::write(test.expected(), &outcome.output)
                    .with_context(|| format!("writing {}", test.expected().display()))?;
                out.success(format!("wrote {}", test.expected().display()));
            }
            Ok(())
        }
        Mode::Compare => finish_compare(ctx, args, &outcomes, &missing_expected, started),
    }
}

fn report_outcome(ctx: &CommandContext<'_>, outcome: &TestOutcome) {
    let out = ctx.out;
    match outcome.passed {
        Some(true) => out.line(format!(
            "{} {} ({} ms)",
            out.paint("ok", Paint::Good),
            outcome.name,
            outcome.duration.as_millis()
        )),
        _ => {
            out.line(format!(
                "{} {}",
                out.paint("FAILED", Paint::Bad),
                outcome.name
            ));
        }
    }
}

fn finish_compare(
    ctx: &CommandContext<'_>,
    args: &TestRunArgs,
    outcomes: &[TestOutcome],
    missing_expected: &[String],
    started: Instant,
) -> CmdResult {
    let out = ctx.out;
    let mut junit = Vec::new();
    let mut failed = 0;
    for outcome in outcomes {
        let expected_name = format!("tests/{}", outcome.name);
        let passed = outcome.passed == Some(true);
        let mut failure = None;
        if !passed {
            failed += 1;
            let diff = unified_diff(&expected_name, expected_text(outcome), &outcome.output);
            out.line(format!(
                "\n{} {expected_name}:",
                out.paint("FAILED", Paint::Bad)
            ));
            for line in diff.lines() {
                let kind = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => Some(Paint::Good),
                    Some('-') if !line.starts_with("---") => Some(Paint::Bad),
                    Some('@') => Some(Paint::Attention),
                    _ => None,
                };
                match kind {
                    Some(kind) => out.line(out.paint(line, kind)),
                    None => out.line(line),
                }
            }
            if let Some(db) = &outcome.kept_database {
                out.line(format!("kept its database: {db}"));
            }
            failure = Some(("output differs from expected".to_owned(), diff));
        }
        junit.push(JunitCase {
            name: outcome.name.clone(),
            duration: outcome.duration,
            failure,
            skipped: None,
        });
    }
    for name in missing_expected {
        failed += 1;
        out.line(format!(
            "{} tests/{name}: no expected output; run `spawn test expect {name}` to record it",
            out.paint("FAILED", Paint::Bad)
        ));
        junit.push(JunitCase {
            name: name.clone(),
            duration: std::time::Duration::ZERO,
            failure: Some((
                "no expected output".to_owned(),
                format!("tests/{name}/expected is missing: run `spawn test expect {name}`"),
            )),
            skipped: None,
        });
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit_xml("spawn test", &junit))
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    let passed = junit.len() - failed;
    let summary = format!(
        "{passed} passed, {failed} failed ({:.2} s)",
        started.elapsed().as_secs_f64()
    );
    if failed == 0 {
        out.line(out.paint(&summary, Paint::Good));
        Ok(())
    } else {
        out.line(out.paint(&summary, Paint::Bad));
        Err(Exit::Code(ERROR))
    }
}

/// The expected output a failed outcome was compared with (empty when none).
fn expected_text(outcome: &TestOutcome) -> &str {
    outcome.expected.as_deref().unwrap_or_default()
}
