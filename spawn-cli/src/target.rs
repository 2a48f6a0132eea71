//! Connection resolution: which `[targets.<name>]` to use and how to reach its database.
//!
//! A target connects through, in this order of precedence:
//!
//! * `url = "postgres://…"`, with `${VAR}` expanded from the environment;
//! * `local = true`: the project-local database of `spawn db start`;
//! * the original spawn's `command = { kind = "direct", direct = ["psql", …] }` or
//!   `command = { kind = "provider", provider = [...], append = [...] }`: host, port, user and
//!   database are read from the psql arguments (after running the provider);
//! * otherwise libpq's variables `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`.
//!
//! `spawn_database` keeps the original spawn's meaning: when it names another database than
//! the connection's, the tracking tables live there (same server and credentials) while the
//! migrations run in the connection's database ([`ResolvedTarget::tracking_connection`]).
//!
//! Passwords are registered with [`crate::output::register_secret`] as soon as they are seen
//! and URLs are only ever shown through [`Connection::display`], which has none.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use spawn_build::spawn_toml::{SpawnToml, Target, DEFAULT_ENVIRONMENT, DEFAULT_SPAWN_SCHEMA};
use spawn_runtime::ConnectError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::output::{redact, register_secret};

/// The target a command works with, with everything that does not need a connection.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    /// The target's name (`None`: spawn.toml has no target to use).
    pub name: Option<String>,
    /// The template `env` (from `-e`, else the target's `environment`).
    pub environment: String,
    pub spawn_schema: String,
    pub spawn_database: Option<String>,
    /// The variables file for `environment`.
    pub variables: Option<PathBuf>,
    source: Source,
    /// The spawn.toml it comes from.
    pub config_path: PathBuf,
    /// The section's other keys (`fleet`, `local`, `command`, …), as written.
    pub other: toml::Table,
}

#[derive(Debug, Clone)]
enum Source {
    Url(String),
    Local { database: String },
    Command(toml::Value),
    Libpq,
}

/// How to reach a target's database.
#[derive(Debug, Clone)]
pub struct Connection {
    pub options: PgConnectOptions,
    /// A URL without the password, for messages.
    pub display: String,
    /// Where the settings came from (`url of target `x``, …).
    pub origin: String,
    /// How long a connect may take (libpq's `connect_timeout`: the URL's, the conninfo's or
    /// `PGCONNECT_TIMEOUT`; default 10 s).
    pub connect_timeout: Duration,
    /// The password, when one was given (sqlx's options do not hand it back; `spawn test`'s
    /// own client needs it). `PGPASSWORD` applies when this is `None`.
    pub password: Option<String>,
}

/// Picks the target: `--target` / `SPAWN_TARGET`, else spawn.toml's `target`, else its only one.
pub fn resolve(
    config: &SpawnToml,
    requested: Option<&str>,
    environment: Option<&str>,
    variables: Option<&Path>,
) -> Result<ResolvedTarget> {
    let target: Option<&Target> = match requested {
        Some(name) => Some(config.targets.get(name).ok_or_else(|| {
            anyhow!(
                "{}: there is no [targets.{name}] (targets defined: {}); pass one of those with --target, \
                 or add the section",
                config.path.display(),
                list(config.targets.keys())
            )
        })?),
        None => config.default_target(),
    };
    let environment = environment
        .map(str::to_owned)
        .or_else(|| target.map(|t| t.environment.clone()))
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
    let variables = match variables {
        Some(v) => Some(project_path(config, v)?),
        None => target
            .filter(|t| t.environment == environment)
            .and_then(|t| t.variables.clone())
            .or_else(|| config.variables_for(&environment).map(Path::to_path_buf)),
    };
    let source = match target {
        None => Source::Libpq,
        Some(t) => {
            if let Some(url) = &t.url {
                Source::Url(url.clone())
            } else if t.other.get("local").and_then(toml::Value::as_bool) == Some(true) {
                let database = t
                    .other
                    .get("database")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("postgres")
                    .to_owned();
                Source::Local { database }
            } else if let Some(cmd) = t.other.get("command") {
                Source::Command(cmd.clone())
            } else {
                Source::Libpq
            }
        }
    };
    Ok(ResolvedTarget {
        name: target.map(|t| t.name.clone()),
        environment,
        spawn_schema: target
            .map(|t| t.spawn_schema.clone())
            .unwrap_or_else(|| DEFAULT_SPAWN_SCHEMA.to_owned()),
        spawn_database: target.and_then(|t| t.spawn_database.clone()),
        variables,
        source,
        config_path: config.path.clone(),
        other: target.map(|t| t.other.clone()).unwrap_or_default(),
    })
}

