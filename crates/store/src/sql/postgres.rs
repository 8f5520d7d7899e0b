//! Opening the store on PostgreSQL: the URI (MLflow's SQLAlchemy spelling
//! is accepted), the connection pool, and the schema's migrations.
//!
//! Several mltrack processes may share one database: migrations take
//! sqlx's advisory lock, ids come from the database's sequences, and names
//! are kept unique by its constraints.

use super::workers::{Connection, Readers, Writer};
use super::{migration_error, SqlStore};
use crate::changes::ChangeFeed;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection as _};
use std::str::FromStr;
use std::time::Duration;
use tracking::{Error, Result};

/// The PostgreSQL schema, applied at start and by `mltrack db upgrade`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Most threads that run write batches, each on a pooled connection while
/// its batch runs; the rest of the pool serves reader threads.
const MAX_WRITERS: u32 = 4;
/// How long a request waits for a connection before it is told to retry.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether `uri` names a PostgreSQL database (`postgresql://`,
/// `postgres://`, or SQLAlchemy's `postgresql+<driver>://`).
pub fn is_postgres_uri(uri: &str) -> bool {
    connect_url(uri).is_some()
}

/// The URI without SQLAlchemy's `+driver` part.
fn connect_url(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let base = scheme.split_once('+').map_or(scheme, |(base, _)| base);
    matches!(base, "postgresql" | "postgres").then(|| format!("postgresql://{rest}"))
}

/// Where the URI points, for messages (never the password).
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "PostgreSQL at {}:{} (database {})",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default)")
    )
}

fn options(uri: &str) -> Result<PgConnectOptions> {
    let url = connect_url(uri).ok_or_else(|| Error::invalid(format!("'{uri}' is not a PostgreSQL URI")))?;
    PgConnectOptions::from_str(&url)
        .map(|o| o.disable_statement_logging())
        .map_err(|e| Error::invalid(format!("Could not read the PostgreSQL URI: {e}")))
}

async fn connect(uri: &str, pool_size: u32) -> Result<PgPool> {
    let options = options(uri)?;
    let target = describe(&options);
    // One direct connection first: its error names the cause (refused,
    // unknown host, bad password), where the pool's would only time out.
    let probe = options.connect().await.map_err(|e| Error::internal(format!("Could not connect to {target}: {e}")))?;
    probe.close().await.ok();
    PgPoolOptions::new()
        // Besides the threads' connections: the relay's listener and sender.
        .max_connections(pool_size.max(2) + 2)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| Error::internal(format!("Could not connect to {target}: {e}")))
}

/// Applies pending migrations to the database at `uri`.
pub async fn migrate_postgres(uri: &str) -> Result<()> {
    let pool = connect(uri, 2).await?;
    MIGRATOR.run(&pool).await.map_err(migration_error)?;
    pool.close().await;
    Ok(())
}

impl SqlStore {
    /// Connects to the database, migrates it and makes sure the `Default`
    /// experiment (id 0) exists. `pool_size` bounds the connections this
    /// process opens.
    pub async fn open_postgres(uri: &str, default_artifact_root: &str, pool_size: u32) -> Result<Self> {
        let pool = connect(uri, pool_size).await?;
        MIGRATOR.run(&pool).await.map_err(migration_error)?;
        let root = default_artifact_root.trim_end_matches('/').to_string();
        let now = crate::now_millis();
        sqlx::query(
            "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) \
             VALUES (0, 'Default', $1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(format!("{root}/0"))
        .bind(now)
        .bind(now)
        .execute(&pool)
        .await
        .map_err(|e| Error::internal_cause("Creating the Default experiment", e))?;
        let changes = std::sync::Arc::new(ChangeFeed::new());
        super::relay::start(pool.clone(), &changes);
        // One connection per thread: no thread ever waits for another's.
        let pool_size = pool_size.max(2);
        let writers = (pool_size / 4).clamp(1, MAX_WRITERS);
        let readers = pool_size - writers;
        let threads = |n: u32| (0..n).map(|_| Connection::Postgres(pool.clone())).collect();
        Ok(SqlStore {
            writer: Writer::spawn(threads(writers))?,
            readers: Readers::spawn(threads(readers))?,
            _checkpointer: None,
            default_artifact_root: root,
            changes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlflow_spellings_of_the_uri() {
        for uri in ["postgresql://u:p@h/db", "postgres://h/db", "postgresql+psycopg2://u@h:5433/db"] {
            assert!(is_postgres_uri(uri), "{uri}");
        }
        assert!(!is_postgres_uri("sqlite:///x.db"));
        assert!(!is_postgres_uri("mysql://h/db"));
        let o = options("postgresql+psycopg2://u:secret@db.example:5433/mlflow").unwrap();
        assert_eq!(describe(&o), "PostgreSQL at db.example:5433 (database mlflow)");
    }
}
