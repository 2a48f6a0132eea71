//! `spawn watch`: on every save under the spawn folder (components, migrations, callbacks,
//! tests), re-render and re-check every migration, bring the target database to the newest
//! unpinned migration as it is now, and re-run the tests that changed or depend on what
//! changed; one short report per change, and it survives every error.
//!
//! Bringing the database up to date:
//!
//! * pending migrations are applied, as `spawn migration apply --no-pin` applies them;
//! * an unpinned migration that was applied and has changed since is rolled back first with
//!   the `down.sql` of the version that was applied (watch remembers each version it applied
//!   or saw applied), then applied again;
//! * when there is no such `down.sql`, the database is rebuilt: dropped and re-created as a
//!   copy of a cached template holding the pinned migrations (see [`crate::scratch`]), then
//!   the unpinned ones applied. Dropping is allowed on the project-local database, and on any
//!   other only with `--rebuild`.
//!
//! Tests: a change under `tests/<name>/` re-runs that test; a change anywhere else re-runs all
//! of them (`spawn test compare`). File events come from `notify` (inotify on Linux); reads
//! are ignored (rendering reads every file), and a burst of writes is gathered into one
//! change once the files are quiet for a moment.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Result};
use notify::event::ModifyKind;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use spawn_build::project::{PinPolicy, RenderOptions, VariablesSource};
use spawn_runtime::testing::{clone_database, drop_database};
use spawn_runtime::{Migration, MigrationStatus, Migrator, State};

use crate::cli::{TestRunArgs, WatchArgs};
use crate::commands::migration::session::migrate_message;
use crate::commands::CommandContext;
use crate::exit::CmdResult;
use crate::scratch::Scratches;

/// How long the files must be quiet before a burst of saves counts as one change.
const QUIET: Duration = Duration::from_millis(150);

pub async fn run(ctx: &CommandContext<'_>, args: &WatchArgs) -> CmdResult {
    let proj = ctx.project()?;
    let folder = proj.project.layout.spawn_folder.clone();
    drop(proj);
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<Event>| {
        // Writes, creations, renames and removals; not reads (rendering reads every file).
        let Ok(event) = result else { return };
        let writes = match event.kind {
            EventKind::Create(_) | EventKind::Remove(_) => true,
            EventKind::Modify(kind) => !matches!(kind, ModifyKind::Metadata(_)),
            _ => false,
        };
        if writes {
            // The receiver lives as long as the loop; a failed send means it is ending.
            let _ = events.send(event.paths);
        }
    })
    .map_err(|e| anyhow!("cannot watch {}: {e}", folder.display()))?;
    watcher
        .watch(&folder, RecursiveMode::Recursive)
        .map_err(|e| anyhow!("cannot watch {}: {e}", folder.display()))?;
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| anyhow!("cannot listen for Ctrl-C: {e}"))?;

    let mut state = WatchState::default();
    let mut cycle = 1;
    cycle_report(ctx, args, &mut state, cycle, &[]).await;
    loop {
        ctx.out.line(format!(
            "── watching {} (Ctrl-C to stop) ──",
            folder.display()
        ));
        tokio::select! {
            batch = received.recv() => {
                let Some(mut changed) = batch else { break };
                // A burst of saves is one change: gather until the files are quiet.
                while let Ok(Some(more)) = tokio::time::timeout(QUIET, received.recv()).await {
                    changed.extend(more);
                }
                let changed: Vec<PathBuf> = changed
                    .into_iter()
                    .filter(|p| !is_ignored(&folder, p))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if changed.is_empty() {
                    continue;
                }
                cycle += 1;
                cycle_report(ctx, args, &mut state, cycle, &changed).await;
            }
            _ = interrupts.recv() => break,
        }
    }
    ctx.out.note("stopped watching");
    Ok(())
}

/// Files a change of which means nothing to watch: editor swap files, `pinned/` (written
/// by spawn itself), test outputs.
fn is_ignored(folder: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(folder).unwrap_or(path);
    let text = relative.to_string_lossy();
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    text.starts_with("pinned")
        || name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name == "expected"
}

