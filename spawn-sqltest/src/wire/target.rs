//! [`ConnectTarget`]: where and as whom to connect, built directly, from sqlx options, or from
//! a URL (see [`url`](super::url)) with libpq's environment fallbacks.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::WireError;

/// How long connecting (and authenticating) may take unless the target says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` sent unless the target says otherwise: psql's, so that
/// `SHOW application_name` prints what it prints under psql.
pub const DEFAULT_APPLICATION_NAME: &str = "psql";

/// The server's side of a connection: a TCP host, or a folder holding the Unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address.
    Tcp(String),
    /// A folder holding the socket `.s.PGSQL.<port>`.
    Socket(PathBuf),
}

/// Where to connect, as whom, to which database.
///
/// ```no_run
/// use spawn_sqltest::wire::{ConnectTarget, Connection};
/// # async fn demo() -> Result<(), spawn_sqltest::wire::WireError> {
/// let target = ConnectTarget::from_url("postgres://postgres@127.0.0.1:5432/postgres")?
///     .database("orchard_test");
/// let mut connection = Connection::connect(&target).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectTarget {
    pub(super) host: Host,
    pub(super) port: u16,
    pub(super) user: String,
    pub(super) password: Option<String>,
    pub(super) database: String,
    pub(super) application_name: String,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) options: Option<String>,
}

impl fmt::Debug for ConnectTarget {
    /// Like a derived `Debug`, without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("options", &self.options)
            .finish()
    }
}

impl ConnectTarget {
    /// A target on `host` (a host name, an IP address, or a socket folder when it starts with
    /// `/`), with no password, the database named like the user, and the defaults.
    pub fn new(host: &str, port: u16, user: &str) -> Self {
        Self {
            host: host_from(host),
            port,
            user: user.to_string(),
            password: None,
            database: user.to_string(),
            application_name: DEFAULT_APPLICATION_NAME.to_string(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            options: None,
        }
    }

    /// A target described by sqlx options (host or socket, port, user, database,
    /// application name), with `password` (sqlx does not reveal its own).
    ///
    /// Fails when the options require TLS.
    pub fn from_options(
        options: &PgConnectOptions,
        password: Option<String>,
    ) -> Result<Self, WireError> {
        let ssl_mode = match options.get_ssl_mode() {
            PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer => None,
            PgSslMode::Require => Some("require"),
            PgSslMode::VerifyCa => Some("verify-ca"),
            PgSslMode::VerifyFull => Some("verify-full"),
        };
        if let Some(mode) = ssl_mode {
            return Err(WireError::TlsRequested {
                mode: mode.to_string(),
            });
        }
        let host = match options.get_socket() {
            Some(dir) => Host::Socket(dir.clone()),
            None => host_from(options.get_host()),
        };
        let user = options.get_username();
        let mut target = Self::new("", options.get_port(), user);
        target.host = host;
        target.password = password;
        if let Some(database) = options.get_database() {
            target.database = database.to_string();
        }
        if let Some(name) = options.get_application_name() {
            target.application_name = name.to_string();
        }
        target.options = options.get_options().map(str::to_string);
        Ok(target)
    }

    /// The same target with another database.
    pub fn database(mut self, name: &str) -> Self {
        self.database = name.to_string();
        self
    }

    /// The same target with a password.
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_string());
        self
    }

    /// The same target as another user.
    pub fn user(mut self, user: &str) -> Self {
        self.user = user.to_string();
        self
    }

    /// The same target with another `application_name`.
    pub fn application_name(mut self, name: &str) -> Self {
        self.application_name = name.to_string();
        self
    }

    /// The same target with another bound on connecting and authenticating; `None` waits
    /// as long as the operating system does (libpq's `connect_timeout=0`).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The server's side of the connection.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port (for a socket: the number in its name).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name sent at startup.
    pub fn user_name(&self) -> &str {
        &self.user
    }

    /// The database name sent at startup.
    pub fn database_name(&self) -> &str {
        &self.database
    }

    /// The bound on connecting and authenticating, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The socket file for a socket target.
    pub fn socket_path(&self) -> Option<PathBuf> {
        match &self.host {
            Host::Socket(dir) => Some(socket_file(dir, self.port)),
            Host::Tcp(_) => None,
        }
    }

    /// `host:port` or the socket's path, for messages.
    pub fn endpoint(&self) -> String {
        match &self.host {
            Host::Socket(dir) => socket_file(dir, self.port).display().to_string(),
            Host::Tcp(host) if host.contains(':') => format!("[{host}]:{}", self.port),
            Host::Tcp(host) => format!("{host}:{}", self.port),
        }
    }
}

/// The socket file in `dir` for `port`.
fn socket_file(dir: &Path, port: u16) -> PathBuf {
    dir.join(format!(".s.PGSQL.{port}"))
}

/// A host given as text: a folder when it is an absolute path (like libpq).
pub(super) fn host_from(host: &str) -> Host {
    if host.starts_with('/') {
        Host::Socket(PathBuf::from(host))
    } else {
        Host::Tcp(host.to_string())
    }
}

/// libpq's default host when none is given: the usual socket folder (Debian's when present).
pub(super) fn default_host() -> Host {
    let debian = Path::new("/var/run/postgresql");
    if debian.is_dir() {
        Host::Socket(debian.to_path_buf())
    } else {
        Host::Socket(PathBuf::from("/tmp"))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::postgres::{PgConnectOptions, PgSslMode};

    use super::*;

    fn options() -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .host("db.example")
            .port(6543)
            .username("alice")
            .database("orchard")
            .application_name("runner")
            .ssl_mode(PgSslMode::Prefer)
    }

    #[test]
    fn from_options_takes_host_port_user_database_and_name() {
        let target = ConnectTarget::from_options(&options(), Some("pw".into())).expect("target");
        assert_eq!(target.host(), &Host::Tcp("db.example".into()));
        assert_eq!(target.endpoint(), "db.example:6543");
        assert_eq!(target.user_name(), "alice");
        assert_eq!(target.database_name(), "orchard");
        assert_eq!(target.application_name, "runner");
        assert_eq!(target.password.as_deref(), Some("pw"));
    }

    #[test]
    fn from_options_with_a_socket() {
        let options = options().socket("/run/pg");
        let target = ConnectTarget::from_options(&options, None).expect("target");
        assert_eq!(target.host(), &Host::Socket(PathBuf::from("/run/pg")));
        assert_eq!(
            target.socket_path(),
            Some(PathBuf::from("/run/pg/.s.PGSQL.6543"))
        );
    }

    #[test]
    fn from_options_refuses_tls() {
        for mode in [
            PgSslMode::Require,
            PgSslMode::VerifyCa,
            PgSslMode::VerifyFull,
        ] {
            let err = ConnectTarget::from_options(&options().ssl_mode(mode), None)
                .expect_err("TLS refused");
            assert!(matches!(err, WireError::TlsRequested { .. }), "{err:?}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let target = ConnectTarget::new("h", 1, "u").password("very secret");
        let printed = format!("{target:?}");
        assert!(!printed.contains("very secret"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
    }
}
