//! Server functions: the UI's calls into the store and artifact storage.
//! Each is a thin wrapper over the same methods the REST API uses.

use crate::app_error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Experiment, FileInfo, LoggedModel, MetricSummary, Run};

pub mod analysis;
pub mod dashboards;
pub mod registry;
pub mod sweep;

#[cfg(feature = "ssr")]
mod backend {
    use crate::app_error::AppError;
    use leptos::prelude::*;

    pub use store::access::{Gate, Need};
    use tracking::permissions::Capability;

    pub fn store() -> store::Store {
        expect_context::<store::Store>()
    }

    pub fn artifacts() -> Result<artifacts::ArtifactStore, AppError> {
        use_context::<Option<artifacts::ArtifactStore>>()
            .flatten()
            .ok_or_else(|| AppError::invalid("This server does not serve artifacts (--no-serve-artifacts)"))
    }

    /// The request's gate: who is signed in, and the one permission check
    /// the REST API also asks. Take it first thing in a server function,
    /// before any await (a page rendering on the server keeps its context
    /// only until then), and pass it on. Without the request's context it
    /// is closed when users are on: a check that cannot see who asks denies.
    pub fn gate() -> Gate {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Gate>().cloned())
            .unwrap_or_else(Gate::unknown)
    }

    /// Refuses (HTTP 403, with a sentence naming `what`) unless the
    /// signed-in user meets every need.
    pub async fn require(gate: &Gate, needs: &[Need], what: &str) -> Result<(), AppError> {
        match gate.check(needs).await {
            Ok(()) => Ok(()),
            Err(e) if e.error_code == tracking::ErrorCode::PermissionDenied => Err(err(tracking::Error::new(
                tracking::ErrorCode::PermissionDenied,
                format!("You do not have permission to {what}; ask someone who manages it for access."),
            ))),
            Err(e) => Err(err(e)),
        }
    }

    /// Whether the signed-in user meets every need (for narrowing lists).
    pub async fn allowed(gate: &Gate, needs: &[Need]) -> Result<bool, AppError> {
        gate.allows(needs).await.map_err(err)
    }

    /// The experiment's runs that `filter` keeps, in `order_by`, page after
    /// page up to `limit`, and whether more match (the chart view's runs, a
    /// sweep's importance).
    pub async fn runs_of(
        experiment_id: String,
        filter: String,
        order_by: String,
        deleted: bool,
        limit: usize,
    ) -> Result<(Vec<tracking::Run>, bool), AppError> {
        let store = store();
        let mut query = store::RunQuery {
            experiment_ids: vec![experiment_id],
            filter,
            view_type: if deleted { tracking::ViewType::DeletedOnly } else { tracking::ViewType::ActiveOnly },
            max_results: 1000,
            order_by: Some(order_by).filter(|o| !o.is_empty()).into_iter().collect(),
            page_token: None,
            numeric_params: true,
        };
        let mut found = Vec::new();
        let mut truncated = false;
        loop {
            let page = store.search_runs(&query).await.map_err(err)?;
            found.extend(page.items);
            match page.next_page_token {
                Some(token) if found.len() < limit => query.page_token = Some(token),
                Some(_) => {
                    truncated = true;
                    break;
                }
                None => break,
            }
        }
        truncated |= found.len() > limit;
        found.truncate(limit);
        Ok((found, truncated))
    }

    /// Refuses unless the signed-in user may `cap` the experiment.
    pub async fn need_experiment(
        gate: &Gate,
        experiment_id: &str,
        cap: Capability,
        what: &str,
    ) -> Result<(), AppError> {
        require(gate, &[Need::Experiment(experiment_id.to_string(), cap)], what).await
    }

    /// Refuses unless the signed-in user may `cap` the runs of the experiment.
    pub async fn need_runs_of(gate: &Gate, experiment_id: &str, cap: Capability, what: &str) -> Result<(), AppError> {
        require(gate, &[Need::InExperiment(experiment_id.to_string(), "run", cap)], what).await
    }

    /// Refuses unless the signed-in user may `cap` the run; returns it.
    pub async fn need_run(
        gate: &Gate,
        store: &store::Store,
        run_id: &str,
        cap: Capability,
        what: &str,
    ) -> Result<tracking::Run, AppError> {
        require(gate, &[Need::Run(run_id.to_string(), cap)], what).await?;
        store.get_run(run_id).await.map_err(err)
    }

    /// Refuses unless the signed-in user may `cap` the registered model
    /// (and read its versions).
    pub async fn need_model(gate: &Gate, name: &str, cap: Capability, what: &str) -> Result<(), AppError> {
        require(gate, &[Need::Model(name.to_string(), cap, Some(Capability::Read))], what).await
    }

    /// A store error as the server function's error: the sentence for the
    /// page, MLflow's HTTP status for the response (a refused filter is a
    /// 400, not a server failure), the hidden cause in the log.
    pub fn err(e: tracking::Error) -> AppError {
        if let Some(cause) = &e.cause {
            tracing::error!(%cause, "{}", e.message);
        }
        if let (Some(response), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(e.error_code.http_status()),
        ) {
            response.set_status(status);
        }
        AppError::from(e)
    }
}

