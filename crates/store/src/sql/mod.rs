//! The SQLite implementation of [`TrackingStore`](crate::TrackingStore).
//!
//! sqlx applies the migrations; [`workers`] gives each connection (opened
//! by `rusqlite` in [`sqlite_db`], or pooled by sqlx on PostgreSQL) a
//! thread of its own: one writer that group-commits, a few readers (WAL mode
//! lets them run beside the writer). Queries run on those threads through
//! [`db::Db`].

mod auth;
mod compile;
mod dashboards;
mod db;
mod experiments;
mod history;
mod import;
mod logged_models;
mod logging;
mod pg_db;
mod postgres;
mod registry;
mod relay;
mod runs;
mod search;
mod sqlite_db;
mod tiles;
mod workers;

use crate::changes::{ChangeFeed, ChangeKind};
use crate::{
    ExperimentQuery, HistoryInterval, LoggedModelQuery, NewLoggedModel, NewRun, RunQuery, RunUpdate, TrackingStore,
};
use async_trait::async_trait;
use db::Db;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection as _, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tracking::{
    DatasetInput, DatasetSummary, Error, Experiment, ExperimentStats, KeyValue, LifecycleStage, LoggedModel,
    LoggedModelStatus, Metric, MetricSummary, ModelMetric, ModelOutput, Page, Point, Result, Run, RunInfo,
};
use workers::{Checkpointer, Connection, Readers, Writer};

pub use db::{Dialect, Row};
pub use postgres::{is_postgres_uri, migrate_postgres};

/// Reader threads (and read-only connections).
const READERS: usize = 4;

/// The schema, applied at start and by `mltrack db upgrade`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

pub struct SqlStore {
    writer: Writer,
    readers: Readers,
    /// SQLite's WAL checkpoints; PostgreSQL keeps its own.
    _checkpointer: Option<Checkpointer>,
    default_artifact_root: String,
    changes: std::sync::Arc<ChangeFeed>,
}

/// Logs a database failure and turns it into MLflow's INTERNAL_ERROR.
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    tracing::error!(error = %e, "database error");
    Error::internal_cause("A database operation", e)
}

/// The file path in `sqlite:///relative.db`, `sqlite:////absolute.db`
/// (SQLAlchemy's convention, which MLflow uses) or a bare path.
pub fn path_from_uri(uri: &str) -> Result<PathBuf> {
    let path = if let Some(rest) = uri.strip_prefix("sqlite:///") {
        rest
    } else if let Some(rest) = uri.strip_prefix("sqlite://") {
        rest
    } else if uri.contains("://") {
        return Err(Error::invalid(format!(
            "Unsupported backend store URI '{uri}': expected sqlite:///<path> or a file path"
        )));
    } else {
        uri
    };
    if path.is_empty() {
        return Err(Error::invalid(format!("Backend store URI '{uri}' names no file")));
    }
    Ok(PathBuf::from(path))
}

fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str("sqlite://")
        .expect("static sqlite options")
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before the client hears "ok", even if the
        // machine (not just the process) dies right after.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        // The schema declares its references, and every write path checks
        // them itself (the run is looked up, key ids are made in the same
        // transaction; nothing is ever hard-deleted). Enforcing them again
        // costs two lookups and a statement journal per metric row: ~15% of
        // ingest. MLflow's own SQLite store does not enforce them either.
        .foreign_keys(false)
        // MLflow's LIKE is case-sensitive; ILIKE is the case-insensitive one.
        .pragma("case_sensitive_like", "ON")
        .disable_statement_logging()
}

/// Applies pending migrations to the database at `path`.
pub async fn migrate(path: &Path) -> Result<()> {
    let mut conn = connect_options(path).connect().await.map_err(db_error)?;
    MIGRATOR.run(&mut conn).await.map_err(migration_error)?;
    conn.close().await.map_err(db_error)
}