/// What watch remembers between changes: the version of each migration it applied or saw
/// applied (its `down.sql` undoes exactly that version).
#[derive(Default)]
struct WatchState {
    applied: HashMap<String, Migration>,
}

/// One change: a header, each step's outcome, never an error out of it.
async fn cycle_report(
    ctx: &CommandContext<'_>,
    args: &WatchArgs,
    state: &mut WatchState,
    cycle: u32,
    changed: &[PathBuf],
) {
    let out = ctx.out;
    if out.progress_allowed() {
        // A fresh screen on a terminal.
        print!("\x1b[2J\x1b[H");
    }
    let what = if changed.is_empty() {
        "start".to_owned()
    } else {
        changed
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.line(format!("── spawn watch · change {cycle} · {what} ──"));
    let outcome = database_step(ctx, args, state).await;
    match outcome {
        Ok(lines) => {
            for line in lines {
                out.line(line);
            }
        }
        Err(e) => {
            // On stdout with the rest of the report, so the report reads in order.
            out.line(format!(
                "error: {}",
                crate::output::redact(&format!("{e:#}"))
            ));
            out.line("tests: not run (fix the error above)");
            return;
        }
    }
    if args.no_tests {
        return;
    }
    let names = tests_to_run(ctx, changed);
    let test_args = TestRunArgs {
        names,
        jobs: None,
        keep: false,
        junit: None,
        variables: args.variables.clone(),
    };
    match crate::commands::test::compare(ctx, &test_args).await {
        Ok(()) => {}
        Err(crate::exit::Exit::Error(e)) => out.line(format!(
            "tests: error: {}",
            crate::output::redact(&format!("{e:#}"))
        )),
        Err(crate::exit::Exit::Code(_)) => out.line("tests: some failed (see above)"),
    }
}

/// The tests a change re-runs: the tests whose folder changed when only tests changed,
/// else all (an empty list).
fn tests_to_run(ctx: &CommandContext<'_>, changed: &[PathBuf]) -> Vec<String> {
    let Ok(proj) = ctx.project() else {
        return Vec::new();
    };
    let tests_dir = proj.project.layout.spawn_folder.join("tests");
    let mut names = BTreeSet::new();
    for path in changed {
        match path.strip_prefix(&tests_dir) {
            Ok(rest) => {
                if let Some(first) = rest.components().next() {
                    names.insert(first.as_os_str().to_string_lossy().into_owned());
                }
            }
            Err(_) => return Vec::new(),
        }
    }
    names.into_iter().collect()
}

/// Renders and checks, then brings the target to the migrations as they are now. The
/// lines say what was done.
async fn database_step(
    ctx: &CommandContext<'_>,
    args: &WatchArgs,
    state: &mut WatchState,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut proj = ctx.project()?;
    let target = ctx.target(&proj, args.variables.as_deref())?;
    let options = RenderOptions::new(PinPolicy::WorkingTreeIfUnpinned, [&target.environment])
        .variables(VariablesSource::File(target.variables.clone()));
    let renders = crate::project::render_all_cached(&mut proj, &options);
    let unpinned = renders.unpinned.clone();
    renders
        .problems
        .into_result()
        .map_err(|e| anyhow!("render: {e}"))?;
    let migrations: Vec<Migration> = renders
        .migrations
        .into_iter()
        .filter_map(|m| {
            let render = m.renders.into_iter().next()?;
            Some(render.into_migration(&m.name, m.pin.as_ref()))
        })
        .collect();
    lines.push(format!(
        "render: ok, {} migration(s), {} unpinned{}",
        migrations.len(),
        unpinned.len(),
        unpinned
            .last()
            .map(|n| format!(" (newest: {n})"))
            .unwrap_or_default()
    ));

    let (pool, conn, tracking) = target.connect().await?;
    if let Some((tracking_pool, _)) = tracking {
        tracking_pool.close().await;
    }
    let migrator = |set: Vec<Migration>| {
        Migrator::new(set)
            .tracking_schema(&target.spawn_schema)
            .created_by_app("spawn watch")
            .connect_timeout(conn.connect_timeout)
    };
    let statuses = migrator(migrations.clone())
        .status(&pool)
        .await
        .map_err(|e| anyhow!("{}", migrate_message(&e)))?;
    let stale = stale_unpinned(&statuses, &unpinned);
    let mut pool = pool;
    if let Some(first) = stale.first() {
        // Undo the stale ones, newest first: with the down.sql of the versions applied.
        let old_set: Option<Vec<Migration>> = stale
            .iter()
            .map(|name| {
                state
                    .applied
                    .get(*name)
                    .filter(|m| m.down.is_some())
                    .cloned()
            })
            .collect::<Option<Vec<_>>>()
            .map(|old| {
                let mut set: Vec<Migration> = migrations
                    .iter()
                    .filter(|m| !stale.contains(&m.name.as_ref()))
                    .cloned()
                    .collect();
                set.extend(old);
                set
            });
        match old_set {
            Some(set) => {
                migrator(set)
                    .rollback_steps(&pool, stale.len())
                    .await
                    .map_err(|e| anyhow!("rolling back {first}: {}", migrate_message(&e)))?;
                lines.push(format!(
                    "database: rolled back {} with the down.sql of the version applied",
                    stale.join(", ")
                ));
            }
            None => {
                if !(target.is_local() || args.rebuild) {
                    pool.close().await;
                    anyhow::bail!(
                        "{} changed since it was applied and watch has no down.sql of the applied \
                         version to undo it: pass --rebuild to let spawn watch drop and re-create \
                         {} from the pinned migrations (never on a shared database), or roll it \
                         back by hand",
                        stale.join(", "),
                        conn.display
                    );
                }
                pool.close().await;
                let pinned: Vec<Migration> = migrations
                    .iter()
                    .filter(|m| !unpinned.contains(&m.name.to_string()))
                    .cloned()
                    .collect();
                rebuild(&proj.project.layout.spawn_folder, &target, &conn, &pinned).await?;
                pool = target.connect().await?.0;
                lines.push(format!(
                    "database: rebuilt {} from the pinned migrations ({} changed and had no down.sql of the applied version)",
                    conn.display,
                    stale.join(", ")
                ));
            }
        }
    }
    let report = migrator(migrations.clone())
        .run(&pool)
        .await
        .map_err(|e| anyhow!("{}", migrate_message(&e)));
    pool.close().await;
    let report = report?;
    for m in &migrations {
        state.applied.insert(m.name.to_string(), m.clone());
    }
    if report.applied.is_empty() {
        lines.push("database: up to date".to_owned());
    } else {
        let names: Vec<&str> = report.applied.iter().map(|a| a.name.as_str()).collect();
        lines.push(format!("database: applied {}", names.join(", ")));
    }
    Ok(lines)
}

/// The unpinned migrations applied with other SQL than they render to now (or left failed),
/// in apply order: what has to be undone before they are applied again. Only the newest
/// ones: an applied one above them that is unchanged stops the search.
fn stale_unpinned<'a>(statuses: &'a [MigrationStatus], unpinned: &[String]) -> Vec<&'a str> {
    let mut stale = Vec::new();
    for s in statuses.iter().rev() {
        match s.state {
            State::Pending => continue,
            State::Changed | State::Failed | State::Partial if unpinned.contains(&s.name) => {
                stale.push(s.name.as_str());
            }
            _ => break,
        }
    }
    stale.reverse();
    stale
}

/// Drops the target's database and re-creates it as a copy of the cached template of the
/// pinned migrations.
async fn rebuild(
    spawn_folder: &Path,
    target: &crate::target::ResolvedTarget,
    conn: &crate::target::Connection,
    pinned: &[Migration],
) -> Result<()> {
    let database = crate::target::connection_database(conn).to_owned();
    let scratches = Scratches::on(&conn.options);
    let template = scratches
        .template(
            &spawn_folder.display().to_string(),
            "watch",
            &target.environment,
            &target.spawn_schema,
            pinned,
        )
        .await;
    scratches.drop_all().await;
    let template = template?;
    let admin = conn.options.clone().database("postgres");
    drop_database(&admin, &database)
        .await
        .map_err(|e| anyhow!("dropping {database}: {e}"))?;
    clone_database(&admin, &template.scratch.name, &database)
        .await
        .map_err(|e| anyhow!("re-creating {database} from {}: {e}", template.scratch.name))
}