#[cfg(feature = "ssr")]
use backend::{err, need_experiment, need_model, need_run, need_runs_of, store};
#[cfg(feature = "ssr")]
use tracking::permissions::Capability;

/// The signed-in user's name, when users and permissions are on.
#[server(prefix = "/_app")]
pub async fn signed_in_user() -> Result<Option<String>, AppError> {
    let gate = backend::gate();
    Ok(gate.viewer().cloned().map(|v| v.user.username))
}

/// An experiments-list row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRow {
    pub experiment: Experiment,
    pub runs: i64,
    pub last_run_start: Option<i64>,
    /// Whether the signed-in user may rename it, and delete or restore it
    /// (always, when there are no users): the page offers only what works.
    pub may_update: bool,
    pub may_delete: bool,
}

/// Every experiment, active and deleted, with run counts and last activity.
#[server(prefix = "/_app")]
pub async fn list_experiments() -> Result<Vec<ExperimentRow>, AppError> {
    let gate = backend::gate();
    let store = store();
    let query = store::ExperimentQuery {
        visible: gate.viewer().cloned().and_then(|v| v.visible_experiments()),
        view_type: tracking::ViewType::All,
        max_results: 50_000,
        ..Default::default()
    };
    let page = store.search_experiments(&query).await.map_err(err)?;
    let stats = store.experiment_stats().await.map_err(err)?;
    let viewer = gate.viewer().cloned();
    let may = |id: &str, cap: Capability| {
        viewer.as_ref().is_none_or(|v| v.permission(tracking::permissions::EXPERIMENT, id).allows(cap))
    };
    Ok(page
        .items
        .into_iter()
        .map(|experiment| {
            let s = stats.iter().find(|s| s.experiment_id == experiment.experiment_id);
            ExperimentRow {
                runs: s.map_or(0, |s| s.runs),
                last_run_start: s.and_then(|s| s.last_run_start),
                may_update: may(&experiment.experiment_id, Capability::Update),
                may_delete: may(&experiment.experiment_id, Capability::Delete),
                experiment,
            }
        })
        .collect())
}

#[server(prefix = "/_app")]
pub async fn create_experiment(name: String) -> Result<String, AppError> {
    let gate = backend::gate();
    use tracking::permissions::EXPERIMENT;
    backend::require(&gate, &[backend::Need::Create(EXPERIMENT, None)], "create experiments").await?;
    let store = store();
    let id = store.create_experiment(name.trim(), None, &[]).await.map_err(err)?;
    if let Some(v) = gate.viewer().cloned() {
        // The creator manages what they made, as through the REST API.
        let manage = tracking::permissions::Permission::Manage;
        store::auth::grant(store.as_ref(), &v.user, EXPERIMENT, &id, manage).await.map_err(err)?;
    }
    Ok(id)
}

#[server(prefix = "/_app")]
pub async fn rename_experiment(experiment_id: String, name: String) -> Result<(), AppError> {
    let gate = backend::gate();
    need_experiment(&gate, &experiment_id, Capability::Update, "rename this experiment").await?;
    store().rename_experiment(&experiment_id, name.trim()).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn set_experiment_deleted(experiment_id: String, deleted: bool) -> Result<(), AppError> {
    let gate = backend::gate();
    need_experiment(&gate, &experiment_id, Capability::Delete, "delete or restore this experiment").await?;
    let store = store();
    if deleted { store.delete_experiment(&experiment_id).await } else { store.restore_experiment(&experiment_id).await }
        .map_err(err)
}

/// A page of an experiment's runs. A bad filter is not an error of the
/// call: the page shows it next to the filter box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    pub experiment: Experiment,
    pub runs: Vec<Run>,
    /// Each run's colour (`charts::run_color`), by run id.
    pub colors: Vec<(String, String)>,
    pub next_page_token: Option<String>,
    pub filter_error: Option<String>,
}

