//! The model registry's REST API (`model_registry.proto`): registered
//! models, model versions, stages, tags and aliases.

use super::error::{ApiError, ApiResult};
use super::extract::{wire, Mlflow};
use super::{key_values, required, AppState, AppStore, PairIn};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use store::{NewModelVersion, RegistryQuery};
use tracking::registry::parse_version;
use tracking::validation::missing_value;
use tracking::{Error, KeyValue};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/registered-models/create", post(create_model))
        .route("/registered-models/rename", post(rename_model))
        .route("/registered-models/update", axum::routing::patch(update_model))
        .route("/registered-models/delete", axum::routing::delete(delete_model))
        .route("/registered-models/get", get(get_model))
        .route("/registered-models/search", get(search_models).post(search_models))
        .route("/registered-models/get-latest-versions", post(latest_versions).get(latest_versions))
        .route("/registered-models/set-tag", post(set_model_tag))
        .route("/registered-models/delete-tag", axum::routing::delete(delete_model_tag))
        .route("/registered-models/alias", post(set_alias).delete(delete_alias).get(get_by_alias))
        .route("/model-versions/create", post(create_version))
        .route("/model-versions/update", axum::routing::patch(update_version))
        .route("/model-versions/transition-stage", post(transition_stage))
        .route("/model-versions/delete", axum::routing::delete(delete_version))
        .route("/model-versions/get", get(get_version))
        .route("/model-versions/search", get(search_versions).post(search_versions))
        .route("/model-versions/get-download-uri", get(download_uri))
        .route("/model-versions/set-tag", post(set_version_tag))
        .route("/model-versions/delete-tag", axum::routing::delete(delete_version_tag))
}

fn tags(items: Vec<PairIn>) -> ApiResult<Vec<KeyValue>> {
    Ok(key_values(items, "tags")?)
}

/// A version number, required, as a string or a number.
fn version(value: Option<Value>) -> ApiResult<i64> {
    let value = value.filter(|v| !v.is_null()).ok_or_else(|| missing_value("version"))?;
    let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    Ok(parse_version(&text)?)
}

#[derive(Deserialize)]
struct CreateModel {
    name: Option<String>,
    #[serde(default)]
    tags: Vec<PairIn>,
    description: Option<String>,
}

