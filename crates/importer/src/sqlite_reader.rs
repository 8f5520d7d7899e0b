//! Reading metric histories from MLflow's SQLite file, off the async
//! threads: a whole result per blocking call, on a few read-only
//! connections of the importer's own. Through sqlx each row crossed a
//! channel to a worker thread, which made reading millions of points slow.

use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracking::Point;

/// Read-only connections to one SQLite file, reused between reads.
pub struct SqliteReader {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

fn int(v: ValueRef) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Real(f) => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn real(v: ValueRef) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

impl SqliteReader {
    /// Opens `path` (which must exist) read-only; its journal mode and
    /// contents are left alone.
    pub fn open(path: &Path) -> Result<Self> {
        let reader = SqliteReader { path: path.to_path_buf(), idle: Arc::new(Mutex::new(Vec::new())) };
        let conn = reader.connect()?;
        reader.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        Ok(reader)
    }

    fn connect(&self) -> Result<Connection> {
        let conn =
            Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .with_context(|| format!("could not open {}", self.path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    /// One metric's points of one run as MLflow's `metrics` table has
    /// them: step, timestamp, value and the NaN flag.
    pub async fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Point>> {
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => self.connect()?,
        };
        let (run_id, key, idle) = (run_id.to_string(), key.to_string(), self.idle.clone());
        tokio::task::spawn_blocking(move || {
            let points = read_history(&conn, &run_id, &key);
            idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            points
        })
        .await
        .context("a history read stopped")?
    }
}

fn read_history(conn: &Connection, run_id: &str, key: &str) -> Result<Vec<Point>> {
    let mut stmt =
        conn.prepare_cached("SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2")?;
    let mut rows = stmt.query([run_id, key])?;
    let mut points = Vec::new();
    while let Some(r) = rows.next()? {
        let is_nan = int(r.get_ref(3)?).unwrap_or(0) != 0;
        points.push(Point {
            step: int(r.get_ref(0)?).unwrap_or(0),
            timestamp: int(r.get_ref(1)?).unwrap_or(0),
            value: if is_nan { f64::NAN } else { real(r.get_ref(2)?).unwrap_or(0.0) },
        });
    }
    Ok(points)
}
