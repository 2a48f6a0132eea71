//! Work done beside the tests, on a runtime of its own: dropping the databases of passed
//! tests, and cloning the next test's database from the template ahead of time, so a test
//! waits for neither. [`finish_background_work`] waits for the drops queued so far, cancels
//! the copies still being made, and keeps the finished ones (up to `depth()` per template) as
//! *ready copies* for the next process (the next test binary, the next `cargo test`):
//! renamed `spawn_rdy_<hash of the template's name>_…`, with the template's fingerprint as
//! their comment. A process takes ready copies whose fingerprint is the template's current
//! one first (claimed by renaming: a copy another process claimed first is simply skipped) and
//! drops stale ones (made from a build with another fingerprint);
//! [`drop_template`](super::drop_template) drops a template and its ready copies. It runs when the process exits too (an `atexit`
//! handler), so a test binary leaves nothing else behind unless it is killed. A background
//! drop that fails is reported on stderr (its test had passed).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::database::{
    clone_database, clone_on, create_prefix, drop_database, drop_on, ready_prefix,
    unique_database_name,
};
use super::TestingError;
use crate::connect::server_of;
use crate::tracking::quote_ident;

/// Drops in flight.
static DROPS: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
/// Drops that may run at once. More would only take turns on the server's cores, each
/// holding a maintenance connection that a copy, or the rename a test waits for, could use.
const DROP_SLOTS: usize = 4;
static DROPPING: Semaphore = Semaphore::const_new(DROP_SLOTS);
/// How many [`finish_background_work`] calls are cancelling copies: a copy that ends
/// meanwhile closes its connection rather than return it to the pool, where a cancel meant
/// for its `CREATE DATABASE` could reach another statement.
static FINISHING: AtomicUsize = AtomicUsize::new(0);

/// A copy of a template being made (or made) ahead of time.
struct Copy {
    /// Its database name, chosen before the copy starts so that an interrupted copy can still
    /// be dropped (and its `CREATE DATABASE` found, [`create_prefix`], to cancel it).
    name: String,
    /// The copy being made; `None` for a ready copy an earlier process kept (see the module
    /// doc): claimed by renaming, and when that fails (another process took it), skipped
    /// rather than dropped.
    task: Option<JoinHandle<Result<(), TestingError>>>,
}

/// Per template: its server and the copies being made (or made) ahead of time, oldest first.
type Ahead = HashMap<String, (PgConnectOptions, VecDeque<Copy>)>;

/// How many copies of a template are made ahead of time at once: two per core of this machine
/// (at most 4). A copy does not keep a core busy all along (it waits for the checkpoints
/// that `FILE_COPY` asks for, which the server makes one at a time), and on a machine shared
/// with other work, more copies under way finish more of them: on 2 busy cores, 4 at once
/// took about 15% less time per test than 2 (alternating runs of the testattr bench). Since
/// the drops wait for the test's connections to end ([`end_connections`]), 2 and 4 measured
/// the same time per test there, within the noise of a loaded machine.
fn depth() -> usize {
    std::thread::available_parallelism().map_or(2, |n| (2 * n.get()).min(4))
}
static AHEAD: Mutex<Option<Ahead>> = Mutex::new(None);

/// The runtime of the background work (one worker thread), started on first use.
fn runtime() -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("spawn-test-background")
                .enable_all()
                .build()
                .ok()?;
            register_exit_hook();
            Some(runtime)
        })
        .as_ref()
}

/// A maintenance connection of the background runtime: kept open between operations (a new
/// server process per clone, rename and drop would cost more than some of them).
async fn admin_connection(
    runtime: &'static Runtime,
    admin: &PgConnectOptions,
) -> Result<PoolConnection<Postgres>, TestingError> {
    static POOLS: Mutex<Option<HashMap<String, PgPool>>> = Mutex::new(None);
    let key = format!(
        "{} {} {:?}",
        server_of(admin),
        admin.get_username(),
        admin.get_database()
    );
    let pool = {
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        let pools = pools.get_or_insert_with(HashMap::new);
        pools
            .entry(key)
            .or_insert_with(|| {
                let _context = runtime.enter();
                PgPoolOptions::new()
                    // The copies ahead, the drops, a rename and a copy made on the spot.
                    .max_connections((depth() + DROP_SLOTS + 2) as u32)
                    .connect_lazy_with(admin.clone())
            })
            .clone()
    };
    pool.acquire().await.map_err(TestingError::sql(format!(
        "connecting to {}",
        server_of(admin)
    )))
}

