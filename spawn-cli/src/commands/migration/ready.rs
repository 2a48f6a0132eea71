//! `spawn migration ready <m>`: a draft migration is done: removes its `-- spawn:draft`
//! mark and pins it (as `spawn migration pin <m>`). When it cannot be pinned (it does not
//! render, say), its `up.sql` is restored: it stays a draft and nothing else changed.

use anyhow::{anyhow, Context};
use spawn_build::layout::Markers;

use crate::commands::migration::pin;
use crate::commands::CommandContext;
use crate::exit::{CmdResult, Exit};

pub fn run(ctx: &CommandContext<'_>, migration: &str) -> CmdResult {
    let m = ctx.project()?.migration(migration)?;
    let up = m.up_sql();
    let text = std::fs::read_to_string(&up).with_context(|| format!("reading {}", up.display()))?;
    if !Markers::of(&text).draft {
        crate::fail!(
            "migration {} is not a draft (no `-- spawn:draft` line at the top of {}); nothing \
             was changed",
            m.name,
            up.display()
        );
    }
    std::fs::write(&up, without_draft_mark(&text))
        .with_context(|| format!("writing {}", up.display()))?;
    match pin::run(ctx, Some(&m.name), false) {
        Ok(()) => {
            ctx.out.success(format!(
                "{} is ready: no longer a draft, and pinned",
                m.name
            ));
            Ok(())
        }
        Err(e) => {
            std::fs::write(&up, &text).with_context(|| {
                format!(
                    "restoring {} (put its `-- spawn:draft` line back)",
                    up.display()
                )
            })?;
            let why = match e {
                Exit::Error(e) => format!("{e}\n"),
                _ => String::new(),
            };
            Err(Exit::Error(anyhow!(
                "{why}{} stays a draft: its up.sql is as it was and nothing was pinned",
                m.name
            )))
        }
    }
}

/// `text` without its `-- spawn:draft` line(s) among the comment lines at its top.
fn without_draft_mark(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut header = true;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if header && !trimmed.is_empty() && !trimmed.starts_with("--") {
            header = false;
        }
        if header && Markers::of(trimmed).draft {
            continue;
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_draft_mark_at_the_top_goes() {
        assert_eq!(
            without_draft_mark(
                "-- spawn:draft\n-- spawn:lock-timeout 5s\nSELECT 1;\n-- spawn:draft\n"
            ),
            "-- spawn:lock-timeout 5s\nSELECT 1;\n-- spawn:draft\n"
        );
        assert_eq!(
            without_draft_mark("--spawn:draft\r\nSELECT 1;"),
            "SELECT 1;"
        );
    }
}
