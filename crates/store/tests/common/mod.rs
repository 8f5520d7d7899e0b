//! The database each test runs on: a fresh SQLite file, or with
//! `MLTRACK_TEST_POSTGRES` set (a server's base URI, as
//! `tests/pg-cluster.sh` prints it) a fresh PostgreSQL database there.

use sqlx::Connection;
use store::Store;

pub async fn open() -> (tempfile::TempDir, Store) {
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
    (dir, store::open(&uri, "mlflow-artifacts:").await.unwrap())
}
