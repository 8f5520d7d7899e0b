//! Server functions of the dashboard pages: the same store core
//! (`store::dashboards`) the REST API calls.

use super::ChartRun;
use crate::app_error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use tracking::dashboards::Panel;
use tracking::dashboards::{Dashboard, LineGrouping};
use tracking::Run;

#[cfg(feature = "ssr")]
use super::backend::{allowed, err, gate, require, store, Gate, Need};
#[cfg(feature = "ssr")]
use tracking::permissions::Capability;

/// Who saves a dashboard: the signed-in user's name, when there are users.
#[cfg(feature = "ssr")]
fn author(gate: &Gate) -> String {
    gate.viewer().map(|v| v.user.username.clone()).unwrap_or_default()
}

/// A dashboards-list row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardRow {
    pub dashboard_id: String,
    pub name: String,
    pub description: String,
    pub experiment_ids: Vec<String>,
    pub snapshot: bool,
    pub panels: usize,
    pub last_update_time: i64,
    /// Who saved it last (empty when there are no users).
    pub last_updated_by: String,
}

/// Dashboards whose name contains `name`; with `experiment_id`, only those
/// that show that experiment.
#[server(prefix = "/_app")]
pub async fn list_dashboards(name: String, experiment_id: Option<String>) -> Result<Vec<DashboardRow>, AppError> {
    let store = store();
    let experiment_id = match experiment_id.filter(|e| !e.is_empty()) {
        Some(e) => Some(store::search::experiment_id(&e).map_err(err)?),
        None => None,
    };
    let mut query =
        store::DashboardQuery { name_contains: name, experiment_id, max_results: 1000, ..Default::default() };
    let gate = gate();
    let mut rows = Vec::new();
    loop {
        let page = store.search_dashboards(&query).await.map_err(err)?;
        let mut readable = Vec::with_capacity(page.items.len());
        for d in page.items {
            if gate.may_use_dashboard(&d, false).await.map_err(err)? {
                readable.push(d);
            }
        }
        rows.extend(readable.into_iter().map(|d| DashboardRow {
            snapshot: !d.spec.run_ids.is_empty(),
            panels: d.spec.panels.iter().filter(|p| !matches!(p, Panel::Section { .. })).count(),
            dashboard_id: d.dashboard_id,
            name: d.spec.name,
            description: d.spec.description,
            experiment_ids: d.spec.experiment_ids,
            last_update_time: d.last_update_time,
            last_updated_by: d.last_updated_by,
        }));
        match page.next_page_token {
            Some(token) if rows.len() < 10_000 => query.page_token = Some(token),
            _ => break,
        }
    }
    Ok(rows)
}

/// A dashboard with the runs it selects now (or the runs it pinned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub dashboard: Dashboard,
    pub runs: Vec<ChartRun>,
    /// The runs' latest metrics, params and tags, for bars, scatters and tables.
    pub values: Vec<Run>,
    /// Pinned runs that no longer exist.
    pub missing: Vec<String>,
    pub truncated: bool,
    /// What became of the experiments it shows that are not there any
    /// more, in a sentence each ("Experiment 3 was deleted; …").
    pub gone_experiments: Vec<String>,
}

/// A sentence for each of `experiment_ids` that was deleted or no longer
/// exists: their runs are left out, and the page says so.
#[cfg(feature = "ssr")]
async fn gone_experiments(
    gate: &Gate,
    store: &store::Store,
    experiment_ids: &[String],
) -> Result<Vec<String>, AppError> {
    let mut gone = Vec::new();
    for id in experiment_ids {
        // Experiments the user may not read say nothing, deleted or not.
        if !allowed(gate, &[Need::InExperiment(id.clone(), "run", Capability::Read)]).await? {
            continue;
        }
        match store.get_experiment(id).await {
            Ok(e) if e.lifecycle_stage == tracking::LifecycleStage::Deleted => gone.push(format!(
                "Experiment \u{201c}{}\u{201d} ({id}) was deleted: its runs are not shown until it is restored.",
                e.name
            )),
            Ok(_) => {}
            Err(e) if e.error_code == tracking::ErrorCode::ResourceDoesNotExist => {
                gone.push(format!("Experiment {id} no longer exists."))
            }
            Err(e) => return Err(err(e)),
        }
    }
    Ok(gone)
}

