//! The workers of a run and the order things happen in.
//!
//! 1. Copies are made while nobody is connected to the template (PostgreSQL copies only an
//!    unused database): one per extra worker, and one per test known from its text to need
//!    a database of its own ([`needs_own_database`]).
//! 2. The template takes connections; the first worker connects to it and repairs its
//!    sequences, the others to their copies. They take tests from one queue.
//! 3. Once the queue is empty the workers disconnect, and what turned out to need a
//!    database of its own (or a kept one, for `--keep`) runs in new copies.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::databases::Admin;
use super::isolation::{classify, StatementClass};
use super::template::TemplateInfo;
use super::{Isolation, LiveDatabases, RunConfig, RunError, TestCase, TestOutcome};
use crate::psql::scan::{Item, Scanner};
use crate::psql::session::{run_script, Ending, SessionError, TransactionEmulation};
use crate::psql::vars::Variables;
use crate::wire::{Connection, QueryEvent, WireError};

/// Tests per worker beyond the first: a copy of the template costs about as much as a few
/// hundred small tests, so smaller runs are faster on one worker.
pub const TESTS_PER_EXTRA_WORKER: usize = 250;

/// How a run will go, decided from the tests' text before anything runs.
pub(crate) struct Plan {
    /// Workers beyond the one in the template.
    extra_workers: usize,
    /// Per test: whether it needs a database of its own.
    own_database: Vec<bool>,
}

/// One thing for a worker to do.
enum Work {
    /// Run the test in the worker's transaction.
    InTransaction(TestCase),
    /// Run the test in the prepared copy named.
    InCopy(TestCase, String),
}

/// What runs after the workers are done, in new copies.
enum Later {
    /// Needs a database of its own after all.
    Rerun(TestCase),
    /// Failed; runs again in a copy that is kept (`--keep`).
    Keep(TestOutcome, TestCase),
}

/// What every worker reads and adds to.
struct Shared {
    config: RunConfig,
    queue: Mutex<VecDeque<Work>>,
    later: Mutex<Vec<Later>>,
    live: LiveDatabases,
}

impl Plan {
    pub(crate) fn new(config: &RunConfig, tests: &[TestCase]) -> Plan {
        let own_database: Vec<bool> = tests
            .iter()
            .map(|t| config.always_own_database || needs_own_database(&t.sql))
            .collect();
        let in_transaction = own_database.iter().filter(|own| !**own).count();
        let extra_workers = config
            .jobs
            .saturating_sub(1)
            .min(in_transaction / TESTS_PER_EXTRA_WORKER);
        Plan {
            extra_workers,
            own_database,
        }
    }

    /// Runs `tests` as planned; outcomes in the order of `tests`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run(
        self,
        config: &RunConfig,
        admin: &mut Admin,
        template: &TemplateInfo,
        prefix: &str,
        tests: Vec<TestCase>,
        mut on_outcome: impl FnMut(&TestOutcome) + Send,
        live: &LiveDatabases,
    ) -> Result<Vec<TestOutcome>, RunError> {
        let order: Vec<String> = tests.iter().map(|t| t.name.clone()).collect();
        // 1. Copies, while nobody uses the template.
        let worker_copies: Vec<String> = (1..=self.extra_workers)
            .map(|i| format!("{prefix}_w{i}"))
            .collect();
        let mut queue = VecDeque::new();
        let mut test_copies = Vec::new();
        for (i, (test, own)) in tests.into_iter().zip(&self.own_database).enumerate() {
            if *own {
                let copy = format!("{prefix}_t{i}");
                test_copies.push(copy.clone());
                queue.push_back(Work::InCopy(test, copy));
            } else {
                queue.push_back(Work::InTransaction(test));
            }
        }
        let copies: Vec<String> = worker_copies.iter().chain(&test_copies).cloned().collect();
        make_copies(config, &copies, live).await?;

        // 2. The workers.
        let shared = Arc::new(Shared {
            config: config.clone(),
            queue: Mutex::new(queue),
            later: Mutex::new(Vec::new()),
            live: live.clone(),
        });
        admin.allow_connections(&config.template, true).await?;
        let mut workers = Vec::with_capacity(1 + worker_copies.len());
        for database in std::iter::once(&config.template).chain(&worker_copies) {
            workers.push(Worker::connect(config, database, template).await?);
        }
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let mut set = JoinSet::new();
        for worker in workers {
            let shared = Arc::clone(&shared);
            let sender = sender.clone();
            set.spawn(async move { worker.run(shared, sender).await });
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
        admin.allow_connections(&config.template, false).await?;
        for copy in &worker_copies {
            admin.drop_database(copy).await?;
            live.remove(copy);
        }

        // 3. What needs a new copy after all.
        let later = std::mem::take(
            &mut *shared
                .later
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for (n, item) in later.into_iter().enumerate() {
            let copy = format!("{prefix}_r{n}");
            make_copies(config, std::slice::from_ref(&copy), live).await?;
            let outcome = match item {
                Later::Rerun(test) => in_copy(&shared, test, copy, Instant::now()).await?,
                Later::Keep(mut outcome, test) => {
                    let rerun = in_copy(&shared, test, copy, Instant::now()).await?;
                    outcome.kept_database = rerun.kept_database;
                    outcome
                }
            };
            on_outcome(&outcome);
            outcomes.push(outcome);
        }
        let position = |name: &str| order.iter().position(|n| n == name);
        outcomes.sort_by_key(|o| position(&o.name));
        Ok(outcomes)
    }
}

/// Copies the template to each of `names`, up to `jobs` at a time.
async fn make_copies(
    config: &RunConfig,
    names: &[String],
    live: &LiveDatabases,
) -> Result<(), RunError> {
    for chunk in names.chunks(config.jobs.max(1)) {
        let mut set = JoinSet::new();
        for name in chunk {
            live.add(name);
            let connect = config.connect.clone();
            let template = config.template.clone();
            let name = name.clone();
            set.spawn(async move {
                let mut admin = Admin::connect(&connect).await?;
                let made = admin.create_database(&name, &template).await;
                admin.close().await;
                made
            });
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic.into_panic()),
            }
        }
    }
    Ok(())
}

