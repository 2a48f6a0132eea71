//! Which OS user runs the server: the current one, or `postgres` when we are root.

use std::path::Path;
use std::process::Command;

use crate::{LocalDbError, Result};

/// The uid/gid the server processes run as; `None` when they run as the current user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerUser {
    pub uid: u32,
    pub gid: u32,
}

/// `None` for a normal user; the `postgres` user when running as root.
pub(crate) fn server_user() -> Result<Option<ServerUser>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd =
        std::fs::read_to_string("/etc/passwd").map_err(LocalDbError::io("reading /etc/passwd"))?;
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            if fields.next()? != "postgres" {
                return None;
            }
            let _password = fields.next()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(Some(ServerUser { uid, gid }))
        })
        .ok_or(LocalDbError::NoPostgresUser)
}

/// Gives `path` (recursively) to the server user.
pub(crate) fn give_to(user: Option<ServerUser>, path: &Path) -> Result<()> {
    let Some(user) = user else { return Ok(()) };
    for entry in walk(path) {
        std::os::unix::fs::chown(&entry, Some(user.uid), Some(user.gid)).map_err(
            LocalDbError::io(format!("giving {} to the postgres user", entry.display())),
        )?;
    }
    Ok(())
}

fn walk(path: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![path.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A command that runs as the server user.
pub(crate) fn command_as(user: Option<ServerUser>, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    if let Some(user) = user {
        use std::os::unix::process::CommandExt;
        cmd.uid(user.uid).gid(user.gid);
        // The server user cannot read root's home or current folder.
        cmd.current_dir("/");
        cmd.env("HOME", "/tmp");
    }
    cmd
}