#[cfg(feature = "ssr")]
async fn selected_runs(
    gate: &Gate,
    store: &store::Store,
    d: &crate::dashboard_draft::Selection,
) -> Result<(Vec<Run>, Vec<String>, bool), AppError> {
    if !d.run_ids.is_empty() {
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for id in &d.run_ids {
            // A run the user may not read is as good as gone for them.
            if !allowed(gate, &[Need::Run(id.clone(), Capability::Read)]).await? {
                missing.push(id.clone());
                continue;
            }
            match store.get_run(id).await {
                Ok(run) => found.push(run),
                Err(e) if e.error_code == tracking::ErrorCode::ResourceDoesNotExist => missing.push(id.clone()),
                Err(e) => return Err(err(e)),
            }
        }
        return Ok((found, missing, false));
    }
    let experiment_ids = match gate.viewer() {
        Some(v) => v.readable_experiment_ids(d.experiment_ids.clone(), "run"),
        None => d.experiment_ids.clone(),
    };
    let mut query = store::RunQuery {
        experiment_ids,
        filter: d.filter.clone(),
        view_type: tracking::ViewType::ActiveOnly,
        max_results: 1000,
        order_by: d.order_by.clone(),
        page_token: None,
        numeric_params: true,
    };
    let mut found = Vec::new();
    loop {
        let page = store.search_runs(&query).await.map_err(err)?;
        found.extend(page.items);
        match page.next_page_token {
            Some(token) if found.len() < super::MAX_CHART_RUNS => query.page_token = Some(token),
            Some(_) => return Ok((found.into_iter().take(super::MAX_CHART_RUNS).collect(), vec![], true)),
            None => return Ok((found, vec![], false)),
        }
    }
}

/// The dashboard and its runs; with `selection` (the edit mode's draft
/// of which runs to show, as [`crate::dashboard_draft::Selection`] text),
/// the runs that selection picks instead of the saved one's.
#[server(prefix = "/_app")]
pub async fn dashboard_view(dashboard_id: String, selection: String) -> Result<DashboardData, AppError> {
    let gate = gate();
    use crate::dashboard_draft::Selection;
    require(&gate, &[Need::Dashboard(dashboard_id.clone(), false)], "see this dashboard").await?;
    let store = store();
    let dashboard = store.get_dashboard(&dashboard_id).await.map_err(err)?;
    let selection = if selection.is_empty() {
        Selection::of(&dashboard.spec)
    } else {
        let s = Selection::from_text(&selection).map_err(AppError::invalid)?;
        // The draft's selection obeys the rules a saved one does.
        let check = tracking::dashboards::DashboardSpec {
            name: dashboard.spec.name.clone(),
            experiment_ids: s.experiment_ids.clone(),
            filter: s.filter.clone(),
            order_by: s.order_by.clone(),
            run_ids: s.run_ids.clone(),
            ..Default::default()
        };
        check.checked().map_err(err)?;
        s
    };
    let (mut values, missing, truncated) = selected_runs(&gate, &store, &selection).await?;
    let gone_experiments = gone_experiments(&gate, &store, &selection.experiment_ids).await?;
    let colors: std::collections::HashMap<String, String> =
        super::run_colors(&store, values.iter().map(|r| r.info.run_id.clone()).collect()).await?.into_iter().collect();
    let runs = values
        .iter()
        .map(|r| ChartRun {
            color: dashboard
                .spec
                .colors
                .get(&r.info.run_id)
                .or_else(|| colors.get(&r.info.run_id))
                .cloned()
                .unwrap_or_default(),
            stopped: matches!(r.info.status, tracking::RunStatus::Failed | tracking::RunStatus::Killed),
            fields: super::group_fields(r),
            latest: super::latest_values(r),
            run_id: r.info.run_id.clone(),
            name: r.info.run_name.clone(),
        })
        .collect();
    for r in &mut values {
        r.inputs = Default::default();
        r.outputs = Default::default();
    }
    Ok(DashboardData { dashboard, runs, values, missing, truncated, gone_experiments })
}

