//! `spawn migration generate <name>`: a new migration that turns the schema the migrations
//! produce (built in a scratch database) into a desired one (`--from-db` or `--schema-dir`).
//!
//! Steps: reach TO (the database given, or the declarative files loaded into a scratch
//! database) and inspect it, while every migration is rendered and FROM, the cached migrated
//! template, is read from the model cache ([`crate::model_cache`]; inspected when the cache
//! does not hold it; with `--rename` hints a scratch copy of it, renamed as hinted, is
//! inspected); plan; refuse statements that may lose data without `--unsafe`; split the plan
//! for `--online`; write `up.sql` and the components it includes; then re-check: the new
//! migration applied to the template (or a fresh copy of FROM) while it is pinned, must leave
//! no difference to TO, while the hazards of the new migration are found beside; the
//! re-checked model goes to the model cache. Every scratch database is dropped at the end
//! (also on error and Ctrl-C). Nothing is written before the plan is accepted, and what was
//! written is taken back when rendering or pinning it fails. `-v` logs the time of each phase.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context};
use serde_json::json;
use spawn_build::project::{PinPolicy, RenderOptions, VariablesSource};
use spawn_runtime::testing::TestingError;
use spawn_runtime::Migration;
use spawn_schema::{inspect, Action, PlannedStatement, Schema};
use sqlx::PgPool;

use crate::commands::diff::{connection_of, open};
use crate::commands::migration::new::check_new_name;
use crate::commands::migration::recheck_failure::recheck_failure;
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::migration_files::{
    existing_components, migration_text, write_components, ComponentPlace, RunsAs,
};
use crate::model_cache::ModelCache;
use crate::output::redact;
use crate::phases::Phases;
use crate::project::{into_migrations, render_compiled, render_compiled_only, CliProject};
use crate::renames::{suggestions, RenameHint};
use crate::scratch::{migrator_of_new, Scratches, Template};
use crate::target::ResolvedTarget;

/// The flags of `generate`.
pub struct Options<'a> {
    pub name: &'a str,
    pub from_db: Option<&'a str>,
    pub schema_dir: Option<&'a Path>,
    pub allow_unsafe: bool,
    pub renames: &'a [String],
    pub online: bool,
    /// The `-- spawn:lock-timeout` of the (transactional) new migration, if any.
    pub lock_timeout: Option<&'a str>,
    pub variables: Option<&'a Path>,
}

pub async fn run(ctx: &CommandContext<'_>, o: &Options<'_>) -> CmdResult {
    let phases = Phases::start("generate");
    let proj = ctx.project()?;
    check_new_name(&proj, o.name)?;
    let hints = o
        .renames
        .iter()
        .map(|r| r.parse::<RenameHint>())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = ctx.target(&proj, o.variables)?;
    let conn = target.connection().await?;
    let scratches = Scratches::on(&conn.options);
    let mut background = Background::default();
    let run = Run {
        target: &target,
        scratches: &scratches,
        phases: &phases,
    };
    let result = scratches
        .run(ctx.out, async {
            let generated = generate(ctx, o, proj, &run, &hints, &mut background).await;
            background.closed().await;
            generated
        })
        .await;
    // The model cache's writes the run started end before the process does.
    background.finish().await;
    phases.mark("drop the scratch databases");
    result
}

/// What every step of one run of `generate` shares.
#[derive(Clone, Copy)]
struct Run<'a> {
    target: &'a ResolvedTarget,
    scratches: &'a Scratches,
    phases: &'a Phases,
}

/// Inspects the database of `pool` on a task of its own, so that two inspections at once
/// run on both threads of the runtime (ended if this future is dropped: Ctrl-C).
async fn inspect_pool(
    pool: &PgPool,
    options: &spawn_schema::Options,
    what: &str,
) -> anyhow::Result<Schema> {
    let (pool, options) = (pool.clone(), options.clone());
    let task = Task(tokio::spawn(async move { inspect(&pool, &options).await }));
    task.join()
        .await
        .with_context(|| format!("inspecting {what}"))?
        .map_err(|e| anyhow!("inspecting {what}: {}", redact(&e.to_string())))
}

