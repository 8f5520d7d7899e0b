//! The single writer: one connection, one task, group commit.
//!
//! Every write is a job sent to the writer task. The task takes whatever jobs
//! are waiting, runs them in one `BEGIN IMMEDIATE … COMMIT` (each in its own
//! savepoint, so a failing job undoes only itself), and answers each caller
//! only after the commit. Many small concurrent requests thus share one commit
//! and one fsync, and no caller is told "ok" before its data is durable.

use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tracking::{Error, Result};

/// Most jobs committed together; bounds the latency of the first job in a batch.
const MAX_BATCH: usize = 256;

type Deliver = Box<dyn FnOnce(Result<()>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Deliver)> + Send>;

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn spawn(conn: SqliteConnection) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(conn, rx));
        Writer { jobs }
    }

    /// Runs `f` inside the writer's transaction and returns its result once committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let outcome = f(conn).await;
                let ok = outcome.is_ok();
                let deliver: Deliver = Box::new(move |commit: Result<()>| {
                    let _ = tx.send(commit.and(outcome));
                });
                (ok, deliver)
            })
        });
        self.jobs.send(job).await.map_err(|_| Error::internal("the store's writer has stopped"))?;
        rx.await.map_err(|_| Error::internal("the store's writer stopped before committing"))?
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<()> {
    sqlx::query(sql).execute(&mut *conn).await.map(|_| ()).map_err(super::db_error)
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let single = batch.len() == 1;
        let mut deliveries: Vec<Deliver> = Vec::with_capacity(batch.len());
        let mut result = exec(&mut conn, "BEGIN IMMEDIATE").await;
        if result.is_err() {
            // Never run a job outside a transaction: its caller gets an error.
            tracing::error!(error = ?result, "could not start a write transaction");
            batch.clear();
            continue;
        }
        let mut any_ok = false;
        for job in batch.drain(..) {
            if !single {
                if let Err(e) = exec(&mut conn, "SAVEPOINT job").await {
                    result = Err(e);
                }
            }
            let (ok, deliver) = job(&mut conn).await;
            any_ok |= ok;
            if !single {
                let undo = if ok { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
                if let Err(e) = exec(&mut conn, undo).await {
                    result = Err(e);
                }
            }
            deliveries.push(deliver);
        }
        if result.is_ok() {
            result = if any_ok { exec(&mut conn, "COMMIT").await } else { exec(&mut conn, "ROLLBACK").await };
        }
        if result.is_err() {
            let _ = exec(&mut conn, "ROLLBACK").await;
            tracing::error!(error = ?result, "write transaction failed");
        }
        for deliver in deliveries {
            deliver(result.clone());
        }
    }
    let _ = conn.close().await;
}
