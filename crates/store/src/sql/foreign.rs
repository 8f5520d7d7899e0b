//! Read-only queries on another program's SQLite database (MLflow's, for
//! `mltrack import`), on reader threads of their own like the store's:
//! a result comes back whole, not a row per channel message, which is what
//! makes reading millions of metric points fast.

use super::db::{Param, Row};
use super::db_error;
use super::workers::{Connection, Readers};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use std::path::Path;
use tracking::Result;

pub struct ForeignDb {
    readers: Readers,
}

impl ForeignDb {
    /// Opens `path` read-only with `threads` connections. Its journal mode
    /// and contents are left alone; a missing file is an error.
    pub async fn open(path: &Path, threads: usize) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(std::time::Duration::from_secs(10))
            .disable_statement_logging();
        let mut conns = Vec::with_capacity(threads);
        for _ in 0..threads.max(1) {
            conns.push(Connection::Sqlite(options.clone().connect().await.map_err(db_error)?));
        }
        Ok(ForeignDb { readers: Readers::spawn(conns)? })
    }

    /// Runs `sql` with text arguments and maps every row with `f`.
    pub async fn rows<T: Send + 'static>(&self, sql: &str, args: &[&str], f: fn(&Row) -> T) -> Result<Vec<T>> {
        let sql = sql.to_string();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.readers
            .read(move |db| {
                let params: Vec<Param> = args.iter().map(|a| a.as_str().into()).collect();
                db.rows(&sql, &params, f)
            })
            .await
    }
}