/// A spawned task, aborted when dropped before it ends.
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Task<T> {
    async fn join(mut self) -> anyhow::Result<T> {
        (&mut self.0)
            .await
            .map_err(|e| anyhow!("a background task failed: {e}"))
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Leaves `value` (a schema model) to the end of the process, which comes right after
/// `generate`: its memory then goes back to the system at once, where freeing tens of
/// thousands of objects one by one takes a while and competes with the last steps for the
/// CPU.
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// What a run leaves to finish beside its other steps: the writes of the model cache, one
/// after the other (the last one written is the template's latest state), and the closing of
/// pools it is done with (a graceful close waits for the server: about 30 ms that the steps
/// after it need not wait for).
#[derive(Default)]
struct Background {
    last_store: Option<tokio::task::JoinHandle<()>>,
    closing: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Writes `schema` as the model of the template at `fingerprint` in `cache`, after the
    /// writes started before.
    fn store(&mut self, cache: &ModelCache, fingerprint: &str, schema: Arc<Schema>) {
        let (cache, fingerprint) = (cache.clone(), fingerprint.to_owned());
        let previous = self.last_store.take();
        self.last_store = Some(tokio::spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let written = tokio::task::spawn_blocking(move || {
                let begun = Instant::now();
                cache.store(&fingerprint, &schema);
                tracing::debug!(ms = begun.elapsed().as_millis(), "model cache written");
                leave_to_exit(schema);
            });
            if let Err(error) = written.await {
                tracing::debug!(%error, "writing the model cache");
            }
        }));
    }

    /// Closes `pool` on a task of its own. Not for a pool on a database that the run may
    /// still copy (`CREATE DATABASE … TEMPLATE` waits for its connections to end).
    fn close(&mut self, pool: PgPool) {
        self.closing
            .push(tokio::spawn(async move { pool.close().await }));
    }

    /// Waits for the pools being closed (before the run's scratch databases are dropped).
    async fn closed(&mut self) {
        for closing in self.closing.drain(..) {
            let _ = closing.await;
        }
    }

    /// Waits for every write and close.
    async fn finish(mut self) {
        self.closed().await;
        if let Some(last) = self.last_store {
            let _ = last.await;
        }
    }
}

