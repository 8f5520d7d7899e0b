//! Read-only queries on another program's SQLite database (MLflow's, for
//! `mltrack import`), on reader threads of their own like the store's:
//! a result comes back whole, not a row per channel message, which is what
//! makes reading millions of metric points fast.

use super::db::{Param, Row};
use super::sqlite_db::{self, Role};
use super::workers::{Connection, Readers};
use std::path::Path;
use tracking::Result;

pub struct ForeignDb {
    readers: Readers,
}

impl ForeignDb {
    /// Opens `path` read-only with `threads` connections. Its journal mode
    /// and contents are left alone; a missing file is an error.
    pub async fn open(path: &Path, threads: usize) -> Result<Self> {
        if !path.is_file() {
            return Err(tracking::Error::invalid(format!("No SQLite database at {}", path.display())));
        }
        let mut conns = Vec::with_capacity(threads);
        for _ in 0..threads.max(1) {
            conns.push(Connection::Sqlite(sqlite_db::open(path, Role::Foreign)?));
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
