//! spawn-localdb: PostgreSQL clusters owned by a process or a project, run from the
//! PostgreSQL binaries already installed on the machine (no Docker).
//!
//! * [`Cluster::start_temporary`] creates a throwaway cluster in a temporary folder (fsync off,
//!   trust auth on loopback and a private unix socket). It is stopped and deleted when the
//!   [`Cluster`] is dropped, and also when the owning process dies without dropping it (a
//!   small reaper process watches a pipe), so test binaries never leak servers.
//! * [`Cluster::open`] / [`Cluster::start`] manage a persistent cluster in a folder of the
//!   project (what `spawn db start` uses); it keeps running until [`Cluster::stop`].
//!
//! `initdb` and `postgres` refuse to run as root; when the current user is root the server
//! runs as the `postgres` OS user, which is given the data folder.

mod binaries;
mod cluster;
mod os_user;

pub use binaries::{PgBinaries, BINDIR_ENV};
pub use cluster::{Cluster, START_TIMEOUT};

/// Everything that can go wrong while finding, creating, starting or stopping a cluster.
#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb in $PATH, `pg_config --bindir` and \
         /usr/lib/postgresql/*/bin). Install PostgreSQL, e.g. `apt-get install postgresql` on \
         Debian/Ubuntu or `brew install postgresql` on macOS, or set DATABASE_URL to an existing server"
    )]
    BinariesNotFound,
    #[error(
        "{variable} is {dir}, which holds no PostgreSQL server binaries (initdb, pg_ctl). Point \
         {variable} at a folder that does (e.g. /usr/lib/postgresql/15/bin) or unset it to search $PATH; \
         without PostgreSQL installed, install it (`apt-get install postgresql` on Debian/Ubuntu, \
         `brew install postgresql` on macOS) or set DATABASE_URL to an existing server",
        dir = .dir.display()
    )]
    BinariesNotIn {
        variable: &'static str,
        dir: std::path::PathBuf,
    },
    #[error(
        "running as root, but there is no `postgres` OS user to run the server as \
         (initdb and postgres refuse to run as root); create one with `useradd --system postgres`"
    )]
    NoPostgresUser,
    #[error("{action} failed: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the PostgreSQL server at {server} did not accept connections within {timeout:?} (it may \
         still be starting); its log is {}",
        .log.display()
    )]
    NotReady {
        /// `host:port`.
        server: String,
        timeout: std::time::Duration,
        log: std::path::PathBuf,
    },
    #[error("{command} failed ({status}); its output:\n{output}")]
    Command {
        command: String,
        status: String,
        output: String,
    },
}

impl LocalDbError {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.into();
        move |source| LocalDbError::Io { action, source }
    }
}

pub type Result<T, E = LocalDbError> = std::result::Result<T, E>;
