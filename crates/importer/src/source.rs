//! What every source of an import provides: MLflow's entities, read in
//! whole per object, and the bytes of artifacts.

use anyhow::Result;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::collections::HashMap;
use tracking::dashboards::Dashboard;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Experiment, LoggedModel, ModelMetric, Point, Run};

/// A logged model with every metric point logged against it.
#[derive(Debug, Clone)]
pub struct SourceModel {
    pub model: LoggedModel,
    pub metrics: Vec<ModelMetric>,
}

/// A registered model with all its versions.
#[derive(Debug, Clone)]
pub struct SourceRegisteredModel {
    pub model: RegisteredModel,
    pub versions: Vec<ModelVersion>,
}

/// One file under an artifact root: its path relative to the root and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    pub path: String,
    pub size: u64,
}

pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A listing in which each object was read on its own: one that could not
/// be read (a corrupted file, a bad answer) is an error naming it, and the
/// others still come.
pub type Items<T> = Vec<Result<T>>;

/// A tracking server's data to import.
#[async_trait]
pub trait Source: Send + Sync {
    /// A stable name of the source, under which mltrack records what it has
    /// imported from it (`http://host:5000`, `sqlite:////abs/mlflow.db`, …).
    fn id(&self) -> &str;
    /// What the source is, for the summary (kind, schema revision).
    fn describe(&self) -> String;
    /// How many runs to read at once: a server is asked in parallel, files less so.
    fn parallelism(&self) -> usize {
        4
    }
    /// Every experiment, deleted ones included.
    async fn experiments(&self) -> Result<Items<Experiment>>;
    /// Every run of an experiment, deleted ones included, with params, tags,
    /// latest metrics, inputs and outputs.
    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>>;
    /// The number of points of each of a run's metrics, when the source can
    /// tell without reading the histories.
    async fn metric_counts(&self, _run: &Run) -> Result<Option<HashMap<String, u64>>> {
        Ok(None)
    }
    /// A metric's whole history, in (step, timestamp, value) order.
    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>>;
    /// The logged models of an experiment.
    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>>;
    /// Every registered model with its versions.
    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>>;
    /// Every file under an artifact root URI (a run's or a logged model's).
    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>>;
    /// The bytes of one file under an artifact root URI.
    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream>;
    /// mltrack's dashboards (an export file, another mltrack's store);
    /// MLflow has none.
    async fn dashboards(&self) -> Result<Vec<Dashboard>> {
        Ok(Vec::new())
    }
}

/// An mltrack error (store, artifacts) as the import's error type.
pub(crate) fn err(e: tracking::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", e.detail())
}

/// Sorts points as the import writes them: the latest point (MLflow's
/// rule) comes last, so a history cut short never looks complete.
pub fn sort_points(points: &mut [Point]) {
    points.sort_by(|a, b| {
        (a.step, a.timestamp)
            .cmp(&(b.step, b.timestamp))
            .then_with(|| comparable(a.value).total_cmp(&comparable(b.value)))
    });
}

fn comparable(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v
    }
}
