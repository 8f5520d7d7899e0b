//! MLflow 3 logged-model endpoints (`service.proto`: CreateLoggedModel …
//! ListLoggedModelArtifacts), which `log_model` and `load_model` call.

use super::artifacts::{locate, send_file};
use super::error::{ApiError, ApiResult};
use super::extract::{cap, wire, Guarded, GuardedPath, Mlflow, MlflowQuery, Need};
use super::listed::Listed;
use super::{key_values, required, AppState, AppStore, PairIn};
use crate::auth::Viewer;
use artifacts::ArtifactPath;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use store::{LoggedModelOrder, LoggedModelQuery, NewLoggedModel};
use tracking::permissions::Capability;
use tracking::validation::{invalid_value, missing_value};
use tracking::{FileInfo, KeyValue, LoggedModelStatus};

pub fn router() -> Listed<AppState> {
    Listed::new()
        .post("/logged-models", create)
        .post("/logged-models/search", search)
        .get("/logged-models/{model_id}", get_model)
        .patch("/logged-models/{model_id}", finalize)
        .delete("/logged-models/{model_id}", delete_model)
        .patch("/logged-models/{model_id}/tags", set_tags)
        .delete("/logged-models/{model_id}/tags/{tag_key}", delete_tag)
        .post("/logged-models/{model_id}/params", log_params)
        .get("/logged-models/{model_id}/artifacts/directories", list_artifacts)
        .get("/logged-models/{model_id}/artifacts/files", download_artifact)
}

fn checked(items: Vec<PairIn>, path: &str) -> ApiResult<Vec<KeyValue>> {
    Ok(key_values(items, path)?)
}

#[derive(Deserialize)]
struct Create {
    experiment_id: Option<String>,
    name: Option<String>,
    model_type: Option<String>,
    source_run_id: Option<String>,
    #[serde(default)]
    params: Vec<PairIn>,
    #[serde(default)]
    tags: Vec<PairIn>,
}

impl Guarded for Create {
    fn needs(&self) -> Vec<Need> {
        match self.experiment_id.as_deref().filter(|e| !e.is_empty()) {
            Some(e) => vec![Need::CreateIn(e.to_string(), "logged_model")],
            None => vec![Need::Missing("experiment_id")],
        }
    }
}

