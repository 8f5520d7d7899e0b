//! Server functions that analyse a sweep: which params drive a metric over
//! the runs a filter keeps (`store::importance`).

use crate::app_error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::backend::{gate, require, Need};
#[cfg(feature = "ssr")]
use tracking::permissions::Capability;

/// The most runs an importance is computed over.
pub const MAX_IMPORTANCE_RUNS: usize = 10_000;

/// Each param's part in one metric over a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Importance {
    pub metric: String,
    /// Runs that have the metric (those the forest learns from).
    pub runs: usize,
    /// More runs match than were read.
    pub truncated: bool,
    /// Most important first.
    pub params: Vec<ParamRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamRow {
    pub param: String,
    /// Share of what the forest explains, 0 to 1.
    pub importance: f64,
    /// Pearson's r with the metric (numbers only).
    pub correlation: Option<f64>,
    pub categorical: bool,
}

/// The importance of each param for `metric` (latest values) over the
/// experiment's runs that `filter` keeps.
#[server(prefix = "/_app")]
pub async fn param_importance(
    experiment_id: String,
    filter: String,
    deleted: bool,
    metric: String,
) -> Result<Importance, AppError> {
    let gate = gate();
    require(&gate, &[Need::InExperiment(experiment_id.clone(), "run", Capability::Read)], "see this experiment's runs")
        .await?;
    let (runs, truncated) =
        super::backend::runs_of(experiment_id, filter, String::new(), deleted, MAX_IMPORTANCE_RUNS).await?;
    let rows: Vec<_> = runs
        .into_iter()
        .filter_map(|run| {
            let y = run.data.metrics.iter().find(|m| m.key == metric).map(|m| m.value)?;
            Some((run.data.params.into_iter().map(|p| (p.key, p.value)).collect(), y))
        })
        .collect();
    let params = store::importance::cached_param_importance(&metric, &rows)
        .into_iter()
        .map(|p| ParamRow {
            param: p.param,
            importance: p.importance,
            correlation: p.correlation,
            categorical: p.categorical,
        })
        .collect();
    let runs = rows.iter().filter(|(_, y)| y.is_finite()).count();
    Ok(Importance { metric, runs, truncated, params })
}