/// The colour of each of these runs, the same on every page.
#[cfg(feature = "ssr")]
async fn run_colors(store: &store::Store, run_ids: Vec<String>) -> Result<Vec<(String, String)>, AppError> {
    let ordinals = store.run_ordinals(&run_ids).await.map_err(err)?;
    Ok(ordinals.into_iter().map(|(id, n)| (id, crate::charts::run_color(n))).collect())
}

/// Runs per page of the runs table; more load on demand. A page of 100
/// runs with 200 columns is 20,000 cells and 1 MB of data to hydrate.
pub const RUNS_PER_PAGE: i64 = 100;

#[server(prefix = "/_app")]
pub async fn experiment_runs(
    experiment_id: String,
    filter: String,
    order_by: Option<String>,
    deleted: bool,
    page_token: Option<String>,
) -> Result<RunsPage, AppError> {
    let gate = backend::gate();
    need_runs_of(&gate, &experiment_id, Capability::Read, "see this experiment's runs").await?;
    let store = store();
    let experiment = store.get_experiment(&experiment_id).await.map_err(err)?;
    let query = store::RunQuery {
        experiment_ids: vec![experiment_id],
        filter,
        view_type: if deleted { tracking::ViewType::DeletedOnly } else { tracking::ViewType::ActiveOnly },
        max_results: RUNS_PER_PAGE,
        order_by: order_by.into_iter().filter(|o| !o.is_empty()).collect(),
        page_token,
        numeric_params: true,
    };
    // A filter that does not parse (a link with a typo, an old bookmark)
    // still shows the experiment's runs, unfiltered, with the reason above.
    let (page, filter_error) = match store.search_runs(&query).await {
        Ok(page) => (page, None),
        Err(e) if e.error_code == tracking::ErrorCode::InvalidParameterValue && !query.filter.is_empty() => {
            let unfiltered = store::RunQuery { filter: String::new(), ..query };
            (store.search_runs(&unfiltered).await.map_err(err)?, Some(e.message))
        }
        Err(e) => return Err(err(e)),
    };
    // The table shows these tags only; the page carries no more than it
    // shows (it is serialised into the HTML for hydration).
    const SHOWN: [&str; 3] = [tracking::tags::PARENT_RUN_ID, tracking::tags::SOURCE_NAME, tracking::tags::GIT_COMMIT];
    let runs: Vec<Run> = page
        .items
        .into_iter()
        .map(|mut r| {
            r.data.tags.retain(|t| SHOWN.contains(&t.key.as_str()));
            r.inputs = Default::default();
            r
        })
        .collect();
    let colors = run_colors(&store, runs.iter().map(|r| r.info.run_id.clone()).collect()).await?;
    Ok(RunsPage { experiment, runs, colors, next_page_token: page.next_page_token, filter_error })
}

/// Each run's lowest and highest value of each metric in `keys` (both
/// comma-separated), as ingest keeps them: the runs table's min and max
/// columns. Runs the user may not read are left out.
#[server(prefix = "/_app")]
pub async fn metric_ranges(
    run_ids: String,
    keys: String,
) -> Result<Vec<(String, String, Option<f64>, Option<f64>)>, AppError> {
    let gate = backend::gate();
    let split = |s: &str| s.split(',').filter(|x| !x.is_empty()).map(String::from).collect::<Vec<_>>();
    let (mut ids, keys) = (split(&run_ids), split(&keys));
    ids.truncate(RUNS_PER_PAGE as usize * 100);
    let store = store();
    if gate.viewer().cloned().is_some() {
        let mut readable = Vec::with_capacity(ids.len());
        for id in ids {
            if need_run(&gate, &store, &id, Capability::Read, "see this run").await.is_ok() {
                readable.push(id);
            }
        }
        ids = readable;
    }
    let found = store.metric_summaries_of(&ids, &keys).await.map_err(err)?;
    Ok(found.into_iter().map(|(id, m)| (id, m.key, m.min, m.max)).collect())
}

#[server(prefix = "/_app")]
pub async fn set_runs_deleted(run_ids: Vec<String>, deleted: bool) -> Result<(), AppError> {
    let gate = backend::gate();
    let store = store();
    for id in run_ids {
        need_run(&gate, &store, &id, Capability::Delete, "delete or restore these runs").await?;
        if deleted { store.delete_run(&id).await } else { store.restore_run(&id).await }.map_err(err)?;
    }
    Ok(())
}

/// A run named in a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLink {
    pub run_id: String,
    pub name: String,
    pub experiment_id: String,
}