/// A failed migration as a sentence; a schema from a newer mltrack names
/// its revision.
pub(crate) fn migration_error(e: sqlx::migrate::MigrateError) -> Error {
    match e {
        sqlx::migrate::MigrateError::VersionMissing(revision) => Error::internal(format!(
            "The database was migrated by a newer mltrack (schema revision {revision} is unknown to this one); \
             run the newer mltrack, or upgrade this one"
        )),
        e => Error::internal(format!("Migrating the database failed: {e}")),
    }
}

impl SqlStore {
    fn experiment_changed(&self, experiment_id: &str) -> Result<()> {
        self.changes.publish(experiment_id, "", ChangeKind::ExperimentUpdated);
        Ok(())
    }

    /// Opens (creating if needed) the database, migrates it and makes sure
    /// the `Default` experiment (id 0) exists.
    pub async fn open(path: &Path, default_artifact_root: &str) -> Result<Self> {
        let options = connect_options(path);
        // sqlx migrates (and sets WAL mode, which stays with the file);
        // the workers then run on connections of their own.
        let mut conn: SqliteConnection = options.clone().connect().await.map_err(db_error)?;
        MIGRATOR.run(&mut conn).await.map_err(migration_error)?;
        let root = default_artifact_root.trim_end_matches('/').to_string();
        let now = crate::now_millis();
        sqlx::query(
            "INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) \
             VALUES (0, 'Default', ?, ?, ?)",
        )
        .bind(format!("{root}/0"))
        .bind(now)
        .bind(now)
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
        conn.close().await.map_err(db_error)?;
        // Page caches: 16 MB for the writer, SQLite's default 2 MB for the
        // others. Checkpoints run on their own connection, never inside the
        // writer's commits.
        let writer = sqlite_db::open(path, sqlite_db::Role::Writer)?;
        let checkpoints = sqlite_db::open(path, sqlite_db::Role::Checkpointer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(sqlite_db::open(path, sqlite_db::Role::Reader)?);
        }
        Ok(SqlStore {
            writer: Writer::spawn(vec![Connection::Sqlite(writer)])?,
            readers: Readers::spawn(readers.into_iter().map(Connection::Sqlite).collect())?,
            _checkpointer: Some(Checkpointer::spawn(checkpoints)?),
            default_artifact_root: root,
            changes: Default::default(),
        })
    }
}

/// The internal row id, experiment and lifecycle stage of a run.
pub(crate) struct RunRef {
    pub id: i64,
    pub experiment_id: i64,
    pub stage: LifecycleStage,
}

pub(crate) fn find_run(db: &mut Db, run_uuid: &str) -> Result<RunRef> {
    db.row("SELECT id, experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?", &[run_uuid.into()], |r| RunRef {
        id: r.int(0),
        experiment_id: r.int(1),
        stage: LifecycleStage::parse(&r.text(2)).unwrap_or_default(),
    })?
    .ok_or_else(|| Error::not_found(format!("Run with id={run_uuid} not found")))
}

/// The run, which must exist and be active (MLflow refuses writes to deleted runs).
pub(crate) fn find_active_run(db: &mut Db, run_uuid: &str) -> Result<RunRef> {
    let run = find_run(db, run_uuid)?;
    if run.stage != LifecycleStage::Active {
        return Err(Error::invalid(format!(
            "The run {run_uuid} must be in the 'active' state. Current state is {}.",
            run.stage.as_str()
        )));
    }
    Ok(run)
}

/// Experiment ids are integers here; anything else names no experiment.
pub(crate) use crate::search::experiment_id as parse_experiment_id;

