//! The PostgreSQL server of a test binary: `DATABASE_URL` when set, else a throwaway cluster
//! (spawn-localdb, in `/dev/shm` when there is one) started on first use and shared by every
//! test of the binary. The cluster
//! lives in a process-wide static, so it is never dropped; spawn-localdb's reaper stops and
//! deletes it when the process exits.

use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;

use super::TestingError;

/// The server every `#[spawn_runtime::test]` of this process uses.
#[derive(Debug)]
pub struct TestServer {
    admin: PgConnectOptions,
    cluster: Option<spawn_localdb::Cluster>,
}

impl TestServer {
    /// Options of the maintenance connection: `DATABASE_URL` as given, or the cluster's
    /// `postgres` database. Templates and test databases are created and dropped through it.
    pub fn admin_options(&self) -> &PgConnectOptions {
        &self.admin
    }

    /// Options of a connection to `database` on this server.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        self.admin.clone().database(database)
    }

    /// The throwaway cluster, when `DATABASE_URL` is unset.
    pub fn cluster(&self) -> Option<&spawn_localdb::Cluster> {
        self.cluster.as_ref()
    }

    /// A URL of `database` on this server, without a password (for messages).
    pub fn display_url(&self, database: &str) -> String {
        let o = &self.admin;
        let host = match o.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => o.get_host().to_string(),
        };
        format!(
            "postgres://{}@{}:{}/{}",
            o.get_username(),
            host,
            o.get_port(),
            database
        )
    }
}

/// The server of this process, chosen (and a cluster started) on first use.
pub fn server() -> Result<&'static TestServer, TestingError> {
    static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(server) => Ok(server),
        Err(message) => Err(TestingError::Server(message.clone())),
    }
}

fn start() -> Result<TestServer, String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Ok(TestServer {
            admin: url
                .parse()
                .map_err(|e| format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?,
            cluster: None,
        }),
        _ => {
            let cluster = start_cluster().map_err(|e| {
                format!(
                    "DATABASE_URL is not set and a throwaway PostgreSQL could not be started \
                     for the tests: {e}"
                )
            })?;
            let admin = cluster
                .url("postgres")
                .parse()
                .map_err(|e| format!("the throwaway cluster's URL is not valid: {e}"))?;
            Ok(TestServer {
                admin,
                cluster: Some(cluster),
            })
        }
    }
}

/// A throwaway cluster, in memory (`/dev/shm`) where the machine has one: test databases are
/// created and dropped by the hundred, and a template's files are copied for each.
/// Only with room to spare (containers often mount a 64 MB one): 1 GiB free.
fn start_cluster() -> spawn_localdb::Result<spawn_localdb::Cluster> {
    let shm = std::path::Path::new("/dev/shm");
    match shm.is_dir() && free_bytes(shm).is_some_and(|free| free >= 1 << 30) {
        true => spawn_localdb::Cluster::start_temporary_in(shm)
            .or_else(|_| spawn_localdb::Cluster::start_temporary()),
        false => spawn_localdb::Cluster::start_temporary(),
    }
}

/// Free bytes of the file system holding `path`, if known.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a valid NUL-terminated path and a buffer of the right type.
    let status = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if status != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so it filled the buffer.
    let stat = unsafe { stat.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}
