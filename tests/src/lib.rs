//! The PostgreSQL test harness shared by spawn's integration tests.
//!
//! [`server()`] is one PostgreSQL server per test process: the server named by `DATABASE_URL`
//! when that is set, otherwise a throwaway cluster started on first use (see
//! `spawn_localdb::Cluster::start_temporary`) and removed when the process exits.
//! [`TestDb::new`] gives each test a database of its own, so tests run in parallel without
//! clashing; [`TestDb::from_template`] clones a prepared database, which is much faster than
//! migrating a new one. Every connect of the harness is bounded ([`connect`], 10 s) and
//! panics naming the server it could not reach. [`app::App`] is a throwaway cargo application embedding a spawn project,
//! for the rebuild tests and benchmark.

pub mod app;
pub mod connect;

pub use connect::CONNECT_TIMEOUT;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection, PgPool};

/// The server all tests of this process use.
pub struct TestServer {
    /// Keeps a throwaway cluster alive; `None` when `DATABASE_URL` names the server.
    cluster: Option<spawn_localdb::Cluster>,
    /// Options of the maintenance connection (database `postgres`, or DATABASE_URL's).
    admin: PgConnectOptions,
}

impl TestServer {
    /// The throwaway cluster, if this process started one.
    pub fn cluster(&self) -> Option<&spawn_localdb::Cluster> {
        self.cluster.as_ref()
    }

    /// A URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        self.admin
            .clone()
            .database(database)
            .to_url_lossy()
            .to_string()
    }

    /// Options of the maintenance connection.
    pub fn admin_options(&self) -> &PgConnectOptions {
        &self.admin
    }

    /// Options of a connection to `database` on this server.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        self.admin.clone().database(database)
    }

    /// A new connection to the maintenance database (bounded, see [`connect::connect`]).
    pub async fn admin_connection(&self) -> PgConnection {
        connect::connect(&self.admin).await
    }

    /// A new connection to `database` on this server (bounded, see [`connect::connect`]).
    pub async fn connection(&self, database: &str) -> PgConnection {
        connect::connect(&self.options(database)).await
    }
}

/// The server of this test process (started on first use).
pub fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) => TestServer {
            cluster: None,
            admin: url
                .parse()
                .expect("DATABASE_URL is not a valid postgres URL"),
        },
        Err(_) => {
            let cluster = spawn_localdb::Cluster::start_temporary().unwrap_or_else(|e| {
                panic!("cannot start a throwaway PostgreSQL for the tests: {e}")
            });
            let admin: PgConnectOptions = cluster.url("postgres").parse().expect("cluster URL");
            TestServer {
                cluster: Some(cluster),
                admin,
            }
        }
    })
}

/// A database that belongs to one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// Creates an empty database for this test (from template0).
    pub async fn new(label: &str) -> Self {
        Self::create(label, "template0").await
    }

    /// Creates a database for this test as a copy of `template` (which must have no
    /// other connections while it is copied).
    pub async fn from_template(label: &str, template: &str) -> Self {
        Self::create(label, template).await
    }

    async fn create(label: &str, template: &str) -> Self {
        let name = unique_name(label);
        let server = server();
        let mut admin = server.admin_connection().await;
        sqlx::raw_sql(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} TEMPLATE {template}: {e}"));
        let pool = connect::pool(server.options(&name), 20).await;
        Self {
            url: server.url(&name),
            name,
            pool,
        }
    }

    /// A new pool to this database (for simulating several application instances).
    pub async fn new_pool(&self, max_connections: u32) -> PgPool {
        connect::pool(server().options(&self.name), max_connections).await
    }

    /// Closes this test's connections so the database can serve as a template.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `spawn_<label>_<pid>_<n>`: unique across parallel tests and test processes.
pub fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    format!(
        "t_{clean}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `../shared/<relative>` beside the repository (the project's shared data), if it is there.
///
/// Outside CI a missing folder prints "skipped" and returns `None`, so a contributor without
/// `../shared` can still run the suite. With `CI` set it panics instead: a wrong path must
/// never pass silently as a skip.
pub fn shared_dir(relative: &str) -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let dir = root.join(relative);
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(
        !ci,
        "{} not found, and CI is set: the shared data must be beside the repository \
         (a missing ../shared fails in CI rather than skipping)",
        dir.display()
    );
    println!("skipped: {} not found", dir.display());
    None
}