/// Everything the run page shows above its charts and artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    pub run: Run,
    /// The run's colour (`charts::run_color`), used by its charts.
    pub color: String,
    pub experiment_name: String,
    pub metrics: Vec<MetricSummary>,
    pub parent: Option<RunLink>,
    pub children: Vec<RunLink>,
    pub logged_models: Vec<LoggedModel>,
    pub registered: Vec<ModelVersion>,
}

#[server(prefix = "/_app")]
pub async fn run_page(run_id: String) -> Result<RunDetails, AppError> {
    let gate = backend::gate();
    let store = store();
    let run = need_run(&gate, &store, &run_id, Capability::Read, "see this run").await?;
    let experiment_name = store.get_experiment(&run.info.experiment_id).await.map(|e| e.name).unwrap_or_default();
    let metrics = store.metric_summaries(&run_id).await.map_err(err)?;
    let link = |r: &Run| RunLink {
        run_id: r.info.run_id.clone(),
        name: r.info.run_name.clone(),
        experiment_id: r.info.experiment_id.clone(),
    };
    // A parent is named only to whoever may read it: the tag is the
    // child's, and anyone who may write the child can point it anywhere.
    let parent = match run.data.tags.iter().find(|t| t.key == tracking::tags::PARENT_RUN_ID) {
        Some(t) if backend::allowed(&gate, &[backend::Need::Run(t.value.clone(), Capability::Read)]).await? => {
            store.get_run(&t.value).await.ok().map(|p| link(&p))
        }
        _ => None,
    };
    let children = store
        .search_runs(&store::RunQuery {
            experiment_ids: vec![run.info.experiment_id.clone()],
            filter: format!("tags.`{}` = {}", tracking::tags::PARENT_RUN_ID, tracking::filter::literal(&run_id)),
            max_results: 1000,
            ..Default::default()
        })
        .await
        .map(|p| p.items.iter().map(link).collect())
        .unwrap_or_default();
    let logged_models = store
        .search_logged_models(&store::LoggedModelQuery {
            experiment_ids: vec![run.info.experiment_id.clone()],
            filter: format!("source_run_id = {}", tracking::filter::literal(&run_id)),
            ..Default::default()
        })
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let registered = store
        .search_model_versions(&store::RegistryQuery {
            filter: format!("run_id = {}", tracking::filter::literal(&run_id)),
            visible: gate.viewer().cloned().and_then(|v| v.visible_models()),
            ..Default::default()
        })
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let color =
        run_colors(&store, vec![run_id]).await?.pop().map(|(_, c)| c).unwrap_or_else(|| crate::charts::run_color(0));
    Ok(RunDetails { run, color, experiment_name, metrics, parent, children, logged_models, registered })
}

#[server(prefix = "/_app")]
pub async fn set_run_tag(run_id: String, key: String, value: String) -> Result<(), AppError> {
    let gate = backend::gate();
    need_run(&gate, &store(), &run_id, Capability::Update, "change this run's tags").await?;
    store().log_batch(&run_id, vec![], vec![], vec![tracking::KeyValue::new(key, value)]).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn delete_run_tag(run_id: String, key: String) -> Result<(), AppError> {
    let gate = backend::gate();
    need_run(&gate, &store(), &run_id, Capability::Update, "change this run's tags").await?;
    store().delete_tag(&run_id, &key).await.map_err(err)
}

/// One run's points of one metric, as drawn: NaN and infinities are gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub run_id: String,
    pub steps: Vec<i64>,
    /// Each point's wall time, or none when they were not asked for.
    pub times: Vec<i64>,
    pub values: Vec<Option<f64>>,
    /// Points in the metric (in the asked step range) before downsampling.
    pub total: usize,
}

impl Series {
    /// A run's points as drawn, with their wall times or not.
    pub fn of(run_id: String, points: &[tracking::Point], total: u64, with_times: bool) -> Series {
        Series {
            run_id,
            steps: points.iter().map(|p| p.step).collect(),
            times: if with_times { points.iter().map(|p| p.timestamp).collect() } else { Vec::new() },
            values: points.iter().map(|p| p.value.is_finite().then_some(p.value)).collect(),
            total: total as usize,
        }
    }
}

/// Points per series the charts ask for: enough for a screen's width.
pub const CHART_POINTS: usize = 2000;
/// The most runs the chart view and a dashboard show: panels of more runs
/// than [`SWEEP_ABOVE`] draw their bands and a few lines (`sweep_series`).
pub const MAX_CHART_RUNS: usize = sweep::MAX_SWEEP_RUNS;
/// The most runs' lines one `metric_series` reads.
pub const MAX_LINE_RUNS: usize = 1000;
/// Panels of more runs than this draw each group's band and a few
/// representative lines instead of a line per run.
pub const SWEEP_ABOVE: usize = 200;