/// A path given on the command line: relative to spawn.toml's folder (like every path of a
/// project); when nothing is there but the path exists from the current folder, that one.
fn project_path(config: &SpawnToml, p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let base = config.path.parent().unwrap_or(Path::new("."));
    let in_project = base.join(p);
    if in_project.exists() {
        return Ok(in_project);
    }
    let from_cwd = std::env::current_dir()
        .context("reading the current folder")?
        .join(p);
    Ok(if from_cwd.exists() {
        from_cwd
    } else {
        in_project
    })
}

impl ResolvedTarget {
    /// `target `x`` or `the default connection` for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("target `{n}`"),
            None => "no target (libpq environment)".to_owned(),
        }
    }

    /// Whether this target is the project-local database.
    pub fn is_local(&self) -> bool {
        matches!(self.source, Source::Local { .. })
    }

    /// Works out the connection settings (runs a provider command if the target has one).
    pub async fn connection(&self) -> Result<Connection> {
        let name = self.name.as_deref().unwrap_or("(none)");
        let file = self.config_path.display();
        let conn = match &self.source {
            Source::Url(raw) => {
                let expanded =
                    expand_env(raw).with_context(|| format!("{file}: [targets.{name}] url"))?;
                let url =
                    from_url(&expanded).with_context(|| format!("{file}: [targets.{name}] url"))?;
                Connection {
                    origin: format!("`url` of target `{name}`"),
                    ..url
                }
            }
            Source::Local { database } => {
                let project_dir = self.config_path.parent().unwrap_or(Path::new("."));
                let url = crate::localdb::running_url(project_dir, database)?;
                let url = from_url(&url)?;
                Connection {
                    origin: format!("the project-local database (target `{name}`)"),
                    ..url
                }
            }
            Source::Command(spec) => {
                let argv = command_argv(spec)
                    .await
                    .with_context(|| format!("{file}: [targets.{name}] command"))?;
                let conn = from_psql_args(&argv)?;
                Connection {
                    origin: format!("the psql arguments of target `{name}`'s command"),
                    ..conn
                }
            }
            Source::Libpq => {
                if let Ok(pw) = std::env::var("PGPASSWORD") {
                    register_secret(&pw);
                }
                let options = PgConnectOptions::new();
                let timeout = std::env::var("PGCONNECT_TIMEOUT").ok();
                Connection {
                    display: display_of(&options),
                    options,
                    password: None,
                    connect_timeout: connect_timeout_of(timeout.as_deref(), "PGCONNECT_TIMEOUT")?,
                    origin: match &self.name {
                        Some(n) => {
                            format!("libpq environment variables (target `{n}` has no `url`)")
                        }
                        None => "libpq environment variables (spawn.toml has no target)".to_owned(),
                    },
                }
            }
        };
        Ok(conn)
    }

    /// Where the tracking tables are when `spawn_database` names another database than the
    /// connection's: the same server and credentials, that database.
    pub fn tracking_connection(&self, conn: &Connection) -> Option<Connection> {
        let spawn_db = self.spawn_database.as_deref()?;
        if spawn_db == connection_database(conn) {
            return None;
        }
        let options = conn.options.clone().database(spawn_db);
        Some(Connection {
            display: display_of(&options),
            options,
            origin: format!("spawn_database of {}", self.label()),
            connect_timeout: conn.connect_timeout,
            password: conn.password.clone(),
        })
    }

    /// Connects a small pool, and one to the tracking database when `spawn_database` is
    /// another database (see [`ResolvedTarget::tracking_connection`]).
    pub async fn connect(&self) -> Result<(PgPool, Connection, Option<(PgPool, Connection)>)> {
        let conn = self.connection().await?;
        let pool = self.connect_pool(&conn).await?;
        let tracking = match self.tracking_connection(&conn) {
            None => None,
            Some(tracking) => match self.connect_tracking(&conn, &tracking).await {
                Ok(tracking_pool) => Some((tracking_pool, tracking)),
                Err(e) => {
                    pool.close().await;
                    return Err(e);
                }
            },
        };
        Ok((pool, conn, tracking))
    }

    async fn connect_tracking(&self, conn: &Connection, tracking: &Connection) -> Result<PgPool> {
        let spawn_db = connection_database(tracking);
        let target_db = connection_database(conn);
        tracing::debug!(url = %tracking.display, "connecting to the tracking database (spawn_database)");
        let result = open_pool(tracking, 2).await;
        result.map_err(|e| {
            let file = self.config_path.display();
            let name = self.name.as_deref().unwrap_or("(none)");
            let missing = e
                .sqlx_error()
                .and_then(|e| e.as_database_error())
                .and_then(|d| d.code())
                .is_some_and(|c| c == "3D000");
            if missing {
                anyhow!(
                    "{file}: [targets.{name}] has spawn_database = \"{spawn_db}\", but there is no database \
                     `{spawn_db}` on {} (spawn keeps its tracking tables there, while the migrations run in \
                     `{target_db}`). Nothing was applied. Create it (CREATE DATABASE \"{spawn_db}\"), or remove \
                     spawn_database to keep the tracking tables in `{target_db}`",
                    server_of(&tracking.options)
                )
            } else {
                anyhow!(
                    "cannot connect to the tracking database {} (spawn_database of target `{name}` in {file}): {}",
                    tracking.display,
                    redact(&detail_of(&e))
                )
            }
        })
    }

    async fn connect_pool(&self, conn: &Connection) -> Result<PgPool> {
        tracing::debug!(url = %conn.display, origin = %conn.origin, "connecting");
        open_pool(conn, 3).await.map_err(
            |e| {
                let hint = if self.is_local() {
                    "is it running? `spawn db status` tells; `spawn db start` starts it".to_owned()
                } else {
                    format!(
                        "check the server is up and the settings in {} (or PGHOST/PGPORT/PGUSER/PGPASSWORD)",
                        self.config_path.display()
                    )
                };
                anyhow!("cannot connect to {} (from {}): {}; {hint}", conn.display, conn.origin, redact(&detail_of(&e)))
            },
        )
    }
}

