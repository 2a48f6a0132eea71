//! A PostgreSQL cluster in a folder: initdb, start (waiting, bounded, until it accepts
//! connections), stop, connection URLs.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::binaries::PgBinaries;
use crate::os_user::{command_as, give_to, server_user, ServerUser};
use crate::{LocalDbError, Result};

/// How long [`Cluster::start`] waits for the server to accept connections (pg_ctl's
/// `--timeout`, whose default it is).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The superuser every cluster made here has (trust authentication, loopback only).
pub const SUPERUSER: &str = "postgres";

/// A PostgreSQL cluster: a data folder, and a server on `127.0.0.1:<port>` and a unix socket.
#[derive(Debug)]
pub struct Cluster {
    binaries: PgBinaries,
    root: PathBuf,
    port: u16,
    user: Option<ServerUser>,
    temporary: Option<Temporary>,
}

/// What only a throwaway cluster has: its folder and the reaper that cleans up after a crash.
#[derive(Debug)]
struct Temporary {
    _dir: tempfile::TempDir,
    reaper: Child,
}

impl Cluster {
    /// Creates and starts a throwaway cluster in a new temporary folder. It is stopped and
    /// deleted on drop, or when this process exits in any other way.
    pub fn start_temporary() -> Result<Self> {
        Self::start_temporary_in(&std::env::temp_dir())
    }

    /// [`start_temporary`](Self::start_temporary) with the cluster's folder in `parent`
    /// instead of the system's temporary folder: a memory file system such as `/dev/shm`
    /// makes creating and copying databases much faster.
    pub fn start_temporary_in(parent: &Path) -> Result<Self> {
        let binaries = PgBinaries::find()?;
        let user = server_user()?;
        let dir = tempfile::Builder::new()
            .prefix("spawn-pg-")
            .tempdir_in(parent)
            .map_err(LocalDbError::io(
                "creating a temporary folder for PostgreSQL",
            ))?;
        let root = dir.path().to_path_buf();
        let port = free_port()?;
        init(&binaries, user, &root, port)?;
        let reaper = spawn_reaper(&binaries, user, &root)?;
        let cluster = Self {
            binaries,
            root,
            port,
            user,
            temporary: Some(Temporary { _dir: dir, reaper }),
        };
        cluster.start()?;
        Ok(cluster)
    }

    /// Opens the persistent cluster in `root`, creating it (stopped) if the folder holds none.
    /// The port is chosen when the cluster is created and kept in its configuration.
    pub fn open(binaries: PgBinaries, root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let user = server_user()?;
        let port = match read_port(&root) {
            Some(port) => port,
            None => {
                std::fs::create_dir_all(&root)
                    .map_err(LocalDbError::io(format!("creating {}", root.display())))?;
                let port = free_port()?;
                init(&binaries, user, &root, port)?;
                port
            }
        };
        Ok(Self {
            binaries,
            root,
            port,
            user,
            temporary: None,
        })
    }

    /// Starts the server unless it is already running (idempotent), and waits until it
    /// accepts connections, at most [`START_TIMEOUT`].
    pub fn start(&self) -> Result<()> {
        self.start_within(START_TIMEOUT)
    }

