//! mltrack's storage layer.
//!
//! [`TrackingStore`] is the one interface the REST API and the web UI call;
//! [`open`] picks the database from a backend-store URI: SQLite (the
//! embedded default) or PostgreSQL. Both run the same queries ([`sql`]),
//! over a narrow per-database connection layer.

pub mod access;
pub mod auth;
pub mod changes;
pub mod dashboards;
pub mod import;
pub mod importance;
mod names;
pub(crate) mod page;
pub mod registry;
pub mod search;
pub mod sql;

use async_trait::async_trait;
use std::sync::Arc;
use tracking::{
    DatasetInput, DatasetSummary, Experiment, ExperimentStats, KeyValue, LoggedModel, LoggedModelStatus, Metric,
    MetricSummary, ModelMetric, ModelOutput, Page, Point, Result, Run, RunInfo, RunStatus, ViewType,
};

pub use auth::AuthStore;
pub use changes::{Change, ChangeFeed, ChangeKind, MetricRange, Since};
pub use dashboards::{DashboardQuery, DashboardStore};
pub use import::ImportTarget;
pub use names::generate_run_name;
pub use page::{decode_offset, encode_offset};
pub use registry::{ModelRegistry, NewModelVersion, RegistryQuery};

/// The shared handle to the store that the REST handlers and server functions hold.
pub type Store = Arc<dyn TrackingStore>;

/// The request to create a run, after the API layer has read the request.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub experiment_id: String,
    pub user_id: String,
    pub run_name: Option<String>,
    pub start_time: i64,
    pub tags: Vec<KeyValue>,
}

/// `search-runs` arguments.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    pub view_type: ViewType,
    pub max_results: i64,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
    /// Params that spell numbers order by their value (`1e-3 < 0.05 < 10`),
    /// before those that do not: the UI's order. MLflow's API orders
    /// params as text, and so does this without it.
    pub numeric_params: bool,
}

/// `search-experiments` arguments.
#[derive(Debug, Clone, Default)]
pub struct ExperimentQuery {
    /// Only the experiments a user may read (`None`: all).
    pub visible: Option<tracking::permissions::Visible>,
    pub filter: String,
    pub view_type: ViewType,
    pub max_results: i64,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

/// Changes to a run's info (`runs/update`); `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct RunUpdate {
    pub status: Option<RunStatus>,
    pub end_time: Option<i64>,
    pub run_name: Option<String>,
}

/// Where metric points are read from for a chart or a bulk fetch.
#[derive(Debug, Clone)]
pub struct HistoryInterval {
    pub run_ids: Vec<String>,
    pub metric_key: String,
    pub start_step: Option<i64>,
    pub end_step: Option<i64>,
    pub max_results: i64,
}

/// The request to create a logged model (`logged-models` POST).
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    pub experiment_id: String,
    pub name: Option<String>,
    pub model_type: Option<String>,
    pub source_run_id: Option<String>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

/// `logged-models/search` arguments.
#[derive(Debug, Clone, Default)]
pub struct LoggedModelQuery {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    /// Only models with metrics on one of these datasets (name, optional digest).
    pub datasets: Vec<(String, Option<String>)>,
    pub max_results: i64,
    pub order_by: Vec<LoggedModelOrder>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LoggedModelOrder {
    pub field_name: String,
    pub ascending: bool,
    pub dataset_name: Option<String>,
    pub dataset_digest: Option<String>,
}

/// Everything mltrack stores about experiments and runs.
///
/// Writes return only once they are committed: a caller that saw `Ok` can
/// rely on the data surviving a crash of the process.
#[async_trait]
pub trait TrackingStore: ModelRegistry + ImportTarget + DashboardStore + AuthStore + Send + Sync + 'static {
    /// Creates an experiment and returns its id.
    async fn create_experiment(&self, name: &str, artifact_location: Option<&str>, tags: &[KeyValue])
        -> Result<String>;
    async fn get_experiment(&self, experiment_id: &str) -> Result<Experiment>;
    async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment>;
    async fn search_experiments(&self, query: &ExperimentQuery) -> Result<Page<Experiment>>;
    async fn rename_experiment(&self, experiment_id: &str, new_name: &str) -> Result<()>;
    /// Marks the experiment and its active runs deleted.
    async fn delete_experiment(&self, experiment_id: &str) -> Result<()>;
    /// Restores the experiment and the runs its deletion deleted.
    async fn restore_experiment(&self, experiment_id: &str) -> Result<()>;
    async fn set_experiment_tag(&self, experiment_id: &str, key: &str, value: &str) -> Result<()>;
    async fn delete_experiment_tag(&self, experiment_id: &str, key: &str) -> Result<()>;

