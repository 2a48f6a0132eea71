//! The workers of a run: each owns a copy of the template and one connection to it, and
//! takes tests from a shared queue until none is left.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::databases::Admin;
use super::isolation::{classify, StatementClass};
use super::{Isolation, LiveDatabases, RunConfig, RunError, TestCase, TestOutcome};
use crate::psql::scan::{Item, Scanner};
use crate::psql::session::{run_script, Ending, SessionError, TransactionEmulation};
use crate::psql::vars::Variables;
use crate::message::ServerMessage;
use crate::wire::{Connection, QueryEvent, WireError};

/// The tests not taken yet.
type Queue = Arc<Mutex<VecDeque<TestCase>>>;

/// The workers, ready to run.
pub(crate) struct Pool {
    workers: Vec<Worker>,
    shared: Arc<Shared>,
}

/// What every worker reads.
struct Shared {
    config: RunConfig,
    prefix: String,
    live: LiveDatabases,
    /// Numbers the databases made for single tests.
    next_own: std::sync::atomic::AtomicUsize,
}

struct Worker {
    database: String,
    conn: Connection,
    /// Puts the sequences back as the template has them (none when it has none).
    reset_sequences: Option<String>,
    /// Whether the template has initially deferred constraints.
    deferred_constraints: bool,
}

impl Pool {
    /// Makes `jobs` copies of the template (in parallel on the server) and connects to each.
    pub(crate) async fn new(
        config: &RunConfig,
        admin: &mut Admin,
        prefix: &str,
        jobs: usize,
        live: &LiveDatabases,
    ) -> Result<Pool, RunError> {
        let shared = Arc::new(Shared {
            config: config.clone(),
            prefix: prefix.to_owned(),
            live: live.clone(),
            next_own: Default::default(),
        });
        let mut names = Vec::with_capacity(jobs);
        for i in 0..jobs {
            let name = format!("{prefix}_w{i}");
            live.add(&name);
            admin.create_database(&name, &config.template).await?;
            names.push(name);
        }
        let mut workers = Vec::with_capacity(jobs);
        for name in names {
            workers.push(Worker::connect(&shared, name).await?);
        }
        Ok(Pool { workers, shared })
    }

    /// Runs `tests` on the workers; outcomes in the order of `tests`.
    pub(crate) async fn run(
        self,
        tests: Vec<TestCase>,
        mut on_outcome: impl FnMut(&TestOutcome) + Send,
    ) -> Result<Vec<TestOutcome>, RunError> {
        let order: Vec<String> = tests.iter().map(|t| t.name.clone()).collect();
        let queue: Queue = Arc::new(Mutex::new(tests.into()));
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let mut set = JoinSet::new();
        for worker in self.workers {
            let queue = Arc::clone(&queue);
            let shared = Arc::clone(&self.shared);
            let sender = sender.clone();
            set.spawn(async move { worker.run(&shared, &queue, &sender).await });
        }
        drop(sender);
        let mut outcomes = Vec::with_capacity(order.len());
        while let Some(outcome) = receiver.recv().await {
            on_outcome(&outcome);
            outcomes.push(outcome);
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic.into_panic()),
            }
        }
        let position = |name: &str| order.iter().position(|n| n == name);
        outcomes.sort_by_key(|o| position(&o.name));
        Ok(outcomes)
    }
}

impl Worker {
    async fn connect(shared: &Shared, database: String) -> Result<Worker, RunError> {
        let mut conn = Connection::connect(&shared.config.connect.clone().database(&database))
            .await
            .map_err(|source| wire_error(&format!("(worker database {database})"), source))?;
        let (reset_sequences, deferred_constraints) = inspect_template(&mut conn).await?;
        Ok(Worker {
            database,
            conn,
            reset_sequences,
            deferred_constraints,
        })
    }