/// The experiment chart view as it is shown, to save as a dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownView {
    pub name: String,
    pub experiment_id: String,
    pub filter: String,
    pub order_by: String,
    /// The panels the search keeps, in their order.
    pub metrics: Vec<String>,
    pub x: String,
    pub smoothing: f64,
    pub log_y: bool,
    pub ignore_outliers: bool,
    pub group: Option<LineGrouping>,
    /// The parallel coordinates' colour field (empty: the first metric).
    pub parallel_color: String,
    /// Colours pinned over runs' own, as the URL has them (`id:rrggbb,…`;
    /// plain text: the server function's form encoding has no empty maps).
    pub colors: String,
    /// Runs hidden with their eye toggle (`id,id`): the dashboard leaves them out.
    pub hidden: String,
    /// Panels' own settings over the view's (`?panel=`, as the URL has it).
    pub overrides: String,
    /// Panels added over the one per metric (`?add=`, as the URL has it).
    pub added: String,
}

/// Saves the chart view (its filter, order, settings and the panels the
/// search keeps, in their sections) as a new dashboard; returns its id.
#[server(prefix = "/_app")]
pub async fn save_chart_view(view: ShownView) -> Result<String, AppError> {
    let gate = gate();
    let ShownView {
        name,
        experiment_id,
        filter,
        order_by,
        metrics,
        x,
        smoothing,
        log_y,
        ignore_outliers,
        group,
        parallel_color,
        colors,
        hidden,
        overrides,
        added,
    } = view;
    let overrides = crate::panel_overrides::parse(&overrides);
    let mut panels =
        vec![Panel::Parallel { fields: Vec::new(), color: parallel_color, group: group.clone(), title: String::new() }];
    // Added panels first, as the view shows them, with its settings.
    let added = crate::dashboard_draft::parse_added(&added).0;
    if !added.is_empty() {
        panels.push(Panel::Section { title: "Added".into() });
    }
    for mut panel in added {
        match &mut panel {
            Panel::Line { x: px, smoothing: ps, log_y: pl, ignore_outliers: pi, group: pg, .. } => {
                (*px, *ps, *pl, *pi, *pg) = (x.clone(), smoothing, log_y, ignore_outliers, group.clone());
            }
            Panel::Bar { group: pg, .. } => *pg = group.clone(),
            _ => {}
        }
        panels.push(panel);
    }
    let mut section = None;
    for key in metrics {
        let s = crate::components::panel::section_of(&key).to_string();
        if section.as_ref() != Some(&s) {
            panels.push(Panel::Section { title: s.clone() });
            section = Some(s);
        }
        let own = overrides.get(&key).copied().unwrap_or_default();
        panels.push(Panel::Line {
            metrics: vec![key],
            x: x.clone(),
            smoothing: own.smooth.unwrap_or(smoothing),
            log_y: own.log_y.unwrap_or(log_y),
            ignore_outliers: own.ignore_outliers.unwrap_or(ignore_outliers),
            log_x: false,
            y_range: None,
            title: String::new(),
            group: group.clone(),
            wide: false,
            overlay: false,
        });
    }
    // Runs hidden in the view stay out of the dashboard, by its filter.
    let colors = crate::run_marks::parse_pins(&colors).0;
    let hidden: Vec<String> = crate::run_marks::parse_hidden(&hidden)
        .into_iter()
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|id| format!("'{id}'"))
        .collect();
    let filter = match (filter.trim(), hidden.is_empty()) {
        (f, true) => f.to_string(),
        ("", false) => format!("attributes.run_id NOT IN ({})", hidden.join(", ")),
        (f, false) => format!("{f} AND attributes.run_id NOT IN ({})", hidden.join(", ")),
    };
    let spec = tracking::dashboards::DashboardSpec {
        name,
        experiment_ids: vec![experiment_id],
        filter,
        order_by: Some(order_by).filter(|o| !o.is_empty()).into_iter().collect(),
        colors,
        panels,
        ..Default::default()
    };
    let d = create_dashboard(&gate, &store(), spec).await?;
    Ok(d.dashboard_id)
}

/// The compare page as it is shown, to save as a dashboard of its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownComparison {
    pub name: String,
    pub run_ids: Vec<String>,
    pub metric: String,
    /// `step`, `time`, `relative` or `metric:<key>`.
    pub x: String,
    pub smoothing: f64,
    pub log_y: bool,
    pub scatter_x: String,
    pub scatter_y: String,
    pub group: Option<LineGrouping>,
    /// The table's columns: the params that differ, then the metric.
    pub columns: Vec<String>,
}

