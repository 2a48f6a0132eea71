//! What the server says about the sessions' backends, asked on a control connection of its
//! own: whether a backend waits for a lock held by another session of the script
//! (`pg_isolation_test_session_is_blocked`, the check PostgreSQL's isolation tester uses),
//! and which backends block which (`pg_blocking_pids`), to find a deadlock cycle.

use crate::message::ServerMessage;
use crate::wire::{Connection, QueryEvent, WireError};

/// A control query that did not answer as expected.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("checking the sessions' locks failed: {}", .0.message)]
    Server(Box<ServerMessage>),
    #[error("checking the sessions' locks: unexpected answer {0:?}")]
    Answer(String),
}

/// `'{1,2,3}'`: a PostgreSQL integer array literal.
fn array_literal(pids: &[i32]) -> String {
    let items: Vec<String> = pids.iter().map(i32::to_string).collect();
    format!("'{{{}}}'", items.join(","))
}

/// The rows of a single-result query, each value as text (`None` for NULL).
async fn rows(
    control: &mut Connection,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>, ControlError> {
    let mut rows = Vec::new();
    for event in control.simple_query(sql).await? {
        match event {
            QueryEvent::DataRow(row) => rows.push(row),
            QueryEvent::Error(e) => return Err(ControlError::Server(Box::new(e))),
            _ => {}
        }
    }
    Ok(rows)
}

/// Whether backend `pid` waits for a lock held (or awaited first) by one of `others`.
pub async fn is_blocked(
    control: &mut Connection,
    pid: i32,
    others: &[i32],
) -> Result<bool, ControlError> {
    let sql = format!(
        "SELECT pg_catalog.pg_isolation_test_session_is_blocked({pid}, {})",
        array_literal(others)
    );
    let rows = rows(control, &sql).await?;
    match rows
        .first()
        .and_then(|row| row.first())
        .cloned()
        .flatten()
        .as_deref()
    {
        Some("t") => Ok(true),
        Some("f") => Ok(false),
        other => Err(ControlError::Answer(format!("{other:?}"))),
    }
}

/// For each of `pids` (in order), the backends among `among` that block it.
pub async fn blockers(
    control: &mut Connection,
    pids: &[i32],
    among: &[i32],
) -> Result<Vec<Vec<i32>>, ControlError> {
    let sql = format!(
        "SELECT pg_catalog.pg_blocking_pids(p) FROM unnest({}::int[]) WITH ORDINALITY AS u(p, n) ORDER BY n",
        array_literal(pids)
    );
    let rows = rows(control, &sql).await?;
    if rows.len() != pids.len() {
        return Err(ControlError::Answer(format!(
            "{} rows for {} backends",
            rows.len(),
            pids.len()
        )));
    }
    rows.into_iter()
        .map(|row| {
            let text = row.into_iter().next().flatten().unwrap_or_default();
            parse_int_array(&text)
                .map(|all| all.into_iter().filter(|p| among.contains(p)).collect())
                .ok_or(ControlError::Answer(text))
        })
        .collect()
}

/// `{1,2}` → `[1, 2]`; `{}` → `[]`.
fn parse_int_array(text: &str) -> Option<Vec<i32>> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|p| p.trim().parse().ok()).collect()
}

/// The indices of a cycle in the graph where `edges[i]` lists the indices `i` waits for, if
/// there is one (the members in index order).
pub fn cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    // A node is on a cycle when it can reach itself.
    for start in 0..edges.len() {
        let mut seen = vec![false; edges.len()];
        let mut stack: Vec<usize> = edges[start].clone();
        while let Some(node) = stack.pop() {
            if node == start {
                let members: Vec<usize> = (0..edges.len())
                    .filter(|&n| reaches(edges, start, n) && reaches(edges, n, start))
                    .collect();
                return Some(members);
            }
            if node < seen.len() && !seen[node] {
                seen[node] = true;
                stack.extend(edges[node].iter().copied());
            }
        }
    }
    None
}

/// Whether `to` is reachable from `from` (in one step or more, or `from == to`).
fn reaches(edges: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; edges.len()];
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if node < seen.len() && !seen[node] {
            seen[node] = true;
            stack.extend(edges[node].iter().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_written_and_read() {
        assert_eq!(array_literal(&[]), "'{}'");
        assert_eq!(array_literal(&[3, 14]), "'{3,14}'");
        assert_eq!(parse_int_array("{}"), Some(vec![]));
        assert_eq!(parse_int_array("{12,7}"), Some(vec![12, 7]));
        assert_eq!(parse_int_array("12"), None);
    }

    #[test]
    fn cycles_are_found_with_their_members_only() {
        assert_eq!(cycle(&[vec![1], vec![]]), None);
        assert_eq!(cycle(&[vec![1], vec![0]]), Some(vec![0, 1]));
        assert_eq!(cycle(&[vec![1], vec![2], vec![1]]), Some(vec![1, 2]));
        assert_eq!(cycle(&[vec![], vec![], vec![]]), None);
    }
}