    async fn run(
        mut self,
        shared: &Shared,
        queue: &Queue,
        outcomes: &mpsc::UnboundedSender<TestOutcome>,
    ) -> Result<(), RunError> {
        loop {
            let next = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop_front();
            let Some(test) = next else { break };
            let outcome = self.run_test(shared, &test).await?;
            // The receiver only goes away when the run is being abandoned.
            let _ = outcomes.send(outcome);
        }
        let _ = self.conn.close().await;
        let mut admin = Admin::connect(&shared.config.connect).await?;
        admin.drop_database(&self.database).await?;
        shared.live.remove(&self.database);
        admin.close().await;
        Ok(())
    }

    async fn run_test(&mut self, shared: &Shared, test: &TestCase) -> Result<TestOutcome, RunError> {
        let started = Instant::now();
        if !shared.config.always_own_database && !needs_own_database(&test.sql) {
            if let Some(output) = self.in_transaction(test).await? {
                let passed = test.expected.as_ref().map(|e| *e == output);
                let mut outcome = TestOutcome {
                    name: test.name.clone(),
                    output,
                    expected: test.expected.clone(),
                    passed,
                    isolation: Isolation::Transaction,
                    duration: started.elapsed(),
                    kept_database: None,
                };
                if passed == Some(false) && shared.config.keep_failed {
                    // Run it again where its effects stay, for the user to look at.
                    let (_, kept) = own_database(shared, test, true).await?;
                    outcome.kept_database = kept;
                }
                return Ok(outcome);
            }
        }
        let (output, kept) = own_database(shared, test, shared.config.keep_failed).await?;
        let passed = test.expected.as_ref().map(|e| *e == output);
        Ok(TestOutcome {
            name: test.name.clone(),
            output,
            expected: test.expected.clone(),
            passed,
            isolation: Isolation::OwnDatabase,
            duration: started.elapsed(),
            kept_database: kept,
        })
    }

    /// Runs `test` in a transaction that is rolled back; `None` when it needs a database of
    /// its own after all.
    async fn in_transaction(&mut self, test: &TestCase) -> Result<Option<String>, RunError> {
        expect_ok(
            self.conn
                .simple_query("BEGIN; SET CONSTRAINTS ALL IMMEDIATE")
                .await
                .map_err(|source| wire_error(&test.name, source))?,
        )
        .map_err(|e| reset_error(&test.name, e))?;
        let run = run_script(
            &mut self.conn,
            &test.sql,
            TransactionEmulation::On {
                deferred_constraints: self.deferred_constraints,
            },
        )
        .await;
        // Undo everything, also what a rollback leaves (session state, sequences), in one
        // round trip.
        let mut reset = vec!["ROLLBACK", "DISCARD ALL"];
        if let Some(sql) = &self.reset_sequences {
            reset.push(sql);
        }
        let results = self.conn.pipeline(&reset).await.map_err(|source| wire_error(&test.name, source))?;
        for events in results {
            expect_ok(events).map_err(|e| reset_error(&test.name, e))?;
        }
        let run = run.map_err(|e| script_error(test, e))?;
        Ok(match run.ending {
            Ending::NeedsOwnDatabase(reason) => {
                tracing::debug!(test = %test.name, %reason, "running in a database of its own");
                None
            }
            Ending::Completed | Ending::Stopped => Some(run.output),
        })
    }
}

/// Runs `test` in autocommit in a new copy of the template, dropped afterwards unless it
/// failed and `keep_failed`; its output and the kept database's name.
async fn own_database(
    shared: &Shared,
    test: &TestCase,
    keep_failed: bool,
) -> Result<(String, Option<String>), RunError> {
    let n = shared
        .next_own
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("{}_t{n}", shared.prefix);
    let mut admin = Admin::connect(&shared.config.connect).await?;
    shared.live.add(&name);
    admin
        .create_database(&name, &shared.config.template)
        .await?;
    let mut conn = Connection::connect(&shared.config.connect.clone().database(&name))
        .await
        .map_err(|source| wire_error(&test.name, source))?;
    let run = run_script(&mut conn, &test.sql, TransactionEmulation::Off).await;
    let _ = conn.close().await;
    let run = run.map_err(|e| script_error(test, e))?;
    let failed = test.expected.as_ref().is_some_and(|e| *e != run.output);
    let kept = if keep_failed && failed {
        shared.live.remove(&name);
        Some(name)
    } else {
        admin.drop_database(&name).await?;
        shared.live.remove(&name);
        None
    };
    admin.close().await;
    Ok((run.output, kept))
}

