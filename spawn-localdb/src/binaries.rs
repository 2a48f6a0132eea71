//! Finding the PostgreSQL server binaries (initdb, pg_ctl, postgres) on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{LocalDbError, Result};

/// The environment variable naming the folder of the PostgreSQL binaries to use (to pick one
/// of several installed versions).
pub const BINDIR_ENV: &str = "SPAWN_PG_BINDIR";

/// A folder holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    bindir: PathBuf,
}

impl PgBinaries {
    /// Uses `bindir` as given (it must contain `initdb` and `pg_ctl`).
    pub fn in_dir(bindir: impl Into<PathBuf>) -> Result<Self> {
        let bindir = bindir.into();
        if has_server_binaries(&bindir) {
            Ok(Self { bindir })
        } else {
            Err(LocalDbError::BinariesNotFound)
        }
    }

    /// Finds the binaries: `$SPAWN_PG_BINDIR` when it is set (and then only there), else
    /// `$PATH`, then `pg_config --bindir`, then the newest `/usr/lib/postgresql/<version>/bin`
    /// (Debian's layout, whose bindir is not on `$PATH`).
    pub fn find() -> Result<Self> {
        if let Some(dir) = std::env::var_os(BINDIR_ENV).filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return if has_server_binaries(&dir) {
                Ok(Self { bindir: dir })
            } else {
                Err(LocalDbError::BinariesNotIn {
                    variable: BINDIR_ENV,
                    dir,
                })
            };
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                if has_server_binaries(&dir) {
                    // Resolve symlinks such as /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin.
                    let real = std::fs::canonicalize(dir.join("initdb"))
                        .ok()
                        .and_then(|p| p.parent().map(Path::to_path_buf))
                        .filter(|d| has_server_binaries(d))
                        .unwrap_or(dir);
                    return Ok(Self { bindir: real });
                }
            }
        }
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            if out.status.success() {
                let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                if has_server_binaries(&dir) {
                    return Ok(Self { bindir: dir });
                }
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                has_server_binaries(&bin).then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions
            .pop()
            .map(|(_, bindir)| Self { bindir })
            .ok_or(LocalDbError::BinariesNotFound)
    }

    /// The folder the binaries are in.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The full path of one binary of this installation (`psql`, `pg_dump`, …).
    pub fn tool(&self, name: &str) -> PathBuf {
        let own = self.bindir.join(name);
        if own.is_file() {
            own
        } else {
            PathBuf::from(name)
        }
    }
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() && dir.join("postgres").is_file()
}
