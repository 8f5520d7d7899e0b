//! Run endpoints (`service.proto`: CreateRun … LogInputs).

use super::error::ApiResult;
use super::extract::{cap, wire, Guarded, Mlflow, MlflowWithLen, Need};
use super::listed::Listed;
use super::{key_values, required, view_type, AppStore, PairIn};
use crate::auth::Viewer;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use store::{NewRun, RunQuery, RunUpdate};
use tracking::permissions::Capability;
use tracking::validation::{
    missing_value, validate_run_id, Item, DEFAULT_SEARCH_RUNS_MAX_RESULTS, MAX_BATCH_LOG_REQUEST_SIZE,
};
use tracking::{DatasetInput, Error, KeyValue, Metric, ModelInput, ModelMetric, ModelOutput, RunStatus};

pub fn router() -> Listed<super::AppState> {
    Listed::new()
        .post("/runs/create", create_run)
        .get("/runs/get", get_run)
        .post("/runs/update", update_run)
        .post("/runs/delete", delete_run)
        .post("/runs/restore", restore_run)
        .post("/runs/search", search_runs)
        .get("/runs/search", search_runs)
        .post("/runs/log-metric", log_metric)
        .post("/runs/log-parameter", log_param)
        .post("/runs/set-tag", set_tag)
        .post("/runs/delete-tag", delete_tag)
        .post("/runs/log-batch", log_batch)
        .post("/runs/log-inputs", log_inputs)
        .post("/runs/outputs", log_outputs)
}

/// The run a request addresses: `run_id`, or else the deprecated
/// `run_uuid`. The permission check and the handler both read it here.
pub(crate) fn run_of<'a>(run_id: &'a Option<String>, run_uuid: &'a Option<String>) -> Option<&'a str> {
    [run_id, run_uuid].into_iter().flatten().map(String::as_str).find(|s| !s.is_empty())
}

/// What touching that run needs.
pub(crate) fn run_need(run: Option<&str>, cap: tracking::permissions::Capability) -> Need {
    run.map_or(Need::Missing("run_id"), |id| Need::Run(id.to_string(), cap))
}

/// The run addressed by `run_id`, or by the deprecated `run_uuid`.
fn run_id(run_id: Option<String>, run_uuid: Option<String>) -> ApiResult<String> {
    let id = required(run_of(&run_id, &run_uuid).map(str::to_string), "run_id")?;
    validate_run_id("run_id", &id)?;
    Ok(id)
}

#[derive(Deserialize)]
struct CreateRun {
    experiment_id: Option<String>,
    user_id: Option<String>,
    run_name: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    start_time: Option<i64>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

impl Guarded for CreateRun {
    fn needs(&self) -> Vec<Need> {
        vec![Need::CreateIn(self.experiment(), "run")]
    }
}

impl CreateRun {
    /// MLflow's default experiment when none is named.
    fn experiment(&self) -> String {
        self.experiment_id.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| "0".into())
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#create-run>
async fn create_run(State(store): State<AppStore>, Mlflow(req): Mlflow<CreateRun>) -> ApiResult<Json<Value>> {
    let run = store
        .create_run(NewRun {
            experiment_id: req.experiment(),
            user_id: req.user_id.unwrap_or_default(),
            run_name: req.run_name,
            start_time: req.start_time.unwrap_or_else(store::now_millis),
            tags: req.tags,
        })
        .await?;
    Ok(Json(json!({ "run": run })))
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct RunId<C> {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for RunId<C> {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), C::CAP)]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#get-run>
async fn get_run(State(store): State<AppStore>, Mlflow(req): Mlflow<RunId<cap::Read>>) -> ApiResult<Json<Value>> {
    let run = store.get_run(&run_id(req.run_id, req.run_uuid)?).await?;
    Ok(Json(json!({ "run": run })))
}

#[derive(Deserialize)]
struct UpdateRun {
    run_id: Option<String>,
    run_uuid: Option<String>,
    status: Option<Value>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    end_time: Option<i64>,
    run_name: Option<String>,
}

impl Guarded for UpdateRun {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Update)]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#update-run>
async fn update_run(State(store): State<AppStore>, Mlflow(req): Mlflow<UpdateRun>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, req.run_uuid)?;
    let status = match &req.status {
        None | Some(Value::Null) => None,
        Some(v) => {
            let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            Some(RunStatus::parse(&text).ok_or_else(|| {
                tracking::validation::invalid_value(
                    "status",
                    &text,
                    "expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED",
                )
            })?)
        }
    };
    let info = store.update_run(&id, RunUpdate { status, end_time: req.end_time, run_name: req.run_name }).await?;
    Ok(Json(json!({ "run_info": info })))
}

/// <https://mlflow.org/docs/latest/rest-api.html#delete-run>
async fn delete_run(State(store): State<AppStore>, Mlflow(req): Mlflow<RunId<cap::Delete>>) -> ApiResult<Json<Value>> {
    store.delete_run(&run_id(req.run_id, req.run_uuid)?).await?;
    Ok(Json(json!({})))
}

