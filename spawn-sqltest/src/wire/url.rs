//! [`ConnectTarget::from_url`]: libpq's connection URIs (`postgres://` / `postgresql://`),
//! with libpq's fallbacks on the `PG*` environment variables where the URL is silent.

use std::time::Duration;

use super::target::{default_host, host_from, ConnectTarget, DEFAULT_APPLICATION_NAME};
use super::WireError;

/// URL parameters accepted without effect: TLS files (TLS is refused anyway) and sqlx's own.
const IGNORED_PARAMETERS: &[&str] = &[
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "channel_binding",
    "gssencmode",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "statement-cache-capacity",
];

/// What the URL itself says; `None` where it is silent.
#[derive(Default)]
struct UrlParts {
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    connect_timeout: Option<String>,
    sslmode: Option<String>,
    options: Option<String>,
}

impl ConnectTarget {
    /// Parses a `postgres://` or `postgresql://` URL like libpq: percent-encoded parts, a
    /// socket folder as host (`%2Frun%2Fpg` or `?host=/run/pg`), the query parameters `host`,
    /// `port`, `user`, `password`, `dbname`, `application_name`, `connect_timeout` (seconds),
    /// `sslmode` and `options`; where the URL is silent, `PGHOST`, `PGPORT`, `PGUSER`,
    /// `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`, `PGCONNECT_TIMEOUT` and `PGSSLMODE`.
    ///
    /// `sslmode` `require`, `verify-ca` and `verify-full` fail: TLS is not supported yet.
    ///
    /// ```no_run
    /// use spawn_sqltest::wire::ConnectTarget;
    /// let target = ConnectTarget::from_url("postgresql:///orchard?host=/run/postgresql")?;
    /// assert_eq!(target.database_name(), "orchard");
    /// # Ok::<(), spawn_sqltest::wire::WireError>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self, WireError> {
        from_url_with_env(url, |name| std::env::var(name).ok())
    }
}

/// [`ConnectTarget::from_url`] with the environment given as a lookup function.
pub(super) fn from_url_with_env(
    url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ConnectTarget, WireError> {
    let invalid = |reason: String| WireError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let parts = parse_parts(url).map_err(invalid)?;
    let or_env = |value: Option<String>, name: &str| value.or_else(|| env(name));

    let sslmode = or_env(parts.sslmode, "PGSSLMODE");
    match sslmode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => {}
        Some(mode @ ("require" | "verify-ca" | "verify-full")) => {
            return Err(WireError::TlsRequested {
                mode: mode.to_string(),
            })
        }
        Some(other) => return Err(invalid(format!("invalid sslmode {other:?}"))),
    }

    let port = match or_env(parts.port, "PGPORT") {
        None => 5432,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| invalid(format!("invalid port {port:?}")))?,
    };
    let connect_timeout = match or_env(parts.connect_timeout, "PGCONNECT_TIMEOUT") {
        None => Some(super::target::DEFAULT_CONNECT_TIMEOUT),
        Some(seconds) => {
            let seconds: i64 = seconds
                .trim()
                .parse()
                .map_err(|_| invalid(format!("invalid connect_timeout {seconds:?}")))?;
            // libpq: zero or less waits forever, and less than 2 seconds means 2.
            u64::try_from(seconds)
                .ok()
                .filter(|seconds| *seconds > 0)
                .map(|seconds| Duration::from_secs(seconds.max(2)))
        }
    };
    let user = or_env(parts.user, "PGUSER")
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .ok_or_else(|| invalid("no user name given, and PGUSER and USER are unset".into()))?;
    let database = or_env(parts.database, "PGDATABASE").unwrap_or_else(|| user.clone());
    let application_name = or_env(parts.application_name, "PGAPPNAME")
        .or(parts.fallback_application_name)
        .unwrap_or_else(|| DEFAULT_APPLICATION_NAME.to_string());
    let host = match or_env(parts.host, "PGHOST") {
        Some(host) if host.contains(',') => {
            return Err(invalid(format!("several hosts ({host}) are not supported")))
        }
        Some(host) => host_from(&host),
        None => default_host(),
    };

    Ok(ConnectTarget {
        host,
        port,
        user,
        password: or_env(parts.password, "PGPASSWORD"),
        database,
        application_name,
        connect_timeout,
        options: parts.options,
    })
}

