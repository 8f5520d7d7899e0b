//! Dashboards over REST, under `/api/2.0/mltrack/dashboards` (and
//! `/ajax-api/…`), in MLflow's style: JSON bodies for POST, query strings
//! for GET, `{"error_code", "message"}` on failure. The rules are in
//! `tracking::dashboards` and `store::dashboards`.

use super::error::ApiResult;
use super::extract::{wire, Mlflow};
use super::{required, AppStore};
use crate::auth::Viewer;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use store::{dashboards, DashboardQuery};
use tracking::Error;

pub fn router() -> Router<super::AppState> {
    Router::new()
        .route("/dashboards/create", post(create))
        .route("/dashboards/get", get(get_one))
        .route("/dashboards/search", get(search).post(search))
        .route("/dashboards/update", post(update))
        .route("/dashboards/delete", post(delete))
}

/// Who saves: the signed-in user, or no one when there are no users.
fn author(viewer: &Option<Extension<Viewer>>) -> String {
    viewer.as_ref().map(|Extension(v)| v.user.username.clone()).unwrap_or_default()
}

async fn create(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(body): Mlflow<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let spec = dashboards::spec_from_fields(body)?;
    let dashboard = dashboards::create(&store, spec, &author(&viewer)).await?;
    Ok(Json(json!({ "dashboard": dashboard })))
}

#[derive(Deserialize)]
struct ById {
    dashboard_id: Option<String>,
}

/// Refuses unless the signed-in user (if there are users) may `change`
/// (or else read) the dashboard.
async fn check(store: &AppStore, viewer: &Option<Extension<Viewer>>, id: &str, change: bool) -> ApiResult<()> {
    let Some(Extension(viewer)) = viewer else { return Ok(()) };
    let d = store.get_dashboard(id).await?;
    let allowed = if change { viewer.may_change_dashboard(&d) } else { viewer.may_read_dashboard(&d) };
    if allowed {
        return Ok(());
    }
    Err(Error::new(
        tracking::ErrorCode::PermissionDenied,
        if change {
            "Permission denied: a dashboard is changed by whoever made it, admins, and users who may edit every \
             experiment it shows."
        } else {
            "Permission denied: this dashboard shows experiments you may not read."
        },
    )
    .into())
}

async fn get_one(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<ById>,
) -> ApiResult<Json<Value>> {
    let id = required(req.dashboard_id, "dashboard_id")?;
    check(&store, &viewer, &id, false).await?;
    Ok(Json(json!({ "dashboard": store.get_dashboard(&id).await? })))
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    name: String,
    experiment_id: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_int")]
    max_results: Option<i64>,
    page_token: Option<String>,
}

/// Dashboards by name and experiment; with users on, only those the user
/// may read (a page may then hold fewer than `max_results`; its token still
/// leads on).
async fn search(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<Search>,
) -> ApiResult<Json<Value>> {
    let experiment_id = match req.experiment_id.filter(|e| !e.is_empty()) {
        Some(e) => Some(e.parse::<i64>().map_err(|_| {
            Error::invalid(format!("Invalid experiment ID '{e}'. Experiment ID must be a valid integer."))
        })?),
        None => None,
    };
    let query = DashboardQuery {
        name_contains: req.name,
        experiment_id,
        max_results: req.max_results.unwrap_or(0),
        page_token: req.page_token,
    };
    let mut page = store.search_dashboards(&query).await?;
    if let Some(Extension(viewer)) = &viewer {
        page.items.retain(|d| viewer.may_read_dashboard(d));
    }
    let mut body = json!({ "dashboards": page.items });
    if let Some(token) = page.next_page_token {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

async fn update(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(mut body): Mlflow<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let id = required(body.remove("dashboard_id").and_then(|v| v.as_str().map(str::to_string)), "dashboard_id")?;
    let version = body.remove("version").ok_or_else(|| {
        Error::invalid("An update names the 'version' it read, so that it never overwrites a newer one unseen.")
    })?;
    let version = version
        .as_i64()
        .or_else(|| version.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| Error::invalid(format!("Invalid value {version} for parameter 'version': an integer")))?;
    check(&store, &viewer, &id, true).await?;
    let dashboard = dashboards::update(&store, &id, version, body, &author(&viewer)).await?;
    Ok(Json(json!({ "dashboard": dashboard })))
}

async fn delete(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(req): Mlflow<ById>,
) -> ApiResult<Json<Value>> {
    let id = required(req.dashboard_id, "dashboard_id")?;
    check(&store, &viewer, &id, true).await?;
    store.delete_dashboard(&id).await?;
    Ok(Json(json!({})))
}
