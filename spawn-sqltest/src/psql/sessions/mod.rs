//! Concurrent sessions inside one script: spawn's `\sessions` and `\session` meta-commands.
//!
//! `\sessions a b` declares the script's sessions (a `\session` whose name no `\sessions`
//! line above declares is an error). `\session NAME` sends the statements that follow to
//! the session `NAME`, a connection of its own to the same database, opened the first time
//! the name is used; the statements
//! before the first `\session` run in the script's own connection, as psql runs them. Each
//! statement is a *step*: it is sent, and then the runner asks the server (on a control
//! connection) until one of two things is true: its answer has arrived, or its backend
//! waits for a lock another session holds (`pg_isolation_test_session_is_blocked`). A
//! waiting step is printed as `session NAME waiting: <its first line>`, and the script goes
//! on; whenever a step completes, every waiting step is checked again in the order they
//! were sent, and one that has completed is printed as `session NAME completed: <its first
//! line>` followed by its output. When all waiting steps block each other (a cycle in
//! `pg_blocking_pids`), the runner waits for PostgreSQL's deadlock detector to end one.
//!
//! A deadlock error's `DETAIL` (process and transaction numbers, different in every run) is
//! left out, and a step ended by a deadlock is always printed as waiting first (it did
//! wait), whether or not the runner saw it wait. Steps still waiting at the end of the
//! script are printed as `session NAME still waiting at the end of the test: <first line>`,
//! cancelled, and the test stops there as after an error.

pub mod server;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::wire::{CancelToken, ConnectTarget, Connection, QueryEvent, WireError};
use server::ControlError;

/// SQLSTATE `deadlock_detected`.
pub const DEADLOCK: &str = "40P01";

/// What goes wrong with the sessions themselves.
#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error("session {session}: {source}")]
    Connect {
        session: String,
        #[source]
        source: WireError,
    },
    #[error("session {session} is still waiting for its step `{step}`; a session runs one step at a time")]
    StillWaiting { session: String, step: String },
    #[error("session {session}: {source}")]
    Wire {
        session: String,
        #[source]
        source: WireError,
    },
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Whether `name` may name a session: a letter or `_`, then letters, digits and `_`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a scanned item is `\session` (a script using sessions runs in autocommit, in a
/// database of its own).
pub fn is_session_command(item: &crate::psql::scan::Item) -> bool {
    matches!(item, crate::psql::scan::Item::Meta { command, .. } if command == "session")
}

/// The first line of a step that is not blank or a `--` comment, as the waiting and
/// completion lines show it.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with("--"))
        .unwrap_or("")
}

type StepFuture =
    Pin<Box<dyn Future<Output = (Connection, Result<Vec<QueryEvent>, WireError>)> + Send>>;

/// A step sent and not yet answered.
struct Pending {
    future: StepFuture,
    /// The step as the script wrote it.
    text: String,
    /// `\gset`'s prefix when the step came from `\gset`.
    gset: Option<String>,
    /// When it was sent, relative to the other steps.
    sequence: u64,
    /// The sessions it was seen waiting for.
    blockers: Vec<usize>,
}

enum State {
    Idle(Box<Connection>),
    Running(Pending),
    /// Only while a step is being moved between states.
    Moving,
}

struct Named {
    name: String,
    pid: i32,
    cancel: Option<CancelToken>,
    state: State,
}

/// How a step went right after it was sent.
pub enum StepOutcome {
    /// It answered.
    Done(Vec<QueryEvent>),
    /// Its backend waits for a lock.
    Waiting,
}

/// A waiting step that has completed.
pub struct Finished {
    pub session: String,
    pub text: String,
    pub gset: Option<String>,
    pub events: Vec<QueryEvent>,
    /// Its session.
    index: usize,
    sequence: u64,
    blockers: Vec<usize>,
}

/// A step that was still waiting when the script ended.
pub struct Unfinished {
    pub session: String,
    pub text: String,
}

/// The named sessions of one script run.
pub struct Sessions {
    target: ConnectTarget,
    /// The script's own connection's backend (it can hold locks the sessions wait for).
    default_pid: Option<i32>,
    control: Option<Connection>,
    named: Vec<Named>,
    current: Option<usize>,
    next_sequence: u64,
}

