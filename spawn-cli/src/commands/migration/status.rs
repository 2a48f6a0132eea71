//! `spawn migration status`: one row per migration: on disk, pinned, in the database,
//! checksum, status (read from `spawn_database` when the tracking tables live there).
//! `--json` for scripts; `--exit-code` exits 2 when work is pending. Draft migrations are
//! named below the table (they are never applied).

use std::path::Path;

use serde_json::json;
use spawn_build::project::PinPolicy;
use spawn_runtime::{ChecksumKind, MigrationStatus, State};

use crate::commands::migration::session::{migrate_error, prepare};
use crate::commands::CommandContext;
use crate::exit::{self, CmdResult, Exit};
use crate::output::Paint;

pub async fn run(ctx: &CommandContext<'_>, exit_code: bool, variables: Option<&Path>) -> CmdResult {
    let p = prepare(ctx, variables, PinPolicy::WorkingTreeIfUnpinned).await?;
    let statuses: Vec<MigrationStatus> =
        p.migrator().status(&p.pool).await.map_err(migrate_error)?;
    p.close().await;
    let out = ctx.out;
    // Drafts are not in the set (never applied): named below the table.
    let drafts: Vec<String> = ctx
        .project()?
        .migrations()?
        .into_iter()
        .filter(|m| m.markers().draft)
        .map(|m| m.name)
        .collect();
    let pinned_of = |name: &str| {
        p.rendered
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.pin_hash.clone())
    };

    let needs_work = statuses
        .iter()
        .any(|s| !matches!(s.state, State::Applied | State::Adopted));
    if out.json {
        let rows: Vec<_> = statuses
            .iter()
            .map(|s| {
                let pin = pinned_of(&s.name);
                json!({
                    "name": s.name,
                    "filesystem": pin.is_some(),
                    "pinned": pin.as_ref().map(|p| p.is_some()),
                    "pin": pin.flatten(),
                    "database": database_label(s),
                    "applied_at": s.applied_at.map(|t| t.to_rfc3339()),
                    "checksum": checksum_label(s),
                    "recorded_checksum": s.checksum,
                    "status": status_label(s.state),
                    "progress": s.progress.map(|(done, of)| json!({"done": done, "of": of})),
                    "note": s.note,
                })
            })
            .collect();
        out.json_value(&json!({
            "target": p.target.name,
            "environment": p.target.environment,
            "database": p.conn.display,
            "tracking_schema": p.target.spawn_schema,
            "tracking_database": p.tracking.as_ref().map(|(_, t)| crate::target::connection_database(t)),
            "migrations": rows,
            "pending": statuses.iter().filter(|s| s.state == State::Pending).count(),
            "up_to_date": !needs_work,
            "drafts": drafts,
        }));
    } else {
        let tracking = match &p.tracking {
            Some((_, t)) => format!(
                " · tracking tables in database {}",
                crate::target::connection_database(t)
            ),
            None => String::new(),
        };
        out.note(format!(
            "{} · environment {} · {}{tracking}",
            p.target.label(),
            p.target.environment,
            p.conn.display
        ));
        let mut table = out.table(&[
            "Migration",
            "Filesystem",
            "Pinned",
            "Database",
            "Checksum",
            "Status",
        ]);
        for s in &statuses {
            let pin = pinned_of(&s.name);
            let fs = if pin.is_some() {
                out.paint("yes", Paint::Good)
            } else {
                out.paint("missing", Paint::Bad)
            };
            let pinned = match &pin {
                Some(Some(_)) => out.paint("yes", Paint::Good),
                Some(None) => out.paint("no", Paint::Attention),
                None => out.paint("-", Paint::Dim),
            };
            let checksum = checksum_label(s);
            let checksum = match checksum {
                "changed" => out.paint(checksum, Paint::Bad),
                "ok" => out.paint(checksum, Paint::Good),
                other => out.paint(other, Paint::Dim),
            };
            let status = status_label(s.state);
            let paint = match s.state {
                State::Applied | State::Adopted => Paint::Good,
                State::Pending | State::Partial | State::Rerun => Paint::Attention,
                State::Changed | State::Missing | State::Failed => Paint::Bad,
            };
            let mut status = out.paint(status, paint);
            if let Some((done, of)) = s.progress {
                status.push_str(&format!(" ({done}/{of})"));
            }
            table.add_row(vec![
                s.name.clone(),
                fs,
                pinned,
                database_label(s),
                checksum,
                status,
            ]);
        }
        if statuses.is_empty() {
            out.line("no migrations yet: create one with `spawn migration new <name>`");
        } else {
            out.print_table(&table);
        }
        let pending = statuses
            .iter()
            .filter(|s| {
                matches!(
                    s.state,
                    State::Pending | State::Failed | State::Partial | State::Rerun
                )
            })
            .count();
        if pending > 0 {
            out.line(format!(
                "{pending} migration(s) to apply: `spawn migration apply`"
            ));
        }
        for d in &drafts {
            out.note(format!(
                "{d} is a draft: never applied (`spawn migration ready {d}` when it is done)"
            ));
        }
        for s in statuses.iter().filter(|s| s.state == State::Changed) {
            out.warn(format!("migration {} changed since it was applied: restore it and put the change into a new migration", s.name));
        }
        for s in statuses.iter().filter(|s| s.state == State::Missing) {
            out.warn(format!(
                "migration {} is recorded in the database but has no folder in migrations/: restore it (git) or apply with --ignore-missing",
                s.name
            ));
        }
    }
    if exit_code && needs_work {
        return Err(Exit::Code(exit::DIFFERENCES));
    }
    Ok(())
}

fn status_label(state: State) -> &'static str {
    match state {
        State::Applied => "Applied",
        State::Adopted => "Adopted",
        State::Pending => "Pending",
        State::Changed => "Changed",
        State::Missing => "Missing",
        State::Failed => "Failed",
        State::Partial => "Partial",
        State::Rerun => "Changed, will re-run",
    }
}

fn database_label(s: &MigrationStatus) -> String {
    let when = s
        .applied_at
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    match (s.state, s.activity.as_deref()) {
        (State::Pending, None) => "-".into(),
        (State::Failed, _) => format!("failed {when}"),
        (State::Partial, _) => format!("partly applied {when}"),
        (_, Some("REVERT")) => format!("rolled back {when}"),
        (_, Some("ADOPT")) => format!("adopted {when}"),
        (_, Some(_)) => format!("applied {when}"),
        (_, None) => "-".into(),
    }
}

fn checksum_label(s: &MigrationStatus) -> &'static str {
    match s.state {
        State::Changed | State::Rerun => "changed",
        State::Applied | State::Adopted => match s.checksum_kind {
            Some(ChecksumKind::Empty) | None => "n/a",
            _ => "ok",
        },
        _ => "-",
    }
}
