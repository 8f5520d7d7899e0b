//! Synchronous statements on a SQLite connection of our own, through
//! `rusqlite` (the same `libsqlite3-sys` build sqlx links).
//!
//! Each worker thread owns its connection and runs statements on it
//! directly: going through sqlx's per-connection worker thread cost a
//! thread wake-up per statement and per row, which dominated request time
//! on this class of machine. sqlx still applies the migrations (on a
//! connection of its own that is closed before the workers start).
//!
//! Prepared statements are kept per connection in rusqlite's LRU cache,
//! which evicts the least recently used past its capacity; columns are
//! read by checked access.

use super::db::Param;
use rusqlite::types::{Null, ValueRef};
use rusqlite::{ffi, Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;
use tracking::{Error, Result};

/// Prepared statements kept per connection: the store's own statement
/// texts fit; rare ones (an odd batch size) push out the least used.
const CACHE_CAPACITY: usize = 256;

/// How a connection is used; each sets the pragmas it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The one read-write connection; checkpoints run elsewhere.
    Writer,
    /// Read-only, beside the writer (WAL).
    Reader,
    /// Runs WAL checkpoints.
    Checkpointer,
    /// Another program's database (MLflow's, for import), read-only,
    /// with its settings left alone.
    Foreign,
}

/// Opens `path` for `role`.
pub fn open(path: &Path, role: Role) -> Result<Connection> {
    let flags = match role {
        Role::Reader | Role::Foreign => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Role::Writer | Role::Checkpointer => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_error(e, "open"))?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(|e| sqlite_error(e, "busy_timeout"))?;
    conn.set_prepared_statement_cache_capacity(CACHE_CAPACITY);
    if role != Role::Foreign {
        // FULL: a commit is on disk before the client hears "ok", even if
        // the machine (not just the process) dies right after. The schema
        // declares its references and every write path checks them itself;
        // enforcing them again costs ~15% of ingest (MLflow's own SQLite
        // store does not enforce them either). MLflow's LIKE is
        // case-sensitive; ILIKE is the case-insensitive one.
        let mut pragmas =
            String::from("PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; PRAGMA case_sensitive_like = ON;");
        if role == Role::Writer {
            // A larger page cache for the writer; checkpoints run on their
            // own connection, never inside the writer's commits. Statement
            // and savepoint journals (a page's copy before a statement of a
            // larger transaction changes it) stay in memory: past 64 KiB
            // SQLite spills them to a temporary file, which tripled the
            // writes of a 1,000-point batch (strace: 293 pwrite64 a batch
            // against 97, and a file opened for nearly every batch).
            pragmas.push_str(" PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;");
        }
        conn.execute_batch(&pragmas).map_err(|e| sqlite_error(e, "pragmas"))?;
        register_number(&conn)?;
    }
    Ok(conn)
}

/// `mltrack_number(text)`: the number a param's text spells (finite, as
/// Rust reads it, spaces around allowed), else NULL: what the UI's numeric
/// order of params sorts by. PostgreSQL has the same function from its
/// migrations.
fn register_number(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("mltrack_number", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(|s| s.trim().parse::<f64>().ok()),
            ValueRef::Integer(i) => Some(i as f64),
            ValueRef::Real(r) => Some(r),
            _ => None,
        }
        .filter(|v| v.is_finite()))
    })
    .map_err(|e| sqlite_error(e, "mltrack_number"))
}

/// SQLite's error as the store's: a unique or primary-key constraint is
/// RESOURCE_ALREADY_EXISTS (callers name what exists), anything else an
/// internal error whose cause stays in the log.
fn sqlite_error(e: rusqlite::Error, sql: &str) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, _) = &e {
        if matches!(failure.extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) {
            tracing::debug!(error = %e, sql, "unique constraint");
            return super::db::unique_violation();
        }
    }
    tracing::error!(error = %e, sql, "database error");
    Error::internal_cause("A database operation", e)
}

/// One result row; valid only inside the callback it is passed to. Values
/// convert as SQLite's own column functions convert them (an integer read
/// as text is its digits); a column past the end reads as NULL.
#[derive(Clone, Copy)]
pub struct SqliteRow<'s> {
    row: &'s rusqlite::Row<'s>,
}

impl SqliteRow<'_> {
    fn value(&self, col: usize) -> ValueRef<'_> {
        self.row.get_ref(col).unwrap_or(ValueRef::Null)
    }

    pub fn is_null(&self, col: usize) -> bool {
        matches!(self.value(col), ValueRef::Null)
    }

    pub fn opt_int(&self, col: usize) -> Option<i64> {
        match self.value(col) {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i),
            ValueRef::Real(f) => Some(f as i64),
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(std::str::from_utf8(t).ok()?.trim().parse().unwrap_or(0)),
        }
    }

    pub fn opt_real(&self, col: usize) -> Option<f64> {
        match self.value(col) {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i as f64),
            ValueRef::Real(f) => Some(f),
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(std::str::from_utf8(t).ok()?.trim().parse().unwrap_or(0.0)),
        }
    }

    pub fn opt_text(&self, col: usize) -> Option<String> {
        match self.value(col) {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i.to_string()),
            ValueRef::Real(f) => Some(f.to_string()),
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
        }
    }
}

/// A connection owned by one worker thread.
pub struct SqliteDb {
    conn: Connection,
}

impl SqliteDb {
    pub fn new(conn: Connection) -> Self {
        SqliteDb { conn }
    }

    /// Runs `sql` with `params`, calling `on_row` for each result row, and
    /// returns the number of rows the statement changed.
    ///
    /// The statement comes from the cache and goes back to it when done,
    /// reset, also when `on_row` fails or panics, so that it never holds a
    /// read transaction open for the next job.
    pub fn run(
        &mut self,
        sql: &str,
        params: &[Param],
        mut on_row: impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| sqlite_error(e, sql))?;
        for (i, p) in params.iter().enumerate() {
            let idx = i + 1;
            let bound = match *p {
                Param::Int(v) => stmt.raw_bind_parameter(idx, v),
                Param::Real(v) => stmt.raw_bind_parameter(idx, v),
                Param::Text(t) => stmt.raw_bind_parameter(idx, t),
                Param::Null(_) => stmt.raw_bind_parameter(idx, Null),
                Param::IntArray(_) => return Err(Error::internal("an array parameter was bound on SQLite")),
            };
            bound.map_err(|e| sqlite_error(e, sql))?;
        }
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(|e| sqlite_error(e, sql))? {
            on_row(&SqliteRow { row })?;
        }
        drop(rows);
        Ok(self.conn.changes())
    }
}
