//! The threads that own the database connections.
//!
//! One writer thread owns the only read-write connection and commits in
//! groups: it takes every write job that is waiting, runs them in one
//! `BEGIN IMMEDIATE … COMMIT` (each in its own savepoint, so a failing job
//! undoes only itself), and answers each caller only after the commit. Many
//! small concurrent requests thus share one commit and one fsync, and no
//! caller hears "ok" before its data is durable. A few reader threads, each
//! with a read-only connection (WAL lets them run beside the writer), take
//! read jobs from a shared queue.
//!
//! On PostgreSQL the same loops run over a pool: several writer threads
//! take batches from one queue (the database orders their transactions),
//! and each thread holds a pooled connection only while a batch or a read
//! job runs.
//!
//! Jobs are plain synchronous closures over [`Db`]; the async side waits on
//! a oneshot channel, so a request costs one hand-off to a thread and back.
//!
//! A job that panics (a bug, an overflow on a value a client chose) fails
//! its own request with INTERNAL_ERROR; the thread goes on serving the
//! others, and a panicking write is rolled back like any failed one.
use super::db::Db;
use super::pg_db::PgDb;
use super::sqlite_db::SqliteDb;
use sqlx::postgres::PgPool;
use tokio::sync::oneshot;
use tracking::{Error, Result};

/// Most jobs committed together; bounds the latency of the first one.
const MAX_BATCH: usize = 256;

type Deliver = Box<dyn FnOnce(Result<()>) + Send>;
/// A write job runs on the writer's transaction, or is told (`None`) that
/// no transaction could be started; either way it hands back how to answer.
type WriteJob = Box<dyn FnOnce(Option<&mut Db>) -> (bool, Deliver) + Send>;
type ReadJob = Box<dyn FnOnce(&mut Db) + Send>;

/// What a worker thread opens its [`Db`] on.
pub(crate) enum Connection {
    /// A connection of its own.
    Sqlite(rusqlite::Connection),
    /// Connections taken from a shared pool, one job (or batch) at a time.
    Postgres(PgPool),
}

/// Runs one job's closure, turning a panic into its request's error.
fn supervised<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic = %detail, "a {what} job panicked; its request failed, the thread goes on");
        Err(Error::internal(format!("The {what} failed inside the server; the failure is in its log.")))
    })
}

/// Runs `work` with a [`Db`] over `conn` on the current (dedicated) thread.
fn with_db(conn: Connection, runtime: tokio::runtime::Handle, work: impl FnOnce(&mut Db)) {
    match conn {
        Connection::Sqlite(conn) => work(&mut Db::Sqlite(SqliteDb::new(conn))),
        Connection::Postgres(pool) => {
            // sqlx hands a pooled connection back with a task of the runtime's.
            let _context = runtime.enter();
            work(&mut Db::Postgres(PgDb::new(pool, runtime.clone())))
        }
    }
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: flume::Sender<WriteJob>,
}

impl Writer {
    /// One writer thread per connection, all taking jobs from one queue
    /// (SQLite has one writer; PostgreSQL can commit several batches at once).
    pub(crate) fn spawn(conns: Vec<Connection>) -> Result<Self> {
        let (jobs, rx) = flume::bounded(4 * MAX_BATCH);
        for (i, conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            let runtime = tokio::runtime::Handle::current();
            std::thread::Builder::new()
                .name(format!("mltrack-writer-{i}"))
                .spawn(move || with_db(conn, runtime, |db| write_loop(db, rx)))
                .map_err(|e| Error::internal(format!("could not start the writer thread: {e}")))?;
        }
        Ok(Writer { jobs })
    }

    /// Runs `f` inside the writer's transaction; returns its result once committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: WriteJob = Box::new(move |db| {
            let outcome = match db {
                Some(db) => supervised("write", || f(db)),
                // The caller hears why the transaction could not start.
                None => Err(Error::internal("The write was not run.")),
            };
            let ok = outcome.is_ok();
            let deliver: Deliver = Box::new(move |commit: Result<()>| {
                let _ = tx.send(commit.and(outcome));
            });
            (ok, deliver)
        });
        self.jobs.send_async(job).await.map_err(|_| Error::internal("the store's writer has stopped"))?;
        rx.await.map_err(|_| Error::internal("the write could not be committed"))?
    }
}

fn write_loop(db: &mut Db, rx: flume::Receiver<WriteJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        batch.extend(rx.try_iter().take(MAX_BATCH - 1));
        if let Err(e) = db.execute("BEGIN IMMEDIATE", &[]) {
            // Never run a job outside a transaction: its caller gets the error.
            tracing::error!(error = %e, "could not start a write transaction");
            db.release();
            for job in batch.drain(..) {
                let (_, deliver) = job(None);
                deliver(Err(e.clone()));
            }
            continue;
        }
        let single = batch.len() == 1;
        let mut result = Ok(());
        let mut any_ok = false;
        let mut deliveries: Vec<Deliver> = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            if !single {
                if let Err(e) = db.execute("SAVEPOINT job", &[]) {
                    result = Err(e);
                }
            }
            let (ok, deliver) = job(Some(db));
            any_ok |= ok;
            if !single {
                let undo = if ok { db.execute("RELEASE job", &[]) } else { rollback_to_savepoint(db) };
                if let Err(e) = undo {
                    result = Err(e);
                }
            }
            deliveries.push(deliver);
        }
        if result.is_ok() {
            result = db.execute(if any_ok { "COMMIT" } else { "ROLLBACK" }, &[]).map(|_| ());
        }
        if result.is_err() {
            let _ = db.execute("ROLLBACK", &[]);
            tracing::error!(error = ?result, "write transaction failed");
        }
        db.release();
        for deliver in deliveries {
            deliver(result.clone());
        }
    }
}