impl Sessions {
    /// No sessions yet; they will connect as `default` is connected.
    pub fn new(default: &Connection) -> Self {
        Self {
            target: default.target().clone(),
            default_pid: default.process_id(),
            control: None,
            named: Vec::new(),
            current: None,
            next_sequence: 0,
        }
    }

    /// Whether a `\session` has switched away from the script's own connection.
    pub fn active(&self) -> bool {
        self.current.is_some()
    }

    /// `\session NAME`: the following steps run in `name`, connected now if it is new.
    pub async fn switch(&mut self, name: &str) -> Result<(), SessionsError> {
        if let Some(index) = self.named.iter().position(|n| n.name == name) {
            self.current = Some(index);
            return Ok(());
        }
        let connect_error = |source| SessionsError::Connect {
            session: name.to_owned(),
            source,
        };
        if self.control.is_none() {
            let control = Connection::connect(&self.target)
                .await
                .map_err(connect_error)?;
            self.control = Some(control);
        }
        let connection = Connection::connect(&self.target)
            .await
            .map_err(connect_error)?;
        let pid = connection.process_id().unwrap_or_default();
        self.named.push(Named {
            name: name.to_owned(),
            pid,
            cancel: connection.cancel_token(),
            state: State::Idle(Box::new(connection)),
        });
        self.current = Some(self.named.len() - 1);
        Ok(())
    }

    /// The current session's name.
    pub fn current_name(&self) -> &str {
        self.current.map_or("", |i| self.named[i].name.as_str())
    }

    /// Sends `sql` (the step `text` as sent) in the current session and waits until it
    /// answers or waits for a lock.
    pub async fn run_step(
        &mut self,
        text: &str,
        sql: &str,
        gset: Option<String>,
    ) -> Result<StepOutcome, SessionsError> {
        let Some(index) = self.current else {
            return Err(SessionsError::Control(ControlError::Answer(
                "no current session".into(),
            )));
        };
        let named = &mut self.named[index];
        let mut connection = match std::mem::replace(&mut named.state, State::Moving) {
            State::Idle(connection) => *connection,
            running => {
                let step = match &running {
                    State::Running(pending) => first_line(&pending.text).to_owned(),
                    _ => String::new(),
                };
                named.state = running;
                return Err(SessionsError::StillWaiting {
                    session: named.name.clone(),
                    step,
                });
            }
        };
        let owned = sql.to_owned();
        let future: StepFuture = Box::pin(async move {
            let result = connection.simple_query(&owned).await;
            (connection, result)
        });
        named.state = State::Running(Pending {
            future,
            text: text.to_owned(),
            gset,
            sequence: self.next_sequence,
            blockers: Vec::new(),
        });
        self.next_sequence += 1;
        Ok(match self.poll_step(index).await? {
            Some(finished) => StepOutcome::Done(finished.events),
            None => StepOutcome::Waiting,
        })
    }

    /// Every waiting step that can complete now, in causal order: checked again and again
    /// until none changes, then a step the server had seen waiting for another comes after
    /// it; otherwise (and to break a cycle, a deadlock victim first) in the order they were
    /// sent. So the order does not depend on when each answer happened to arrive.
    pub async fn settle(&mut self) -> Result<Vec<Finished>, SessionsError> {
        let mut finished = Vec::new();
        // Whether the last pass followed a check that found no cycle: a deadlock resolved
        // between a pass and the check shows in the next pass.
        let mut checked = false;
        loop {
            let mut changed = false;
            for index in self.running_in_order() {
                if let Some(done) = self.poll_step(index).await? {
                    finished.push(done);
                    changed = true;
                }
            }
            if changed {
                checked = false;
                continue;
            }
            if checked {
                return Ok(causal_order(finished));
            }
            match self.deadlock_cycle().await? {
                Some(cycle) => finished.push(self.wait_for_any(&cycle).await?),
                None => checked = true,
            }
        }
    }