/// Saves a comparison as a new dashboard pinned to its runs: the metric's
/// line chart, the scatter and a table of what differs; returns its id.
#[server(prefix = "/_app")]
pub async fn save_comparison(view: ShownComparison) -> Result<String, AppError> {
    let gate = gate();
    let ShownComparison { name, run_ids, metric, x, smoothing, log_y, scatter_x, scatter_y, group, columns } = view;
    let mut panels = Vec::new();
    if !metric.is_empty() {
        panels.push(Panel::Line {
            metrics: vec![metric],
            x,
            smoothing,
            log_y,
            ignore_outliers: false,
            log_x: false,
            y_range: None,
            title: String::new(),
            group,
            wide: true,
            overlay: false,
        });
    }
    if !scatter_x.is_empty() && !scatter_y.is_empty() {
        panels.push(Panel::Scatter { x: scatter_x, y: scatter_y, title: String::new(), wide: false });
    }
    if !columns.is_empty() {
        panels.push(Panel::Table { columns, title: String::new() });
    }
    let spec = tracking::dashboards::DashboardSpec { name, run_ids, panels, ..Default::default() };
    let d = create_dashboard(&gate, &store(), spec).await?;
    Ok(d.dashboard_id)
}

/// A copy of the dashboard that shows the runs it shows now, whatever
/// starts or changes later: what a review can quote.
#[server(prefix = "/_app")]
pub async fn snapshot_dashboard(dashboard_id: String) -> Result<String, AppError> {
    let gate = gate();
    require(&gate, &[Need::Dashboard(dashboard_id.clone(), false)], "copy this dashboard").await?;
    let store = store();
    let d = store.get_dashboard(&dashboard_id).await.map_err(err)?;
    let (runs, _, _) = selected_runs(&gate, &store, &crate::dashboard_draft::Selection::of(&d.spec)).await?;
    let mut spec = d.spec.clone();
    spec.name = format!("{} (snapshot {} UTC)", d.spec.name, tracking::time::format_time(store::now_millis()));
    spec.run_ids = runs.into_iter().map(|r| r.info.run_id).collect();
    if spec.run_ids.is_empty() {
        return Err(AppError::invalid("The dashboard shows no runs now; a snapshot of nothing would show nothing."));
    }
    let copy = create_dashboard(&gate, &store, spec).await?;
    Ok(copy.dashboard_id)
}

/// A copy of the dashboard, selection and panels alike, to change without
/// touching the original; returns the copy's id.
#[server(prefix = "/_app")]
pub async fn duplicate_dashboard(dashboard_id: String) -> Result<String, AppError> {
    let gate = gate();
    require(&gate, &[Need::Dashboard(dashboard_id.clone(), false)], "copy this dashboard").await?;
    let store = store();
    let d = store.get_dashboard(&dashboard_id).await.map_err(err)?;
    let mut spec = d.spec;
    spec.name = format!("{} (copy)", spec.name);
    let copy = create_dashboard(&gate, &store, spec).await?;
    Ok(copy.dashboard_id)
}

