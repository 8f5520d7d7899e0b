//! Dashboards over REST, under `/api/2.0/mltrack/dashboards` (and
//! `/ajax-api/…`), in MLflow's style: JSON bodies for POST, query strings
//! for GET, `{"error_code", "message"}` on failure. The rules are in
//! `tracking::dashboards` and `store::dashboards`.

use super::error::ApiResult;
use super::extract::{cap, wire, Guarded, Mlflow, Need, RequestGate};
use super::listed::Listed;
use super::{required, AppStore};
use crate::auth::Viewer;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use store::{dashboards, DashboardQuery};
use tracking::permissions::Capability;
use tracking::Error;

pub fn router() -> Listed<super::AppState> {
    Listed::new()
        .post("/dashboards/create", create)
        .get("/dashboards/get", get_one)
        .get("/dashboards/search", search)
        .post("/dashboards/search", search)
        .post("/dashboards/update", update)
        .post("/dashboards/delete", delete)
}

/// Who saves: the signed-in user, or no one when there are no users.
fn author(viewer: &Option<Extension<Viewer>>) -> String {
    viewer.as_ref().map(|Extension(v)| v.user.username.clone()).unwrap_or_default()
}

/// What a dashboard's fields would show: READ on all of it.
fn shows(fields: &Map<String, Value>) -> Vec<Need> {
    // Every id the field holds, however spelled: the spec's own parser
    // decides later whether they are valid.
    let list = |key: &str| -> Vec<String> {
        let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        match fields.get(key) {
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![text(other)],
        }
    };
    let mut needs = vec![Need::SignedIn];
    let (experiments, runs) = (list("experiment_ids"), list("run_ids"));
    if !experiments.is_empty() {
        needs.push(Need::Experiments(experiments, Capability::Read));
    }
    if !runs.is_empty() {
        needs.push(Need::Runs(
            runs.into_iter().take(tracking::dashboards::MAX_PINNED_RUNS + 1).collect(),
            Capability::Read,
        ));
    }
    needs
}

#[derive(Deserialize)]
struct NewDashboard(Map<String, Value>);

impl Guarded for NewDashboard {
    fn needs(&self) -> Vec<Need> {
        shows(&self.0)
    }
}

async fn create(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(NewDashboard(body)): Mlflow<NewDashboard>,
) -> ApiResult<Json<Value>> {
    let spec = dashboards::spec_from_fields(body)?;
    let dashboard = dashboards::create(&store, spec, &author(&viewer)).await?;
    Ok(Json(json!({ "dashboard": dashboard })))
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct ById<C> {
    dashboard_id: Option<String>,
    #[serde(skip)]
    cap: std::marker::PhantomData<C>,
}

/// A dashboard is read with READ on all it shows, and changed (or
/// deleted) by its author, admins, or whoever may edit all it shows.
fn dashboard_need(id: Option<&str>, change: bool) -> Need {
    id.filter(|i| !i.is_empty()).map_or(Need::Missing("dashboard_id"), |id| Need::Dashboard(id.to_string(), change))
}

impl<C: cap::Cap> Guarded for ById<C> {
    fn needs(&self) -> Vec<Need> {
        vec![dashboard_need(self.dashboard_id.as_deref(), C::CAP != Capability::Read)]
    }
}

async fn get_one(State(store): State<AppStore>, Mlflow(req): Mlflow<ById<cap::Read>>) -> ApiResult<Json<Value>> {
    let id = required(req.dashboard_id, "dashboard_id")?;
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
/// Narrowed to the dashboards the viewer may read.
impl Guarded for Search {
    fn needs(&self) -> Vec<Need> {
        vec![Need::SignedIn]
    }
}

async fn search(
    State(store): State<AppStore>,
    RequestGate(gate): RequestGate,
    Mlflow(req): Mlflow<Search>,
) -> ApiResult<Json<Value>> {
    let experiment_id = match req.experiment_id.filter(|e| !e.is_empty()) {
        Some(e) => Some(store::search::experiment_id(&e)?),
        None => None,
    };
    let query = DashboardQuery {
        name_contains: req.name,
        experiment_id,
        max_results: req.max_results.unwrap_or(0),
        page_token: req.page_token,
    };
    let mut page = store.search_dashboards(&query).await?;
    let mut readable = Vec::with_capacity(page.items.len());
    for d in page.items {
        if gate.may_use_dashboard(&d, false).await? {
            readable.push(d);
        }
    }
    page.items = readable;
    let mut body = json!({ "dashboards": page.items });
    if let Some(token) = page.next_page_token {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct Changes(Map<String, Value>);

/// Changing the dashboard it names, to show what its fields say.
impl Guarded for Changes {
    fn needs(&self) -> Vec<Need> {
        let mut needs = shows(&self.0);
        needs.push(dashboard_need(self.0.get("dashboard_id").and_then(Value::as_str), true));
        needs
    }
}

async fn update(
    State(store): State<AppStore>,
    viewer: Option<Extension<Viewer>>,
    Mlflow(Changes(mut body)): Mlflow<Changes>,
) -> ApiResult<Json<Value>> {
    let id = required(body.remove("dashboard_id").and_then(|v| v.as_str().map(str::to_string)), "dashboard_id")?;
    let version = body.remove("version").ok_or_else(|| {
        Error::invalid("An update names the 'version' it read, so that it never overwrites a newer one unseen.")
    })?;
    let version = version
        .as_i64()
        .or_else(|| version.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| Error::invalid(format!("Invalid value {version} for parameter 'version': an integer")))?;
    let dashboard = dashboards::update(&store, &id, version, body, &author(&viewer)).await?;
    Ok(Json(json!({ "dashboard": dashboard })))
}

async fn delete(State(store): State<AppStore>, Mlflow(req): Mlflow<ById<cap::Delete>>) -> ApiResult<Json<Value>> {
    let id = required(req.dashboard_id, "dashboard_id")?;
    store.delete_dashboard(&id).await?;
    Ok(Json(json!({})))
}