/// Splits the URL into its parts, percent-decoded, empty ones as absent.
fn parse_parts(url: &str) -> Result<UrlParts, String> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or("it must start with postgres:// or postgresql://")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((authority, path)) => (authority, Some(path)),
        None => (before_query, None),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };

    let mut parts = UrlParts::default();
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        parts.user = non_empty(decode(user)?);
        parts.password = password.map(decode).transpose()?;
    }
    let (host, port) = split_host_port(hostport)?;
    parts.host = non_empty(decode(host)?);
    parts.port = port.map(decode).transpose()?.and_then(non_empty);
    parts.database = path.map(decode).transpose()?.and_then(non_empty);

    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("query parameter {pair:?} has no value"))?;
        let value = decode(value)?;
        let slot = match decode(key)?.as_str() {
            "host" => &mut parts.host,
            "port" => &mut parts.port,
            "user" => &mut parts.user,
            "password" => &mut parts.password,
            "dbname" => &mut parts.database,
            "application_name" => &mut parts.application_name,
            "fallback_application_name" => &mut parts.fallback_application_name,
            "connect_timeout" => &mut parts.connect_timeout,
            "sslmode" => &mut parts.sslmode,
            "options" => &mut parts.options,
            ignored if IGNORED_PARAMETERS.contains(&ignored) => continue,
            unknown => return Err(format!("unknown query parameter {unknown:?}")),
        };
        *slot = Some(value);
    }
    Ok(parts)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("an IPv6 host lacks its closing ']'")?;
        return match after {
            "" => Ok((host, None)),
            port => port
                .strip_prefix(':')
                .map(|port| (host, Some(port)))
                .ok_or_else(|| format!("unexpected {port:?} after the IPv6 host")),
        };
    }
    Ok(match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

/// Decodes `%XX` escapes (into UTF-8 text).
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in {text:?}"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8"))
}

