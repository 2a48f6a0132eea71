//! `spawn test new|build|run|expect|compare`: the project's SQL regression tests.
//!
//! Tests are rendered through spawn-build (like migrations, from the working tree), checked
//! for meta-commands spawn cannot run before anything runs, and run by spawn-sqltest against
//! copies of a template database migrated for the target's environment. The tests of a
//! migration's data change (`migrations/<name>/test.sql`, named `migration:<name>`) run with
//! the others, each in a database migrated up to just before its migration.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use spawn_build::project::{PinPolicy, VariablesSource};
use spawn_build::sql_tests::{MigrationTest, SqlTest, MIGRATION_TEST_PREFIX};
use spawn_runtime::Migrator;
use spawn_sqltest::report::{junit_xml, unified_diff, JunitCase};
use spawn_sqltest::runner::{
    self, MigrationTestCase, RunConfig, RunError, TemplateState, TestCase, TestOutcome,
};
use spawn_sqltest::wire::ConnectTarget;
use tokio::sync::watch;

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
        TestCommand::New {
            migration: Some(migration),
            ..
        } => new_migration_test(ctx, migration),
        TestCommand::New {
            name: Some(name), ..
        } => new(ctx, name),
        TestCommand::New { .. } => crate::fail!("give a test name, or --migration <name>"),
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

/// `spawn test new --migration <name>`: `migrations/<name>/test.sql` and a commented
/// `before.sql` (kept when there is one).
fn new_migration_test(ctx: &CommandContext<'_>, migration: &str) -> CmdResult {
    let proj = ctx.project()?;
    let migrations = proj.project.migrations().map_err(|e| anyhow!("{e}"))?;
    let Some(dir) = migrations.into_iter().find(|m| m.name == migration) else {
        crate::fail!(
            "there is no migration {migration:?} in {}; nothing was created. \
             `spawn migration status` lists the migrations (give the folder name, \
             e.g. 20250101000000-{migration})",
            proj.project.layout.migrations_dir().display()
        );
    };
    let test = MigrationTest {
        migration: dir.name,
        dir: dir.dir,
    };
    let test_sql = test.test_sql();
    if test_sql.exists() {
        crate::fail!(
            "{} exists already; nothing was overwritten. Edit it, or remove it first",
            test_sql.display()
        );
    }
    let name = test.name();
    let before_sql = test.before_sql();
    if !before_sql.exists() {
        let text = format!(
            "{{# migrations/{migration}/before.sql (optional)\n   \
             Runs before the migration, in a database migrated up to just before it: seed rows\n   \
             in the old shape here. Its output is not compared; an error in it fails the test. -#}}\n"
        );
        std::fs::write(&before_sql, text)
            .with_context(|| format!("writing {}", before_sql.display()))?;
    }
    let text = format!(
        "{{# migrations/{migration}/test.sql\n   \
         Runs after before.sql and the migration; check the data in its new shape here.\n   \
         Its output must match ./expected (write that with `spawn test expect {name}`). -#}}\n\
         SELECT 1 AS one;\n"
    );
    std::fs::write(&test_sql, text).with_context(|| format!("writing {}", test_sql.display()))?;
    ctx.out.success(format!("Created {}", test_sql.display()));
    ctx.out.line(format!(
        "Seed the old shape in before.sql, check the new one in test.sql, see its output with \
         `spawn test run {name}`, then record it with `spawn test expect {name}`."
    ));
    Ok(())
}

fn build(ctx: &CommandContext<'_>, name: &str, variables: Option<&Path>) -> CmdResult {
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, variables)?;
    let selected = find_tests(&proj, &[name.to_owned()])?;
    if let Some(test) = selected.tests.first() {
        let sql = render_test(
            &mut proj,
            test,
            &target.environment,
            target.variables.as_deref(),
        )?;
        ctx.out.data(format!("{sql}\n"));
    } else if let Some(test) = selected.migrations.first() {
        let (before, sql) = render_migration_test(
            &mut proj,
            test,
            &target.environment,
            target.variables.as_deref(),
        )?;
        if let Some(before) = before {
            ctx.out
                .data(format!("-- before.sql\n{before}\n-- test.sql\n"));
        }
        ctx.out.data(format!("{sql}\n"));
    } else {
        crate::fail!("no test named {name}");
    }
    Ok(())
}

/// The tests a command runs.
#[derive(Debug, Default)]
struct Selected {
    /// `tests/<name>/`.
    tests: Vec<SqlTest>,
    /// `migrations/<name>/test.sql`.
    migrations: Vec<MigrationTest>,
}