/// Runs `work` on `runtime`. sqlx's futures are not provably `Send` (a higher-ranked
/// borrow of the connection), so each runs on a blocking thread of the runtime, driven there.
fn spawn<T, F>(
    runtime: &'static Runtime,
    work: impl FnOnce() -> F + Send + 'static,
) -> JoinHandle<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    let handle = runtime.handle().clone();
    // The future is made on the thread that drives it, so it need not be `Send`.
    runtime.spawn_blocking(move || handle.block_on(work()))
}

/// Drops database `name` in the background; right here when there is no background runtime.
pub(crate) async fn drop_later(admin: &PgConnectOptions, name: &str) -> Result<(), TestingError> {
    let Some(runtime) = runtime() else {
        return drop_database(admin, name).await;
    };
    let (admin, name) = (admin.clone(), name.to_string());
    let task = spawn(runtime, move || async move {
        // The semaphore is never closed; without a permit the drop merely runs unthrottled.
        let _slot = DROPPING.acquire().await.ok();
        let dropped = match admin_connection(runtime, &admin).await {
            Ok(mut conn) => {
                end_connections(&mut conn, &name).await;
                drop_on(&mut conn, &name).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = dropped {
            eprintln!("spawn_runtime::testing: could not drop test database {name}: {e}");
        }
    });
    let mut drops = DROPS.lock().unwrap_or_else(PoisonError::into_inner);
    drops.retain(|task| !task.is_finished());
    drops.push(task);
    Ok(())
}

/// How long [`end_connections`] lets the server wait for a backend to exit.
const EXIT_WAIT_MS: i64 = 1000;

/// Ends the connections still open to database `name`, and waits, on the server, until
/// their backends have exited.
///
/// A test's pool has just been closed when its database is dropped, and the server processes
/// of its connections are still on their way out. `DROP DATABASE` finding one there signals
/// it (`WITH (FORCE)`) and then sleeps 100 ms before it looks again, a sleep that holds up
/// the other drops too (their own wait for every server process to acknowledge the drop
/// takes as long). `pg_terminate_backend(pid, timeout)` (PostgreSQL 14+) returns once the
/// backend is gone instead. On an older server, or when the role may not signal them,
/// nothing happens here and the drop ends them; an error is the drop's to report.
async fn end_connections(conn: &mut PgConnection, name: &str) {
    if conn.server_version_num().unwrap_or(0) < 140000 {
        return;
    }
    let _ = sqlx::query(
        "SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .bind(EXIT_WAIT_MS)
    .execute(&mut *conn)
    .await;
}

/// Makes database `name` a fresh copy of `template`: a ready copy kept by an earlier process
/// or the oldest copy made ahead of time (one started now when there is none), renamed.
/// Either way, keeps `depth()` copies coming.
pub(crate) async fn take_clone(
    admin: &PgConnectOptions,
    template: &str,
    name: &str,
) -> Result<(), TestingError> {
    let Some(runtime) = runtime() else {
        return clone_database(admin, template, name).await;
    };
    let known = AHEAD
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|ahead| ahead.contains_key(template));
    let kept = if known {
        Vec::new()
    } else {
        kept_copies(runtime, admin, template).await
    };
    let ready = {
        let mut ahead = AHEAD.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, copies) = ahead
            .get_or_insert_with(HashMap::new)
            .entry(template.to_string())
            .or_insert_with(|| (admin.clone(), VecDeque::new()));
        // Ready now: before the copies still being made.
        for name in kept.into_iter().rev() {
            copies.push_front(Copy { name, task: None });
        }
        if copies.is_empty() {
            copies.push_back(start_copy(runtime, admin, template));
        }
        let ready = copies.pop_front();
        while copies.iter().filter(|c| c.task.is_some()).count() < depth() {
            copies.push_back(start_copy(runtime, admin, template));
        }
        ready
    };
    if let Some(Copy { name: ahead, task }) = ready {
        let kept = task.is_none();
        let copied = match task {
            Some(task) => matches!(task.await, Ok(Ok(()))),
            None => true,
        };
        if copied {
            let (admin, name) = (admin.clone(), name.to_string());
            let claimed = spawn(runtime, move || async move {
                let mut conn = admin_connection(runtime, &admin).await?;
                match rename(&mut conn, &ahead, &name).await {
                    Ok(()) => Ok(true),
                    // Another process claimed it (or dropped it as stale) first.
                    Err(_) if kept => Ok(false),
                    Err(e) => {
                        // Leave nothing behind; the error says what went wrong.
                        let _ = drop_on(&mut conn, &ahead).await;
                        Err(e)
                    }
                }
            })
            .await
            .map_err(|e| TestingError::Server(format!("the background work failed: {e}")))??;
            if claimed {
                return Ok(());
            }
        }
        // A copy ahead that failed, or a kept one taken by another process: copy now (an
        // error then says why).
    }
    let (admin, template, name) = (admin.clone(), template.to_string(), name.to_string());
    spawn(runtime, move || async move {
        copy_on_pool(runtime, &admin, &template, &name).await
    })
    .await
    .map_err(|e| TestingError::Server(format!("the background work failed: {e}")))?
}

/// The ready copies of `template` that earlier processes kept (see the module doc) whose
/// fingerprint is the template's, oldest first; stale ones are dropped in the background.
/// Best effort: nothing when they cannot be listed.
async fn kept_copies(
    runtime: &'static Runtime,
    admin: &PgConnectOptions,
    template: &str,
) -> Vec<String> {
    let (owned, template) = (admin.clone(), template.to_string());
    let listed = spawn(runtime, move || async move {
        let admin = owned;
        let mut conn = admin_connection(runtime, &admin).await?;
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "SELECT d.datname::text, t.fingerprint IS NOT NULL \
             AND shobj_description(d.oid, 'pg_database') IS NOT DISTINCT FROM t.fingerprint \
             FROM pg_database d LEFT JOIN (SELECT shobj_description(oid, 'pg_database') AS \
             fingerprint FROM pg_database WHERE datname = $1) t ON true \
             WHERE starts_with(d.datname, $2) ORDER BY d.oid",
        )
        .bind(&template)
        .bind(ready_prefix(&template))
        .fetch_all(conn.as_mut())
        .await
        .map_err(TestingError::sql(format!(
            "listing the ready copies of {template}"
        )))?;
        Ok::<_, TestingError>(rows)
    })
    .await;
    let Ok(Ok(rows)) = listed else {
        return Vec::new();
    };
    let mut fresh = Vec::new();
    for (name, current) in rows {
        if current {
            fresh.push(name);
        } else {
            // Made from an older build of the template: no test can use it.
            let _ = drop_later(admin, &name).await;
        }
    }
    fresh
}

