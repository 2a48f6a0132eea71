//! Which databases a fleet target names: `[targets.<name>]` with one of
//!
//! * `fleet = ["postgres://…", …]`: the URLs (`${VAR}` expanded);
//! * `fleet_file = "shards.txt"`: one URL per line (blank lines and `#` comments skipped),
//!   relative to spawn.toml's folder;
//! * `fleet_query = "SELECT url FROM shards"`: run on the target's own connection (its `url`,
//!   the catalog database), the first column of each row a URL.
//!
//! Each database is reported by its URL without the password; a bad URL is an error naming
//! where it came from (the file and line, the query's row).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use spawn_runtime::fleet::FleetMember;
use sqlx::Connection as _;

use crate::target::{expand_env, from_url, ResolvedTarget};

/// The keys that make a target a fleet.
const KEYS: [&str; 3] = ["fleet", "fleet_file", "fleet_query"];

/// The databases of `target`'s fleet, in the order given (a database named twice is
/// refused).
pub async fn members(target: &ResolvedTarget) -> Result<Vec<FleetMember>> {
    let file = target.config_path.display().to_string();
    let name = target.name.as_deref().unwrap_or("(none)");
    let section = format!("{file}: [targets.{name}]");
    let given: Vec<&str> = KEYS
        .iter()
        .copied()
        .filter(|k| target.other.contains_key(*k))
        .collect();
    let urls: Vec<(String, String)> = match given.as_slice() {
        [] => bail!(
            "{section} names no fleet; add `fleet = [\"postgres://…\", …]`, `fleet_file = \"FILE\"` \
             or `fleet_query = \"SELECT url FROM …\"` to it, or choose a fleet target with --target"
        ),
        ["fleet"] => {
            let list = target.other["fleet"]
                .as_array()
                .ok_or_else(|| anyhow!("{section} fleet: expected a list of URLs"))?;
            list.iter()
                .enumerate()
                .map(|(i, v)| {
                    let url = v.as_str().ok_or_else(|| {
                        anyhow!("{section} fleet[{i}]: expected a URL string, found {v}")
                    })?;
                    Ok((format!("{section} fleet[{i}]"), expand_env(url)?))
                })
                .collect::<Result<_>>()?
        }
        ["fleet_file"] => {
            let relative = target.other["fleet_file"]
                .as_str()
                .ok_or_else(|| anyhow!("{section} fleet_file: expected a file name"))?;
            read_file(&project_file(target, relative))?
        }
        ["fleet_query"] => {
            let query = target.other["fleet_query"]
                .as_str()
                .ok_or_else(|| anyhow!("{section} fleet_query: expected an SQL query"))?;
            run_query(target, query)
                .await
                .with_context(|| format!("{section} fleet_query"))?
        }
        several => bail!(
            "{section} has {}; keep one of them",
            several.join(" and ")
        ),
    };
    let mut members: Vec<FleetMember> = Vec::with_capacity(urls.len());
    let mut seen = std::collections::HashSet::with_capacity(urls.len());
    for (origin, url) in urls {
        let connection = from_url(&url).with_context(|| origin.clone())?;
        if !seen.insert(connection.display.clone()) {
            bail!(
                "{origin}: {} is named twice; each database once",
                connection.display
            );
        }
        members.push(FleetMember::new(connection.display, connection.options));
    }
    if members.is_empty() {
        bail!("{section}: the fleet has no databases");
    }
    Ok(members)
}

/// A path of spawn.toml, relative to its folder.
fn project_file(target: &ResolvedTarget, relative: &str) -> PathBuf {
    let base = target.config_path.parent().unwrap_or(Path::new("."));
    base.join(relative)
}

/// The URLs of a fleet file, each with `file:line`.
fn read_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the fleet file {}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.trim();
            (!line.is_empty() && !line.starts_with('#'))
                .then(|| (format!("{}:{}", path.display(), i + 1), line.to_owned()))
        })
        .collect())
}

/// The URLs the query returns on the target's own connection, each with its row number.
async fn run_query(target: &ResolvedTarget, query: &str) -> Result<Vec<(String, String)>> {
    let conn = target.connection().await?;
    let mut catalog = spawn_runtime::connect::connect(&conn.options, conn.connect_timeout)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let rows: Result<Vec<Option<String>>> = sqlx::query_scalar(query)
        .fetch_all(&mut catalog)
        .await
        .map_err(|e| anyhow!("running it on {}: {e}", conn.display));
    let _ = catalog.close().await;
    let rows = rows?;
    rows.into_iter()
        .enumerate()
        .map(|(i, url)| {
            let origin = format!("row {}", i + 1);
            url.map(|u| (origin.clone(), u))
                .ok_or_else(|| anyhow!("{origin}: the URL is NULL"))
        })
        .collect()
}
