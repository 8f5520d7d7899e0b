//! Synchronous statements on a PostgreSQL connection from sqlx's pool.
//!
//! The store's jobs are synchronous closures run by its worker threads (see
//! `workers`); on PostgreSQL each statement is sent with sqlx and awaited
//! on the runtime's handle from that thread. A connection is taken from
//! the pool on the first statement of a job (or of a write batch) and goes
//! back when the worker calls [`PgDb::release`], so that one job's
//! statements share one session, and a broken connection is closed rather
//! than returned. Once a session breaks, the rest of its job (or batch)
//! fails at once: a fresh connection would not hold the transaction the
//! earlier statements ran in, so its `COMMIT` would commit nothing of
//! theirs and its other statements would run outside any transaction.
//!
//! The shared SQL uses SQLite's `?` placeholders; [`to_postgres`] numbers
//! them and maps the few functions whose names differ.

use super::db::{unique_violation, NullType, Param};
use futures::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Column, Either, Executor, Postgres, Row as _, TypeInfo, ValueRef};
use std::collections::HashMap;
use std::sync::Arc;
use tracking::{Error, ErrorCode, Result};

/// A column value of a PostgreSQL row, read before the callback sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            Value::Real(v) => Some(*v as i64),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }

    pub fn as_real(&self) -> Option<f64> {
        match self {
            Value::Real(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }

    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s.clone()),
            Value::Int(v) => Some(v.to_string()),
            Value::Real(v) => Some(v.to_string()),
            Value::Null => None,
        }
    }
}

/// Most translated statement texts kept per connection holder.
const SQL_CACHE: usize = 512;

pub struct PgDb {
    pool: PgPool,
    runtime: tokio::runtime::Handle,
    conn: Option<PoolConnection<Postgres>>,
    /// The session of this job (or batch) failed; no statement runs until
    /// [`PgDb::release`].
    broken: bool,
    sql: HashMap<String, Arc<str>>,
}

/// The shared SQL in PostgreSQL's spelling: `$n` placeholders, and the
/// functions and statements SQLite names differently.
pub fn to_postgres(sql: &str) -> String {
    let sql = sql
        .replace("BEGIN IMMEDIATE", "BEGIN")
        .replace("json_each(?)", "json_array_elements_text(?::json)")
        .replace("instr(", "strpos(");
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

fn unavailable() -> Error {
    Error::new(ErrorCode::TemporarilyUnavailable, "The database is not reachable right now; try again in a moment.")
}

fn decode(row: &PgRow) -> std::result::Result<Vec<Value>, sqlx::Error> {
    let mut values = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            values.push(Value::Null);
            continue;
        }
        values.push(match column.type_info().name() {
            "INT8" => Value::Int(row.try_get::<i64, _>(i)?),
            "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
            "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
            "BOOL" => Value::Int(row.try_get::<bool, _>(i)?.into()),
            "FLOAT8" => Value::Real(row.try_get::<f64, _>(i)?),
            "FLOAT4" => Value::Real(row.try_get::<f32, _>(i)?.into()),
            _ => Value::Text(row.try_get::<String, _>(i)?),
        });
    }
    Ok(values)
}

impl PgDb {
    pub fn new(pool: PgPool, runtime: tokio::runtime::Handle) -> Self {
        PgDb { pool, runtime, conn: None, broken: false, sql: HashMap::new() }
    }

    /// Returns the connection to the pool; the next statement starts a new session.
    pub fn release(&mut self) {
        self.conn = None;
        self.broken = false;
    }

    fn translated(&mut self, sql: &str) -> Arc<str> {
        if let Some(text) = self.sql.get(sql) {
            return text.clone();
        }
        let text: Arc<str> = to_postgres(sql).into();
        if self.sql.len() < SQL_CACHE {
            self.sql.insert(sql.to_string(), text.clone());
        }
        text
    }

    /// The error a client sees for `e`; a connection that failed is closed.
    fn error(&mut self, e: sqlx::Error, sql: &str) -> Error {
        let broken = match &e {
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                match &*code {
                    "23505" => {
                        tracing::debug!(error = %e, sql, "unique constraint");
                        return unique_violation();
                    }
                    "40001" | "40P01" => {
                        tracing::warn!(error = %e, sql, "transaction conflict");
                        return Error::new(
                            ErrorCode::TemporarilyUnavailable,
                            "The write conflicted with another one at the same time; try again.",
                        );
                    }
                    c => c.starts_with("08") || c.starts_with("57P"),
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            _ => false,
        };
        if broken {
            tracing::warn!(error = %e, "the database connection failed");
            self.broken = true;
            if let Some(mut conn) = self.conn.take() {
                conn.close_on_drop();
            }
            return unavailable();
        }
        tracing::error!(error = %e, sql, "database error");
        Error::internal_cause("A database operation", e)
    }

    pub fn run(&mut self, sql: &str, params: &[Param], mut on_row: impl FnMut(&[Value]) -> Result<()>) -> Result<u64> {
        if self.broken {
            return Err(unavailable());
        }
        let text = self.translated(sql);
        if self.conn.is_none() {
            match self.runtime.block_on(self.pool.acquire()) {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => return Err(self.error(e, sql)),
            }
        }
        let conn = self.conn.as_mut().expect("connection acquired above");
        let mut query = sqlx::query(&text);
        for p in params {
            query = match *p {
                Param::Int(v) => query.bind(v),
                Param::Real(v) => query.bind(v),
                Param::Text(t) => query.bind(t),
                Param::Null(NullType::Int) => query.bind(None::<i64>),
                Param::Null(NullType::Real) => query.bind(None::<f64>),
                Param::Null(NullType::Text) => query.bind(None::<&str>),
                Param::IntArray(values) => query.bind(values),
            };
        }
        // A callback's own error (not the database's) stops the statement.
        let mut failed: Option<Error> = None;
        let outcome = self.runtime.block_on(async {
            let mut changed = 0;
            let mut results = conn.fetch_many(query);
            while let Some(item) = results.try_next().await? {
                match item {
                    Either::Left(done) => changed += done.rows_affected(),
                    Either::Right(row) => {
                        let values = decode(&row)?;
                        if let Err(e) = on_row(&values) {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
            Ok::<u64, sqlx::Error>(changed)
        });
        if let Some(e) = failed {
            return Err(e);
        }
        outcome.map_err(|e| self.error(e, sql))
    }
}

#[cfg(test)]
mod tests {
    use super::to_postgres;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(to_postgres("SELECT ? , '?' , ?"), "SELECT $1 , '?' , $2");
        assert_eq!(
            to_postgres("x IN (SELECT value FROM json_each(?)) AND instr(name, ?) > 0"),
            "x IN (SELECT value FROM json_array_elements_text($1::json)) AND strpos(name, $2) > 0"
        );
        assert_eq!(to_postgres("BEGIN IMMEDIATE"), "BEGIN");
    }
}
