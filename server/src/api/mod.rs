//! MLflow's tracking REST API, served under `/api/2.0/mlflow` and
//! `/ajax-api/2.0/mlflow`. Handlers read the request, call the store and
//! encode MLflow's JSON; the rules live in `tracking` and `store`.

pub mod artifacts;
mod dashboards;
mod error;
mod events;
mod experiments;
pub mod extract;
pub mod listed;
mod logged_models;
mod metrics;
mod registry;
mod runs;

use axum::extract::FromRef;
use axum::http::Uri;
pub use error::{ApiError, ApiResult};
use listed::Listed;
use serde_json::Value;
use tracking::validation::missing_value;
use tracking::{Error, ErrorCode, ViewType};

/// The tracking store, as most handlers take it.
pub type AppStore = store::Store;

/// What handlers share: the tracking store and the artifact roots the
/// server reads (the proxied store, a local default root).
#[derive(Clone)]
pub struct AppState {
    pub store: AppStore,
    pub artifacts: ::artifacts::ArtifactRoots,
}

impl FromRef<AppState> for AppStore {
    fn from_ref(state: &AppState) -> AppStore {
        state.store.clone()
    }
}

/// The REST routes, mounted under both of MLflow's prefixes, and the
/// artifact proxy under `mlflow-artifacts`.
pub fn router(state: AppState) -> Listed<()> {
    listed().map(|r| r.with_state(state))
}

/// The REST routes before they get their state (see [`router`]).
pub fn listed() -> Listed<AppState> {
    let api = Listed::new()
        .merge(experiments::router())
        .merge(runs::router())
        .merge(metrics::router())
        .merge(artifacts::tracking_router())
        .merge(logged_models::router())
        .merge(registry::router())
        .map(|r| r.fallback(endpoint_not_found));
    // mltrack's own endpoints: dashboards and the live events stream.
    let mltrack = dashboards::router().get("/events", events::events).map(|r| r.fallback(endpoint_not_found));
    let proxy = artifacts::proxy_router().map(|r| r.fallback(endpoint_not_found));
    Listed::new()
        .nest("/api/2.0/mlflow", api.clone())
        .nest("/ajax-api/2.0/mlflow", api)
        .nest("/api/2.0/mlflow-artifacts", proxy.clone())
        .nest("/ajax-api/2.0/mlflow-artifacts", proxy)
        .nest("/api/2.0/mltrack", mltrack.clone())
        .nest("/ajax-api/2.0/mltrack", mltrack)
        .get("/get-artifact", artifacts::get_artifact)
        .get("/model-versions/get-artifact", artifacts::get_model_version_artifact)
}

async fn endpoint_not_found(uri: Uri) -> ApiError {
    ApiError(Error::new(ErrorCode::EndpointNotFound, format!("No API endpoint at {}", uri.path())))
}

/// A key/value pair as requests send it (params, tags), both parts optional
/// until checked by [`key_values`].
#[derive(serde::Deserialize)]
pub(crate) struct PairIn {
    key: Option<String>,
    value: Option<String>,
}

/// Checks `items[i].key` is present (an absent value is the empty string).
pub(crate) fn key_values(items: Vec<PairIn>, path: &str) -> Result<Vec<tracking::KeyValue>, Error> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, kv)| {
            let key = kv.key.filter(|k| !k.is_empty()).ok_or_else(|| missing_value(&format!("{path}[{i}].key")))?;
            Ok(tracking::KeyValue::new(key, kv.value.unwrap_or_default()))
        })
        .collect()
}

/// A required string field: absent and empty are both "missing", as in MLflow.
pub(crate) fn required(value: Option<String>, path: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError(missing_value(path)))
}

/// `view_type` / `run_view_type` by name or number; absent means active only.
pub(crate) fn view_type(value: Option<&Value>) -> Result<ViewType, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(ViewType::ActiveOnly) };
    let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    ViewType::parse(&text).ok_or_else(|| {
        ApiError(tracking::validation::invalid_value("view_type", &text, "expected ACTIVE_ONLY, DELETED_ONLY or ALL"))
    })
}