async fn generate(
    ctx: &CommandContext<'_>,
    o: &Options<'_>,
    proj: CliProject,
    run: &Run<'_>,
    hints: &[RenameHint],
    background: &mut Background,
) -> CmdResult {
    let Run {
        target,
        scratches,
        phases,
    } = *run;
    let out = ctx.out;
    let options = spawn_schema::Options::default()
        .exclude_schemas([target.spawn_schema.clone()])
        .allow_unsafe(true);
    // Every migration is rendered (FROM's fingerprint) on a thread of its own while TO is
    // reached and its inspection starts.
    let rendering = {
        let (environment, variables) = (target.environment.clone(), target.variables.clone());
        let mut proj = proj;
        Task(tokio::task::spawn_blocking(move || {
            let compiled = render_compiled(
                &mut proj,
                &environment,
                variables.as_deref(),
                PinPolicy::WorkingTreeIfUnpinned,
            );
            (proj, compiled)
        }))
    };
    let to_side = start_to(ctx, o, run, &options).await;
    // A migration that does not render is reported before anything about TO.
    let (mut project, compiled) = rendering.join().await?;
    let mut compiled = compiled?;
    let (to_label, to_inspection, to_begun) = to_side?;
    let (rendered, _) = into_migrations(compiled.clone());
    phases.mark("load and render the project");
    let proj = &mut project;
    // The components already written, read meanwhile (the new migration includes them).
    let components_dir = proj.project.layout.components_dir();
    let existing = Task(tokio::task::spawn_blocking(move || {
        existing_components(&components_dir)
    }));
    let key = template_key(proj);
    // FROM: the migrated template's model, read from the model cache when it holds the
    // template's state; otherwise the template (or, with --rename hints, a copy of it
    // renamed as hinted) is inspected, while TO's inspection goes on.
    let from_side = async {
        let begun = Instant::now();
        let template = scratches
            .template(
                &key,
                "generate",
                &target.environment,
                &target.spawn_schema,
                &rendered,
            )
            .await?;
        phases.since("FROM: check the cached template", begun);
        let cache = ModelCache::open(scratches.admin(), &template.scratch.name, &options).await;
        if let (Some(files), true) = (&cache, hints.is_empty()) {
            if let Some(schema) = files.load_beside(&template.fingerprint).await {
                phases.since("FROM: read the cached model", begun);
                return Ok((template, Vec::new(), Arc::new(schema), cache, false));
            }
        }
        let db = if hints.is_empty() {
            template.scratch.clone()
        } else {
            scratches.migrated_from(&template).await?
        };
        let pool = db.pool(2).await?;
        let renamed = apply_renames(&pool, hints).await;
        let inspecting = Instant::now();
        let inspected = match renamed {
            Ok(sql) => inspect_pool(&pool, &options, "the migrations' schema (scratch database)")
                .await
                .map(|schema| (template, sql, Arc::new(schema), cache, hints.is_empty())),
            Err(e) => Err(e),
        };
        pool.close().await;
        phases.since("FROM: inspect", inspecting);
        inspected
    };
    let (template, rename_sql, source, cache, inspected_in_place) = from_side.await?;
    // The template's connections are opened, and its build lock taken, while the migration
    // is planned and written (the re-check applies it there). Dropped unused, they close.
    let opening = Task(tokio::spawn(scratches.open_advance(&template)));
    // The template's model, read this time, is cached for the next (in the background).
    if let (Some(cache), true) = (&cache, inspected_in_place) {
        background.store(cache, &template.fingerprint, Arc::clone(&source));
    }
    let (desired, to_pool) = to_inspection.join().await?;
    background.close(to_pool);
    let desired = desired?;
    phases.mark("FROM and TO");
    phases.since("TO: inspect", to_begun);
    let plan = source.plan(&desired, &options);
    phases.mark("plan");
    let hinted = if hints.is_empty() {
        suggestions(&plan, &source, &desired)
    } else {
        Vec::new()
    };
    phases.mark("rename suggestions");
    if plan.is_empty() && rename_sql.is_empty() {
        out.success(format!(
            "no differences between the migrations' schema and {to_label}: nothing to generate"
        ));
        if out.json {
            out.json_value(&json!({ "migrations": [], "components": [] }));
        }
        return Ok(());
    }
    let suggest = |out: &crate::output::Out| {
        for flag in &hinted {
            out.note(format!(
                "this looks like a rename: pass {flag} to keep the data (ALTER … RENAME instead of drop and create)"
            ));
        }
    };
    let risky = plan.unsafe_statements();
    if !risky.is_empty() && !o.allow_unsafe {
        let list: Vec<String> = risky
            .iter()
            .map(|s| {
                format!(
                    "  {};  -- {}",
                    s.sql.lines().next().unwrap_or_default(),
                    s.unsafe_reason.as_deref().unwrap_or_default()
                )
            })
            .collect();
        out.error(format!(
            "{} statement(s) may lose data and were refused (run with --unsafe to allow them); nothing was written:\n{}",
            risky.len(),
            list.join("\n")
        ));
        suggest(out);
        return Err(Exit::Code(exit::UNSAFE_REFUSED));
    }
    suggest(out);

    // The statements of the new migration(s).
    let (main_plan, concurrent) = if o.online {
        let split = spawn_schema::online(&plan, &source, &desired);
        (split.plan, split.concurrent)
    } else {
        (plan, Vec::new())
    };
    let mut statements: Vec<PlannedStatement> = rename_sql
        .iter()
        .map(|sql| PlannedStatement {
            sql: sql.clone(),
            object: None,
            action: Action::Rename,
            unsafe_reason: None,
        })
        .collect();
    statements.extend(main_plan.statements.iter().cloned());
    let mut changes = String::new();
    for h in hints {
        changes.push_str(&format!("~ rename {h}\n"));
    }
    changes.push_str(&main_plan.summary());

    let existing = existing.join().await?;
    phases.mark("online split and summary");
    let place = ComponentPlace {
        dir: &proj.project.layout.components_dir(),
        existing: &existing,
        server_version: source.server_version,
    };
    let written = write_migrations(
        proj,
        place,
        o,
        &to_label,
        &changes,
        &statements,
        &concurrent,
    )?;
    phases.mark("write");
    let names: Vec<String> = written.migrations.iter().map(|(n, _)| n.clone()).collect();
    // The new migration(s), rendered from the files just written (what their pin will hold):
    // with the others, what the hazards report and the re-check read.
    let new_ones = match render_compiled_only(
        proj,
        &target.environment,
        target.variables.as_deref(),
        &names,
    ) {
        Ok(new_ones) => new_ones,
        Err(e) => {
            written.take_back();
            return Err(Exit::Error(anyhow!("{e}; nothing was written")));
        }
    };
    let (new_migrations, _) = into_migrations(new_ones.clone());
    compiled.extend(new_ones);
    let next_fingerprint = spawn_runtime::testing::fingerprint(
        rendered.iter().chain(&new_migrations),
        &target.environment,
    );
    phases.mark("render the new migration(s)");
    // What the new migration(s) do to a live database, found on a thread of its own while
    // the re-check runs: the two are independent.
    let hazards = {
        let layout = proj.project.layout.clone();
        let names = names.clone();
        Task(tokio::task::spawn_blocking(move || {
            let begun = Instant::now();
            let found = super::hazards::hazards_in(&layout, &compiled, &names);
            (found, begun.elapsed())
        }))
    };
    // Pinned on a thread of its own while the server applies them to the template (the
    // re-check's first step). If pinning fails, the template, which then holds migrations
    // the project does not, is rebuilt by the next run.
    let pinning = {
        let environments = pin_environments(ctx, proj);
        let names = names.clone();
        let (environment, variables) = (target.environment.clone(), target.variables.clone());
        Task(tokio::task::spawn_blocking(move || {
            pin(&mut project, &names, environments)?;
            cache_pinned_renders(&mut project, &environment, variables.as_deref(), &names);
            Ok(())
        }))
    };
    let advancing = async {
        let opened = opening.join().await?.map_err(anyhow::Error::from)?;
        scratches
            .advance(
                opened,
                &next_fingerprint,
                &target.spawn_schema,
                new_migrations.clone(),
            )
            .await
            .map_err(anyhow::Error::from)
    };
    let (advanced, pinned) = tokio::join!(advancing, pinning.join());
    if let Err(e) = pinned.and_then(|pinned| pinned) {
        written.take_back();
        return Err(Exit::Error(anyhow!("{e}; nothing was written")));
    }
    phases.mark("pin, and re-check: apply to the template");
    for (name, up) in &written.migrations {
        out.success(format!("Created {} (pinned)", up.display()));
        tracing::debug!(migration = name, "generated");
    }
    for (path, existed) in &written.components {
        out.line(format!(
            "  {} {}",
            if *existed { "updated" } else { "wrote" },
            path.display()
        ));
    }
    // Re-check: the new migration(s) applied to the migrations' schema.
    let remaining = recheck(
        &key,
        run,
        (&template, advanced),
        &rendered,
        (new_migrations, &next_fingerprint, &written),
        &desired,
        (cache.as_ref(), background),
    )
    .await;
    leave_to_exit((source, desired));
    let (hazards, took) = hazards.join().await?;
    tracing::debug!(ms = took.as_millis(), "hazards (beside the re-check)");
    phases.mark("re-check and hazards");
    if hazards.is_empty() {
        out.line("hazards: none");
    } else {
        out.line(format!(
            "hazards ({}; accept one with `-- spawn:allow <hazard>`, see `spawn migration hazards`):",
            hazards.len()
        ));
        for hazard in &hazards {
            out.line(format!("  {hazard}"));
        }
    }
    let remaining = remaining?;
    if out.json {
        out.json_value(&json!({
            "migrations": names,
            "components": written.components.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
            "changes": main_plan.changes,
            "remaining": remaining.as_ref().map(|p| p.to_sql()),
            "suggested_renames": hinted,
            "hazards": hazards,
        }));
    }
    phases.mark("report");
    match remaining {
        None => {
            out.line(format!(
                "re-checked: every migration applied to a scratch database leaves no difference to {to_label}"
            ));
            Ok(())
        }
        Some(rest) => {
            out.error(format!(
                "re-check: the migrations, the new one included, still leave differences to {to_label}; \
                 edit the new migration to cover them (and re-pin it):\n{}",
                rest.to_sql()
            ));
            Err(Exit::Code(exit::DIFFERENCES))
        }
    }
}

