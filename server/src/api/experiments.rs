//! Experiment endpoints (`service.proto`: CreateExperiment … DeleteExperimentTag).

use super::error::ApiResult;
use super::extract::{cap, wire, Guarded, Mlflow, Need, RequestGate};
use super::listed::Listed;
use super::{required, view_type, AppStore};
use crate::auth::Viewer;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use store::ExperimentQuery;
use tracking::permissions::{Capability, EXPERIMENT};
use tracking::validation::validate_experiment_id;
use tracking::KeyValue;

pub fn router() -> Listed<super::AppState> {
    Listed::new()
        .post("/experiments/create", create_experiment)
        .get("/experiments/get", get_experiment)
        .get("/experiments/get-by-name", get_experiment_by_name)
        .post("/experiments/search", search_experiments)
        .get("/experiments/search", search_experiments)
        .post("/experiments/update", update_experiment)
        .post("/experiments/delete", delete_experiment)
        .post("/experiments/restore", restore_experiment)
        .post("/experiments/set-experiment-tag", set_experiment_tag)
        .post("/experiments/delete-experiment-tag", delete_experiment_tag)
        .post("/experiments/search-datasets", search_datasets)
}

#[derive(Deserialize)]
struct CreateExperiment {
    name: Option<String>,
    artifact_location: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#create-experiment>
impl Guarded for CreateExperiment {
    fn needs(&self) -> Vec<Need> {
        vec![Need::Create(EXPERIMENT, None)]
    }
}

async fn create_experiment(
    State(store): State<AppStore>,
    RequestGate(gate): RequestGate,
    Mlflow(req): Mlflow<CreateExperiment>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let location = match req.artifact_location.as_deref().filter(|l| !l.is_empty()) {
        Some(location) => {
            tracking::validation::validate_artifact_location(location)?;
            Some(resolve_if_local(location))
        }
        None => None,
    };
    let id = store.create_experiment(&name, location.as_deref(), &req.tags).await?;
    crate::auth::grant_to_creator(&gate, EXPERIMENT, &id).await?;
    Ok(Json(json!({ "experiment_id": id })))
}

/// MLflow's `resolve_uri_if_local`: a relative local location is made
/// absolute against the server's working directory (a bare path stays a
/// path, a `file:` URI stays a URI); anything else is kept as given.
fn resolve_if_local(location: &str) -> String {
    let (scheme, _, path) = tracking::registry::split_uri(location);
    let cwd = || std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("/"));
    match scheme.as_str() {
        "" if !location.starts_with('/') => cwd().join(location).to_string_lossy().into_owned(),
        "file" if !path.starts_with('/') => format!("file://{}", cwd().join(path).to_string_lossy()),
        _ => location.to_string(),
    }
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct ExperimentId<C> {
    experiment_id: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

/// What touching the experiment a request names needs.
fn experiment_need(id: &Option<String>, cap: Capability) -> Need {
    match id.as_deref().filter(|i| !i.is_empty()) {
        Some(id) => Need::Experiment(id.to_string(), cap),
        None => Need::Missing("experiment_id"),
    }
}

impl<C: cap::Cap> Guarded for ExperimentId<C> {
    fn needs(&self) -> Vec<Need> {
        vec![experiment_need(&self.experiment_id, C::CAP)]
    }
}

fn experiment_id(id: Option<String>) -> ApiResult<String> {
    let id = required(id, "experiment_id")?;
    validate_experiment_id(&id)?;
    Ok(id)
}

/// <https://mlflow.org/docs/latest/rest-api.html#get-experiment>
async fn get_experiment(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<ExperimentId<cap::Read>>,
) -> ApiResult<Json<Value>> {
    let experiment = store.get_experiment(&experiment_id(req.experiment_id)?).await?;
    Ok(Json(json!({ "experiment": experiment })))
}

#[derive(Deserialize)]
struct ByName {
    experiment_name: Option<String>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#get-experiment-by-name>
impl Guarded for ByName {
    fn needs(&self) -> Vec<Need> {
        match self.experiment_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => vec![Need::ExperimentNamed(name.to_string(), Capability::Read)],
            None => vec![Need::Missing("experiment_name")],
        }
    }
}

async fn get_experiment_by_name(State(store): State<AppStore>, Mlflow(req): Mlflow<ByName>) -> ApiResult<Json<Value>> {
    let name = required(req.experiment_name, "experiment_name")?;
    let experiment = store.get_experiment_by_name(&name).await?;
    Ok(Json(json!({ "experiment": experiment })))
}

#[derive(Deserialize)]
struct SearchExperiments {
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
    page_token: Option<String>,
    filter: Option<String>,
    #[serde(default, deserialize_with = "wire::strings")]
    order_by: Vec<String>,
    view_type: Option<Value>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#search-experiments>
/// Narrowed to what the viewer may read inside the query.
impl Guarded for SearchExperiments {
    fn needs(&self) -> Vec<Need> {
        vec![Need::SignedIn]
    }
}

async fn search_experiments(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<SearchExperiments>,
) -> ApiResult<Json<Value>> {
    let query = ExperimentQuery {
        visible: viewer.and_then(|Extension(v)| v.visible_experiments()),
        filter: req.filter.unwrap_or_default(),
        view_type: view_type(req.view_type.as_ref())?,
        max_results: req.max_results.unwrap_or(1000),
        order_by: req.order_by,
        page_token: req.page_token,
    };
    let page = store.search_experiments(&query).await?;
    let mut out = json!({ "experiments": page.items });
    if let Some(token) = page.next_page_token {
        out["next_page_token"] = json!(token);
    }
    Ok(Json(out))
}

#[derive(Deserialize)]
struct UpdateExperiment {
    experiment_id: Option<String>,
    new_name: Option<String>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#update-experiment>
impl Guarded for UpdateExperiment {
    fn needs(&self) -> Vec<Need> {
        vec![experiment_need(&self.experiment_id, Capability::Update)]
    }
}

async fn update_experiment(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<UpdateExperiment>,
) -> ApiResult<Json<Value>> {
    let id = experiment_id(req.experiment_id)?;
    if let Some(name) = req.new_name.filter(|n| !n.is_empty()) {
        store.rename_experiment(&id, &name).await?;
    }
    Ok(Json(json!({})))
}

/// <https://mlflow.org/docs/latest/rest-api.html#delete-experiment>
async fn delete_experiment(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<ExperimentId<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    store.delete_experiment(&experiment_id(req.experiment_id)?).await?;
    Ok(Json(json!({})))
}

/// <https://mlflow.org/docs/latest/rest-api.html#restore-experiment>
async fn restore_experiment(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<ExperimentId<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    store.restore_experiment(&experiment_id(req.experiment_id)?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct ExperimentTag {
    experiment_id: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#set-experiment-tag>
impl Guarded for ExperimentTag {
    fn needs(&self) -> Vec<Need> {
        vec![experiment_need(&self.experiment_id, Capability::Update)]
    }
}

async fn set_experiment_tag(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<ExperimentTag>,
) -> ApiResult<Json<Value>> {
    let id = experiment_id(req.experiment_id)?;
    let key = required(req.key, "key")?;
    store.set_experiment_tag(&id, &key, &req.value.unwrap_or_default()).await?;
    Ok(Json(json!({})))
}

/// MLflow 3's DeleteExperimentTag.
async fn delete_experiment_tag(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<ExperimentTag>,
) -> ApiResult<Json<Value>> {
    let id = experiment_id(req.experiment_id)?;
    let key = required(req.key, "key")?;
    store.delete_experiment_tag(&id, &key).await?;
    Ok(Json(json!({})))
}

/// At most this many experiments per `search-datasets` request (MLflow's limit).
const MAX_EXPERIMENT_IDS_PER_DATASET_SEARCH: usize = 20;

#[derive(Deserialize)]
struct SearchDatasets {
    #[serde(default, deserialize_with = "wire::strings")]
    experiment_ids: Vec<String>,
}

/// MLflow's `experiments/search-datasets` (an ajax-api endpoint of its UI):
/// the datasets logged in some experiments, with the context of their use.
impl Guarded for SearchDatasets {
    fn needs(&self) -> Vec<Need> {
        vec![Need::Experiments(self.experiment_ids.clone(), Capability::Read)]
    }
}

async fn search_datasets(State(store): State<AppStore>, Mlflow(req): Mlflow<SearchDatasets>) -> ApiResult<Json<Value>> {
    if req.experiment_ids.is_empty() {
        return Err(tracking::Error::invalid("SearchDatasets request must specify at least one experiment_id.").into());
    }
    if req.experiment_ids.len() > MAX_EXPERIMENT_IDS_PER_DATASET_SEARCH {
        return Err(tracking::Error::invalid(format!(
            "SearchDatasets request cannot specify more than {MAX_EXPERIMENT_IDS_PER_DATASET_SEARCH} experiment_ids. \
             Received {} experiment_ids.",
            req.experiment_ids.len()
        ))
        .into());
    }
    // Experiment ids are numbers here; any other id names no experiment.
    let ids = req.experiment_ids.iter().map(|id| store::search::experiment_id(id)).collect::<Result<Vec<i64>, _>>()?;
    let summaries = store.search_dataset_summaries(&ids).await?;
    // MLflow's JSON leaves out an empty list.
    Ok(Json(if summaries.is_empty() { json!({}) } else { json!({ "dataset_summaries": summaries }) }))
}