fn rollback_to_savepoint(db: &mut Db) -> Result<u64> {
    db.execute("ROLLBACK TO job", &[])?;
    db.execute("RELEASE job", &[])
}

/// Copies the WAL back into the database file from a connection of its own,
/// so that the writer never pays for a checkpoint inside a commit (the
/// writer's connection has automatic checkpoints turned off). It wakes every
/// `CHECKPOINT_EVERY` and stops when the store is dropped.
pub(crate) struct Checkpointer {
    _stop: flume::Sender<()>,
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);
/// WAL frames (pages, 4 KiB each) past which the WAL is reset: 64 MiB.
const WAL_FRAMES_LIMIT: i64 = 16_384;

impl Checkpointer {
    pub(crate) fn spawn(conn: rusqlite::Connection) -> Result<Self> {
        let conn = Connection::Sqlite(conn);
        let (stop, stopped) = flume::bounded::<()>(0);
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("mltrack-checkpoint".into())
            .spawn(move || {
                with_db(conn, runtime, |db| {
                    while let Err(flume::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                        // PASSIVE never waits for readers or the writer. But
                        // under steady load some reader always holds an old
                        // snapshot, the WAL is never reset and grows without
                        // bound (9 GB after 100 s of heavy log-batch); past
                        // a limit, TRUNCATE waits for a moment without
                        // readers on old frames and resets the file.
                        match db.row("PRAGMA wal_checkpoint(PASSIVE)", &[], |r| r.int(1)) {
                            Ok(Some(frames)) if frames > WAL_FRAMES_LIMIT => {
                                if let Err(e) = db.execute("PRAGMA wal_checkpoint(TRUNCATE)", &[]) {
                                    tracing::warn!(error = %e, frames, "could not reset the WAL");
                                }
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                        }
                    }
                })
            })
            .map_err(|e| Error::internal(format!("could not start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { _stop: stop })
    }
}

#[derive(Clone)]
pub(crate) struct Readers {
    jobs: flume::Sender<ReadJob>,
}

impl Readers {
    pub(crate) fn spawn(conns: Vec<Connection>) -> Result<Self> {
        let (jobs, rx) = flume::unbounded::<ReadJob>();
        for (i, conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            let runtime = tokio::runtime::Handle::current();
            std::thread::Builder::new()
                .name(format!("mltrack-reader-{i}"))
                .spawn(move || {
                    with_db(conn, runtime, |db| {
                        while let Ok(job) = rx.recv() {
                            job(db);
                            db.release();
                        }
                    })
                })
                .map_err(|e| Error::internal(format!("could not start a reader thread: {e}")))?;
        }
        Ok(Readers { jobs })
    }

    /// Runs `f` on a read-only connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: ReadJob = Box::new(move |db| {
            let _ = tx.send(supervised("read", || f(db)));
        });
        self.jobs.send(job).map_err(|_| Error::internal("the store's readers have stopped"))?;
        rx.await.map_err(|_| Error::internal("a database read failed"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracking::ErrorCode;

    async fn connection(path: &std::path::Path) -> rusqlite::Connection {
        super::super::sqlite_db::open(path, super::super::sqlite_db::Role::Writer).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_fails_its_request_and_the_threads_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Writer::spawn(vec![Connection::Sqlite(connection(&path).await)]).unwrap();
        let readers = Readers::spawn(vec![Connection::Sqlite(connection(&path).await)]).unwrap();
        writer.write(|db| db.execute("CREATE TABLE t (x INTEGER)", &[]).map(|_| ())).await.unwrap();
        // More panics than there are reader threads: each fails alone.
        for _ in 0..5 {
            let err = readers.read(|db| db.rows("SELECT 1", &[], |_| -> i64 { panic!("boom") })).await.unwrap_err();
            assert_eq!(err.error_code, ErrorCode::InternalError);
        }
        // The statement that was mid-run when its job panicked is usable again.
        assert_eq!(readers.read(|db| db.row("SELECT 1", &[], |r| r.int(0))).await.unwrap(), Some(1));
        let err = writer
            .write(|db| -> Result<()> {
                db.execute("INSERT INTO t VALUES (1)", &[])?;
                panic!("boom after a write")
            })
            .await
            .unwrap_err();
        assert_eq!(err.error_code, ErrorCode::InternalError);
        writer.write(|db| db.execute("INSERT INTO t VALUES (2)", &[]).map(|_| ())).await.unwrap();
        // The panicking write was rolled back; the next one committed.
        let rows = readers.read(|db| db.rows("SELECT x FROM t", &[], |r| r.int(0))).await.unwrap();
        assert_eq!(rows, vec![2]);
    }
}