/// TO's inspection on a task of its own: its schema, and its pool (to be closed).
type ToInspection = Task<(anyhow::Result<Schema>, PgPool)>;

/// Reaches TO (the database of `--from-db`, or the files of `--schema-dir` loaded into a
/// scratch database) and starts inspecting it on a task of its own: its label for messages,
/// the inspection, and when the inspection began.
async fn start_to(
    ctx: &CommandContext<'_>,
    o: &Options<'_>,
    run: &Run<'_>,
    options: &spawn_schema::Options,
) -> anyhow::Result<(String, ToInspection, Instant)> {
    let begun = Instant::now();
    let (pool, label) = match (o.from_db, o.schema_dir) {
        (Some(db), _) => {
            let conn = connection_of(ctx, db).await.context("--from-db")?;
            (open("--from-db", &conn).await?, conn.display.clone())
        }
        (None, Some(dir)) => {
            let db = run.scratches.empty().await?;
            let pool = db.pool(2).await?;
            if let Err(e) = crate::schema_dir::load(&pool, dir).await {
                pool.close().await;
                return Err(e);
            }
            (pool, format!("the SQL files of {}", dir.display()))
        }
        (None, None) => anyhow::bail!(
            "pass --from-db URL or --schema-dir DIR: the schema to generate a migration towards"
        ),
    };
    run.phases.since("TO: connect or load", begun);
    let inspecting = Instant::now();
    let (options, what) = (options.clone(), label.clone());
    let task = Task(tokio::spawn(async move {
        let inspected = inspect_pool(&pool, &options, &what).await;
        (inspected, pool)
    }));
    Ok((label, task, inspecting))
}

