//! Metric history endpoints.

use super::error::ApiResult;
use super::extract::{wire, Guarded, Mlflow, Need};
use super::listed::Listed;
use super::runs::{run_need, run_of};
use super::{required, AppStore};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use store::HistoryInterval;
use tracking::permissions::Capability;
use tracking::validation::validate_run_id;
use tracking::{Error, Metric, Point};

/// At most this many runs per bulk request, and points per run (MLflow's limits).
const MAX_RUNS_PER_BULK_REQUEST: usize = 100;
const MAX_RESULTS_PER_RUN: i64 = 2500;
/// At most this many points in one `get-history-bulk` answer (MLflow's limit).
const MAX_BULK_HISTORY_RESULTS: i64 = 25_000;

pub fn router() -> Listed<super::AppState> {
    Listed::new()
        .get("/metrics/get-history", get_metric_history)
        .get("/metrics/get-history-bulk", get_metric_history_bulk)
        .get("/metrics/get-history-bulk-interval", get_metric_history_bulk_interval)
}

#[derive(Deserialize)]
struct GetHistory {
    run_id: Option<String>,
    run_uuid: Option<String>,
    metric_key: Option<String>,
    page_token: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
}

impl Guarded for GetHistory {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Read)]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#get-metric-history>
async fn get_metric_history(State(store): State<AppStore>, Mlflow(req): Mlflow<GetHistory>) -> ApiResult<Response> {
    let run_id = required(run_of(&req.run_id, &req.run_uuid).map(str::to_string), "run_id")?;
    validate_run_id("run_id", &run_id)?;
    let key = required(req.metric_key, "metric_key")?;
    let page = store.get_metric_history(&run_id, &key, req.max_results, req.page_token.as_deref()).await?;
    // Histories run to millions of points: write the JSON in one pre-sized
    // buffer straight from the points, each tagged with the one key.
    let body = HistoryResponse { key: &key, points: &page.items, next_page_token: page.next_page_token.as_deref() };
    let mut buf = Vec::with_capacity(64 * page.items.len() + 64);
    serde_json::to_writer(&mut buf, &body).map_err(|e| Error::internal_cause("Writing the history", e))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], buf).into_response())
}

struct HistoryResponse<'a> {
    key: &'a str,
    points: &'a [Point],
    next_page_token: Option<&'a str>,
}

impl Serialize for HistoryResponse<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Points<'a>(&'a str, &'a [Point]);
        impl Serialize for Points<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.1.iter().map(|p| MetricRef { key: self.0, point: p }))
            }
        }
        #[derive(Serialize)]
        struct MetricRef<'a> {
            key: &'a str,
            #[serde(flatten)]
            point: &'a Point,
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("metrics", &Points(self.key, self.points))?;
        if let Some(token) = self.next_page_token {
            map.serialize_entry("next_page_token", token)?;
        }
        map.end()
    }
}

/// Serialised straight from the points: a history can hold millions of them.
#[derive(Serialize)]
struct MetricsResponse {
    metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct BulkHistory {
    #[serde(default, deserialize_with = "wire::strings")]
    run_id: Vec<String>,
    metric_key: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
}

/// MLflow's `get-history-bulk` (an ajax-api endpoint its UI and tests use):
/// one metric of up to 100 runs, sorted by run id, then time, step and value.
/// Every run read (a list over the limit is refused before any is read).
fn runs_need(run_ids: &[String]) -> Vec<Need> {
    vec![Need::Runs(run_ids.iter().take(MAX_RUNS_PER_BULK_REQUEST + 1).cloned().collect(), Capability::Read)]
}

impl Guarded for BulkHistory {
    fn needs(&self) -> Vec<Need> {
        runs_need(&self.run_id)
    }
}

impl Guarded for BulkInterval {
    fn needs(&self) -> Vec<Need> {
        runs_need(&self.run_ids)
    }
}

async fn get_metric_history_bulk(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<BulkHistory>,
) -> ApiResult<Json<MetricsResponse>> {
    if req.run_id.is_empty() {
        return Err(Error::invalid("GetMetricHistoryBulk request must specify at least one run_id.").into());
    }
    if req.run_id.len() > MAX_RUNS_PER_BULK_REQUEST {
        return Err(Error::invalid(format!(
            "GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {} \
             run_ids.",
            req.run_id.len()
        ))
        .into());
    }
    let Some(metric_key) = req.metric_key else {
        return Err(Error::invalid("GetMetricHistoryBulk request must specify a metric_key.").into());
    };
    let max_results = req.max_results.unwrap_or(MAX_BULK_HISTORY_RESULTS).min(MAX_BULK_HISTORY_RESULTS);
    let metrics = store.get_metric_history_bulk(&req.run_id, &metric_key, max_results).await?;
    Ok(Json(MetricsResponse { metrics, next_page_token: None }))
}

#[derive(Deserialize)]
struct BulkInterval {
    #[serde(default, deserialize_with = "wire::strings")]
    run_ids: Vec<String>,
    metric_key: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    start_step: Option<i64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    end_step: Option<i64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
}

/// MLflow's GetMetricHistoryBulkInterval: one metric of up to 100 runs,
/// sampled to at most `max_results` steps.
async fn get_metric_history_bulk_interval(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<BulkInterval>,
) -> ApiResult<Json<MetricsResponse>> {
    if req.run_ids.is_empty() {
        return Err(tracking::validation::missing_value("run_ids").into());
    }
    if req.run_ids.len() > MAX_RUNS_PER_BULK_REQUEST {
        return Err(Error::invalid(format!(
            "GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {} run_ids.",
            req.run_ids.len()
        ))
        .into());
    }
    for id in &req.run_ids {
        validate_run_id("run_ids", id)?;
    }
    let metric_key = required(req.metric_key, "metric_key")?;
    let max_results = req.max_results.unwrap_or(MAX_RESULTS_PER_RUN);
    if !(1..=MAX_RESULTS_PER_RUN).contains(&max_results) {
        return Err(Error::invalid(format!("max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")).into());
    }
    match (req.start_step, req.end_step) {
        (Some(s), Some(e)) if s > e => {
            return Err(Error::invalid(format!(
                "end_step must be greater than start_step. Found start_step={s} and end_step={e}."
            ))
            .into())
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::invalid("If either start step or end step are specified, both must be specified.").into())
        }
        _ => {}
    }
    let query = HistoryInterval {
        run_ids: req.run_ids,
        metric_key,
        start_step: req.start_step,
        end_step: req.end_step,
        max_results,
    };
    let metrics = store.get_metric_history_bulk_interval(&query).await?;
    Ok(Json(MetricsResponse { metrics, next_page_token: None }))
}