/// Whether the script, read with no variables set, sends something only autocommit runs
/// exactly (see [`super::isolation`]); what this misses is caught while it runs.
fn needs_own_database(sql: &str) -> bool {
    let vars = Variables::new();
    let mut scanner = Scanner::new(sql);
    while let Ok(Some(item)) = scanner.next(&vars, true) {
        if let Item::Query { text, .. } = item {
            if matches!(classify(&text), StatementClass::NeedsOwnDatabase(_)) {
                return true;
            }
        }
    }
    false
}

fn script_error(test: &TestCase, e: SessionError) -> RunError {
    match e {
        SessionError::Script { line, message } => RunError::Script {
            file: format!("tests/{}/test.sql", test.name),
            line,
            message,
        },
        SessionError::Wire(source) => RunError::Wire {
            test: test.name.clone(),
            source,
        },
    }
}

fn wire_error(test: &str, source: WireError) -> RunError {
    RunError::Wire {
        test: test.to_owned(),
        source,
    }
}

fn reset_error(test: &str, e: ServerMessage) -> RunError {
    RunError::Reset {
        test: test.to_owned(),
        message: e.message,
    }
}

/// The server's error among `events`.
fn expect_ok(events: Vec<QueryEvent>) -> Result<(), ServerMessage> {
    for event in events {
        if let QueryEvent::Error(e) = event {
            return Err(e);
        }
    }
    Ok(())
}

/// The statement that puts the database's sequences back to their current state, and
/// whether it has initially deferred constraints.
async fn inspect_template(conn: &mut Connection) -> Result<(Option<String>, bool), RunError> {
    let events = conn
        .simple_query(
            "SELECT c.oid::int8, COALESCE(pg_catalog.pg_sequence_last_value(c.oid), s.seqstart), \
             pg_catalog.pg_sequence_last_value(c.oid) IS NOT NULL \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid \
             WHERE c.relpersistence <> 't'; \
             SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE condeferred) \
             OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tginitdeferred)",
        )
        .await
        .map_err(|source| RunError::Wire {
            test: "(inspecting the template)".to_owned(),
            source,
        })?;
    let mut rows = Vec::new();
    for event in events {
        match event {
            QueryEvent::DataRow(row) => rows.push(row),
            QueryEvent::Error(e) => {
                return Err(RunError::Reset {
                    test: "(inspecting the template)".to_owned(),
                    message: e.message,
                })
            }
            _ => {}
        }
    }
    let deferred = rows
        .pop()
        .and_then(|row| row.into_iter().next().flatten())
        .is_some_and(|v| v == "t");
    let values: Vec<String> = rows
        .iter()
        .filter_map(|row| match row.as_slice() {
            [Some(oid), Some(value), Some(called)] => Some(format!(
                "({oid}::oid, {value}::int8, {})",
                called == "t"
            )),
            _ => None,
        })
        .collect();
    let reset = (!values.is_empty()).then(|| {
        format!(
            "SELECT pg_catalog.setval(t.seq::regclass, t.v, t.called) FROM (VALUES {}) AS t(seq, v, called) \
             WHERE pg_catalog.pg_sequence_last_value(t.seq::regclass) IS DISTINCT FROM CASE WHEN t.called THEN t.v END",
            values.join(", ")
        )
    });
    Ok((reset, deferred))
}