#[async_trait]
impl TrackingStore for SqlStore {
    async fn run_experiment_ids(&self, run_ids: &[String]) -> Result<Vec<(String, String)>> {
        let run_ids = run_ids.to_vec();
        self.readers
            .read(move |db| {
                let mut out = Vec::with_capacity(run_ids.len());
                for id in run_ids {
                    if let Ok(run) = find_run(db, &id) {
                        out.push((id, run.experiment_id.to_string()));
                    }
                }
                Ok(out)
            })
            .await
    }
    async fn create_experiment(&self, name: &str, location: Option<&str>, tags: &[KeyValue]) -> Result<String> {
        self.create_experiment_impl(name, location, tags).await
    }
    async fn get_experiment(&self, experiment_id: &str) -> Result<Experiment> {
        self.get_experiment_impl(experiment_id).await
    }
    async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment> {
        self.get_experiment_by_name_impl(name).await
    }
    async fn search_experiments(&self, query: &ExperimentQuery) -> Result<Page<Experiment>> {
        self.search_experiments_impl(query).await
    }
    async fn rename_experiment(&self, experiment_id: &str, new_name: &str) -> Result<()> {
        self.rename_experiment_impl(experiment_id, new_name).await?;
        self.experiment_changed(experiment_id)
    }
    async fn delete_experiment(&self, experiment_id: &str) -> Result<()> {
        self.set_experiment_stage(experiment_id, LifecycleStage::Deleted).await?;
        self.experiment_changed(experiment_id)
    }
    async fn restore_experiment(&self, experiment_id: &str) -> Result<()> {
        self.set_experiment_stage(experiment_id, LifecycleStage::Active).await?;
        self.experiment_changed(experiment_id)
    }
    async fn set_experiment_tag(&self, experiment_id: &str, key: &str, value: &str) -> Result<()> {
        self.set_experiment_tag_impl(experiment_id, key, Some(value)).await?;
        self.experiment_changed(experiment_id)
    }
    async fn delete_experiment_tag(&self, experiment_id: &str, key: &str) -> Result<()> {
        self.set_experiment_tag_impl(experiment_id, key, None).await?;
        self.experiment_changed(experiment_id)
    }
    async fn create_run(&self, run: NewRun) -> Result<Run> {
        self.create_run_impl(run).await
    }
    async fn get_run(&self, run_id: &str) -> Result<Run> {
        self.get_run_impl(run_id).await
    }
    async fn update_run(&self, run_id: &str, update: RunUpdate) -> Result<RunInfo> {
        self.update_run_impl(run_id, update).await
    }
    async fn delete_run(&self, run_id: &str) -> Result<()> {
        self.set_run_stage(run_id, LifecycleStage::Deleted).await
    }
    async fn restore_run(&self, run_id: &str) -> Result<()> {
        self.set_run_stage(run_id, LifecycleStage::Active).await
    }
    async fn search_runs(&self, query: &RunQuery) -> Result<Page<Run>> {
        self.search_runs_impl(query).await
    }
    async fn log_batch(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<KeyValue>,
        tags: Vec<KeyValue>,
    ) -> Result<()> {
        self.log_batch_impl(run_id, metrics, params, tags).await
    }
    async fn delete_tag(&self, run_id: &str, key: &str) -> Result<()> {
        self.delete_tag_impl(run_id, key).await
    }
    async fn log_inputs(&self, run_id: &str, inputs: Vec<DatasetInput>) -> Result<()> {
        self.log_inputs_impl(run_id, inputs).await
    }
    async fn get_metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<Page<Point>> {
        self.get_metric_history_impl(run_id, key, max_results, page_token).await
    }
    async fn get_metric_history_bulk(&self, run_ids: &[String], key: &str, max_results: i64) -> Result<Vec<Metric>> {
        self.get_metric_history_bulk_impl(run_ids, key, max_results).await
    }

