//! Synchronous statements on a SQLite connection that sqlx opened.
//!
//! sqlx runs each SQLite connection on a worker thread and passes every
//! statement and every row through a channel; on this class of machine each
//! hand-off costs a thread wake-up (hundreds of microseconds under a
//! hypervisor), which dominated request time. Instead, each of our own
//! threads takes its connection's raw handle once, through sqlx's public
//! `lock_handle`, and runs statements on it directly. sqlx still opens the
//! connections (file, pragmas, WAL) and applies the migrations.
//!
//! This is the only module with `unsafe` code: the C API calls, each with
//! the invariant it relies on stated next to it.
#![allow(unsafe_code)]

use super::db::Param;
use libsqlite3_sys as ffi;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::{self, NonNull};
use tracking::{Error, Result};

/// One result row; valid only inside the callback it is passed to.
#[derive(Clone, Copy)]
pub struct SqliteRow<'s> {
    stmt: &'s Stmt,
}

impl SqliteRow<'_> {
    pub fn int(&self, col: usize) -> i64 {
        // SAFETY: the statement has just returned SQLITE_ROW, so its columns are readable.
        unsafe { ffi::sqlite3_column_int64(self.stmt.0.as_ptr(), col as c_int) }
    }

    pub fn is_null(&self, col: usize) -> bool {
        // SAFETY: as in `int`.
        unsafe { ffi::sqlite3_column_type(self.stmt.0.as_ptr(), col as c_int) == ffi::SQLITE_NULL }
    }

    pub fn opt_int(&self, col: usize) -> Option<i64> {
        (!self.is_null(col)).then(|| self.int(col))
    }

    pub fn opt_real(&self, col: usize) -> Option<f64> {
        // SAFETY: as in `int`.
        (!self.is_null(col)).then(|| unsafe { ffi::sqlite3_column_double(self.stmt.0.as_ptr(), col as c_int) })
    }

    pub fn text(&self, col: usize) -> String {
        self.opt_text(col).unwrap_or_default()
    }

    pub fn opt_text(&self, col: usize) -> Option<String> {
        let stmt = self.stmt.0.as_ptr();
        // SAFETY: as in `int`; sqlite3_column_text returns a pointer valid
        // until the next step/reset, and sqlite3_column_bytes (called after
        // it, as the C API requires) its length. The bytes are copied at once.
        unsafe {
            let p = ffi::sqlite3_column_text(stmt, col as c_int);
            if p.is_null() {
                return None;
            }
            let n = ffi::sqlite3_column_bytes(stmt, col as c_int) as usize;
            let bytes = std::slice::from_raw_parts(p, n);
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// A prepared statement, finalized on drop.
struct Stmt(NonNull<ffi::sqlite3_stmt>);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: the statement came from sqlite3_prepare_v2 and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.0.as_ptr());
        }
    }
}

// SAFETY: a statement is used only by the thread that owns its `Db`; moving
// it between threads together with that `Db` is allowed (SQLite is built
// threadsafe, and the connection is never used by two threads at once).
unsafe impl Send for Stmt {}

/// A connection's raw handle with a cache of prepared statements.
pub struct SqliteDb {
    raw: NonNull<ffi::sqlite3>,
    cache: HashMap<String, Stmt>,
}

// SAFETY: see `Stmt`: one `Db` is owned and used by one thread at a time.
unsafe impl Send for SqliteDb {}

/// Prepared statements kept per connection; a statement text outside the
/// cache (rare: odd batch sizes) is prepared and finalized each time.
const CACHE_CAPACITY: usize = 256;

impl SqliteDb {
    /// Wraps a handle obtained from `LockedSqliteHandle::as_raw_handle`.
    ///
    /// # Safety
    /// The handle must stay locked (its guard alive) and otherwise unused
    /// for as long as the `Db` lives.
    pub unsafe fn new(raw: NonNull<ffi::sqlite3>) -> Self {
        SqliteDb { raw, cache: HashMap::new() }
    }