/// A run as the experiment chart view draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ChartRun {
    pub run_id: String,
    pub name: String,
    pub color: String,
    /// Failed or killed: drawn dashed.
    pub stopped: bool,
    /// What runs can be grouped by: `params.k`, `tags.k` (not MLflow's own
    /// tags) and `attributes.status`, with this run's values.
    pub fields: BTreeMap<String, String>,
    /// Each metric's latest value, by `metrics.<key>`.
    pub latest: BTreeMap<String, f64>,
}

impl ChartRun {
    /// A param, tag, status (`fields`) or a metric's latest value, as text.
    pub fn value(&self, field: &str) -> Option<String> {
        self.fields.get(field).cloned().or_else(|| self.latest.get(field).map(|v| v.to_string()))
    }
}

/// Every run a filter keeps (up to [`MAX_CHART_RUNS`]) and the metric keys
/// they have: what the experiment chart view draws. Sent by column
/// ([`ChartColumns`]): 10,000 runs are half the bytes, and half the
/// parsing as the page goes live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ChartColumns", into = "ChartColumns")]
pub struct ChartData {
    pub runs: Vec<ChartRun>,
    pub metrics: Vec<String>,
    /// More runs match than are drawn.
    pub truncated: bool,
    /// The fields any of the runs has to group by (`ChartRun::fields`).
    pub group_keys: Vec<String>,
}

/// [`ChartData`] on the wire: each run's attribute in one list, and each
/// field and metric once with its values by run (`None` where a run has
/// none), instead of every run naming them again.
#[derive(Serialize, Deserialize)]
pub struct ChartColumns {
    run_ids: Vec<String>,
    names: Vec<String>,
    colors: Vec<String>,
    stopped: Vec<bool>,
    fields: BTreeMap<String, Vec<Option<String>>>,
    latest: BTreeMap<String, Vec<Option<f64>>>,
    metrics: Vec<String>,
    truncated: bool,
    group_keys: Vec<String>,
}

impl From<ChartData> for ChartColumns {
    fn from(d: ChartData) -> Self {
        let n = d.runs.len();
        let mut fields: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
        let mut latest: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        let mut out = ChartColumns {
            run_ids: Vec::with_capacity(n),
            names: Vec::with_capacity(n),
            colors: Vec::with_capacity(n),
            stopped: Vec::with_capacity(n),
            fields: BTreeMap::new(),
            latest: BTreeMap::new(),
            metrics: d.metrics,
            truncated: d.truncated,
            group_keys: d.group_keys,
        };
        for (i, r) in d.runs.into_iter().enumerate() {
            for (k, v) in r.fields {
                fields.entry(k).or_insert_with(|| vec![None; n])[i] = Some(v);
            }
            for (k, v) in r.latest {
                latest.entry(k).or_insert_with(|| vec![None; n])[i] = Some(v);
            }
            out.run_ids.push(r.run_id);
            out.names.push(r.name);
            out.colors.push(r.color);
            out.stopped.push(r.stopped);
        }
        ChartColumns { fields, latest, ..out }
    }
}

impl From<ChartColumns> for ChartData {
    fn from(c: ChartColumns) -> Self {
        let mut runs: Vec<ChartRun> = c
            .run_ids
            .into_iter()
            .zip(c.names)
            .zip(c.colors.into_iter().zip(c.stopped))
            .map(|((run_id, name), (color, stopped))| ChartRun { run_id, name, color, stopped, ..Default::default() })
            .collect();
        for (k, values) in c.fields {
            for (run, v) in runs.iter_mut().zip(values) {
                if let Some(v) = v {
                    run.fields.insert(k.clone(), v);
                }
            }
        }
        for (k, values) in c.latest {
            for (run, v) in runs.iter_mut().zip(values) {
                if let Some(v) = v {
                    run.latest.insert(k.clone(), v);
                }
            }
        }
        ChartData { runs, metrics: c.metrics, truncated: c.truncated, group_keys: c.group_keys }
    }
}