/// <https://mlflow.org/docs/latest/rest-api.html#restore-run>
async fn restore_run(State(store): State<AppStore>, Mlflow(req): Mlflow<RunId<cap::Delete>>) -> ApiResult<Json<Value>> {
    store.restore_run(&run_id(req.run_id, req.run_uuid)?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct SearchRuns {
    #[serde(default, deserialize_with = "wire::strings")]
    experiment_ids: Vec<String>,
    filter: Option<String>,
    run_view_type: Option<Value>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "wire::strings")]
    order_by: Vec<String>,
    page_token: Option<String>,
}

/// Searches are narrowed to what the viewer may read inside the query.
impl Guarded for SearchRuns {
    fn needs(&self) -> Vec<Need> {
        vec![Need::SignedIn]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#search-runs>
async fn search_runs(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<SearchRuns>,
) -> ApiResult<Json<SearchRunsResponse>> {
    let experiment_ids = match &viewer {
        // Only the experiments this user may read: the store's query
        // then pages and counts what they see.
        Some(Extension(viewer)) => viewer.readable_experiment_ids(req.experiment_ids, "run"),
        None => req.experiment_ids,
    };
    let query = RunQuery {
        experiment_ids,
        filter: req.filter.unwrap_or_default(),
        view_type: view_type(req.run_view_type.as_ref())?,
        max_results: req.max_results.unwrap_or(DEFAULT_SEARCH_RUNS_MAX_RESULTS),
        order_by: req.order_by,
        page_token: req.page_token,
        // MLflow orders params as text.
        numeric_params: false,
    };
    let page = store.search_runs(&query).await?;
    Ok(Json(SearchRunsResponse { runs: page.items, next_page_token: page.next_page_token }))
}

/// Serialised straight from the runs: a page can hold 50,000 of them.
#[derive(Serialize)]
struct SearchRunsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<tracking::Run>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// A metric as it arrives: every field optional so that a missing one gets
/// MLflow's "Missing value" error rather than a decoding error.
#[derive(Deserialize)]
struct MetricIn {
    key: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_float")]
    value: Option<f64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    step: Option<i64>,
    /// MLflow 3: the metric also belongs to this logged model (on a dataset).
    model_id: Option<String>,
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

impl MetricIn {
    /// `path` prefixes the field names in errors, e.g. `metrics[3].`. The
    /// second value is the model metric when a `model_id` is given.
    fn into_metric(self, path: impl std::fmt::Display, run_id: &str) -> Result<(Metric, Option<ModelMetric>), Error> {
        let key = self.key.filter(|k| !k.is_empty()).ok_or_else(|| missing_value(&format!("{path}key")))?;
        let value = self.value.ok_or_else(|| missing_value(&format!("{path}value")))?;
        let timestamp = self.timestamp.ok_or_else(|| missing_value(&format!("{path}timestamp")))?;
        let step = self.step.unwrap_or(0);
        let model = self.model_id.filter(|m| !m.is_empty()).map(|model_id| ModelMetric {
            key: key.clone(),
            value,
            timestamp,
            step,
            model_id,
            run_id: Some(run_id.to_string()),
            dataset_name: self.dataset_name.filter(|d| !d.is_empty()),
            dataset_digest: self.dataset_digest.filter(|d| !d.is_empty()),
        });
        Ok((Metric { key, value, timestamp, step, run_id: None }, model))
    }
}

/// MetricIn's fields beside the run id: `#[serde(flatten)]` would hide the
/// field name from decoding errors, which MLflow's messages include.
#[derive(Deserialize)]
struct LogMetric {
    run_id: Option<String>,
    run_uuid: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_float")]
    value: Option<f64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    step: Option<i64>,
    model_id: Option<String>,
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

impl Guarded for LogMetric {
    fn needs(&self) -> Vec<Need> {
        let mut needs = vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Update)];
        // The metric is also the model's: it must be one the viewer sees.
        needs.extend(
            self.model_id.iter().filter(|m| !m.is_empty()).map(|m| Need::LoggedModel(m.clone(), Capability::Read)),
        );
        needs
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#log-metric>
async fn log_metric(State(store): State<AppStore>, Mlflow(req): Mlflow<LogMetric>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, req.run_uuid)?;
    let (metric, model_metric) = MetricIn {
        key: req.key,
        value: req.value,
        timestamp: req.timestamp,
        step: req.step,
        model_id: req.model_id,
        dataset_name: req.dataset_name,
        dataset_digest: req.dataset_digest,
    }
    .into_metric("", &id)?;
    if let Some(m) = model_metric {
        store.get_logged_model(&m.model_id, false).await?;
        store.log_batch(&id, vec![metric], Vec::new(), Vec::new()).await?;
        store.log_model_metrics(vec![m]).await?;
    } else {
        store.log_batch(&id, vec![metric], Vec::new(), Vec::new()).await?;
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct KeyValueIn {
    run_id: Option<String>,
    run_uuid: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

impl Guarded for KeyValueIn {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Update)]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#log-param>
async fn log_param(State(store): State<AppStore>, Mlflow(req): Mlflow<KeyValueIn>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, req.run_uuid)?;
    let param = KeyValue::new(required(req.key, "key")?, req.value.unwrap_or_default());
    store.log_batch(&id, Vec::new(), vec![param], Vec::new()).await?;
    Ok(Json(json!({})))
}

/// <https://mlflow.org/docs/latest/rest-api.html#set-tag>
async fn set_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<KeyValueIn>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, req.run_uuid)?;
    let tag = KeyValue::new(required(req.key, "key")?, req.value.unwrap_or_default());
    store.log_batch(&id, Vec::new(), Vec::new(), vec![tag]).await?;
    Ok(Json(json!({})))
}

/// <https://mlflow.org/docs/latest/rest-api.html#delete-tag>
async fn delete_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<KeyValueIn>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, req.run_uuid)?;
    store.delete_tag(&id, &required(req.key, "key")?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct LogBatch {
    run_id: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricIn>,
    #[serde(default)]
    params: Vec<PairIn>,
    #[serde(default)]
    tags: Vec<PairIn>,
}

impl Guarded for LogBatch {
    fn needs(&self) -> Vec<Need> {
        let mut needs = vec![run_need(run_of(&self.run_id, &None), Capability::Update)];
        let mut models: Vec<&String> =
            self.metrics.iter().filter_map(|m| m.model_id.as_ref()).filter(|m| !m.is_empty()).collect();
        models.sort();
        models.dedup();
        needs.extend(models.into_iter().map(|m| Need::LoggedModel(m.clone(), Capability::Read)));
        needs
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#log-batch>
async fn log_batch(
    State(store): State<AppStore>,
    MlflowWithLen(req, len): MlflowWithLen<LogBatch>,
) -> ApiResult<Json<Value>> {
    if len.0 > MAX_BATCH_LOG_REQUEST_SIZE {
        return Err(Error::invalid(format!(
            "Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, got a request of size {}.",
            len.0
        ))
        .into());
    }
    let id = run_id(req.run_id, None)?;
    let mut model_metrics = Vec::new();
    let mut metrics = Vec::with_capacity(req.metrics.len());
    for (i, m) in req.metrics.into_iter().enumerate() {
        let (metric, model_metric) = m.into_metric(Item("metrics", i), &id)?;
        metrics.push(metric);
        model_metrics.extend(model_metric);
    }
    let params = key_values(req.params, "params")?;
    let tags = key_values(req.tags, "tags")?;
    for m in &model_metrics {
        store.get_logged_model(&m.model_id, false).await?;
    }
    store.log_batch(&id, metrics, params, tags).await?;
    store.log_model_metrics(model_metrics).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct LogInputs {
    run_id: Option<String>,
    #[serde(default)]
    datasets: Vec<DatasetInput>,
    #[serde(default)]
    models: Vec<ModelInput>,
}

impl Guarded for LogInputs {
    fn needs(&self) -> Vec<Need> {
        let mut needs = vec![run_need(run_of(&self.run_id, &None), Capability::Update)];
        needs.extend(self.models.iter().map(|m| Need::LoggedModel(m.model_id.clone(), Capability::Read)));
        needs
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#log-inputs>: datasets, and
/// the logged models the run used (MLflow 3).
async fn log_inputs(State(store): State<AppStore>, Mlflow(req): Mlflow<LogInputs>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, None)?;
    let models: Vec<String> = req.models.into_iter().map(|m| m.model_id).collect();
    for model_id in &models {
        store.get_logged_model(model_id, false).await?;
    }
    if !req.datasets.is_empty() || models.is_empty() {
        store.log_inputs(&id, req.datasets).await?;
    }
    store.log_model_inputs(&id, models).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct LogOutputs {
    run_id: Option<String>,
    models: Option<Vec<ModelOutputIn>>,
}

#[derive(Deserialize)]
struct ModelOutputIn {
    model_id: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    step: Option<i64>,
}

impl Guarded for LogOutputs {
    fn needs(&self) -> Vec<Need> {
        let mut needs = vec![run_need(run_of(&self.run_id, &None), Capability::Update)];
        let models = self.models.iter().flatten().filter_map(|m| m.model_id.clone()).filter(|m| !m.is_empty());
        needs.extend(models.map(|m| Need::LoggedModel(m, Capability::Read)));
        needs
    }
}

/// `runs/outputs`: the logged models a run produced.
async fn log_outputs(State(store): State<AppStore>, Mlflow(req): Mlflow<LogOutputs>) -> ApiResult<Json<Value>> {
    let id = run_id(req.run_id, None)?;
    let models = req
        .models
        .ok_or_else(|| missing_value("models"))?
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let model_id =
                m.model_id.filter(|s| !s.is_empty()).ok_or_else(|| missing_value(&format!("models[{i}].model_id")))?;
            Ok(ModelOutput { model_id, step: m.step.unwrap_or(0) })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    store.log_outputs(&id, models).await?;
    Ok(Json(json!({})))
}