    fn error(&self, context: &str) -> Error {
        // SAFETY: the handle is open; sqlite3_errmsg returns a NUL-terminated
        // string owned by SQLite, copied here before any other call.
        let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.raw.as_ptr())) }.to_string_lossy().into_owned();
        // SAFETY: the handle is open.
        let code = unsafe { ffi::sqlite3_extended_errcode(self.raw.as_ptr()) };
        if code == ffi::SQLITE_CONSTRAINT_UNIQUE || code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY {
            tracing::debug!(error = %msg, sql = context, "unique constraint");
            return super::db::unique_violation();
        }
        tracing::error!(error = %msg, sql = context, "database error");
        Error::internal_cause("A database operation", msg)
    }

    fn prepare(&mut self, sql: &str) -> Result<Stmt> {
        let mut stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        // SAFETY: `sql` is valid for its length; SQLite copies what it needs.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.raw.as_ptr(), sql.as_ptr().cast(), sql.len() as c_int, &mut stmt, &mut tail)
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.error(sql));
        }
        NonNull::new(stmt)
            .map(Stmt)
            .ok_or_else(|| Error::internal_cause("A database operation", format!("empty statement: {sql}")))
    }

    fn bind(&self, stmt: &Stmt, params: &[Param]) -> Result<()> {
        let s = stmt.0.as_ptr();
        for (i, p) in params.iter().enumerate() {
            let idx = (i + 1) as c_int;
            // SAFETY: `s` is a live prepared statement; text is copied by
            // SQLite (SQLITE_TRANSIENT) before the call returns.
            let rc = unsafe {
                match *p {
                    Param::Int(v) => ffi::sqlite3_bind_int64(s, idx, v),
                    Param::Real(v) => ffi::sqlite3_bind_double(s, idx, v),
                    Param::Text(t) => {
                        ffi::sqlite3_bind_text(s, idx, t.as_ptr().cast(), t.len() as c_int, ffi::SQLITE_TRANSIENT())
                    }
                    Param::Null(_) => ffi::sqlite3_bind_null(s, idx),
                    Param::IntArray(_) => {
                        return Err(Error::internal("an array parameter was bound on SQLite"));
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.error("bind"));
            }
        }
        Ok(())
    }

    /// Runs `sql` with `params`, calling `on_row` for each result row, and
    /// returns the number of rows the statement changed.
    ///
    /// `on_row` gets rows, not the `Db`, so a statement is never re-entered
    /// while it runs and the cached one can be used in place.
    pub fn run(
        &mut self,
        sql: &str,
        params: &[Param],
        mut on_row: impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<u64> {
        if !self.cache.contains_key(sql) {
            let stmt = self.prepare(sql)?;
            if self.cache.len() >= CACHE_CAPACITY {
                return self.run_once(&stmt, sql, params, &mut on_row);
            }
            self.cache.insert(sql.to_string(), stmt);
        }
        let stmt = &self.cache[sql];
        self.run_once(stmt, sql, params, &mut on_row)
    }

    fn run_once(
        &self,
        stmt: &Stmt,
        sql: &str,
        params: &[Param],
        on_row: &mut impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<u64> {
        /// Resets the statement when dropped, also when `on_row` panics, so
        /// that a cached statement is never left mid-run (holding its read
        /// transaction and refusing new bindings) for the next job.
        struct ResetOnDrop(*mut ffi::sqlite3_stmt);
        impl Drop for ResetOnDrop {
            fn drop(&mut self) {
                // SAFETY: resetting a live statement readies it for reuse and
                // releases its read transaction.
                unsafe {
                    ffi::sqlite3_reset(self.0);
                    ffi::sqlite3_clear_bindings(self.0);
                }
            }
        }
        let _reset = ResetOnDrop(stmt.0.as_ptr());
        self.step_all(stmt, sql, params, on_row)
    }

    fn step_all(
        &self,
        stmt: &Stmt,
        sql: &str,
        params: &[Param],
        on_row: &mut impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<u64> {
        self.bind(stmt, params)?;
        loop {
            // SAFETY: a live, bound statement.
            match unsafe { ffi::sqlite3_step(stmt.0.as_ptr()) } {
                ffi::SQLITE_ROW => on_row(&SqliteRow { stmt })?,
                ffi::SQLITE_DONE => break,
                _ => return Err(self.error(sql)),
            }
        }
        // SAFETY: the handle is open.
        Ok(unsafe { ffi::sqlite3_changes64(self.raw.as_ptr()) } as u64)
    }
}