    /// [`Cluster::start`], waiting at most `timeout` (whole seconds) for the server to accept
    /// connections; [`LocalDbError::NotReady`] names the server and its log when it did not.
    /// The server may still come up after that: [`Cluster::stop`] stops it.
    pub fn start_within(&self, timeout: Duration) -> Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let log = self.root.join("postgres.log");
        let result = run(command_as(self.user, &self.binaries.tool("pg_ctl"))
            .arg("start")
            .arg("--wait")
            .arg(format!("--timeout={}", timeout.as_secs()))
            .arg("--silent")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(&log));
        match result {
            Err(LocalDbError::Command { output, .. }) if did_not_start_in_time(&output) => {
                Err(LocalDbError::NotReady {
                    server: format!("127.0.0.1:{}", self.port),
                    timeout,
                    log,
                })
            }
            other => other,
        }
    }

    /// Stops the server if it runs (fast shutdown).
    pub fn stop(&self) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        run(command_as(self.user, &self.binaries.tool("pg_ctl"))
            .args(["stop", "--wait", "--silent", "-m", "fast", "-D"])
            .arg(self.data_dir()))
    }

    /// Whether the server of this cluster is running.
    pub fn is_running(&self) -> bool {
        command_as(self.user, &self.binaries.tool("pg_ctl"))
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder holding the unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("socket")
    }

    /// The cluster's folder (data, socket, log).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The data folder (`PGDATA`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The binaries this cluster runs with.
    pub fn binaries(&self) -> &PgBinaries {
        &self.binaries
    }

    /// A `postgres://` URL for `database` over TCP on loopback as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut temp) = self.temporary.take() {
            if let Err(e) = self.stop_immediately() {
                tracing::warn!("stopping the throwaway PostgreSQL failed: {e}");
            }
            let _ = temp.reaper.kill();
            let _ = temp.reaper.wait();
        }
    }
}

impl Cluster {
    fn stop_immediately(&self) -> Result<()> {
        run(command_as(self.user, &self.binaries.tool("pg_ctl"))
            .args(["stop", "--wait", "--silent", "-m", "immediate", "-D"])
            .arg(self.data_dir()))
    }
}

/// Runs initdb into `<root>/data` and writes the server settings.
fn init(binaries: &PgBinaries, user: Option<ServerUser>, root: &Path, port: u16) -> Result<()> {
    let socket = root.join("socket");
    std::fs::create_dir_all(&socket)
        .map_err(LocalDbError::io(format!("creating {}", socket.display())))?;
    give_to(user, root)?;
    run(command_as(user, &binaries.tool("initdb"))
        .arg("-D")
        .arg(root.join("data"))
        .args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]))?;
    let conf = root.join("data").join("postgresql.auto.conf");
    let settings = format!(
        "# written by spawn-localdb\n\
         port = {port}\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = '{}'\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n\
         max_connections = 300\n\
         shared_buffers = '128MB'\n",
        socket.display()
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(LocalDbError::io(format!("opening {}", conf.display())))?;
    file.write_all(settings.as_bytes())
        .map_err(LocalDbError::io(format!("writing {}", conf.display())))?;
    Ok(())
}

/// The port recorded in an existing cluster's configuration.
fn read_port(root: &Path) -> Option<u16> {
    let conf = std::fs::read_to_string(root.join("data").join("postgresql.auto.conf")).ok()?;
    conf.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("port = ")?.trim().parse().ok())
}

/// A process that waits for this process to go away (its stdin pipe closes) and then stops
/// the server and deletes the folder, so a test binary that exits without dropping its
/// cluster (statics are never dropped) leaves nothing behind.
fn spawn_reaper(binaries: &PgBinaries, user: Option<ServerUser>, root: &Path) -> Result<Child> {
    let script =
        r#"read _ignored; "$1" stop -m immediate -w -D "$2/data" >/dev/null 2>&1; rm -rf "$2""#;
    command_as(user, Path::new("/bin/sh"))
        .arg("-c")
        .arg(script)
        .arg("spawn-pg-reaper")
        .arg(binaries.tool("pg_ctl"))
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(LocalDbError::io("starting the PostgreSQL reaper process"))
}

/// Whether pg_ctl's output says the server was still starting when its wait ended.
fn did_not_start_in_time(output: &str) -> bool {
    output.contains("did not start in time")
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(LocalDbError::io("finding a free TCP port"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(LocalDbError::io("finding a free TCP port"))
}

fn run(cmd: &mut Command) -> Result<()> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(LocalDbError::io(format!("running {:?}", cmd.get_program())))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(LocalDbError::Command {
        command: format!(
            "{} {}",
            cmd.get_program().to_string_lossy(),
            cmd.get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        status: output.status.to_string(),
        output: text,
    })
}
