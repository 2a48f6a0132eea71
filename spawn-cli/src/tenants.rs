//! Which tenants a target has: `[targets.<name>]` with
//!
//! * `tenants = ["acme", "globex"]`: the schema names; or
//! * `tenants_query = "SELECT schema_name FROM app.tenants"`: run on the target's database,
//!   the first column of each row a schema name.
//!
//! A name that is not a valid tenant name is an error naming where it came from.

use anyhow::{anyhow, bail, Context, Result};
use spawn_runtime::tenants::check_tenant_name;
use sqlx::PgPool;

use crate::target::ResolvedTarget;

/// Whether `target` names tenants at all.
pub fn has_tenants(target: &ResolvedTarget) -> bool {
    target.other.contains_key("tenants") || target.other.contains_key("tenants_query")
}

/// Where a tenant config points: the static list (with each name's origin) or the query.
enum Source {
    List(Vec<(String, String)>),
    Query(String),
}

/// `spawn.toml: [targets.x]`, for messages.
fn section(target: &ResolvedTarget) -> String {
    let name = target.name.as_deref().unwrap_or("(none)");
    format!("{}: [targets.{name}]", target.config_path.display())
}

/// What `target`'s tenant keys say, checked without a database; `None` when it has none.
fn source(target: &ResolvedTarget) -> Result<Option<Source>> {
    let section = section(target);
    Ok(Some(
        match (
            target.other.get("tenants"),
            target.other.get("tenants_query"),
        ) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                bail!("{section} has tenants and tenants_query; keep one of them")
            }
            (Some(list), None) => Source::List(
                list.as_array()
                    .ok_or_else(|| anyhow!("{section} tenants: expected a list of schema names"))?
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_str()
                            .map(|s| (format!("{section} tenants[{i}]"), s.to_owned()))
                            .ok_or_else(|| {
                                anyhow!("{section} tenants[{i}]: expected a schema name, found {v}")
                            })
                    })
                    .collect::<Result<_>>()?,
            ),
            (None, Some(query)) => Source::Query(
                query
                    .as_str()
                    .ok_or_else(|| anyhow!("{section} tenants_query: expected an SQL query"))?
                    .to_owned(),
            ),
        },
    ))
}

/// Checks `target`'s tenant keys and a static list's names before anything runs (a query's
/// names can only be checked once it has run).
pub fn check_config(target: &ResolvedTarget) -> Result<()> {
    if let Some(Source::List(names)) = source(target)? {
        unique_valid(names)?;
    }
    Ok(())
}

/// The tenants of `target` (read with `pool`, its database, for `tenants_query`), in the
/// order given, each once; `None` when it names none.
pub async fn tenant_list(target: &ResolvedTarget, pool: &PgPool) -> Result<Option<Vec<String>>> {
    let names = match source(target)? {
        None => return Ok(None),
        Some(Source::List(names)) => names,
        Some(Source::Query(query)) => {
            let section = section(target);
            let rows: Vec<Option<String>> = sqlx::query_scalar(&query)
                .fetch_all(pool)
                .await
                .with_context(|| format!("{section} tenants_query"))?;
            rows.into_iter()
                .enumerate()
                .map(|(i, n)| {
                    let origin = format!("{section} tenants_query, row {}", i + 1);
                    n.map(|n| (origin.clone(), n))
                        .ok_or_else(|| anyhow!("{origin}: the schema name is NULL"))
                })
                .collect::<Result<_>>()?
        }
    };
    unique_valid(names).map(Some)
}

/// The names, each checked (the error names its origin) and kept once, in order.
fn unique_valid(names: Vec<(String, String)>) -> Result<Vec<String>> {
    let mut tenants: Vec<String> = Vec::with_capacity(names.len());
    let mut seen = std::collections::HashSet::new();
    for (origin, tenant) in names {
        check_tenant_name(&tenant).map_err(|e| anyhow!("{origin}: {e}"))?;
        if seen.insert(tenant.clone()) {
            tenants.push(tenant);
        }
    }
    Ok(tenants)
}
