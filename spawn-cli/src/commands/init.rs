//! `spawn init`: a new project file and its folders. Never overwrites anything.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::cli::InitArgs;
use crate::commands::CommandContext;
use crate::exit::CmdResult;

pub fn run(ctx: &CommandContext<'_>, args: &InitArgs) -> CmdResult {
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let path = match &ctx.cli.config_file {
        Some(p) => cwd.join(p),
        None => cwd.join("spawn.toml"),
    };
    if path.exists() {
        crate::fail!(
            "{} already exists: spawn init never overwrites a project. Edit it, or run `spawn check` to see its state",
            path.display()
        );
    }
    let dir = path.parent().map(PathBuf::from).unwrap_or(cwd);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let has = |v: &str| std::env::var(v).is_ok_and(|s| !s.is_empty());
    let (target, section) = if args.local || (!has("DATABASE_URL") && !has("PGHOST")) {
        (
            "local",
            "[targets.local]\n\
             environment = \"dev\"\n\
             # The project-local PostgreSQL (data in .spawn/, git-ignored): `spawn db start`.\n\
             local = true\n",
        )
    } else if has("DATABASE_URL") {
        (
            "default",
            "[targets.default]\n\
             environment = \"prod\"\n\
             # ${VAR} is read from the environment; a password never needs to be written here.\n\
             url = \"${DATABASE_URL}\"\n",
        )
    } else {
        (
            "default",
            "[targets.default]\n\
             environment = \"prod\"\n\
             # No url: connects with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.\n",
        )
    };
    let text = format!(
        "# The spawn project file. Paths are relative to this file's folder.\n\
         spawn_folder = \"spawn\"\n\
         target = \"{target}\"\n\
         \n\
         {section}\
         \n\
         # More targets:\n\
         # [targets.production]\n\
         # environment = \"prod\"\n\
         # url = \"postgres://app@db.example.com:5432/app\"    # password from PGPASSWORD or ~/.pgpass\n"
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;

    let spawn_folder = dir.join("spawn");
    let mut created = Vec::new();
    for sub in ["components", "migrations", "tests", "pinned"] {
        let d = spawn_folder.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        let keep = d.join(".gitkeep");
        if !keep.exists() {
            std::fs::write(&keep, "").with_context(|| format!("writing {}", keep.display()))?;
        }
        created.push(format!("spawn/{sub}/"));
    }
    add_to_gitignore(&dir)?;

    let out = ctx.out;
    out.success(format!(
        "Created {} (default target `{target}`)",
        path.display()
    ));
    for c in &created {
        out.line(format!("  {c}"));
    }
    out.line("\nNext:");
    if target == "local" {
        out.line("  spawn db start                       # start the project-local PostgreSQL");
    }
    out.line("  spawn migration new create-tables    # then edit its up.sql");
    out.line("  spawn migration pin --all            # freeze the components it uses");
    out.line("  spawn migration apply");
    Ok(())
}

/// Adds `.spawn/` to the project's .gitignore (creating it) unless it is there already.
fn add_to_gitignore(dir: &std::path::Path) -> anyhow::Result<()> {
    let path = dir.join(".gitignore");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    if existing
        .lines()
        .any(|l| matches!(l.trim(), ".spawn" | ".spawn/" | "/.spawn" | "/.spawn/"))
    {
        return Ok(());
    }
    let mut text = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# spawn's project-local database\n.spawn/\n");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