#[server(prefix = "/_app")]
pub async fn chart_runs(
    experiment_id: String,
    filter: String,
    order_by: String,
    deleted: bool,
) -> Result<ChartData, AppError> {
    let gate = backend::gate();
    need_runs_of(&gate, &experiment_id, Capability::Read, "see this experiment's runs").await?;
    let store = store();
    let (found, truncated) = backend::runs_of(experiment_id, filter, order_by, deleted, MAX_CHART_RUNS).await?;
    let metrics: std::collections::BTreeSet<String> =
        found.iter().flat_map(|r| r.data.metrics.iter().map(|m| m.key.clone())).collect();
    let colors: std::collections::HashMap<String, String> =
        run_colors(&store, found.iter().map(|r| r.info.run_id.clone()).collect()).await?.into_iter().collect();
    let runs: Vec<ChartRun> = found
        .into_iter()
        .map(|r| ChartRun {
            color: colors.get(&r.info.run_id).cloned().unwrap_or_default(),
            stopped: matches!(r.info.status, tracking::RunStatus::Failed | tracking::RunStatus::Killed),
            fields: group_fields(&r),
            latest: latest_values(&r),
            run_id: r.info.run_id,
            name: r.info.run_name,
        })
        .collect();
    let group_keys: std::collections::BTreeSet<String> = runs.iter().flat_map(|r| r.fields.keys().cloned()).collect();
    Ok(ChartData {
        runs,
        metrics: metrics.into_iter().collect(),
        truncated,
        group_keys: group_keys.into_iter().collect(),
    })
}

/// What a run can be grouped by in the chart view: its params, its own
/// tags and its status.
#[cfg(feature = "ssr")]
pub(crate) fn latest_values(r: &tracking::Run) -> BTreeMap<String, f64> {
    r.data.metrics.iter().filter(|m| m.value.is_finite()).map(|m| (format!("metrics.{}", m.key), m.value)).collect()
}

#[cfg(feature = "ssr")]
pub(crate) fn group_fields(r: &tracking::Run) -> BTreeMap<String, String> {
    let params = r.data.params.iter().map(|p| (format!("params.{}", p.key), p.value.clone()));
    let tags = r
        .data
        .tags
        .iter()
        .filter(|t| !t.key.starts_with("mlflow."))
        .map(|t| (format!("tags.{}", t.key), t.value.clone()));
    params.chain(tags).chain([("attributes.status".to_string(), r.info.status.as_str().to_string())]).collect()
}

/// A metric's history for each run, downsampled on the server to about
/// `max_points` (each bucket keeps its lowest and highest point, so spikes
/// stay visible), optionally within a step range (zooming in). The points'
/// wall times come only `with_times` (a chart by step leaves them out: a
/// third of the bytes at 1,000 runs).
#[server(prefix = "/_app")]
pub async fn metric_series(
    run_ids: Vec<String>,
    key: String,
    min_step: Option<i64>,
    max_step: Option<i64>,
    max_points: usize,
    with_times: bool,
) -> Result<Vec<Series>, AppError> {
    let gate = backend::gate();
    let store = store();
    let ids: Vec<String> = run_ids.into_iter().take(MAX_LINE_RUNS).collect();
    backend::require(&gate, &[backend::Need::Runs(ids.clone(), Capability::Read)], "see these runs").await?;
    let budget = max_points.clamp(100, 20_000);
    // One read for all the runs (a few reader jobs of many runs each),
    // answered in the order asked; runs that no longer exist are left out.
    let reads = store.metric_overviews(&ids, &key, min_step, max_step, budget).await.map_err(err)?;
    let mut out = Vec::with_capacity(reads.len());
    for (run_id, points, total) in reads {
        // The store answers long histories from its summaries; what comes
        // back beyond the budget is brought down to it here.
        out.push(Series::of(run_id, &crate::charts::downsample(&points, budget), total, with_times));
    }
    Ok(out)
}

/// Files and folders in a run's artifact folder `path`, with paths relative to the run's root.
#[server(prefix = "/_app")]
pub async fn list_run_artifacts(run_id: String, path: String) -> Result<Vec<FileInfo>, AppError> {
    let gate = backend::gate();
    let (store, root, dir) = run_artifact_path(&gate, &run_id, &path).await?;
    let files = store.list(&root.join(&dir)).await.map_err(err)?;
    Ok(files
        .into_iter()
        .map(|f| FileInfo { path: if dir.is_root() { f.path } else { format!("{dir}/{}", f.path) }, ..f })
        .collect())
}