    async fn get_metric_history_bulk_interval(&self, query: &HistoryInterval) -> Result<Vec<Metric>> {
        self.get_metric_history_bulk_interval_impl(query).await
    }
    async fn metric_overview(
        &self,
        run_id: &str,
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<(Vec<Point>, u64)> {
        self.metric_overview_impl(run_id, key, min_step, max_step, max_points).await
    }
    async fn metric_overviews(
        &self,
        run_ids: &[String],
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<Vec<(String, Vec<Point>, u64)>> {
        self.metric_overviews_impl(run_ids, key, min_step, max_step, max_points).await
    }
    async fn create_logged_model(&self, model: NewLoggedModel) -> Result<LoggedModel> {
        self.create_logged_model_impl(model).await
    }
    async fn get_logged_model(&self, model_id: &str, allow_deleted: bool) -> Result<LoggedModel> {
        self.get_logged_model_impl(model_id, allow_deleted).await
    }
    async fn finalize_logged_model(&self, model_id: &str, status: LoggedModelStatus) -> Result<LoggedModel> {
        self.finalize_logged_model_impl(model_id, status).await
    }
    async fn delete_logged_model(&self, model_id: &str) -> Result<()> {
        self.delete_logged_model_impl(model_id).await
    }
    async fn set_logged_model_tags(&self, model_id: &str, tags: Vec<KeyValue>) -> Result<()> {
        self.set_logged_model_tags_impl(model_id, tags).await
    }
    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()> {
        self.delete_logged_model_tag_impl(model_id, key).await
    }
    async fn log_logged_model_params(&self, model_id: &str, params: Vec<KeyValue>) -> Result<()> {
        self.log_logged_model_params_impl(model_id, params).await
    }
    async fn search_logged_models(&self, query: &LoggedModelQuery) -> Result<Page<LoggedModel>> {
        self.search_logged_models_impl(query).await
    }
    async fn log_model_metrics(&self, metrics: Vec<ModelMetric>) -> Result<()> {
        self.log_model_metrics_impl(metrics).await
    }
    async fn log_outputs(&self, run_id: &str, models: Vec<ModelOutput>) -> Result<()> {
        self.log_outputs_impl(run_id, models).await
    }
    async fn log_model_inputs(&self, run_id: &str, model_ids: Vec<String>) -> Result<()> {
        self.log_model_inputs_impl(run_id, model_ids).await
    }
    async fn metric_summaries(&self, run_id: &str) -> Result<Vec<MetricSummary>> {
        let run_uuid = run_id.to_string();
        self.readers
            .read(move |db| {
                let run = find_run(db, &run_uuid)?;
                db.rows(
                    "SELECT key, bits, step, timestamp, min_value, max_value, count FROM latest_metrics \
                     WHERE run_id = ? ORDER BY key",
                    &[run.id.into()],
                    |r| MetricSummary {
                        key: r.text(0),
                        latest: f64::from_bits(r.int(1) as u64),
                        step: r.int(2),
                        timestamp: r.int(3),
                        min: r.opt_real(4),
                        max: r.opt_real(5),
                        count: r.int(6),
                    },
                )
            })
            .await
    }
    async fn experiment_stats(&self) -> Result<Vec<ExperimentStats>> {
        self.readers
            .read(|db| {
                db.rows(
                    "SELECT experiment_id, COUNT(*), MAX(start_time) FROM runs WHERE lifecycle_stage = 'active' \
                     GROUP BY experiment_id",
                    &[],
                    |r| ExperimentStats {
                        experiment_id: r.int(0).to_string(),
                        runs: r.int(1),
                        last_run_start: r.opt_int(2),
                    },
                )
            })
            .await
    }

    async fn metric_summaries_of(&self, run_ids: &[String], keys: &[String]) -> Result<Vec<(String, MetricSummary)>> {
        let json = |v: &[String]| serde_json::to_string(v).map_err(|e| Error::internal_cause("Reading metrics", e));
        let (ids, keys) = (json(run_ids)?, json(keys)?);
        self.readers
            .read(move |db| {
                db.rows(
                    "SELECT r.run_uuid, m.key, m.bits, m.step, m.timestamp, m.min_value, m.max_value, m.count \
                     FROM latest_metrics m JOIN runs r ON r.id = m.run_id \
                     WHERE r.run_uuid IN (SELECT value FROM json_each(?)) AND m.key IN (SELECT value FROM json_each(?)) \
                     ORDER BY r.run_uuid, m.key",
                    &[ids.as_str().into(), keys.as_str().into()],
                    |r| {
                        let summary = MetricSummary {
                            key: r.text(1),
                            latest: f64::from_bits(r.int(2) as u64),
                            step: r.int(3),
                            timestamp: r.int(4),
                            min: r.opt_real(5),
                            max: r.opt_real(6),
                            count: r.int(7),
                        };
                        (r.text(0), summary)
                    },
                )
            })
            .await
    }
    async fn backfill_summaries(&self) -> Result<usize> {
        // Histories shorter than this are read whole by charts anyway.
        const MIN_POINTS: i64 = 2_000;
        let (mut after, mut done) = ((i64::MIN, String::new()), 0);
        loop {
            let from = after.clone();
            let todo = self.readers.read(move |db| tiles::unsummarized(db, MIN_POINTS, (from.0, &from.1), 100)).await?;
            let Some(last) = todo.last() else { return Ok(done) };
            after = (last.0, last.1.clone());
            // One metric per write: ingest goes on in between.
            for (run_id, key, key_id) in todo {
                self.writer.write(move |db| tiles::rebuild_all(db, run_id, (&key, key_id))).await?;
                done += 1;
            }
        }
    }
    async fn run_ordinals(&self, run_ids: &[String]) -> Result<Vec<(String, i64)>> {
        let many = run_ids.len() > 64;
        let ids = serde_json::to_string(run_ids).map_err(|e| Error::internal_cause("Reading runs", e))?;
        self.readers
            .read(move |db| {
                // Runs are numbered in creation order (`id`). A few runs: each
                // one's count walks the experiment's index. Many (a sweep's
                // 10,000, where those counts cost seconds): their experiments'
                // runs are numbered in one pass.
                let sql = match many {
                    false => {
                        "SELECT r.run_uuid, (SELECT COUNT(*) FROM runs o WHERE o.experiment_id = r.experiment_id \
                         AND o.id < r.id) FROM runs r WHERE r.run_uuid IN (SELECT value FROM json_each(?))"
                    }
                    true => {
                        "SELECT run_uuid, n FROM (SELECT run_uuid, ROW_NUMBER() OVER \
                         (PARTITION BY experiment_id ORDER BY id) - 1 AS n FROM runs WHERE experiment_id IN \
                         (SELECT experiment_id FROM runs WHERE run_uuid IN (SELECT value FROM json_each(?)))) numbered \
                         WHERE run_uuid IN (SELECT value FROM json_each(?))"
                    }
                };
                let args =
                    if many { vec![ids.as_str().into(), ids.as_str().into()] } else { vec![ids.as_str().into()] };
                db.rows(sql, &args, |r| (r.text(0), r.int(1)))
            })
            .await
    }

    fn changes(&self) -> &ChangeFeed {
        &self.changes
    }
    async fn health(&self) -> Result<()> {
        self.readers.read(|db| db.execute("SELECT 1", &[]).map(|_| ())).await?;
        self.writer.write(|db| db.execute("SELECT 1", &[]).map(|_| ())).await
    }

    async fn search_dataset_summaries(&self, experiment_ids: &[i64]) -> Result<Vec<DatasetSummary>> {
        let ids = serde_json::to_string(experiment_ids).map_err(|e| Error::internal_cause("Reading datasets", e))?;
        self.readers
            .read(move |db| {
                db.rows(
                    "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d \
                     JOIN run_inputs i ON i.dataset_id = d.id \
                     LEFT JOIN input_tags t ON t.run_id = i.run_id AND t.dataset_id = d.id AND t.key = 'mlflow.data.context' \
                     WHERE d.experiment_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) LIMIT 1000",
                    &[ids.as_str().into()],
                    |r| DatasetSummary {
                        experiment_id: r.int(0).to_string(),
                        name: r.text(1),
                        digest: r.text(2),
                        context: r.opt_text(3),
                    },
                )
            })
            .await
    }
}
