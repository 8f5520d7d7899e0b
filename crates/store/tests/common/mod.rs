//! The database each test runs on: a fresh SQLite file, or with
//! `MLTRACK_TEST_POSTGRES` set (a server's base URI, as
//! `tests/pg-cluster.sh` prints it) a fresh PostgreSQL database there.

use sqlx::Connection;
use store::Store;

pub async fn open() -> (tempfile::TempDir, Store) {
    let (dir, store, _) = open_with_uri().await;
    (dir, store)
}

/// Runs `sql` on the test's database directly, beside the store (to make
/// the state an older mltrack left behind).
#[allow(dead_code)]
pub async fn execute_raw(uri: &str, sql: &str) {
    if uri.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(uri).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let path = uri.trim_start_matches("sqlite:///");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

/// One integer that `sql` reads from the test's database directly.
#[allow(dead_code)]
pub async fn query_i64(uri: &str, sql: &str) -> i64 {
    if uri.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(uri).await.unwrap();
        sqlx::query_scalar::<_, i64>(&format!("SELECT CAST(({sql}) AS BIGINT)")).fetch_one(&mut conn).await.unwrap()
    } else {
        let path = uri.trim_start_matches("sqlite:///");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut conn).await.unwrap()
    }
}

/// `open`, and the URI of the database.
pub async fn open_with_uri() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let uri = match std::env::var("MLTRACK_TEST_POSTGRES") {
        Ok(base) if !base.is_empty() => {
            let base = base.trim_end_matches('/');
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres")).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
            format!("{base}/{name}")
        }
        _ => format!("sqlite:///{}", dir.path().join("t.db").display()),
    };
    let store = store::open(&uri, "mlflow-artifacts:").await.unwrap();
    (dir, store, uri)
}