/// A name for a copy of `template` kept ready for later processes.
fn ready_name(template: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}{}_{}",
        ready_prefix(template),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// [`clone_on`] on a pooled maintenance connection.
async fn copy_on_pool(
    runtime: &'static Runtime,
    admin: &PgConnectOptions,
    template: &str,
    name: &str,
) -> Result<(), TestingError> {
    let mut conn = admin_connection(runtime, admin).await?;
    let copied = clone_on(&mut conn, template, name).await;
    // After an error it may still hold the template's lock.
    if copied.is_err() || FINISHING.load(Ordering::SeqCst) > 0 {
        let _ = conn.close().await;
    }
    copied
}

/// Starts copying `template` to a database of a new name, on a pooled maintenance connection.
fn start_copy(runtime: &'static Runtime, admin: &PgConnectOptions, template: &str) -> Copy {
    let name = unique_database_name("ahead");
    let (admin, template, ahead) = (admin.clone(), template.to_string(), name.clone());
    let task = spawn(runtime, move || async move {
        copy_on_pool(runtime, &admin, &template, &ahead).await
    });
    Copy {
        name,
        task: Some(task),
    }
}

async fn rename(conn: &mut PgConnection, from: &str, to: &str) -> Result<(), TestingError> {
    let statement = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    );
    sqlx::raw_sql(&statement)
        .execute(conn)
        .await
        .map_err(TestingError::sql(statement.clone()))?;
    Ok(())
}