    /// Cancels the steps still waiting and closes every session, waiting until their backends
    /// have exited (nothing is left behind); returns what was waiting.
    pub async fn close(mut self) -> Vec<Unfinished> {
        let mut unfinished = Vec::new();
        for index in self.running_in_order() {
            let named = &mut self.named[index];
            if let State::Running(pending) = std::mem::replace(&mut named.state, State::Moving) {
                unfinished.push(Unfinished {
                    session: named.name.clone(),
                    text: pending.text,
                });
                if let Some(token) = &named.cancel {
                    // A failed cancel leaves the backend to the database's forced drop.
                    let _ = token.cancel().await;
                    let (connection, _cancelled) = pending.future.await;
                    named.state = State::Idle(Box::new(connection));
                }
            }
        }
        for named in self.named {
            if let State::Idle(connection) = named.state {
                let _ = connection.close_and_wait().await;
            }
        }
        if let Some(control) = self.control {
            let _ = control.close_and_wait().await;
        }
        unfinished
    }

    /// The indices of the sessions with a step in flight, oldest step first.
    fn running_in_order(&self) -> Vec<usize> {
        let mut running: Vec<(u64, usize)> = self
            .named
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.state {
                State::Running(p) => Some((p.sequence, i)),
                _ => None,
            })
            .collect();
        running.sort_unstable();
        running.into_iter().map(|(_, i)| i).collect()
    }

    /// The other backends a session's step may wait for.
    fn others(&self, index: usize) -> Vec<i32> {
        self.named
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, n)| n.pid)
            .chain(self.default_pid)
            .collect()
    }

    /// Asks the server about session `index`'s step until it has answered (`Some`) or its
    /// backend waits for a lock (`None`).
    async fn poll_step(&mut self, index: usize) -> Result<Option<Finished>, SessionsError> {
        let others = self.others(index);
        let (Some(control), Some(named)) = (self.control.as_mut(), self.named.get_mut(index))
        else {
            return Ok(None);
        };
        let State::Running(pending) = &mut named.state else {
            return Ok(None);
        };
        loop {
            let check = server::is_blocked(control, named.pid, &others);
            tokio::pin!(check);
            tokio::select! {
                biased;
                answer = &mut pending.future => {
                    // The control query is finished, so that its connection stays in step.
                    check.await?;
                    return finish(index, named, answer).map(Some);
                }
                blocked = &mut check => {
                    if blocked? {
                        break;
                    }
                }
            }
        }
        let pids: Vec<i32> = self.named.iter().map(|n| n.pid).collect();
        let (Some(control), Some(named)) = (self.control.as_mut(), self.named.get_mut(index))
        else {
            return Ok(None);
        };
        let blockers = server::blockers(control, &[named.pid], &pids).await?;
        if let State::Running(pending) = &mut named.state {
            // Every session it was seen waiting for (one may have let go since the check).
            for blocker in blockers.into_iter().flatten() {
                if let Some(b) = pids.iter().position(|p| *p == blocker) {
                    if !pending.blockers.contains(&b) {
                        pending.blockers.push(b);
                    }
                }
            }
        }
        Ok(None)
    }

    /// The sessions whose steps wait for each other in a cycle, if any.
    async fn deadlock_cycle(&mut self) -> Result<Option<Vec<usize>>, SessionsError> {
        let running = self.running_in_order();
        if running.len() < 2 {
            return Ok(None);
        }
        let Some(control) = self.control.as_mut() else {
            return Ok(None);
        };
        let pids: Vec<i32> = running.iter().map(|&i| self.named[i].pid).collect();
        let blockers = server::blockers(control, &pids, &pids).await?;
        let edges: Vec<Vec<usize>> = blockers
            .iter()
            .map(|bs| {
                bs.iter()
                    .filter_map(|b| pids.iter().position(|p| p == b))
                    .collect()
            })
            .collect();
        Ok(server::cycle(&edges).map(|members| members.into_iter().map(|m| running[m]).collect()))
    }

    /// Waits until one of the steps of `indices` answers (the deadlock detector ends one).
    async fn wait_for_any(&mut self, indices: &[usize]) -> Result<Finished, SessionsError> {
        let (index, answer) = {
            let mut futures: Vec<(usize, &mut StepFuture)> = self
                .named
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| indices.contains(i))
                .filter_map(|(i, n)| match &mut n.state {
                    State::Running(p) => Some((i, &mut p.future)),
                    _ => None,
                })
                .collect();
            std::future::poll_fn(|cx| {
                for (i, future) in futures.iter_mut() {
                    if let Poll::Ready(answer) = future.as_mut().poll(cx) {
                        return Poll::Ready((*i, answer));
                    }
                }
                Poll::Pending
            })
            .await
        };
        finish(index, &mut self.named[index], answer)
    }
}

