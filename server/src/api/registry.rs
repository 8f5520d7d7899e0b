//! The model registry's REST API (`model_registry.proto`): registered
//! models, model versions, stages, tags and aliases.

use super::error::{ApiError, ApiResult};
use super::extract::{cap, wire, Guarded, Mlflow, Need, RequestGate};
use super::listed::Listed;
use super::{key_values, required, AppState, AppStore, PairIn};
use crate::auth::Viewer;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use store::{NewModelVersion, RegistryQuery};
use tracking::permissions::{Capability, REGISTERED_MODEL};
use tracking::registry::{self, parse_version};
use tracking::validation::missing_value;
use tracking::{Error, KeyValue};

pub fn router() -> Listed<AppState> {
    Listed::new()
        .post("/registered-models/create", create_model)
        .post("/registered-models/rename", rename_model)
        .patch("/registered-models/update", update_model)
        .delete("/registered-models/delete", delete_model)
        .get("/registered-models/get", get_model)
        .get("/registered-models/search", search_models)
        .post("/registered-models/search", search_models)
        .post("/registered-models/get-latest-versions", latest_versions)
        .get("/registered-models/get-latest-versions", latest_versions)
        .post("/registered-models/set-tag", set_model_tag)
        .delete("/registered-models/delete-tag", delete_model_tag)
        .post("/registered-models/alias", set_alias)
        .delete("/registered-models/alias", delete_alias)
        .get("/registered-models/alias", get_by_alias)
        .post("/model-versions/create", create_version)
        .patch("/model-versions/update", update_version)
        .post("/model-versions/transition-stage", transition_stage)
        .delete("/model-versions/delete", delete_version)
        .get("/model-versions/get", get_version)
        .get("/model-versions/search", search_versions)
        .post("/model-versions/search", search_versions)
        .get("/model-versions/get-download-uri", download_uri)
        .post("/model-versions/set-tag", set_version_tag)
        .delete("/model-versions/delete-tag", delete_version_tag)
}

/// What touching the registered model a request names needs: `cap` on
/// the model and, with `Some`, on its versions.
fn model_need(name: &Option<String>, cap: Capability, versions: Option<Capability>) -> Need {
    match name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => Need::Model(name.to_string(), cap, versions),
        None => Need::Missing("name"),
    }
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

impl Guarded for CreateModel {
    fn needs(&self) -> Vec<Need> {
        vec![Need::Create(REGISTERED_MODEL, self.name.clone().filter(|n| !n.is_empty()))]
    }
}

async fn create_model(
    State(store): State<AppStore>,
    RequestGate(gate): RequestGate,
    Mlflow(req): Mlflow<CreateModel>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let model =
        store.create_registered_model(&name, tags(req.tags)?, req.description.filter(|d| !d.is_empty())).await?;
    crate::auth::grant_to_creator(&gate, REGISTERED_MODEL, &model.name).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct Rename {
    name: Option<String>,
    new_name: Option<String>,
}

impl Guarded for Rename {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Update, None)]
    }
}

async fn rename_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Rename>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let new_name = required(req.new_name, "new_name")?;
    let model = store.rename_registered_model(&name, &new_name).await?;
    // The grants on the name follow the model (MLflow's after-request hook).
    store.rename_grants_on(REGISTERED_MODEL, &name, &model.name).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
struct NameDescription {
    name: Option<String>,
    description: Option<String>,
}

impl Guarded for NameDescription {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Update, None)]
    }
}

async fn update_model(State(store): State<AppStore>, Mlflow(req): Mlflow<NameDescription>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let model = store.update_registered_model(&name, req.description).await?;
    Ok(Json(json!({ "registered_model": model })))
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct Name<C> {
    name: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for Name<C> {
    fn needs(&self) -> Vec<Need> {
        // Deleting a model deletes its versions too.
        let versions = (C::CAP == Capability::Delete).then_some(Capability::Delete);
        vec![model_need(&self.name, C::CAP, versions)]
    }
}

async fn delete_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Name<cap::Delete>>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    store.delete_registered_model(&name).await?;
    // The grants on the name go with the model (MLflow's after-request hook).
    store.delete_grants_on(REGISTERED_MODEL, &name).await?;
    Ok(Json(json!({})))
}

async fn get_model(State(store): State<AppStore>, Mlflow(req): Mlflow<Name<cap::Read>>) -> ApiResult<Json<Value>> {
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

impl Guarded for Search {
    fn needs(&self) -> Vec<Need> {
        vec![Need::SignedIn]
    }
}

impl Guarded for LatestVersions {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Read, Some(Capability::Read))]
    }
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

impl Guarded for ModelTag {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Update, None)]
    }
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
#[serde(bound = "")]
struct Alias<C> {
    name: Option<String>,
    alias: Option<String>,
    version: Option<Value>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for Alias<C> {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, C::CAP, Some(Capability::Read))]
    }
}

async fn set_alias(State(store): State<AppStore>, Mlflow(req): Mlflow<Alias<cap::Update>>) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let alias = required(req.alias, "alias")?;
    store.set_registered_model_alias(&name, &alias, version(req.version)?).await?;
    Ok(Json(json!({})))
}

async fn delete_alias(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<Alias<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    store.delete_registered_model_alias(&required(req.name, "name")?, &required(req.alias, "alias")?).await?;
    Ok(Json(json!({})))
}