/// Runs the `--rename` statements on the scratch copy in one transaction; their SQL.
async fn apply_renames(pool: &PgPool, hints: &[RenameHint]) -> anyhow::Result<Vec<String>> {
    if hints.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await?;
    let mut done = Vec::new();
    for h in hints {
        let sql = h.sql()?;
        sqlx::raw_sql(&sql).execute(&mut *tx).await.map_err(|e| {
            let message = e
                .as_database_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string());
            anyhow!(
                "--rename {h}: {message} (in the schema the migrations produce); nothing was written. \
                 Check the kind and the old name"
            )
        })?;
        done.push(sql);
    }
    tx.commit().await?;
    Ok(done)
}

/// What [`write_migrations`] wrote, to report or take back.
struct Written {
    /// (name, up.sql) of each new migration.
    migrations: Vec<(String, PathBuf)>,
    /// Each component written, and whether it existed.
    components: Vec<(PathBuf, bool)>,
    /// The previous text of each component updated in place.
    previous: Vec<(PathBuf, Option<Vec<u8>>)>,
    folders: Vec<PathBuf>,
}

impl Written {
    /// Removes the new folders and puts the components back as they were.
    fn take_back(&self) {
        for folder in &self.folders {
            let _ = std::fs::remove_dir_all(folder);
        }
        for (path, old) in &self.previous {
            let _ = match old {
                Some(bytes) => std::fs::write(path, bytes),
                None => std::fs::remove_file(path),
            };
        }
    }
}

