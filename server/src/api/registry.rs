//! The model registry's REST API (`model_registry.proto`): registered
//! models, model versions, stages, tags and aliases.

use super::error::{ApiError, ApiResult};
use super::extract::{wire, Mlflow};
use super::{key_values, required, AppState, AppStore, PairIn};
use crate::auth::Viewer;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use store::{NewModelVersion, RegistryQuery};
use tracking::registry::{self, parse_version};
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
            visible: None,
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

async fn search_models(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<Search>,
) -> ApiResult<Json<Value>> {
    let mut query = req.query();
    query.visible = viewer.and_then(|Extension(v)| v.visible_models());
    let page = store.search_registered_models(&query).await?;
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

/// MLflow keeps a logged model's versions in its `mlflow.modelVersions`
/// tag, as Python's `json.dumps` writes the list (clients compare the text).
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
    let version = version.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(version));
    let entry = json!({ "name": name, "version": version });
    if !list.contains(&entry) {
        list.push(entry);
    }
    let mut text = String::new();
    python_json(&Value::Array(list), &mut text);
    store.set_logged_model_tags(model_id, vec![KeyValue::new(TAG, text)]).await?;
    Ok(())
}

/// JSON as Python's `json.dumps` writes it by default: `", "` and `": "`
/// between items, non-ASCII characters as `\uXXXX` escapes.
fn python_json(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
                    c => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(&Value::String(key.clone()), out);
                out.push_str(": ");
                python_json(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Checks a version's source as MLflow's `_validate_source_run` /
/// `_validate_source_model` do (the checks behind CVE-2023-1177 and
/// CVE-2024-3573): a local path only inside the artifact directory of the
/// run (or logged model) the request names, any other source only as an
/// absolute path without relative references. Returns where the files are
/// when that is not the source itself (a `models:/` source).
async fn check_source(
    state: &AppState,
    source: &str,
    run_id: Option<&str>,
    model_id: &mut Option<String>,
) -> ApiResult<Option<String>> {
    let is_local = registry::is_local_source(source).map_err(|e| Error::internal(e.message))?;
    if is_local {
        let (owner, root) = match (model_id.as_deref(), run_id) {
            (Some(id), _) => ("model_id", Some(state.store.get_logged_model(id, false).await?.info.artifact_uri)),
            (None, Some(run)) => ("run_id", Some(state.store.get_run(run).await?.info.artifact_uri)),
            (None, None) => ("run_id", None),
        };
        let inside = root.is_some_and(|root| {
            registry::is_local_source(&root).unwrap_or(false)
                && artifacts::local_path(source)
                    .zip(artifacts::local_path(&root))
                    .is_some_and(|(s, r)| s.starts_with(r))
        });
        if !inside {
            return Err(Error::invalid(format!(
                "Invalid model version source: '{source}'. To use a local path as a model version source, the \
                 {owner} request parameter has to be specified and the local path has to be contained within the \
                 artifact directory of the run specified by the {owner}."
            ))
            .into());
        }
        return Ok(None);
    }
    registry::validate_non_local_source(source)?;
    let (scheme, _, path) = registry::split_uri(source);
    if scheme != "models" {
        return Ok(None);
    }
    // `models:/<model_id>` is a logged model, `models:/<name>/<version>` another version.
    let unresolved = |why: String| {
        ApiError(Error::internal(format!(
            "Unable to fetch model from model URI source artifact location '{source}'. Error: {why}"
        )))
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [id] if !id.contains('@') && !id.is_empty() => {
            if model_id.as_deref().is_some_and(|m| m != *id) {
                return Err(Error::invalid(format!(
                    "Invalid model version source: '{source}'. It names another model than model_id."
                ))
                .into());
            }
            let model = state.store.get_logged_model(id, false).await.map_err(|e| unresolved(e.message))?;
            *model_id = Some(id.to_string());
            Ok(Some(model.info.artifact_uri))
        }
        [name, version] if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) => {
            let version = registry::parse_version(version)?;
            let uri =
                state.store.get_model_version_download_uri(name, version).await.map_err(|e| unresolved(e.message))?;
            Ok(Some(uri))
        }
        _ => Err(unresolved("the URI names no model version".into())),
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

async fn search_versions(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<Search>,
) -> ApiResult<Json<Value>> {
    let mut query = req.query();
    query.visible = viewer.and_then(|Extension(v)| v.visible_models());
    let page = store.search_model_versions(&query).await?;
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