#[cfg(feature = "ssr")]
async fn run_artifact_path(
    gate: &backend::Gate,
    run_id: &str,
    path: &str,
) -> Result<(artifacts::ArtifactStore, artifacts::ArtifactPath, artifacts::ArtifactPath), AppError> {
    let (store, files) = (store(), backend::artifacts()?);
    let run = need_run(gate, &store, run_id, Capability::Read, "see this run's artifacts").await?;
    let root = artifacts::ArtifactPath::from_root_uri(&run.info.artifact_uri).ok_or_else(|| {
        AppError::invalid(format!("The artifacts at {} are not stored by this server", run.info.artifact_uri))
    })?;
    let path = artifacts::ArtifactPath::parse(path).map_err(err)?;
    // Where the bytes are decides too: a run's folder can be anywhere its
    // experiment's artifact location says.
    let need = store::access::artifact_need(root.join(&path).segments(), Capability::Read);
    backend::require(gate, &[need], "see this run's artifacts").await?;
    Ok((files, root, path))
}

/// What the artifact browser shows for a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub path: String,
    pub size: u64,
    /// `text`, `json`, `yaml`, `csv`, `tsv`, `markdown`, `image`, `mlmodel` or `binary`.
    pub kind: String,
    pub text: Option<String>,
    pub truncated: bool,
}

/// At most this much of a file is shown in a preview.
pub const PREVIEW_BYTES: u64 = 256 * 1024;