fn write_migrations(
    proj: &CliProject,
    place: ComponentPlace<'_>,
    o: &Options<'_>,
    to_label: &str,
    changes: &str,
    statements: &[PlannedStatement],
    concurrent: &[PlannedStatement],
) -> anyhow::Result<Written> {
    let layout = &proj.project.layout;
    let components_dir = place.dir;
    let name = o.name;
    let now = chrono::Utc::now();
    let stamp = now.format("%Y%m%d%H%M%S").to_string();
    let first = format!("{stamp}-{name}");
    let mut parts: Vec<(String, String, &[PlannedStatement], RunsAs<'_>)> = Vec::new();
    let header = format!(
        "Generated by `spawn migration generate` towards {}.\nChanges:\n{changes}",
        redact(to_label)
    );
    let has_main = statements.iter().any(|s| s.action != Action::Setup);
    if has_main {
        let runs_as = RunsAs {
            no_transaction: false,
            lock_timeout: o.lock_timeout,
        };
        parts.push((first.clone(), header.clone(), statements, runs_as));
    }
    if !concurrent.is_empty() {
        let later = (now + chrono::Duration::seconds(1))
            .format("%Y%m%d%H%M%S")
            .to_string();
        let folder = format!("{later}-{name}-concurrently");
        let header =
            format!(
            "Generated by `spawn migration generate --online`{}: outside a transaction, so that\n\
             indexes are built and constraints validated without blocking writes.\n{}",
            if has_main { format!(", run after {first}") } else { String::new() },
            if has_main { String::new() } else { header.clone() }
        );
        // No lock timeout: a concurrent index build waits for the transactions that run.
        let runs_as = RunsAs {
            no_transaction: true,
            lock_timeout: None,
        };
        parts.push((folder, header, concurrent, runs_as));
    }
    let mut written = Written {
        migrations: Vec::new(),
        components: Vec::new(),
        previous: Vec::new(),
        folders: Vec::new(),
    };
    // The paths in `written.previous` and `written.components`, to add each once.
    let (mut saved, mut reported) = (HashSet::new(), HashSet::new());
    let result = (|| -> anyhow::Result<()> {
        for (folder, header, stmts, runs_as) in &parts {
            let text = migration_text(*runs_as, header, stmts, place);
            for c in &text.components {
                let path = components_dir.join(&c.include);
                if saved.insert(path.clone()) {
                    let before = std::fs::read(&path).ok();
                    written.previous.push((path, before));
                }
            }
            let paths = write_components(components_dir, &text).with_context(|| {
                format!("writing components under {}", components_dir.display())
            })?;
            for (path, c) in paths.into_iter().zip(&text.components) {
                if reported.insert(path.clone()) {
                    written.components.push((path, c.existing));
                }
            }
            let m = layout.migration(folder);
            std::fs::create_dir_all(layout.migrations_dir())
                .with_context(|| format!("creating {}", layout.migrations_dir().display()))?;
            std::fs::create_dir(&m.dir).map_err(|e| {
                anyhow!(
                    "cannot create {}: {e}; wait a second and run it again",
                    m.dir.display()
                )
            })?;
            written.folders.push(m.dir.clone());
            let up = m.up_sql();
            std::fs::write(&up, &text.up_sql)
                .with_context(|| format!("writing {}", up.display()))?;
            written.migrations.push((folder.clone(), up));
        }
        Ok(())
    })();
    if let Err(e) = result {
        written.take_back();
        return Err(anyhow!("{e}; nothing was written"));
    }
    Ok(written)
}

/// The environments the new migrations are pinned for: `-e`'s, else every one.
fn pin_environments(ctx: &CommandContext<'_>, proj: &CliProject) -> Vec<String> {
    match &ctx.cli.environment {
        Some(e) => vec![e.clone()],
        None => proj.project.config.environments().into_iter().collect(),
    }
}

/// Pins the new migrations for `environments`.
fn pin(proj: &mut CliProject, names: &[String], environments: Vec<String>) -> anyhow::Result<()> {
    let dirs: Vec<_> = names
        .iter()
        .map(|n| proj.project.layout.migration(n))
        .collect();
    let pinning = proj.project.pin_migrations(
        &dirs,
        &RenderOptions::new(PinPolicy::WorkingTree, environments),
    );
    if !pinning.refused.is_empty() {
        let problems: Vec<String> = pinning.problems.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "the generated migration(s) {} do not render: {}",
            pinning.refused.join(", "),
            problems.join("; ")
        );
    }
    Ok(())
}