/// The tests `names` select (names or globs; `migration:<name>` for a migration's test),
/// every test when none is given.
fn find_tests(proj: &CliProject, names: &[String]) -> Result<Selected> {
    let all = proj.project.sql_tests().map_err(|e| anyhow!("{e}"))?;
    let all_migrations = proj.project.migration_tests().map_err(|e| anyhow!("{e}"))?;
    if names.is_empty() {
        if all.is_empty() && all_migrations.is_empty() {
            bail!(
                "no tests in {}: create one with `spawn test new <name>` \
                 (or a migration's with `spawn test new --migration <name>`)",
                proj.project.layout.tests_dir().display()
            );
        }
        return Ok(Selected {
            tests: all,
            migrations: all_migrations,
        });
    }
    let mut chosen = Selected::default();
    for name in names {
        let pattern =
            glob::Pattern::new(name).map_err(|e| anyhow!("test name pattern {name:?}: {e}"))?;
        let matched: Vec<&SqlTest> = all.iter().filter(|t| pattern.matches(&t.name)).collect();
        let matched_migrations: Vec<&MigrationTest> = all_migrations
            .iter()
            .filter(|t| pattern.matches(&t.name()))
            .collect();
        if matched.is_empty() && matched_migrations.is_empty() {
            let known: Vec<String> = all
                .iter()
                .map(|t| t.name.clone())
                .chain(all_migrations.iter().map(MigrationTest::name))
                .take(10)
                .collect();
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
            if !chosen.tests.iter().any(|c| c.name == t.name) {
                chosen.tests.push(t.clone());
            }
        }
        for t in matched_migrations {
            if !chosen.migrations.iter().any(|c| c.migration == t.migration) {
                chosen.migrations.push(t.clone());
            }
        }
    }
    chosen.tests.sort_by(|a, b| a.name.cmp(&b.name));
    chosen
        .migrations
        .sort_by(|a, b| a.migration.cmp(&b.migration));
    Ok(chosen)
}

/// Where a test's files are, for messages: `tests/<name>` or `migrations/<name>`.
fn folder_label(name: &str) -> String {
    match name.strip_prefix(MIGRATION_TEST_PREFIX) {
        Some(migration) => format!("migrations/{migration}"),
        None => format!("tests/{name}"),
    }
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

/// A migration test's rendered `before.sql` (if any) and `test.sql`.
fn render_migration_test(
    proj: &mut CliProject,
    test: &MigrationTest,
    environment: &str,
    variables: Option<&Path>,
) -> Result<(Option<String>, String)> {
    let rendered = proj
        .project
        .render_migration_test(
            test,
            environment,
            &VariablesSource::File(variables.map(Path::to_path_buf)),
        )
        .map_err(|e| anyhow!("{e}"))?;
    Ok((rendered.before, rendered.test))
}

/// The expected output of a test at `path` (for `compare`); `None` when there is none yet.
fn read_expected(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("reading {}: {e}", path.display())),
    }
}

/// `spawn test compare` with `args` (for `spawn watch`).
pub(crate) async fn compare(ctx: &CommandContext<'_>, args: &TestRunArgs) -> CmdResult {
    run_tests(ctx, args, Mode::Compare).await
}