/// Waits for the databases of passed tests to be dropped, keeps the copies made ahead of time
/// that are finished as ready copies for the next process (up to `depth()` per template) and
/// drops the others (cancelling those still being copied: no test will take them). Runs at process
/// exit; call it to count that work in (a benchmark) or to see the databases gone (a test).
/// Must not be called from inside an async runtime.
pub fn finish_background_work() {
    let Some(runtime) = runtime() else { return };
    let drops = std::mem::take(&mut *DROPS.lock().unwrap_or_else(PoisonError::into_inner));
    let ahead = AHEAD
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .unwrap_or_default();
    FINISHING.fetch_add(1, Ordering::SeqCst);
    runtime.block_on(async move {
        let mut cleanups = Vec::new();
        for (template, (admin, copies)) in ahead {
            let copying: Vec<String> = copies
                .iter()
                .filter(|copy| copy.task.as_ref().is_some_and(|t| !t.is_finished()))
                .map(|copy| create_prefix(&copy.name))
                .collect();
            if !copying.is_empty() {
                cancel(runtime, &admin, copying).await;
            }
            // Kept copies nobody took stay as they are, and count against the ready copies
            // kept per template.
            // (Copies of `template0`, for tests without migrations, carry no fingerprint: never
            // kept.)
            let mut room = if template == "template0" {
                0
            } else {
                depth().saturating_sub(copies.iter().filter(|c| c.task.is_none()).count())
            };
            // Each copy finished by now is kept ready for the next process while there is
            // room; any other is dropped once its task has ended (copied, cancelled or
            // failed), by name: a copy whose cancel came as it finished exists although its
            // task failed.
            for Copy { name, task } in copies {
                let Some(task) = task else { continue };
                let keep = task.is_finished() && room > 0;
                room -= usize::from(keep);
                let (admin, ready) = (admin.clone(), ready_name(&template));
                cleanups.push(spawn(runtime, move || async move {
                    let copied = matches!(task.await, Ok(Ok(())));
                    let Ok(mut conn) = admin_connection(runtime, &admin).await else {
                        eprintln!("spawn_runtime::testing: could not drop {name}");
                        return;
                    };
                    if keep && copied && rename(&mut conn, &name, &ready).await.is_ok() {
                        return;
                    }
                    if let Err(e) = drop_on(&mut conn, &name).await {
                        eprintln!("spawn_runtime::testing: could not drop {name}: {e}");
                    }
                }));
            }
        }
        for task in drops.into_iter().chain(cleanups) {
            let _ = task.await;
        }
    });
    FINISHING.fetch_sub(1, Ordering::SeqCst);
}

/// Cancels the running `CREATE DATABASE` statements that begin with one of `prefixes`. A cancel
/// that arrives after its statement ended hits what the connection does next (releasing the
/// template's lock: the copy's task then fails and closes that connection) or nothing (an
/// idle connection ignores it).
async fn cancel(runtime: &'static Runtime, admin: &PgConnectOptions, prefixes: Vec<String>) {
    let admin = admin.clone();
    let _ = spawn(runtime, move || async move {
        let mut conn = admin_connection(runtime, &admin).await?;
        sqlx::query(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND state = 'active' \
             AND EXISTS (SELECT FROM unnest($1::text[]) AS p WHERE starts_with(query, p))",
        )
        .bind(prefixes)
        .execute(conn.as_mut())
        .await
        .map_err(TestingError::sql(
            "cancelling copies made ahead".to_string(),
        ))
    })
    .await;
}

/// Makes the process finish the background work when it exits.
fn register_exit_hook() {
    extern "C" fn at_exit() {
        // The exiting thread's thread-locals (tokio's context among them) may be gone: do the
        // work on a new thread, and never let a panic cross this `extern "C"` boundary.
        let _ = std::panic::catch_unwind(|| {
            if let Ok(thread) = std::thread::Builder::new().spawn(finish_background_work) {
                let _ = thread.join();
            }
        });
    }
    // SAFETY: `at_exit` is an `extern "C" fn()` as atexit requires; it only waits for tasks
    // of this process. Registering can only fail for lack of memory, and then the process
    // merely exits without waiting.
    unsafe {
        libc::atexit(at_exit);
    }
}