/// One connection and what it needs to put its database back after each test.
struct Worker {
    conn: Connection,
    database: String,
    /// Whether the database has initially deferred constraints.
    deferred_constraints: bool,
    /// Puts the sequences back as the migrations left them (the template's record).
    reset_sequences: Option<String>,
}

impl Worker {
    /// Connects to `database` (the template or a copy of it) and puts its sequences back as
    /// the template's record says, which repairs what a run killed between a test and its
    /// reset left behind.
    async fn connect(
        config: &RunConfig,
        database: &str,
        template: &TemplateInfo,
    ) -> Result<Worker, RunError> {
        let label = format!("(worker in {database})");
        let mut conn = Connection::connect(&config.connect.clone().database(database))
            .await
            .map_err(|source| wire_error(&label, source))?;
        if let Some(reset) = &template.reset_sequences {
            let events = conn
                .simple_query(reset)
                .await
                .map_err(|source| wire_error(&label, source))?;
            expect_ok(events).map_err(|e| reset_error(&label, e))?;
        }
        let deferred_constraints = deferred_constraints(&mut conn, &label).await?;
        Ok(Worker {
            conn,
            database: database.to_owned(),
            deferred_constraints,
            reset_sequences: template.reset_sequences.clone(),
        })
    }

    async fn run(
        mut self,
        shared: Arc<Shared>,
        outcomes: mpsc::UnboundedSender<TestOutcome>,
    ) -> Result<(), RunError> {
        loop {
            let next = shared
                .queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop_front();
            let Some(work) = next else { break };
            let outcome = match work {
                Work::InCopy(test, copy) => {
                    Some(in_copy(&shared, test, copy, Instant::now()).await?)
                }
                Work::InTransaction(test) => self.run_in_transaction(&shared, test).await?,
            };
            if let Some(outcome) = outcome {
                // The receiver only goes away when the run is being abandoned.
                let _ = outcomes.send(outcome);
            }
        }
        let _ = self.conn.close().await;
        tracing::debug!(database = %self.database, "worker done");
        Ok(())
    }

    /// Runs `test` in a transaction; `None` when it went to [`Later`].
    async fn run_in_transaction(
        &mut self,
        shared: &Shared,
        test: TestCase,
    ) -> Result<Option<TestOutcome>, RunError> {
        let started = Instant::now();
        let Some(output) = self.in_transaction(&test).await? else {
            push_later(shared, Later::Rerun(test));
            return Ok(None);
        };
        let passed = test.expected.as_ref().map(|e| *e == output);
        let outcome = TestOutcome {
            name: test.name.clone(),
            output,
            expected: test.expected.clone(),
            passed,
            isolation: Isolation::Transaction,
            duration: started.elapsed(),
            kept_database: None,
        };
        if passed == Some(false) && shared.config.keep_failed {
            push_later(shared, Later::Keep(outcome, test));
            return Ok(None);
        }
        Ok(Some(outcome))
    }