/// `None` for an empty string.
fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::wire::Host;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(url: &str) -> ConnectTarget {
        from_url_with_env(url, no_env).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn full_url_is_percent_decoded() {
        let target = parse("postgres://us%40er:p%3Ass@db.example:6543/my%20db?application_name=t");
        assert_eq!(target.host, Host::Tcp("db.example".into()));
        assert_eq!(target.port, 6543);
        assert_eq!(target.user, "us@er");
        assert_eq!(target.password.as_deref(), Some("p:ss"));
        assert_eq!(target.database, "my db");
        assert_eq!(target.application_name, "t");
        assert_eq!(target.connect_timeout, Some(Duration::from_secs(10)));
    }

    #[test]
    fn socket_folder_as_host_or_parameter() {
        let encoded = parse("postgresql://me@%2Frun%2Fpg:5433/db");
        assert_eq!(encoded.host, Host::Socket(PathBuf::from("/run/pg")));
        assert_eq!(encoded.endpoint(), "/run/pg/.s.PGSQL.5433");
        let param = parse("postgresql:///db?host=/run/pg&user=me&port=7");
        assert_eq!(param.host, Host::Socket(PathBuf::from("/run/pg")));
        assert_eq!((param.port, param.user.as_str()), (7, "me"));
    }

    #[test]
    fn ipv6_host() {
        let target = parse("postgres://u@[::1]:5000/d");
        assert_eq!(target.host, Host::Tcp("::1".into()));
        assert_eq!(target.endpoint(), "[::1]:5000");
    }

    #[test]
    fn environment_fills_what_the_url_leaves_out() {
        let env = |name: &str| {
            Some(match name {
                "PGHOST" => "/sock".to_string(),
                "PGPORT" => "6000".to_string(),
                "PGUSER" => "envuser".to_string(),
                "PGPASSWORD" => "envpw".to_string(),
                "PGDATABASE" => "envdb".to_string(),
                _ => return None,
            })
        };
        let target = from_url_with_env("postgres://", env).expect("parses");
        assert_eq!(target.host, Host::Socket(PathBuf::from("/sock")));
        assert_eq!(target.port, 6000);
        assert_eq!(target.user, "envuser");
        assert_eq!(target.password.as_deref(), Some("envpw"));
        assert_eq!(target.database, "envdb");
        let url_wins = from_url_with_env("postgres://u:pw@h:1/d", env).expect("parses");
        assert_eq!(url_wins.host, Host::Tcp("h".into()));
        assert_eq!(
            (
                url_wins.port,
                url_wins.user.as_str(),
                url_wins.database.as_str()
            ),
            (1, "u", "d")
        );
        assert_eq!(url_wins.password.as_deref(), Some("pw"));
    }

    #[test]
    fn options_and_application_names() {
        let target =
            parse("postgres://u@h/d?options=-c%20search_path%3Dx&fallback_application_name=f");
        assert_eq!(target.options.as_deref(), Some("-c search_path=x"));
        assert_eq!(target.application_name, "f");
        let named = parse("postgres://u@h/d?fallback_application_name=f&application_name=a");
        assert_eq!(named.application_name, "a");
        assert_eq!(parse("postgres://u@h/d").application_name, "psql");
    }

    #[test]
    fn database_defaults_to_the_user() {
        assert_eq!(parse("postgres://alice@h").database, "alice");
    }

    #[test]
    fn connect_timeout_like_libpq() {
        let timeout = |url: &str| parse(url).connect_timeout;
        assert_eq!(
            timeout("postgres://u@h/d?connect_timeout=5"),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            timeout("postgres://u@h/d?connect_timeout=1"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(timeout("postgres://u@h/d?connect_timeout=0"), None);
    }

    #[test]
    fn sqlx_urls_are_accepted() {
        let target = parse(
            "postgres://postgres@127.0.0.1:5432/db?sslmode=prefer&statement-cache-capacity=100",
        );
        assert_eq!(target.endpoint(), "127.0.0.1:5432");
    }

    #[test]
    fn tls_modes_are_refused_clearly() {
        for mode in ["require", "verify-ca", "verify-full"] {
            let err = from_url_with_env(&format!("postgres://u@h/d?sslmode={mode}"), no_env)
                .expect_err("TLS is refused");
            assert!(matches!(err, WireError::TlsRequested { .. }), "{err:?}");
            assert!(err.to_string().contains("TLS is not supported"), "{err}");
        }
    }

    #[test]
    fn bad_urls_say_why() {
        let cases = [
            ("mysql://u@h/d", "must start with postgres://"),
            ("postgres://u@h:notaport/d", "invalid port"),
            ("postgres://u@h:70000/d", "invalid port"),
            ("postgres://u@h/d%zz", "percent-encoding"),
            (
                "postgres://u@h/d?bogus=1",
                "unknown query parameter \"bogus\"",
            ),
            (
                "postgres://u@h/d?connect_timeout=soon",
                "invalid connect_timeout",
            ),
            ("postgres://u@h/d?sslmode=maybe", "invalid sslmode"),
            ("postgres://u@a,b/d", "several hosts"),
            ("postgres://u@[::1/d", "closing ']'"),
            ("postgres://", "no user name given"),
            ("postgres://u@h/d?port", "has no value"),
        ];
        for (url, expected) in cases {
            let err = from_url_with_env(url, no_env).expect_err(url);
            assert!(
                matches!(err, WireError::InvalidUrl { .. }),
                "{url}: {err:?}"
            );
            assert!(err.to_string().contains(expected), "{url}: {err}");
        }
    }
}