async fn run_tests(ctx: &CommandContext<'_>, args: &TestRunArgs, mode: Mode) -> CmdResult {
    let out = ctx.out;
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, args.variables.as_deref())?;
    let selected = find_tests(&proj, &args.names)?;

    // Render and check every test before anything runs.
    let mut cases = Vec::with_capacity(selected.tests.len());
    let mut migration_cases = Vec::with_capacity(selected.migrations.len());
    // Where each test's output is recorded (`expect`), by name.
    let mut expected_paths: Vec<(String, PathBuf)> = Vec::new();
    let mut problems = Vec::new();
    let mut missing_expected = Vec::new();
    for test in &selected.tests {
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
            Mode::Compare => match read_expected(&test.expected())? {
                Some(text) => Some(text),
                None => {
                    missing_expected.push(test.name.clone());
                    continue;
                }
            },
            Mode::Run | Mode::Expect => None,
        };
        expected_paths.push((test.name.clone(), test.expected()));
        cases.push(TestCase {
            name: test.name.clone(),
            sql,
            expected,
        });
    }
    for test in &selected.migrations {
        let (before, sql) = match render_migration_test(
            &mut proj,
            test,
            &target.environment,
            target.variables.as_deref(),
        ) {
            Ok(rendered) => rendered,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        let mut valid = true;
        for (script, path) in [
            (before.as_deref(), test.before_sql()),
            (Some(sql.as_str()), test.test_sql()),
        ] {
            if let Some(Err(errors)) = script.map(spawn_sqltest::psql::meta::validate_script) {
                valid = false;
                for e in errors {
                    problems.push(format!("{}: {e}", path.display()));
                }
            }
        }
        if !valid {
            continue;
        }
        let expected = match mode {
            Mode::Compare => match read_expected(&test.expected())? {
                Some(text) => Some(text),
                None => {
                    missing_expected.push(test.name());
                    continue;
                }
            },
            Mode::Run | Mode::Expect => None,
        };
        expected_paths.push((test.name(), test.expected()));
        migration_cases.push(MigrationTestCase {
            name: test.name(),
            migration: test.migration.clone(),
            before,
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
    for case in &migration_cases {
        if !migrations.iter().any(|m| m.name == case.migration) {
            crate::fail!(
                "{}: there is no migration {} (rendered for environment {}); nothing was run",
                case.name,
                case.migration,
                target.environment
            );
        }
    }
    // The SQL callbacks, as `spawn migration apply` and an embedding app run them.
    let variables = match target.variables.as_deref() {
        Some(path) => Some(proj.project.variables(path).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let names: Vec<&str> = migrations.iter().map(|m| &*m.name).collect();
    let callbacks = proj
        .project
        .render_callbacks(&target.environment, variables.as_ref(), &names)
        .map_err(|e| anyhow!("{e}"))?;
    let fingerprint =
        runner::template::fingerprint_with_callbacks(&migrations, &callbacks, &target.environment);
    let tracking_schema = target.spawn_schema.clone();
    let configure = move |migrator: Migrator| {
        migrator
            .tracking_schema(&tracking_schema)
            .created_by_app("spawn test")
            .callbacks(callbacks.clone())
    };
    let migrator = configure(Migrator::new(migrations.clone()));
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
    // Ctrl-C stops whichever part of the run is under way.
    let (interrupted, watch_interrupts) = watch::channel(false);
    let listener = tokio::spawn(async move {
        if interrupts.recv().await.is_some() {
            let _ = interrupted.send(true);
        }
    });
    let stop = || {
        let mut watch_interrupts = watch_interrupts.clone();
        async move {
            if watch_interrupts.wait_for(|stop| *stop).await.is_err() {
                // No Ctrl-C can come any more.
                std::future::pending::<()>().await;
            }
        }
    };
    let report = |outcome: &TestOutcome| {
        if mode == Mode::Compare {
            report_outcome(ctx, outcome);
        }
    };
    let mut outcomes = Vec::new();
    let mut result = Ok(());
    if !cases.is_empty() {
        match runner::run(&config, &migrator, &fingerprint, cases, report, stop()).await {
            Ok((done, template)) => {
                if template == TemplateState::Built {
                    tracing::info!(template = %config.template, "built the test template");
                }
                outcomes = done;
            }
            Err(e) => result = Err(e),
        }
    }
    if result.is_ok() && !migration_cases.is_empty() {
        match runner::run_migration_tests(
            &config,
            &migrations,
            configure,
            migration_cases,
            report,
            stop(),
        )
        .await
        {
            Ok(done) => outcomes.extend(done),
            Err(e) => result = Err(e),
        }
    }
    listener.abort();
    match result {
        Ok(()) => {}
        Err(RunError::Interrupted) => {
            out.error("interrupted: the test databases were dropped");
            return Err(Exit::Code(INTERRUPTED));
        }
        Err(e) => return Err(anyhow!("{}", crate::output::redact(&e.to_string())).into()),
    }

    match mode {
        Mode::Run => {
            for outcome in &outcomes {
                if outcomes.len() > 1 {
                    out.data(format!("-- {}\n", folder_label(&outcome.name)));
                }
                out.data(&outcome.output);
            }
            Ok(())
        }
        Mode::Expect => {
            for outcome in &outcomes {
                let Some((_, path)) = expected_paths.iter().find(|(n, _)| *n == outcome.name)
                else {
                    continue;
                };
                std::fs::write(path, &outcome.output)
                    .with_context(|| format!("writing {}", path.display()))?;
                out.success(format!("wrote {}", path.display()));
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
        let expected_name = folder_label(&outcome.name);
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
        let folder = folder_label(name);
        out.line(format!(
            "{} {folder}: no expected output; run `spawn test expect {name}` to record it",
            out.paint("FAILED", Paint::Bad)
        ));
        junit.push(JunitCase {
            name: name.clone(),
            duration: std::time::Duration::ZERO,
            failure: Some((
                "no expected output".to_owned(),
                format!("{folder}/expected is missing: run `spawn test expect {name}`"),
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
