//! Dashboards in the store: the rules and the bookkeeping live here, once
//! ([`create`], [`update`]); a backend implements the narrow
//! [`DashboardStore`] (rows in, rows out, one conditional replace).

use crate::Store;
use async_trait::async_trait;
use serde_json::Value;
use tracking::dashboards::{Dashboard, DashboardSpec};
use tracking::{Error, ErrorCode, Page, Result};

/// `dashboards/search` arguments.
#[derive(Debug, Clone, Default)]
pub struct DashboardQuery {
    /// Dashboards whose name contains this (case-insensitive).
    pub name_contains: String,
    /// Only dashboards showing this experiment.
    pub experiment_id: Option<i64>,
    pub max_results: i64,
    pub page_token: Option<String>,
}

/// What a backend does with dashboards.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    async fn insert_dashboard(&self, dashboard: &Dashboard) -> Result<()>;
    async fn get_dashboard(&self, dashboard_id: &str) -> Result<Dashboard>;
    /// Most recently updated first.
    async fn search_dashboards(&self, query: &DashboardQuery) -> Result<Page<Dashboard>>;
    /// Replaces the stored dashboard if its version is still `read_version`;
    /// otherwise fails with [`conflict`] about the version stored.
    async fn replace_dashboard(&self, dashboard: &Dashboard, read_version: i64) -> Result<()>;
    async fn delete_dashboard(&self, dashboard_id: &str) -> Result<()>;
}

pub fn not_found(dashboard_id: &str) -> Error {
    Error::not_found(format!("No dashboard with id '{dashboard_id}' exists."))
}

/// The refusal of an update based on `read_version` when `stored` came in between.
pub fn conflict(stored: &Dashboard, read_version: i64) -> Error {
    let who = if stored.last_updated_by.is_empty() { "someone".to_string() } else { stored.last_updated_by.clone() };
    Error::new(
        ErrorCode::ResourceConflict,
        format!(
            "Dashboard '{}' was saved by {who} at {} UTC (version {}) after version {read_version}, which this \
             update is based on. Get it again and reapply the change.",
            stored.spec.name,
            tracking::time::format_time(stored.last_update_time),
            stored.version
        ),
    )
}

/// A spec from a request's JSON fields: a field it does not know (a typo
/// such as `panel`) is refused, not ignored.
pub fn spec_from_fields(fields: serde_json::Map<String, Value>) -> Result<DashboardSpec> {
    if let Some(bad) = fields.keys().find(|k| !SPEC_FIELDS.contains(&k.as_str())) {
        return Err(Error::invalid(format!(
            "Unknown dashboard field '{bad}'; the fields are {}.",
            SPEC_FIELDS.join(", ")
        )));
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| Error::invalid(format!("Invalid dashboard: {e}")))
}

/// Checks and stores a new dashboard.
pub async fn create(store: &Store, spec: DashboardSpec, user: &str) -> Result<Dashboard> {
    let now = crate::now_millis();
    let dashboard = Dashboard {
        dashboard_id: format!("d-{}", uuid::Uuid::new_v4().simple()),
        spec: spec.checked()?,
        version: 1,
        created_by: user.to_string(),
        creation_time: now,
        last_updated_by: user.to_string(),
        last_update_time: now,
    };
    store.insert_dashboard(&dashboard).await?;
    Ok(dashboard)
}

/// The spec fields an update may change.
const SPEC_FIELDS: [&str; 8] =
    ["name", "description", "experiment_ids", "filter", "order_by", "run_ids", "colors", "panels"];

/// Applies `changes` (spec fields and their new values) to the dashboard
/// as it was at `read_version`, checks the result and stores it as the next
/// version; refused with RESOURCE_CONFLICT when another update came first.
pub async fn update(
    store: &Store,
    dashboard_id: &str,
    read_version: i64,
    changes: serde_json::Map<String, Value>,
    user: &str,
) -> Result<Dashboard> {
    let current = store.get_dashboard(dashboard_id).await?;
    if current.version != read_version {
        return Err(conflict(&current, read_version));
    }
    let Value::Object(mut fields) =
        serde_json::to_value(&current.spec).map_err(|e| Error::internal_cause("Reading the dashboard", e))?
    else {
        return Err(Error::internal("A stored dashboard is not a JSON object"));
    };
    // A field that is not the spec's is refused by `spec_from_fields`.
    fields.extend(changes);
    let spec = spec_from_fields(fields)?;
    let next = Dashboard {
        spec: spec.checked()?,
        version: read_version + 1,
        last_updated_by: user.to_string(),
        last_update_time: crate::now_millis().max(current.last_update_time),
        ..current
    };
    store.replace_dashboard(&next, read_version).await?;
    Ok(next)
}
