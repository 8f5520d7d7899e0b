//! Writes that copy data in from another tracking server (`mltrack import`).
//!
//! Unlike the REST writes, these keep the source's ids, times and lifecycle
//! stages, write to deleted runs, and are idempotent: running one twice
//! with the same input changes nothing the second time.

use async_trait::async_trait;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Experiment, LoggedModel, ModelMetric, Point, Result, Run};

#[async_trait]
pub trait ImportTarget: Send + Sync {
    /// Creates the experiment with its id, or updates the one with that id
    /// (name, location, stage, times); adds or updates its tags.
    async fn import_experiment(&self, experiment: &Experiment) -> Result<()>;
    /// Creates or updates a run (info, params, tags, dataset and model
    /// inputs, model outputs) in `run.info.experiment_id`. Tags are merged:
    /// stored tags the source lacks stay.
    async fn import_run(&self, run: &Run) -> Result<()>;
    /// Adds a metric's points, in the order given, to a run of any stage;
    /// points already stored are skipped. Returns how many were new.
    async fn import_metric_points(&self, run_id: &str, key: &str, points: &[Point]) -> Result<u64>;
    /// Creates or updates a logged model with its params, tags and metrics.
    async fn import_logged_model(&self, model: &LoggedModel, metrics: &[ModelMetric]) -> Result<()>;
    /// Creates or updates a registered model with its tags and aliases.
    async fn import_registered_model(&self, model: &RegisteredModel) -> Result<()>;
    /// Creates or updates a model version with its number, stage and tags;
    /// `storage_location` is where its files are in mltrack.
    async fn import_model_version(&self, version: &ModelVersion, storage_location: Option<&str>) -> Result<()>;
    /// What was recorded for `object` after its last complete import from `source`.
    async fn import_marker(&self, source: &str, object: &str) -> Result<Option<String>>;
    /// Records that `object` from `source` is fully imported in the state `fingerprint`.
    async fn set_import_marker(&self, source: &str, object: &str, fingerprint: &str) -> Result<()>;
}