    async fn create_run(&self, run: NewRun) -> Result<Run>;
    async fn get_run(&self, run_id: &str) -> Result<Run>;
    /// Each named run's experiment id, for the runs that exist (a
    /// permission check of many runs at once).
    async fn run_experiment_ids(&self, run_ids: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::with_capacity(run_ids.len());
        for id in run_ids {
            match self.get_run(id).await {
                Ok(run) => out.push((id.clone(), run.info.experiment_id)),
                Err(e)
                    if matches!(
                        e.error_code,
                        tracking::ErrorCode::ResourceDoesNotExist | tracking::ErrorCode::InvalidParameterValue
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
    async fn update_run(&self, run_id: &str, update: RunUpdate) -> Result<RunInfo>;
    async fn delete_run(&self, run_id: &str) -> Result<()>;
    async fn restore_run(&self, run_id: &str) -> Result<()>;
    async fn search_runs(&self, query: &RunQuery) -> Result<Page<Run>>;

    /// Logs metrics, params and tags to an active run in one transaction.
    async fn log_batch(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<KeyValue>,
        tags: Vec<KeyValue>,
    ) -> Result<()>;
    async fn delete_tag(&self, run_id: &str, key: &str) -> Result<()>;
    async fn log_inputs(&self, run_id: &str, inputs: Vec<DatasetInput>) -> Result<()>;

    /// A metric's points in step order, paged when `max_results` is set.
    async fn get_metric_history(
        &self,
        run_id: &str,
        metric_key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<Page<Point>>;
    /// One metric's points of several runs, by run id and then by time,
    /// step and value, at most `max_results` in all (MLflow's
    /// `get-history-bulk`); runs that do not exist add nothing.
    async fn get_metric_history_bulk(&self, run_ids: &[String], key: &str, max_results: i64) -> Result<Vec<Metric>>;
    /// Points of one metric across runs at sampled steps (MLflow's
    /// `get-history-bulk-interval`), each tagged with its run id.
    async fn get_metric_history_bulk_interval(&self, query: &HistoryInterval) -> Result<Vec<Metric>>;
    /// A metric's points with steps in `[min_step, max_step]` (unbounded
    /// where `None`) for a chart about `max_points` wide, in step order:
    /// every point when they are few, else each summary tile's lowest and
    /// highest point (at most 16 tiles a pixel; the caller merges them), so
    /// a read costs about the chart's width whatever the history's length.
    /// Also how many points the range holds.
    async fn metric_overview(
        &self,
        run_id: &str,
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<(Vec<Point>, u64)>;
    /// [`Self::metric_overview`] of several runs at once, in the order
    /// given; runs that do not exist add nothing.
    async fn metric_overviews(
        &self,
        run_ids: &[String],
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<Vec<(String, Vec<Point>, u64)>>;
    /// Latest value, min, max and point count of each of a run's metrics.
    async fn metric_summaries(&self, run_id: &str) -> Result<Vec<MetricSummary>>;
    /// The summaries of `keys` for each of `run_ids` that has them, with
    /// the run's id: the runs table's min and max columns, read from what
    /// ingest keeps, never from the histories.
    async fn metric_summaries_of(&self, run_ids: &[String], keys: &[String]) -> Result<Vec<(String, MetricSummary)>>;
    /// Summarizes, in the background, the long metric histories stored
    /// before the store kept summaries of them (an older database), so that
    /// their charts read summaries too; returns how many it did. Until then
    /// such a history is read in full, as before: slower, never wrong.
    async fn backfill_summaries(&self) -> Result<usize> {
        Ok(0)
    }
    /// Each run's position in its experiment's creation order (0 for the
    /// first run created there): the UI colours a run by it, so the runs of
    /// one experiment differ as far as the palette goes and a run keeps its
    /// colour on every page. Unknown ids are left out.
    async fn run_ordinals(&self, run_ids: &[String]) -> Result<Vec<(String, i64)>>;
    /// Every committed change to runs and experiments, for live pages.
    fn changes(&self) -> &ChangeFeed;
    /// Whether the store can read and commit now: `Ok` once a read and an
    /// (empty) write transaction went through its workers.
    async fn health(&self) -> Result<()>;
    /// Active-run counts and newest run start of every experiment that has runs.
    async fn experiment_stats(&self) -> Result<Vec<ExperimentStats>>;
    /// The distinct datasets (name, digest, context) logged in these
    /// experiments, at most 1,000 (MLflow's `_search_datasets`).
    async fn search_dataset_summaries(&self, experiment_ids: &[i64]) -> Result<Vec<DatasetSummary>>;

    // MLflow 3 logged models.
    async fn create_logged_model(&self, model: NewLoggedModel) -> Result<LoggedModel>;
    async fn get_logged_model(&self, model_id: &str, allow_deleted: bool) -> Result<LoggedModel>;
    async fn finalize_logged_model(&self, model_id: &str, status: LoggedModelStatus) -> Result<LoggedModel>;
    async fn delete_logged_model(&self, model_id: &str) -> Result<()>;
    async fn set_logged_model_tags(&self, model_id: &str, tags: Vec<KeyValue>) -> Result<()>;
    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> Result<()>;
    async fn log_logged_model_params(&self, model_id: &str, params: Vec<KeyValue>) -> Result<()>;
    async fn search_logged_models(&self, query: &LoggedModelQuery) -> Result<Page<LoggedModel>>;
    /// Metrics logged with a `model_id` (also stored as run metrics by `log_batch`).
    async fn log_model_metrics(&self, metrics: Vec<ModelMetric>) -> Result<()>;
    /// Links a run to the models it produced.
    async fn log_outputs(&self, run_id: &str, models: Vec<ModelOutput>) -> Result<()>;
    /// Links a run to the models it used.
    async fn log_model_inputs(&self, run_id: &str, model_ids: Vec<String>) -> Result<()>;
}

/// Connections a PostgreSQL store opens unless told otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// Opens the store named by a backend-store URI, applying migrations:
/// `sqlite:///relative.db`, `sqlite:////absolute.db` or a bare file path
/// (the embedded default), or `postgresql://user:password@host:port/db`
/// (also `postgres://` and SQLAlchemy's `postgresql+psycopg2://`), where
/// the process opens at most `pool_size` connections.
///
/// `default_artifact_root` is where new experiments put their artifacts.
pub async fn open_with(uri: &str, default_artifact_root: &str, pool_size: u32) -> Result<Store> {
    if sql::is_postgres_uri(uri) {
        return Ok(Arc::new(sql::SqlStore::open_postgres(uri, default_artifact_root, pool_size).await?));
    }
    let path = sql::path_from_uri(uri)?;
    Ok(Arc::new(sql::SqlStore::open(&path, default_artifact_root).await?))
}

/// [`open_with`] the default pool size.
pub async fn open(uri: &str, default_artifact_root: &str) -> Result<Store> {
    open_with(uri, default_artifact_root, DEFAULT_POOL_SIZE).await
}

/// Applies pending migrations to the database a backend-store URI names;
/// returns where it is, for messages.
pub async fn migrate(uri: &str) -> Result<String> {
    if sql::is_postgres_uri(uri) {
        sql::migrate_postgres(uri).await?;
        return Ok("the PostgreSQL database".to_string());
    }
    let path = sql::path_from_uri(uri)?;
    sql::migrate(&path).await?;
    Ok(path.display().to_string())
}

/// Milliseconds since the Unix epoch, MLflow's time unit.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