/// Stores the edit mode's draft (the whole spec, as JSON) as the version
/// after `version`, the one the draft was based on: a save in between is
/// refused with who made it, and the draft stays where it was.
#[server(prefix = "/_app")]
pub async fn save_dashboard(dashboard_id: String, version: i64, draft: String) -> Result<(), AppError> {
    let gate = gate();
    let store = store();
    may_change(&gate, &dashboard_id).await?;
    let spec = crate::dashboard_draft::decode(&draft).map_err(AppError::invalid)?;
    may_show(&gate, &spec).await?;
    let serde_json::Value::Object(changes) =
        serde_json::to_value(spec).map_err(|e| AppError::invalid(e.to_string()))?
    else {
        return Err(AppError::invalid("The draft is not a dashboard."));
    };
    store::dashboards::update(&store, &dashboard_id, version, changes, &author(&gate)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/_app")]
pub async fn delete_dashboard(dashboard_id: String) -> Result<(), AppError> {
    let gate = gate();
    let store = store();
    may_change(&gate, &dashboard_id).await?;
    store.delete_dashboard(&dashboard_id).await.map_err(err)
}

/// Stores `panels` as the dashboard's next version after `version`.
#[cfg(feature = "ssr")]
async fn save_panels(
    gate: &Gate,
    store: &store::Store,
    dashboard_id: &str,
    version: i64,
    panels: Vec<Panel>,
) -> Result<(), AppError> {
    let mut changes = serde_json::Map::new();
    changes.insert("panels".into(), serde_json::to_value(panels).map_err(|e| AppError::invalid(e.to_string()))?);
    store::dashboards::update(store, dashboard_id, version, changes, &author(gate)).await.map_err(err)?;
    Ok(())
}

/// Refuses unless the signed-in user may change the dashboard.
#[cfg(feature = "ssr")]
async fn may_change(gate: &Gate, dashboard_id: &str) -> Result<(), AppError> {
    require(
        gate,
        &[Need::Dashboard(dashboard_id.to_string(), true)],
        "change this dashboard (its maker, admins and users who may edit all it shows can)",
    )
    .await
}

/// Refuses unless the signed-in user may read everything `spec` shows.
#[cfg(feature = "ssr")]
async fn may_show(gate: &Gate, spec: &tracking::dashboards::DashboardSpec) -> Result<(), AppError> {
    let needs = [
        Need::Experiments(spec.experiment_ids.clone(), Capability::Read),
        Need::Runs(spec.run_ids.clone(), Capability::Read),
    ];
    require(gate, &needs, "show these experiments or runs").await
}

/// Stores a new dashboard, once the user may read all it shows.
#[cfg(feature = "ssr")]
async fn create_dashboard(
    gate: &Gate,
    store: &store::Store,
    spec: tracking::dashboards::DashboardSpec,
) -> Result<Dashboard, AppError> {
    may_show(gate, &spec).await?;
    store::dashboards::create(store, spec, &author(gate)).await.map_err(err)
}

/// Adds a Markdown note at the end (or changes note `index`), as the
/// version the page read: a newer save in between is refused with who made it.
#[server(prefix = "/_app")]
pub async fn save_note(dashboard_id: String, version: i64, index: Option<usize>, text: String) -> Result<(), AppError> {
    let gate = gate();
    may_change(&gate, &dashboard_id).await?;
    let store = store();
    let d = store.get_dashboard(&dashboard_id).await.map_err(err)?;
    let mut panels = d.spec.panels.clone();
    match index {
        Some(i) if matches!(panels.get(i), Some(Panel::Note { .. })) => panels[i] = Panel::Note { text },
        Some(_) => {
            return Err(AppError::new(
                tracking::ErrorCode::ResourceConflict,
                "That note is gone; reload the dashboard.",
            ))
        }
        None => panels.push(Panel::Note { text }),
    }
    save_panels(&gate, &store, &dashboard_id, version, panels).await
}

/// The most runs an image grid shows.
pub const MAX_IMAGE_RUNS: usize = 50;

/// The images each of `run_ids` (comma-separated; the first
/// [`MAX_IMAGE_RUNS`]) logged under `key`; runs without any are left out.
#[server(prefix = "/_app")]
pub async fn logged_images(run_ids: String, key: String) -> Result<Vec<crate::logged_images::RunImages>, AppError> {
    let gate = gate();
    use crate::logged_images::{images_of, RunImages};
    // Both before the first await: a page rendering on the server keeps
    // its context only until then.
    let (store, artifacts) = (store(), super::backend::artifacts()?);
    let folder = artifacts::ArtifactPath::parse("images").map_err(err)?;
    let mut out = Vec::new();
    for run_id in run_ids.split(',').filter(|r| !r.is_empty()).take(MAX_IMAGE_RUNS) {
        let run = super::backend::need_run(&gate, &store, run_id, Capability::Read, "see this run's images").await?;
        // Artifacts stored elsewhere (another server's URI) are not listed here.
        let Some(root) = artifacts::ArtifactPath::from_root_uri(&run.info.artifact_uri) else { continue };
        // A run that logged no images has no folder: an empty list.
        let files = artifacts.list(&root.join(&folder)).await.map_err(err)?;
        let names: Vec<String> = files.into_iter().filter(|f| !f.is_dir).map(|f| f.path).collect();
        let images = images_of(&key, &names);
        if !images.is_empty() {
            out.push(RunImages { run_id: run_id.to_string(), images });
        }
    }
    Ok(out)
}