/// A pool of up to `max` connections to `conn`, after one direct connect with the same
/// options: a refused connection is reported at once (not as a pool timeout), a server that
/// does not answer after `connect_timeout`; the pool's own connects are bounded by it too.
pub(crate) async fn open_pool(conn: &Connection, max: u32) -> Result<PgPool, ConnectError> {
    use sqlx::Connection as _;
    let first = spawn_runtime::connect::connect(&conn.options, conn.connect_timeout).await?;
    let _ = first.close().await;
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(conn.connect_timeout)
        .connect_with(conn.options.clone())
        .await
        .map_err(|source| match source {
            sqlx::Error::PoolTimedOut => ConnectError::TimedOut {
                server: spawn_runtime::connect::server_of(&conn.options),
                timeout: conn.connect_timeout,
            },
            source => ConnectError::Failed {
                server: spawn_runtime::connect::server_of(&conn.options),
                source,
            },
        })
}

/// What went wrong, without repeating the server for a failure it reported.
fn detail_of(e: &ConnectError) -> String {
    match e.sqlx_error() {
        Some(source) => source.to_string(),
        None => e.to_string(),
    }
}

/// The database a connection goes to (libpq's default: the user name).
pub fn connection_database(conn: &Connection) -> &str {
    conn.options
        .get_database()
        .unwrap_or(conn.options.get_username())
}