/// A logged model named in the URL; `C` is what the endpoint does to it.
#[derive(Deserialize)]
#[serde(bound = "")]
struct ModelPath<C> {
    model_id: String,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for ModelPath<C> {
    fn needs(&self) -> Vec<Need> {
        vec![Need::LoggedModel(self.model_id.clone(), C::CAP)]
    }
}

#[derive(Deserialize)]
struct ModelTagPath {
    model_id: String,
    tag_key: String,
}

impl Guarded for ModelTagPath {
    fn needs(&self) -> Vec<Need> {
        vec![Need::LoggedModel(self.model_id.clone(), Capability::Delete)]
    }
}

// Bodies and queries beside a [`ModelPath`]: the path's model is checked
// by its extractor.
super::extract::needs_only_a_signed_in_user!(GetQuery, Finalize, Tags, Params, ListQuery, FileQuery);

async fn create(State(store): State<AppStore>, Mlflow(req): Mlflow<Create>) -> ApiResult<Json<Value>> {
    let experiment_id = required(req.experiment_id, "experiment_id")?;
    // As in MLflow, the source run is recorded as given, not looked up: a
    // model can be created before (or without) the run that produced it.
    let source_run_id = req.source_run_id.filter(|r| !r.is_empty());
    let model = store
        .create_logged_model(NewLoggedModel {
            experiment_id,
            name: req.name.filter(|n| !n.is_empty()),
            model_type: req.model_type,
            source_run_id,
            params: checked(req.params, "params")?,
            tags: checked(req.tags, "tags")?,
        })
        .await?;
    Ok(Json(json!({ "model": model })))
}

#[derive(Deserialize)]
struct GetQuery {
    allow_deleted: Option<String>,
}

async fn get_model(
    State(store): State<AppStore>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Read>>,
    MlflowQuery(q): MlflowQuery<GetQuery>,
) -> ApiResult<Json<Value>> {
    let allow_deleted = q.allow_deleted.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let model = store.get_logged_model(&model_id, allow_deleted).await?;
    Ok(Json(json!({ "model": model })))
}

#[derive(Deserialize)]
struct Finalize {
    status: Option<Value>,
}

async fn finalize(
    State(store): State<AppStore>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Update>>,
    Mlflow(req): Mlflow<Finalize>,
) -> ApiResult<Json<Value>> {
    let raw = req.status.filter(|v| !v.is_null()).ok_or_else(|| missing_value("status"))?;
    let text = raw.as_str().map(str::to_string).unwrap_or_else(|| raw.to_string());
    let status = LoggedModelStatus::parse(&text).ok_or_else(|| {
        invalid_value(
            "status",
            &text,
            "expected LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED",
        )
    })?;
    let model = store.finalize_logged_model(&model_id, status).await?;
    Ok(Json(json!({ "model": model })))
}

async fn delete_model(
    State(store): State<AppStore>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    store.delete_logged_model(&model_id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    tags: Vec<PairIn>,
}

async fn set_tags(
    State(store): State<AppStore>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Update>>,
    Mlflow(req): Mlflow<Tags>,
) -> ApiResult<Json<Value>> {
    store.set_logged_model_tags(&model_id, checked(req.tags, "tags")?).await?;
    Ok(Json(json!({})))
}

async fn delete_tag(
    State(store): State<AppStore>,
    GuardedPath(ModelTagPath { model_id, tag_key }): GuardedPath<ModelTagPath>,
) -> ApiResult<Json<Value>> {
    store.delete_logged_model_tag(&model_id, &tag_key).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    params: Vec<PairIn>,
}

async fn log_params(
    State(store): State<AppStore>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Update>>,
    Mlflow(req): Mlflow<Params>,
) -> ApiResult<Json<Value>> {
    store.log_logged_model_params(&model_id, checked(req.params, "params")?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct DatasetIn {
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

#[derive(Deserialize)]
struct OrderIn {
    field_name: Option<String>,
    ascending: Option<bool>,
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

#[derive(Deserialize)]
struct Search {
    experiment_ids: Option<Vec<String>>,
    filter: Option<String>,
    #[serde(default)]
    datasets: Vec<DatasetIn>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
    #[serde(default)]
    order_by: Vec<OrderIn>,
    page_token: Option<String>,
}

/// Narrowed to the experiments the viewer may read inside the query.
impl Guarded for Search {
    fn needs(&self) -> Vec<Need> {
        vec![Need::SignedIn]
    }
}

async fn search(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<Search>,
) -> ApiResult<Json<Value>> {
    let mut experiment_ids =
        req.experiment_ids.filter(|ids| !ids.is_empty()).ok_or_else(|| missing_value("experiment_ids"))?;
    if let Some(Extension(viewer)) = &viewer {
        experiment_ids = viewer.readable_experiment_ids(experiment_ids, "logged_model");
        if experiment_ids.is_empty() {
            return Ok(Json(json!({})));
        }
    }
    let datasets = req
        .datasets
        .into_iter()
        .map(|d| (d.dataset_name.unwrap_or_default(), d.dataset_digest.filter(|s| !s.is_empty())))
        .collect();
    let order_by = req
        .order_by
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            Ok(LoggedModelOrder {
                field_name: o
                    .field_name
                    .filter(|f| !f.is_empty())
                    .ok_or_else(|| missing_value(&format!("order_by[{i}].field_name")))?,
                ascending: o.ascending.unwrap_or(true),
                dataset_name: o.dataset_name.filter(|s| !s.is_empty()),
                dataset_digest: o.dataset_digest.filter(|s| !s.is_empty()),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = store
        .search_logged_models(&LoggedModelQuery {
            experiment_ids,
            filter: req.filter.unwrap_or_default(),
            datasets,
            max_results: req.max_results.unwrap_or(0),
            order_by,
            page_token: req.page_token,
        })
        .await?;
    let mut body = json!({});
    if !page.items.is_empty() {
        body["models"] = json!(page.items);
    }
    if let Some(token) = page.next_page_token {
        body["next_page_token"] = Value::String(token);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct ListQuery {
    artifact_directory_path: Option<String>,
}

async fn list_artifacts(
    State(state): State<AppState>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Read>>,
    MlflowQuery(q): MlflowQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let relative = match q.artifact_directory_path.as_deref() {
        Some(p) => ArtifactPath::parse(p)?,
        None => ArtifactPath::root(),
    };
    let model = state.store.get_logged_model(&model_id, false).await?;
    let (artifacts, root) = locate(&state, &model.info.artifact_uri)?;
    let files: Vec<FileInfo> = artifacts
        .list(&root.join(&relative))
        .await?
        .into_iter()
        .map(|f| FileInfo { path: if relative.is_root() { f.path } else { format!("{relative}/{}", f.path) }, ..f })
        .collect();
    let mut body = json!({ "root_uri": model.info.artifact_uri });
    if !files.is_empty() {
        body["files"] = json!(files);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct FileQuery {
    artifact_file_path: Option<String>,
}

async fn download_artifact(
    State(state): State<AppState>,
    GuardedPath(ModelPath { model_id, .. }): GuardedPath<ModelPath<cap::Read>>,
    MlflowQuery(q): MlflowQuery<FileQuery>,
) -> ApiResult<Response> {
    let path = q.artifact_file_path.filter(|p| !p.is_empty()).ok_or_else(|| {
        ApiError(tracking::Error::new(
            tracking::ErrorCode::BadRequest,
            "Request must include the \"artifact_file_path\" query parameter.",
        ))
    })?;
    let path = ArtifactPath::parse(&path)?;
    let model = state.store.get_logged_model(&model_id, false).await?;
    let (artifacts, root) = locate(&state, &model.info.artifact_uri)?;
    send_file(artifacts, &root.join(&path)).await
}
