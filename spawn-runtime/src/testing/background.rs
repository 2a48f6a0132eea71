//! Work done beside the tests, on a runtime of its own: dropping the databases of passed
//! tests, and cloning the next test's database from the template ahead of time, so a test
//! waits for neither. [`finish_background_work`] waits for the drops queued so far and
//! drops the clone prepared ahead (if any); it also runs when the process exits (an `atexit`
//! handler), so a test binary leaves nothing behind unless it is killed. A background drop
//! that fails is reported on stderr (its test had passed).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::database::{clone_database, clone_on, drop_database, drop_on, unique_database_name};
use super::template::quote_ident;
use super::TestingError;
use crate::connect::server_of;

/// Drops in flight.
static DROPS: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
/// Per template: its server and the copies being made (or made) ahead of time, oldest first.
type Ahead = HashMap<
    String,
    (
        PgConnectOptions,
        VecDeque<JoinHandle<Result<String, TestingError>>>,
    ),
>;

/// How many copies of a template are made ahead of time at once: as many as the server can
/// copy in parallel, guessed from this machine's cores (at most 4).
fn depth() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
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
                    .max_connections(2 + 2 * depth() as u32)
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
        let dropped = match admin_connection(runtime, &admin).await {
            Ok(mut conn) => drop_on(&mut conn, &name).await,
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

/// Makes database `name` a fresh copy of `template`: the copy made ahead of time, renamed,
/// when there is one, else a copy made now. Either way, starts the next copy ahead.
pub(crate) async fn take_clone(
    admin: &PgConnectOptions,
    template: &str,
    name: &str,
) -> Result<(), TestingError> {
    let Some(runtime) = runtime() else {
        return clone_database(admin, template, name).await;
    };
    let ready = {
        let mut ahead = AHEAD.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, copies) = ahead
            .get_or_insert_with(HashMap::new)
            .entry(template.to_string())
            .or_insert_with(|| (admin.clone(), VecDeque::new()));
        let ready = copies.pop_front();
        while copies.len() < depth() {
            let (admin, template) = (admin.clone(), template.to_string());
            copies.push_back(spawn(runtime, move || async move {
                let ahead = unique_database_name("ahead");
                let mut conn = admin_connection(runtime, &admin).await?;
                match clone_on(&mut conn, &template, &ahead).await {
                    Ok(()) => Ok(ahead),
                    Err(e) => {
                        // It may still hold the template's lock.
                        let _ = conn.close().await;
                        Err(e)
                    }
                }
            }));
        }
        ready
    };
    if let Some(ready) = ready {
        if let Ok(Ok(ahead)) = ready.await {
            let (admin, name) = (admin.clone(), name.to_string());
            return spawn(runtime, move || async move {
                let mut conn = admin_connection(runtime, &admin).await?;
                let renamed = rename(&mut conn, &ahead, &name).await;
                if renamed.is_err() {
                    // Leave nothing behind; the error says what went wrong.
                    let _ = drop_on(&mut conn, &ahead).await;
                }
                renamed
            })
            .await
            .map_err(|e| TestingError::Server(format!("the background work failed: {e}")))?;
        }
        // A copy ahead that failed: the copy made now reports why.
    }
    clone_database(admin, template, name).await
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

/// Waits for the databases of passed tests to be dropped, and drops the copies made ahead
/// of time. Runs at process exit; call it to count that work in (a benchmark) or to see the
/// databases gone (a test). Must not be called from inside an async runtime.
pub fn finish_background_work() {
    let Some(runtime) = runtime() else { return };
    let drops = std::mem::take(&mut *DROPS.lock().unwrap_or_else(PoisonError::into_inner));
    let ahead = AHEAD
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .unwrap_or_default();
    runtime.block_on(async move {
        for task in drops {
            let _ = task.await;
        }
        for (_, (admin, copies)) in ahead {
            for copy in copies {
                if let Ok(Ok(name)) = copy.await {
                    let dropped = match admin_connection(runtime, &admin).await {
                        Ok(mut conn) => drop_on(&mut conn, &name).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = dropped {
                        eprintln!("spawn_runtime::testing: could not drop {name}: {e}");
                    }
                }
            }
        }
    });
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