/// `host:port` of a connection, for messages.
fn server_of(o: &PgConnectOptions) -> String {
    let host = o.get_host();
    let host = if host.starts_with('/') {
        format!("[socket {host}]")
    } else {
        host.to_owned()
    };
    format!("the server at {host}:{}", o.get_port())
}

/// Parses a postgres URL, registering its password as a secret.
pub fn from_url(url: &str) -> Result<Connection> {
    // Also for a URL too malformed to parse (a bad port or host): the error below shows it.
    let parsed = url::Url::parse(url).ok();
    let passwords = [
        parsed.as_ref().and_then(|u| u.password()),
        raw_password(url),
    ];
    for pw in passwords.into_iter().flatten() {
        register_secret(pw);
        if let Ok(decoded) = percent_decode(pw) {
            register_secret(&decoded);
        }
    }
    // sqlx does not know libpq's connect_timeout: take it out and apply it here.
    let mut timeout = None;
    let stripped = parsed.as_ref().and_then(|u| {
        let (ours, rest): (Vec<_>, Vec<_>) = u
            .query_pairs()
            .into_owned()
            .partition(|(k, _)| k == "connect_timeout");
        timeout = ours.into_iter().next().map(|(_, v)| v);
        timeout.as_ref()?;
        let mut u = u.clone();
        if rest.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(rest);
        }
        Some(u.to_string())
    });
    let options: PgConnectOptions =
        stripped
            .as_deref()
            .unwrap_or(url)
            .parse()
            .map_err(|e: sqlx::Error| {
                anyhow!(
                    "not a valid postgres URL ({}): {}",
                    redact(url),
                    redact(&e.to_string())
                )
            })?;
    let password = parsed
        .as_ref()
        .and_then(|u| u.password())
        .or_else(|| raw_password(url))
        .map(|pw| percent_decode(pw).unwrap_or_else(|_| pw.to_owned()));
    Ok(Connection {
        display: display_of(&options),
        options,
        password,
        origin: "a URL".into(),
        connect_timeout: match timeout {
            Some(value) => connect_timeout_of(Some(&value), "connect_timeout in the URL")?,
            // As libpq: the URL's setting wins, PGCONNECT_TIMEOUT applies when it has none.
            None => connect_timeout_of(
                std::env::var("PGCONNECT_TIMEOUT").ok().as_deref(),
                "PGCONNECT_TIMEOUT",
            )?,
        },
    })
}

/// The password of `scheme://user:password@host…` read without parsing the URL (so it is
/// found in a URL a parser rejects): what lies between the first `:` of the user info and
/// the last `@` (before the query string, unless the `@` is only found after a `?`).
fn raw_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let before_query = rest.split_once('?').map_or(rest, |(before, _)| before);
    let rest = if before_query.contains('@') {
        before_query
    } else {
        rest
    };
    let userinfo = &rest[..rest.rfind('@')?];
    userinfo
        .split_once(':')
        .map(|(_, pw)| pw)
        .filter(|pw| !pw.is_empty())
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// `postgres://user@host:port/db` (never a password).
pub fn display_of(o: &PgConnectOptions) -> String {
    let host = o.get_host();
    let host = if host.starts_with('/') {
        format!("[socket {host}]")
    } else {
        host.to_owned()
    };
    let db = o.get_database().unwrap_or(o.get_username());
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        host,
        o.get_port(),
        db
    )
}