async fn create_model(State(store): State<AppStore>, Mlflow(req): Mlflow<CreateModel>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let model =
        store.create_registered_model(&name, tags(req.tags)?, req.description.filter(|d| !d.is_empty())).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct Rename {
    name: Option<String>,
    new_name: Option<String>,
}

async fn rename_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Rename>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let new_name = required(req.new_name, "new_name")?;
    let model = store.rename_registered_model(&name, &new_name).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct NameDescription {
    name: Option<String>,
    description: Option<String>,
}

async fn update_model(State(store): State<AppStore>, Mlflow(req): Mlflow<NameDescription>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let model = store.update_registered_model(&name, req.description).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct Name {
    name: Option<String>,
}

async fn delete_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Name>) -> ApiResult<Json<Value>> {
    store.delete_registered_model(&required(req.name, "name")?).await?;
    Ok(Json(json!({})))
}

async fn get_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Name>) -> ApiResult<Json<Value>> {
    let model = store.get_registered_model(&required(req.name, "name")?).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct Search {
    filter: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
    #[serde(default, deserialize_with = "wire::strings")]
    order_by: Vec<String>,
    page_token: Option<String>,
}

impl Search {
    fn query(self) -> RegistryQuery {
        RegistryQuery {
            filter: self.filter.unwrap_or_default(),
            max_results: self.max_results,
            order_by: self.order_by,
            page_token: self.page_token.filter(|t| !t.is_empty()),
        }
    }
}

fn page_json<T: serde::Serialize>(field: &str, page: tracking::Page<T>) -> Value {
    let mut body = json!({});
    if !page.items.is_empty() {
        body[field] = json!(page.items);
    }
    if let Some(token) = page.next_page_token {
        body["next_page_token"] = Value::String(token);
    }
    body
}

async fn search_models(State(store): State<AppStore>, Mlflow(req): Mlflow<Search>) -> ApiResult<Json<Value>> {
    let page = store.search_registered_models(&req.query()).await?;
    Ok(Json(page_json("registered_models", page)))
}

#[derive(Deserialize)]
struct LatestVersions {
    name: Option<String>,
    #[serde(default, deserialize_with = "wire::strings")]
    stages: Vec<String>,
}

async fn latest_versions(State(store): State<AppStore>, Mlflow(req): Mlflow<LatestVersions>) -> ApiResult<Json<Value>> {
    let versions = store.get_latest_versions(&required(req.name, "name")?, req.stages).await?;
    Ok(Json(if versions.is_empty() { json!({}) } else { json!({ "model_versions": versions }) }))
}

#[derive(Deserialize)]
struct ModelTag {
    name: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

async fn set_model_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<ModelTag>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let key = required(req.key, "key")?;
    let value = req.value.ok_or_else(|| missing_value("value"))?;
    store.set_registered_model_tag(&name, &key, &value).await?;
    Ok(Json(json!({})))
}

async fn delete_model_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<ModelTag>) -> ApiResult<Json<Value>> {
    store.delete_registered_model_tag(&required(req.name, "name")?, &required(req.key, "key")?).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct Alias {
    name: Option<String>,
    alias: Option<String>,
    version: Option<Value>,
}

async fn set_alias(State(store): State<AppStore>, Mlflow(req): Mlflow<Alias>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let alias = required(req.alias, "alias")?;
    store.set_registered_model_alias(&name, &alias, version(req.version)?).await?;
    Ok(Json(json!({})))
}

async fn delete_alias(State(store): State<AppStore>, Mlflow(req): Mlflow<Alias>) -> ApiResult<Json<Value>> {
    store.delete_registered_model_alias(&required(req.name, "name")?, &required(req.alias, "alias")?).await?;
    Ok(Json(json!({})))
}

async fn get_by_alias(State(store): State<AppStore>, Mlflow(req): Mlflow<Alias>) -> ApiResult<Json<Value>> {
    let version =
        store.get_model_version_by_alias(&required(req.name, "name")?, &required(req.alias, "alias")?).await?;
    Ok(Json(json!({ "model_version": version })))
}

#[derive(Deserialize)]
struct CreateVersion {
    name: Option<String>,
    source: Option<String>,
    run_id: Option<String>,
    #[serde(default)]
    tags: Vec<PairIn>,
    run_link: Option<String>,
    description: Option<String>,
    model_id: Option<String>,
}

async fn create_version(State(state): State<AppState>, Mlflow(req): Mlflow<CreateVersion>) -> ApiResult<Json<Value>> {
    let store = &state.store;
    let name = required(req.name, "name")?;
    let source = required(req.source, "source")?;
    let mut run_id = req.run_id.filter(|r| !r.is_empty());
    let mut model_id = req.model_id.filter(|m| !m.is_empty());
    let storage_location = check_source(&state, &source, run_id.as_deref(), &mut model_id).await?;
    if let Some(id) = &model_id {
        if run_id.is_none() {
            run_id = store.get_logged_model(id, false).await?.info.source_run_id;
        }
    }
    let version = store
        .create_model_version(NewModelVersion {
            name: name.clone(),
            source,
            storage_location,
            run_id,
            run_link: req.run_link,
            description: req.description,
            tags: tags(req.tags)?,
            model_id: model_id.clone(),
        })
        .await?;
    if let Some(id) = &model_id {
        record_registration(store, id, &name, &version.version).await?;
    }
    Ok(Json(json!({ "model_version": version })))
}

/// MLflow keeps a logged model's versions in its `mlflow.modelVersions` tag.
async fn record_registration(store: &AppStore, model_id: &str, name: &str, version: &str) -> ApiResult<()> {
    const TAG: &str = "mlflow.modelVersions";
    let model = store.get_logged_model(model_id, false).await?;
    let mut list: Vec<Value> = model
        .info
        .tags
        .iter()
        .find(|t| t.key == TAG)
        .and_then(|t| serde_json::from_str(&t.value).ok())
        .unwrap_or_default();
    let entry = json!({ "name": name, "version": version });
    if !list.contains(&entry) {
        list.push(entry);
    }
    store.set_logged_model_tags(model_id, vec![KeyValue::new(TAG, Value::Array(list).to_string())]).await?;
    Ok(())
}

/// Checks a version's source as MLflow's `_validate_source_run` /
/// `_validate_source_model` do (the checks behind CVE-2023-1177 and
/// CVE-2024-3573): no local paths, no `..`, and a proxied artifact source
/// must lie under the run's (or model's) own artifact root. Returns where
/// the files are when that is not the source itself.
async fn check_source(
    state: &AppState,
    source: &str,
    run_id: Option<&str>,
    model_id: &mut Option<String>,
) -> ApiResult<Option<String>> {
    let invalid = |why: &str| ApiError(Error::invalid(format!("Invalid model version source: '{source}'. {why}")));
    let decoded = tracking::validation::percent_decode_fully(source, true);
    if decoded.contains('\0') || decoded.split(['/', '\\']).any(|s| s == "..") {
        return Err(invalid("Sources must not contain relative path references ('..')."));
    }
    let scheme = decoded
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .filter(|s| s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'));
    match scheme.as_deref() {
        None | Some("file") => {
            Err(invalid("Local paths are not accepted: register from runs:/, models:/ or the run's artifact URI."))
        }
        Some("models") => {
            let rest = decoded.trim_start_matches("models:").trim_start_matches('/');
            let Some(id) = rest.split('/').next().filter(|id| id.starts_with("m-")) else {
                return Err(invalid("Register a logged model as models:/<model_id>."));
            };
            if model_id.as_deref().is_some_and(|m| m != id) {
                return Err(invalid("It names another model than model_id."));
            }
            let model = state.store.get_logged_model(id, false).await?;
            *model_id = Some(id.to_string());
            Ok(Some(model.info.artifact_uri))
        }
        Some("runs") => {
            let rest = decoded.trim_start_matches("runs:");
            if rest.starts_with("//") {
                return Err(invalid("runs:/ sources take no host."));
            }
            let source_run = rest.trim_start_matches('/').split('/').next().unwrap_or("");
            if run_id != Some(source_run) {
                return Err(invalid("The run_id request parameter has to match the run in the source."));
            }
            Ok(None)
        }
        Some("mlflow-artifacts") | Some("http") | Some("https") => {
            let within = |root: &str| {
                super::artifacts::proxied_root(root)
                    .zip(super::artifacts::proxied_root(source))
                    .is_some_and(|(root, source)| root.strip_prefix(&source).is_some())
            };
            if let Some(id) = model_id.as_deref() {
                let model = state.store.get_logged_model(id, false).await?;
                if within(&model.info.artifact_uri) {
                    return Ok(None);
                }
            }
            if let Some(run_id) = run_id {
                let run = state.store.get_run(run_id).await?;
                if within(&run.info.artifact_uri) {
                    return Ok(None);
                }
            }
            Err(invalid("It must lie under the artifact root of the run given by run_id (or of model_id)."))
        }
        // Object stores the server does not proxy: the client reads them itself.
        Some(_) => Ok(None),
    }
}

#[derive(Deserialize)]
struct VersionRef {
    name: Option<String>,
    version: Option<Value>,
    description: Option<String>,
}

async fn update_version(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionRef>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let v = store.update_model_version(&name, version(req.version)?, req.description).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn delete_version(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionRef>) -> ApiResult<Json<Value>> {
    store.delete_model_version(&required(req.name, "name")?, version(req.version)?).await?;
    Ok(Json(json!({})))
}

async fn get_version(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionRef>) -> ApiResult<Json<Value>> {
    let v = store.get_model_version(&required(req.name, "name")?, version(req.version)?).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn download_uri(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionRef>) -> ApiResult<Json<Value>> {
    let uri = store.get_model_version_download_uri(&required(req.name, "name")?, version(req.version)?).await?;
    Ok(Json(json!({ "artifact_uri": uri })))
}

#[derive(Deserialize)]
struct Transition {
    name: Option<String>,
    version: Option<Value>,
    stage: Option<String>,
    archive_existing_versions: Option<Value>,
}

async fn transition_stage(State(store): State<AppStore>, Mlflow(req): Mlflow<Transition>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let stage = required(req.stage, "stage")?;
    let archive = match req.archive_existing_versions {
        None | Some(Value::Null) => return Err(missing_value("archive_existing_versions").into()),
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(Error::invalid(format!(
                "Invalid value {other} for parameter 'archive_existing_versions' supplied: expected a boolean"
            ))
            .into())
        }
    };
    let v = store.transition_model_version_stage(&name, version(req.version)?, &stage, archive).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn search_versions(State(store): State<AppStore>, Mlflow(req): Mlflow<Search>) -> ApiResult<Json<Value>> {
    let page = store.search_model_versions(&req.query()).await?;
    Ok(Json(page_json("model_versions", page)))
}

#[derive(Deserialize)]
struct VersionTag {
    name: Option<String>,
    version: Option<Value>,
    key: Option<String>,
    value: Option<String>,
}

async fn set_version_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionTag>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let key = required(req.key, "key")?;
    let value = req.value.ok_or_else(|| missing_value("value"))?;
    store.set_model_version_tag(&name, version(req.version)?, &key, &value).await?;
    Ok(Json(json!({})))
}

async fn delete_version_tag(State(store): State<AppStore>, Mlflow(req): Mlflow<VersionTag>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let key = required(req.key, "key")?;
    store.delete_model_version_tag(&name, version(req.version)?, &key).await?;
    Ok(Json(json!({})))
}