/// Puts a session whose step answered back to idle; its answer, normalised.
fn finish(
    index: usize,
    named: &mut Named,
    answer: (Connection, Result<Vec<QueryEvent>, WireError>),
) -> Result<Finished, SessionsError> {
    let (connection, result) = answer;
    let State::Running(pending) =
        std::mem::replace(&mut named.state, State::Idle(Box::new(connection)))
    else {
        return Err(SessionsError::Control(ControlError::Answer(
            "a step answered twice".into(),
        )));
    };
    let mut events = result.map_err(|source| SessionsError::Wire {
        session: named.name.clone(),
        source,
    })?;
    for event in &mut events {
        if let QueryEvent::Error(error) = event {
            if error.code == DEADLOCK {
                error.detail = None;
            }
        }
    }
    Ok(Finished {
        session: named.name.clone(),
        text: pending.text,
        gset: pending.gset,
        events,
        index,
        sequence: pending.sequence,
        blockers: pending.blockers,
    })
}

/// `finished` (in the order they were sent) so that each comes after the steps it was seen
/// waiting for; in a cycle, a deadlock victim first.
fn causal_order(mut finished: Vec<Finished>) -> Vec<Finished> {
    finished.sort_by_key(|f| f.sequence);
    let mut ordered = Vec::with_capacity(finished.len());
    while !finished.is_empty() {
        let unblocked = |f: &Finished| {
            !f.blockers
                .iter()
                .any(|b| finished.iter().any(|other| other.index == *b))
        };
        let pick = finished
            .iter()
            .position(unblocked)
            .or_else(|| finished.iter().position(|f| deadlocked(&f.events)))
            .unwrap_or(0);
        ordered.push(finished.remove(pick));
    }
    ordered
}

/// Whether a step's answer is a deadlock error (such a step always waited).
pub fn deadlocked(events: &[QueryEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, QueryEvent::Error(error) if error.code == DEADLOCK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers() {
        assert!(valid_name("a"));
        assert!(valid_name("worker_2"));
        assert!(valid_name("_x"));
        assert!(!valid_name("2a"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name(""));
    }

    fn finished(index: usize, sequence: u64, blockers: Vec<usize>, code: Option<&str>) -> Finished {
        let events = code
            .map(|code| {
                vec![QueryEvent::Error(crate::message::ServerMessage {
                    code: code.to_owned(),
                    ..Default::default()
                })]
            })
            .unwrap_or_default();
        Finished {
            session: format!("s{index}"),
            text: String::new(),
            gset: None,
            events,
            index,
            sequence,
            blockers,
        }
    }

    fn order(list: Vec<Finished>) -> Vec<usize> {
        causal_order(list).into_iter().map(|f| f.index).collect()
    }

    #[test]
    fn completions_follow_what_they_waited_for_then_the_order_sent() {
        // Sent in order 0, 1, 2; none waited for another: the order sent.
        let plain = vec![
            finished(2, 2, vec![], None),
            finished(0, 0, vec![], None),
            finished(1, 1, vec![], None),
        ];
        assert_eq!(order(plain), vec![0, 1, 2]);
        // 0 waited for 1: 1 first.
        let waited = vec![finished(0, 0, vec![1], None), finished(1, 1, vec![], None)];
        assert_eq!(order(waited), vec![1, 0]);
        // A cycle: the deadlock victim first.
        let cycle = vec![
            finished(0, 0, vec![1], None),
            finished(1, 1, vec![0], Some(DEADLOCK)),
        ];
        assert_eq!(order(cycle), vec![1, 0]);
        // Waiting for a session that did not complete now does not count.
        let elsewhere = vec![finished(0, 0, vec![5], None), finished(1, 1, vec![], None)];
        assert_eq!(order(elsewhere), vec![0, 1]);
    }

    #[test]
    fn first_lines_are_trimmed() {
        assert_eq!(first_line("\n  UPDATE t\n SET v = 1;"), "UPDATE t");
        assert_eq!(first_line("SELECT 1;  "), "SELECT 1;");
        assert_eq!(first_line("-- take the lock\n  SELECT 2;"), "SELECT 2;");
    }
}