/// `${VAR}` replaced by the variable's value; an unset variable is an error naming it.
pub fn expand_env(text: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| anyhow!("unclosed `${{` (write `${{VAR}}`)"))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            anyhow!("environment variable {name} is not set (used as `${{{name}}}`); export it")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The argv of an original-style `command`, running the provider when there is one.
async fn command_argv(spec: &toml::Value) -> Result<Vec<String>> {
    let table = spec.as_table().ok_or_else(|| {
        anyhow!("`command` must be a table like {{ kind = \"direct\", direct = [\"psql\", …] }}")
    })?;
    let strings = |key: &str| -> Result<Vec<String>> {
        match table.get(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_array()
                .ok_or_else(|| anyhow!("`{key}` must be an array of strings"))?
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| anyhow!("`{key}` must be an array of strings"))
                })
                .collect(),
        }
    };
    match table.get("kind").and_then(toml::Value::as_str) {
        Some("direct") => Ok(strings("direct")?),
        Some("provider") => {
            let provider = strings("provider")?;
            let Some((program, args)) = provider.split_first() else {
                bail!("`provider` is empty")
            };
            let output = tokio::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::null())
                .output()
                .await
                .with_context(|| format!("running the provider command `{program}`"))?;
            if !output.status.success() {
                bail!(
                    "the provider command `{program}` failed ({}): {}",
                    output.status,
                    redact(String::from_utf8_lossy(&output.stderr).trim())
                );
            }
            let stdout =
                String::from_utf8(output.stdout).context("the provider's output is not UTF-8")?;
            let mut argv = shlex::split(stdout.trim())
                .ok_or_else(|| anyhow!("cannot split the provider's output into arguments"))?;
            argv.extend(strings("append")?);
            Ok(argv)
        }
        other => bail!("unknown command kind {other:?}; use \"direct\" or \"provider\""),
    }
}

