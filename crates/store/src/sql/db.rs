//! The narrow backend interface: run one SQL statement with parameters and
//! read its rows, on SQLite or PostgreSQL.
//!
//! The store's queries are written once, in the SQL both databases accept
//! (`?` placeholders, `INSERT … ON CONFLICT`, `RETURNING`); the few places
//! where the dialects differ ask [`Db::dialect`]. A `Db` belongs to one
//! worker thread; every statement runs synchronously on it.

use super::pg_db::{PgDb, Value};
use super::sqlite_db::{SqliteDb, SqliteRow};
use tracking::{Error, ErrorCode, Result};

/// Which SQL a [`Db`] speaks, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The two-argument smallest/largest of non-NULL values.
    pub fn least(self) -> &'static str {
        match self {
            Dialect::Sqlite => "min",
            Dialect::Postgres => "least",
        }
    }
    pub fn greatest(self) -> &'static str {
        match self {
            Dialect::Sqlite => "max",
            Dialect::Postgres => "greatest",
        }
    }
}

/// The type a NULL parameter stands for (PostgreSQL types every parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullType {
    Int,
    Real,
    Text,
}

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
    Null(NullType),
    /// A `bigint[]` (PostgreSQL only: `UNNEST(?::bigint[])`).
    IntArray(&'a [i64]),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Int(v as i64)
    }
}
impl From<f64> for Param<'_> {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}
impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(v)
    }
}
impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}
impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Param::Null(NullType::Int), Param::Int)
    }
}
impl From<Option<f64>> for Param<'_> {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Param::Null(NullType::Real), Param::Real)
    }
}
impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Param::Null(NullType::Text), Param::Text)
    }
}
impl<'a> From<Option<&'a String>> for Param<'a> {
    fn from(v: Option<&'a String>) -> Self {
        v.map_or(Param::Null(NullType::Text), |s| Param::Text(s))
    }
}
impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_ref().into()
    }
}

/// One result row; valid only inside the callback it is passed to.
pub enum Row<'s> {
    Sqlite(SqliteRow<'s>),
    Postgres(&'s [Value]),
}

impl Row<'_> {
    pub fn int(&self, col: usize) -> i64 {
        self.opt_int(col).unwrap_or(0)
    }

    pub fn is_null(&self, col: usize) -> bool {
        match self {
            Row::Sqlite(r) => r.is_null(col),
            Row::Postgres(v) => matches!(v.get(col), None | Some(Value::Null)),
        }
    }

    pub fn opt_int(&self, col: usize) -> Option<i64> {
        match self {
            Row::Sqlite(r) => r.opt_int(col),
            Row::Postgres(v) => v.get(col).and_then(Value::as_int),
        }
    }

    pub fn opt_real(&self, col: usize) -> Option<f64> {
        match self {
            Row::Sqlite(r) => r.opt_real(col),
            Row::Postgres(v) => v.get(col).and_then(Value::as_real),
        }
    }

    pub fn text(&self, col: usize) -> String {
        self.opt_text(col).unwrap_or_default()
    }

    pub fn opt_text(&self, col: usize) -> Option<String> {
        match self {
            Row::Sqlite(r) => r.opt_text(col),
            Row::Postgres(v) => v.get(col).and_then(Value::as_text),
        }
    }
}

/// The condition [`Db::any_of`] makes: its SQL and the one parameter.
pub struct AnyOf<'a> {
    pub sql: &'static str,
    ids: &'a [i64],
    json: String,
}

impl AnyOf<'_> {
    pub fn params(&self) -> Vec<Param<'_>> {
        if self.json.is_empty() {
            vec![Param::IntArray(self.ids)]
        } else {
            vec![Param::Text(&self.json)]
        }
    }
}

/// A connection owned by one worker thread.
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// The error a unique or primary-key constraint gives: the caller names
/// what already exists (`map_err(already(…))`); left alone it still reads
/// as a sentence with MLflow's code, never as the database's text.
pub(crate) fn unique_violation() -> Error {
    Error::already_exists("A record with the same unique key already exists.")
}

/// Replaces a unique-constraint error by the caller's own message.
pub(crate) fn already(message: impl FnOnce() -> Error) -> impl FnOnce(Error) -> Error {
    move |e| if e.error_code == ErrorCode::ResourceAlreadyExists { message() } else { e }
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A condition `<column> …` matching any of `ids`: `= ANY(?)` over one
    /// array on PostgreSQL, `IN (SELECT value FROM json_each(?))` over one
    /// JSON array on SQLite. One statement text and one parameter whatever
    /// the number of ids, so the statement cache holds one entry for it.
    pub fn any_of<'a>(&self, ids: &'a [i64]) -> AnyOf<'a> {
        match self.dialect() {
            Dialect::Postgres => AnyOf { sql: "= ANY(?)", ids, json: String::new() },
            Dialect::Sqlite => {
                let mut json = String::with_capacity(ids.len() * 8 + 2);
                json.push('[');
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        json.push(',');
                    }
                    json.push_str(&id.to_string());
                }
                json.push(']');
                AnyOf { sql: "IN (SELECT value FROM json_each(?))", ids, json }
            }
        }
    }

    /// How many ids one [`Db::any_of`] condition takes at a time (a bound
    /// on the memory one query's rows take).
    pub fn ids_per_query(&self) -> usize {
        10_000
    }

    /// Runs `sql` with `params`, calling `on_row` for each result row, and
    /// returns the number of rows the statement changed.
    pub fn run(&mut self, sql: &str, params: &[Param], mut on_row: impl FnMut(&Row) -> Result<()>) -> Result<u64> {
        match self {
            Db::Sqlite(db) => db.run(sql, params, |r| on_row(&Row::Sqlite(*r))),
            Db::Postgres(db) => db.run(sql, params, |values| on_row(&Row::Postgres(values))),
        }
    }

    /// Ends the use of the connection for now: a pooled PostgreSQL
    /// connection goes back to its pool (never inside a transaction).
    pub fn release(&mut self) {
        if let Db::Postgres(db) = self {
            db.release();
        }
    }

    /// Runs a statement for its effect; returns the number of changed rows.
    pub fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        self.run(sql, params, |_| Ok(()))
    }

    /// All result rows, each mapped by `f`.
    pub fn rows<T>(&mut self, sql: &str, params: &[Param], mut f: impl FnMut(&Row) -> T) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.run(sql, params, |row| {
            out.push(f(row));
            Ok(())
        })?;
        Ok(out)
    }

    /// The first result row mapped by `f`, if there is one.
    pub fn row<T>(&mut self, sql: &str, params: &[Param], f: impl FnOnce(&Row) -> T) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.run(sql, params, |row| {
            if let Some(f) = f.take() {
                out = Some(f(row));
            }
            Ok(())
        })?;
        Ok(out)
    }
}