#[server(prefix = "/_app")]
pub async fn preview_artifact(run_id: String, path: String) -> Result<Preview, AppError> {
    let gate = backend::gate();
    let (store, root, file) = run_artifact_path(&gate, &run_id, &path).await?;
    let kind = crate::components::artifacts::kind_of(file.file_name()).to_string();
    if kind == "image" {
        let size = store.stat(&root.join(&file)).await.map_err(err)?.unwrap_or(0);
        return Ok(Preview { path, size, kind, text: None, truncated: false });
    }
    let (size, head) = store.read_head(&root.join(&file), PREVIEW_BYTES).await.map_err(err)?;
    let truncated = size > head.len() as u64;
    let text = match std::str::from_utf8(&head) {
        Ok(t) => Some(t.to_string()),
        // A cut in the middle of a character at the end is fine.
        Err(e) if truncated && e.valid_up_to() + 4 >= head.len() => {
            Some(String::from_utf8_lossy(&head[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    };
    let kind = if text.is_none() { "binary".to_string() } else { kind };
    Ok(Preview { path, size, kind, text, truncated })
}

/// Runs side by side, each with its colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedRuns {
    pub runs: Vec<Run>,
    /// `colors[i]` is the colour of `runs[i]`.
    pub colors: Vec<String>,
}

#[server(prefix = "/_app")]
pub async fn compare_runs(run_ids: Vec<String>) -> Result<ComparedRuns, AppError> {
    let gate = backend::gate();
    let store = store();
    let mut runs = Vec::new();
    for id in run_ids.iter().take(100) {
        runs.push(need_run(&gate, &store, id, Capability::Read, "see these runs").await?);
    }
    let by_id: std::collections::HashMap<String, String> =
        run_colors(&store, runs.iter().map(|r| r.info.run_id.clone()).collect()).await?.into_iter().collect();
    let colors = runs.iter().map(|r| by_id.get(&r.info.run_id).cloned().unwrap_or_default()).collect();
    Ok(ComparedRuns { runs, colors })
}

#[server(prefix = "/_app")]
pub async fn list_registered_models() -> Result<Vec<RegisteredModel>, AppError> {
    let gate = backend::gate();
    let page = store()
        .search_registered_models(&store::RegistryQuery {
            visible: gate.viewer().cloned().and_then(|v| v.visible_models()),
            max_results: Some(1000),
            ..Default::default()
        })
        .await
        .map_err(err)?;
    Ok(page.items)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDetails {
    pub model: RegisteredModel,
    /// Each version with the run it came from, when that run is here and
    /// the signed-in user may read it, and that run's latest metrics.
    pub versions: Vec<(ModelVersion, Option<RunLink>, BTreeMap<String, f64>)>,
}

/// A link to a run by its name, if the run exists in this store and the
/// signed-in user may read it (else the page shows only its id).
#[cfg(feature = "ssr")]
async fn run_link(gate: &backend::Gate, store: &store::Store, run_id: Option<&str>) -> Option<RunLink> {
    Some(readable_run(gate, store, run_id).await?.0)
}

/// The run behind a link, with its latest metrics, when the user may read it.
#[cfg(feature = "ssr")]
async fn readable_run(
    gate: &backend::Gate,
    store: &store::Store,
    run_id: Option<&str>,
) -> Option<(RunLink, BTreeMap<String, f64>)> {
    let run_id = run_id?;
    if !backend::allowed(gate, &[backend::Need::Run(run_id.to_string(), Capability::Read)]).await.ok()? {
        return None;
    }
    let run = store.get_run(run_id).await.ok()?;
    let metrics = run.data.metrics.iter().map(|m| (m.key.clone(), m.value)).collect();
    Some((RunLink { run_id: run.info.run_id, name: run.info.run_name, experiment_id: run.info.experiment_id }, metrics))
}

#[server(prefix = "/_app")]
pub async fn model_page(name: String) -> Result<ModelDetails, AppError> {
    let gate = backend::gate();
    need_model(&gate, &name, Capability::Read, "see this model").await?;
    let store = store();
    let model = store.get_registered_model(&name).await.map_err(err)?;
    let versions = store
        .search_model_versions(&store::RegistryQuery {
            filter: format!("name = {}", tracking::filter::literal(&name)),
            ..Default::default()
        })
        .await
        .map_err(err)?
        .items;
    let mut linked = Vec::with_capacity(versions.len());
    for v in versions {
        let (run, metrics) = readable_run(&gate, &store, v.run_id.as_deref()).await.unzip();
        linked.push((v, run, metrics.unwrap_or_default()));
    }
    Ok(ModelDetails { model, versions: linked })
}

/// A model's files as the model info view shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelFiles {
    pub artifact_uri: String,
    pub mlmodel: Option<String>,
    pub requirements: Option<String>,
    pub files: Vec<FileInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetails {
    pub version: ModelVersion,
    pub source_run: Option<RunLink>,
    pub files: ModelFiles,
}

#[cfg(feature = "ssr")]
async fn model_files(uri: &str) -> ModelFiles {
    let mut files = ModelFiles { artifact_uri: uri.to_string(), ..Default::default() };
    let (Some(root), Ok(store)) = (artifacts::ArtifactPath::from_root_uri(uri), backend::artifacts()) else {
        return files;
    };
    let read = |name: &'static str| {
        let store = store.clone();
        let path = root.join(&artifacts::ArtifactPath::parse(name).expect("a plain file name"));
        async move {
            store.read_head(&path, PREVIEW_BYTES).await.ok().map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        }
    };
    files.mlmodel = read("MLmodel").await;
    files.requirements = read("requirements.txt").await;
    files.files = store.list(&root).await.unwrap_or_default();
    files
}

#[server(prefix = "/_app")]
pub async fn version_page(name: String, version: String) -> Result<VersionDetails, AppError> {
    let gate = backend::gate();
    need_model(&gate, &name, Capability::Read, "see this model").await?;
    let store = store();
    let number = tracking::registry::parse_version(&version).map_err(err)?;
    let version = store.get_model_version(&name, number).await.map_err(err)?;
    let uri = store.get_model_version_download_uri(&name, number).await.map_err(err)?;
    let source_run = run_link(&gate, &store, version.run_id.as_deref()).await;
    Ok(VersionDetails { version, source_run, files: model_files(&uri).await })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelDetails {
    pub model: LoggedModel,
    pub source_run: Option<RunLink>,
    pub files: ModelFiles,
}

#[server(prefix = "/_app")]
pub async fn logged_model_page(model_id: String) -> Result<LoggedModelDetails, AppError> {
    let gate = backend::gate();
    let store = store();
    let model = store.get_logged_model(&model_id, false).await.map_err(err)?;
    need_experiment(&gate, &model.info.experiment_id, Capability::Read, "see this model").await?;
    let files = model_files(&model.info.artifact_uri).await;
    let source_run = run_link(&gate, &store, model.info.source_run_id.as_deref()).await;
    Ok(LoggedModelDetails { model, source_run, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_data_goes_by_column_and_comes_back_the_same() {
        let run = |id: &str, lr: Option<&str>, loss: Option<f64>| ChartRun {
            run_id: id.into(),
            name: format!("name-{id}"),
            color: "#112233".into(),
            stopped: id == "b",
            fields: lr.map(|lr| ("params.lr".to_string(), lr.to_string())).into_iter().collect(),
            latest: loss.map(|v| ("metrics.loss".to_string(), v)).into_iter().collect(),
        };
        let data = ChartData {
            runs: vec![run("a", Some("0.1"), Some(0.5)), run("b", None, Some(1.5)), run("c", Some("1"), None)],
            metrics: vec!["loss".into()],
            truncated: true,
            group_keys: vec!["params.lr".into()],
        };
        let wire = serde_json::to_string(&data).unwrap();
        assert!(wire.contains(r#""params.lr":["0.1",null,"1"]"#), "{wire}");
        assert_eq!(wire.matches("params.lr").count(), 2, "named once as a field, once as a group key: {wire}");
        assert_eq!(serde_json::from_str::<ChartData>(&wire).unwrap(), data);
    }
}