/// Connection settings from a psql command line (`… psql -h H -p P -U U DB`). Anything
/// before the `psql` word (`docker exec -i c`, `ssh host`) is skipped; unset settings fall
/// back to libpq's variables and defaults.
pub fn from_psql_args(argv: &[String]) -> Result<Connection> {
    let start = argv
        .iter()
        .position(|a| {
            Path::new(a)
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "psql")
        })
        .map(|i| i + 1)
        .unwrap_or(0);
    let args = &argv[start..];
    let mut host = None;
    let mut port = None;
    let mut user = None;
    let mut dbname = None;
    let mut timeout: Option<String> = None;
    let mut password = None;
    let mut positional = Vec::new();
    let mut i = 0;
    let takes_value = |c: char| "cdfhLopPRTUvF".contains(c);
    while i < args.len() {
        let a = &args[i];
        if let Some(long) = a.strip_prefix("--") {
            let (key, inline) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v.to_owned())),
                None => (long, None),
            };
            let with_value = matches!(
                key,
                "host"
                    | "port"
                    | "username"
                    | "dbname"
                    | "command"
                    | "file"
                    | "log-file"
                    | "output"
                    | "pset"
                    | "record-separator"
                    | "table-attr"
                    | "variable"
                    | "set"
                    | "field-separator"
            );
            let value = if with_value && inline.is_none() {
                i += 1;
                args.get(i).cloned()
            } else {
                inline
            };
            match key {
                "host" => host = value,
                "port" => port = value,
                "username" => user = value,
                "dbname" => dbname = value,
                _ => {}
            }
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            while let Some(c) = chars.next() {
                if takes_value(c) {
                    let rest: String = chars.collect();
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i).cloned()
                    } else {
                        Some(rest)
                    };
                    match c {
                        'h' => host = value,
                        'p' => port = value,
                        'U' => user = value,
                        'd' => dbname = value,
                        _ => {}
                    }
                    break;
                }
            }
        } else {
            positional.push(a.clone());
        }
        i += 1;
    }
    let mut positional = positional.into_iter();
    if dbname.is_none() {
        dbname = positional.next();
    }
    if user.is_none() {
        user = positional.next();
    }
    // The database argument may itself be a URL or a conninfo string.
    if let Some(db) = dbname.clone() {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            let mut conn = from_url(&db)?;
            if let Some(h) = host {
                conn.options = conn.options.host(&h);
            }
            if let Some(u) = user {
                conn.options = conn.options.username(&u);
            }
            conn.display = display_of(&conn.options);
            return Ok(conn);
        }
        if db.contains('=') {
            dbname = None;
            for pair in db.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    let v = v.trim_matches('\'').to_owned();
                    match k {
                        "host" => host = Some(v),
                        "port" => port = Some(v),
                        "user" => user = Some(v),
                        "dbname" => dbname = Some(v),
                        "connect_timeout" => timeout = Some(v),
                        "password" => {
                            register_secret(&v);
                            password = Some(v);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        register_secret(&pw);
    }
    let connect_timeout = match timeout {
        Some(t) => connect_timeout_of(Some(&t), "connect_timeout of the psql arguments")?,
        None => {
            let env = std::env::var("PGCONNECT_TIMEOUT").ok();
            connect_timeout_of(env.as_deref(), "PGCONNECT_TIMEOUT")?
        }
    };
    let mut options = PgConnectOptions::new();
    if let Some(h) = host {
        options = options.host(&h);
    }
    if let Some(p) = port {
        options = options.port(
            p.parse()
                .map_err(|_| anyhow!("psql port `{p}` is not a number"))?,
        );
    }
    if let Some(u) = user {
        options = options.username(&u);
    }
    if let Some(d) = dbname {
        options = options.database(&d);
    }
    if let Some(pw) = &password {
        options = options.password(pw);
    }
    Ok(Connection {
        display: display_of(&options),
        options,
        password,
        origin: "psql arguments".into(),
        connect_timeout,
    })
}

/// libpq's `connect_timeout` (whole seconds; 0 or unset: the default, 10 s, as spawn never
/// waits forever) read from `value`, which came from `source`.
fn connect_timeout_of(value: Option<&str>, source: &str) -> Result<Duration> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(spawn_runtime::DEFAULT_CONNECT_TIMEOUT);
    };
    let secs: u64 = value
        .parse()
        .map_err(|_| anyhow!("{source} `{value}` is not a whole number of seconds"))?;
    Ok(match secs {
        0 => spawn_runtime::DEFAULT_CONNECT_TIMEOUT,
        // libpq treats 1 as 2 seconds; spawn takes it as written.
        s => Duration::from_secs(s),
    })
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn psql_arguments_of_the_original_format() {
        let c = from_psql_args(&args(&[
            "docker", "exec", "-i", "pg", "psql", "-U", "postgres", "mydb",
        ]))
        .unwrap();
        assert_eq!(c.options.get_username(), "postgres");
        assert_eq!(c.options.get_database(), Some("mydb"));
        let c = from_psql_args(&args(&[
            "psql",
            "-h127.0.0.1",
            "--port=6543",
            "--username",
            "app",
            "-d",
            "shop",
            "-X",
        ]))
        .unwrap();
        assert_eq!(c.options.get_host(), "127.0.0.1");
        assert_eq!(c.options.get_port(), 6543);
        assert_eq!(c.options.get_username(), "app");
        assert_eq!(c.options.get_database(), Some("shop"));
        let c = from_psql_args(&args(&[
            "/usr/bin/psql",
            "-v",
            "ON_ERROR_STOP=1",
            "host=db port=5433 user=u dbname=d",
        ]))
        .unwrap();
        assert_eq!((c.options.get_host(), c.options.get_port()), ("db", 5433));
        assert_eq!(c.options.get_database(), Some("d"));
        let c = from_psql_args(&args(&["psql", "postgres://u:sekr3t@h:7/x"])).unwrap();
        assert_eq!(c.options.get_database(), Some("x"));
        assert!(!c.display.contains("sekr3t"));
        assert_eq!(redact("sekr3t"), "***");
    }

    #[test]
    fn the_password_of_a_malformed_url_is_never_shown() {
        let err =
            from_url("postgres://app:Unparsable-pw@host:notaport/db").expect_err("a bad port");
        assert!(!format!("{err:#}").contains("Unparsable-pw"), "{err:#}");
        assert_eq!(raw_password("postgres://u:p@ss@h:1/d?x=@y"), Some("p@ss"));
        assert_eq!(raw_password("postgres://u@h/d"), None);
        assert_eq!(raw_password("postgres://h/d"), None);
        assert_eq!(raw_password("postgres://u:pa?ss@h/d"), Some("pa?ss"));
    }

    #[test]
    fn env_expansion() {
        std::env::set_var("SPAWN_TEST_EXPAND", "v");
        assert_eq!(expand_env("a${SPAWN_TEST_EXPAND}b").unwrap(), "avb");
        assert!(expand_env("${SPAWN_TEST_UNSET_X}")
            .unwrap_err()
            .to_string()
            .contains("SPAWN_TEST_UNSET_X"));
    }
}