/// Renders the migrations `names`, just pinned, from their pins into the render cache, so
/// that the next command takes them from there instead of rendering them again (this one
/// rendered them from the working tree, under another key). Done beside the re-check's apply,
/// on the core the server leaves free; a problem is only logged (pinning rendered them).
fn cache_pinned_renders(
    proj: &mut CliProject,
    environment: &str,
    variables: Option<&Path>,
    names: &[String],
) {
    let options = RenderOptions::new(PinPolicy::Require, [environment])
        .variables(VariablesSource::File(variables.map(Path::to_path_buf)))
        .only(names.iter().cloned());
    let renders = crate::project::render_all_cached(proj, &options);
    if let Err(error) = renders.problems.into_result() {
        tracing::debug!(%error, "rendering the new migrations from their pins");
    }
}

/// Applies the new migrations (`new`, after the `rendered` ones; `next_fingerprint`: all
/// of them; `written`: their files and components) to the migrations' schema: to the cached
/// template itself (`advanced` holds its pool once they are applied; it then caches the
/// state with them, and its model the model cache), or, when another process changed it
/// meanwhile, to a copy. The plan of what still differs from `desired`, if anything does.
#[allow(clippy::too_many_arguments)]
async fn recheck(
    key: &str,
    run: &Run<'_>,
    (template, advanced): (&Template, anyhow::Result<Option<PgPool>>),
    rendered: &[Migration],
    (new, next_fingerprint, written): (Vec<Migration>, &str, &Written),
    desired: &Schema,
    (cache, background): (Option<&ModelCache>, &mut Background),
) -> Result<Option<spawn_schema::Plan>, Exit> {
    let Run {
        target,
        scratches,
        phases,
    } = *run;
    let failed = |e: &spawn_runtime::MigrateError| {
        let components: Vec<PathBuf> = written.components.iter().map(|(p, _)| p.clone()).collect();
        Exit::Error(anyhow!(
            "{}",
            recheck_failure(e, &written.migrations, &components)
        ))
    };
    // A migration that fails says so; anything else (the template unreachable, say) is
    // reported as what it is.
    let migrated = advanced.map_err(|e| match e.downcast::<TestingError>() {
        Ok(TestingError::Migrate { source, .. }) => failed(&source),
        Ok(other) => Exit::Error(anyhow!("re-check: {}", redact(&other.to_string()))),
        Err(e) => Exit::Error(anyhow!("re-check: {}", redact(&format!("{e:#}")))),
    })?;
    let advanced = migrated.is_some();
    let pool = if let Some(pool) = migrated {
        pool
    } else {
        let copy = scratches.migrated_from(template).await;
        let copy = match copy {
            Ok(copy) => copy,
            // The template was rebuilt or changed by another process: a fresh copy.
            Err(_) => {
                let t = scratches
                    .template(
                        key,
                        "generate",
                        &target.environment,
                        &target.spawn_schema,
                        rendered,
                    )
                    .await?;
                scratches.migrated_from(&t).await?
            }
        };
        let pool = copy.pool(2).await?;
        if let Err(e) = migrator_of_new(new, &target.spawn_schema).run(&pool).await {
            pool.close().await;
            return Err(failed(&e));
        }
        pool
    };
    // Whatever still differs is shown as it is: no column renames guessed (which also
    // spares the planner a pass over every object).
    let options = spawn_schema::Options::default()
        .exclude_schemas([target.spawn_schema.clone()])
        .allow_unsafe(true)
        .detect_renames(false);
    let result = inspect_pool(&pool, &options, "the re-checked scratch database").await;
    background.close(pool);
    phases.mark("re-check: inspect");
    let checked = Arc::new(result?);
    match cache {
        Some(cache) if advanced => {
            background.store(cache, next_fingerprint, Arc::clone(&checked));
        }
        _ => {}
    }
    let plan = checked.plan(desired, &options);
    leave_to_exit(checked);
    phases.mark("re-check: plan");
    Ok((!plan.is_empty()).then_some(plan))
}

/// The key of the project's cached templates: its spawn folder.
fn template_key(proj: &CliProject) -> String {
    proj.project.layout.spawn_folder.display().to_string()
}