async fn get_by_alias(State(store): State<AppStore>, Mlflow(req): Mlflow<Alias<cap::Read>>) -> ApiResult<Json<Value>> {
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

/// A version's files are read through it: creating one needs READ on
/// what its source and model point at, wherever that is.
impl Guarded for CreateVersion {
    fn needs(&self) -> Vec<Need> {
        let mut needs = vec![model_need(&self.name, Capability::Update, Some(Capability::Read))];
        if let Some(run) = self.run_id.as_deref().filter(|r| !r.is_empty()) {
            needs.push(Need::Run(run.to_string(), Capability::Read));
        }
        if let Some(model) = self.model_id.as_deref().filter(|m| !m.is_empty()) {
            needs.push(Need::LoggedModel(model.to_string(), Capability::Read));
        }
        if let Some(source) = self.source.as_deref() {
            needs.extend(source_need(source));
        }
        needs
    }
}

/// What a model version's source points at, for the URI forms that name
/// something this server keeps: `runs:/`, `models:/`, `mlflow-artifacts:/`
/// and this server's artifact proxy over HTTP. (Local paths must be inside
/// the named run's or model's folder; files are also checked where they
/// are when served.)
fn source_need(source: &str) -> Option<Need> {
    let (scheme, _, path) = registry::split_uri(source);
    let path = path.trim_start_matches('/');
    match scheme.as_str() {
        "runs" => {
            let run = path.split('/').next().filter(|r| !r.is_empty())?;
            Some(Need::Run(run.to_string(), Capability::Read))
        }
        "models" => {
            let parts: Vec<&str> = path.split('/').collect();
            Some(match parts.as_slice() {
                [one] if one.contains('@') => Need::Model(
                    one.split('@').next().unwrap_or("").to_string(),
                    Capability::Read,
                    Some(Capability::Read),
                ),
                [id] => Need::LoggedModel(id.to_string(), Capability::Read),
                [name, ..] => Need::Model(name.to_string(), Capability::Read, Some(Capability::Read)),
                [] => return None,
            })
        }
        "mlflow-artifacts" => Some(super::artifacts::proxied_need(path, Capability::Read)),
        "http" | "https" => {
            let (_, rest) = path.split_once("/mlflow-artifacts/artifacts")?;
            Some(super::artifacts::proxied_need(rest.trim_start_matches('/'), Capability::Read))
        }
        _ => None,
    }
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
#[serde(bound = "")]
struct VersionRef<C> {
    name: Option<String>,
    version: Option<Value>,
    description: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for VersionRef<C> {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Read, Some(C::CAP))]
    }
}

async fn update_version(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionRef<cap::Update>>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let v = store.update_model_version(&name, version(req.version)?, req.description).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn delete_version(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionRef<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    store.delete_model_version(&required(req.name, "name")?, version(req.version)?).await?;
    Ok(Json(json!({})))
}

async fn get_version(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionRef<cap::Read>>,
) -> ApiResult<Json<Value>> {
    let v = store.get_model_version(&required(req.name, "name")?, version(req.version)?).await?;
    Ok(Json(json!({ "model_version": v })))
}

async fn download_uri(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionRef<cap::Read>>,
) -> ApiResult<Json<Value>> {
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

impl Guarded for Transition {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Read, Some(Capability::Update))]
    }
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
#[serde(bound = "")]
struct VersionTag<C> {
    name: Option<String>,
    version: Option<Value>,
    key: Option<String>,
    value: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

impl<C: cap::Cap> Guarded for VersionTag<C> {
    fn needs(&self) -> Vec<Need> {
        vec![model_need(&self.name, Capability::Read, Some(C::CAP))]
    }
}

async fn set_version_tag(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionTag<cap::Update>>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let key = required(req.key, "key")?;
    let value = req.value.ok_or_else(|| missing_value("value"))?;
    store.set_model_version_tag(&name, version(req.version)?, &key, &value).await?;
    Ok(Json(json!({})))
}

async fn delete_version_tag(
    State(store): State<AppStore>,
    Mlflow(req): Mlflow<VersionTag<cap::Delete>>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    let key = required(req.key, "key")?;
    store.delete_model_version_tag(&name, version(req.version)?, &key).await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::Read;

    #[test]
    fn a_version_source_needs_read_where_it_points() {
        let run = "0123456789abcdef0123456789abcdef";
        assert_eq!(source_need(&format!("runs:/{run}/model")), Some(Need::Run(run.into(), Read)));
        assert_eq!(source_need("models:/churn/3"), Some(Need::Model("churn".into(), Read, Some(Read))));
        assert_eq!(source_need("models:/churn@champion"), Some(Need::Model("churn".into(), Read, Some(Read))));
        assert_eq!(source_need("models:/m-abc"), Some(Need::LoggedModel("m-abc".into(), Read)));
        let in_run = Need::InExperiment("4".into(), "run", Read);
        assert_eq!(source_need(&format!("mlflow-artifacts:/4/{run}/artifacts/model")), Some(in_run.clone()));
        assert_eq!(source_need("mlflow-artifacts:/4"), Some(Need::Experiment("4".into(), Read)));
        assert_eq!(
            source_need(&format!("http://mltrack:5000/api/2.0/mlflow-artifacts/artifacts/4/{run}/artifacts/m")),
            Some(in_run)
        );
        assert_eq!(source_need("mlflow-artifacts:/04/x"), Some(Need::Admin));
        assert_eq!(source_need("s3://bucket/model"), None);
    }
}