    /// Runs `test` in a transaction that is rolled back; `None` when it needs a database of
    /// its own after all.
    async fn in_transaction(&mut self, test: &TestCase) -> Result<Option<String>, RunError> {
        let events = self
            .conn
            .simple_query("BEGIN; SET CONSTRAINTS ALL IMMEDIATE")
            .await
            .map_err(|source| wire_error(&test.name, source))?;
        expect_ok(events).map_err(|e| reset_error(&test.name, e))?;
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
        let results = self
            .conn
            .pipeline(&reset)
            .await
            .map_err(|source| wire_error(&test.name, source))?;
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

fn push_later(shared: &Shared, later: Later) {
    shared
        .later
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(later);
}

/// Runs `test` in autocommit in `copy` (made already), which is dropped afterwards unless
/// the test failed and the run keeps failed tests' databases.
async fn in_copy(
    shared: &Shared,
    test: TestCase,
    copy: String,
    started: Instant,
) -> Result<TestOutcome, RunError> {
    let mut conn = Connection::connect(&shared.config.connect.clone().database(&copy))
        .await
        .map_err(|source| wire_error(&test.name, source))?;
    let run = run_script(&mut conn, &test.sql, TransactionEmulation::Off).await;
    let _ = conn.close().await;
    let run = run.map_err(|e| script_error(&test, e))?;
    outcome_in_copy(
        &shared.config,
        &shared.live,
        test,
        copy,
        run.output,
        started,
    )
    .await
}

/// The outcome of `test`, which printed `output` in `copy`: the copy is dropped unless the
/// test failed and the run keeps failed tests' databases.
pub(crate) async fn outcome_in_copy(
    config: &RunConfig,
    live: &LiveDatabases,
    test: TestCase,
    copy: String,
    output: String,
    started: Instant,
) -> Result<TestOutcome, RunError> {
    let passed = test.expected.as_ref().map(|e| *e == output);
    let kept_database = if passed == Some(false) && config.keep_failed {
        live.remove(&copy);
        Some(copy)
    } else {
        let mut admin = Admin::connect(&config.connect).await?;
        admin.drop_database(&copy).await?;
        admin.close().await;
        live.remove(&copy);
        None
    };
    Ok(TestOutcome {
        name: test.name,
        output,
        expected: test.expected,
        passed,
        isolation: Isolation::OwnDatabase,
        duration: started.elapsed(),
        kept_database,
    })
}

/// Whether the script, read with no variables set, sends something only autocommit runs
/// exactly (see [`super::isolation`]); what this misses is caught while it runs.
pub(crate) fn needs_own_database(sql: &str) -> bool {
    let vars = Variables::new();
    let mut scanner = Scanner::new(sql);
    while let Ok(Some(item)) = scanner.next(&vars, true) {
        if crate::psql::sessions::is_session_command(&item) {
            return true;
        }
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
        SessionError::Wire(source) => wire_error(&test.name, source),
    }
}

fn wire_error(test: &str, source: WireError) -> RunError {
    RunError::Wire {
        test: test.to_owned(),
        source,
    }
}

fn reset_error(test: &str, message: String) -> RunError {
    RunError::Reset {
        test: test.to_owned(),
        message,
    }
}

/// The server's error message among `events`.
fn expect_ok(events: Vec<QueryEvent>) -> Result<(), String> {
    for event in events {
        if let QueryEvent::Error(e) = event {
            return Err(e.message);
        }
    }
    Ok(())
}

/// Whether the database has initially deferred constraints (or constraint triggers).
async fn deferred_constraints(conn: &mut Connection, label: &str) -> Result<bool, RunError> {
    let events = conn
        .simple_query(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE condeferred) \
             OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tginitdeferred)",
        )
        .await
        .map_err(|source| wire_error(label, source))?;
    let mut deferred = false;
    for event in events {
        match event {
            QueryEvent::DataRow(row) => {
                deferred = row.first().and_then(|v| v.as_deref()) == Some("t");
            }
            QueryEvent::Error(e) => return Err(reset_error(label, e.message)),
            _ => {}
        }
    }
    Ok(deferred)
}
