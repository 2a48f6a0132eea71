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

/// The tenants of `target` (read with `pool`, its database, for `tenants_query`), in the
/// order given, each once; `None` when it names none.
pub async fn tenant_list(target: &ResolvedTarget, pool: &PgPool) -> Result<Option<Vec<String>>> {
    let file = target.config_path.display().to_string();
    let name = target.name.as_deref().unwrap_or("(none)");
    let section = format!("{file}: [targets.{name}]");
    let names: Vec<(String, String)> = match (
        target.other.get("tenants"),
        target.other.get("tenants_query"),
    ) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => bail!("{section} has tenants and tenants_query; keep one of them"),
        (Some(list), None) => list
            .as_array()
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
        (None, Some(query)) => {
            let query = query
                .as_str()
                .ok_or_else(|| anyhow!("{section} tenants_query: expected an SQL query"))?;
            let rows: Vec<Option<String>> = sqlx::query_scalar(query)
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
    let mut tenants: Vec<String> = Vec::with_capacity(names.len());
    let mut seen = std::collections::HashSet::new();
    for (origin, tenant) in names {
        check_tenant_name(&tenant).map_err(|e| anyhow!("{origin}: {e}"))?;
        if seen.insert(tenant.clone()) {
            tenants.push(tenant);
        }
    }
    Ok(Some(tenants))
}
