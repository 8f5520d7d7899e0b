//! Copies a [`Source`] into mltrack's store and artifact storage.
//!
//! Ids, times and stages are kept. Every object is written only once all
//! of it has been read from the source, so a source error leaves nothing
//! half-written; and each run, logged model and experiment is recorded as
//! imported (with a fingerprint of its source state) only once all of it,
//! artifacts included, is in. A second import skips what is recorded and
//! unchanged; an interrupted one redoes what it had not finished, and
//! metric points already stored are never stored twice.

use crate::progress::Progress;
use crate::source::{err, ArtifactFile, Source, SourceModel, SourceRegisteredModel};
use crate::store_source::all_experiments;
use anyhow::{anyhow, Result};
use artifacts::{ArtifactPath, ArtifactStore};
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use store::Store;
use tracking::{Experiment, LifecycleStage, MetricSummary, Point, Run, RunStatus};

/// What to do with a source experiment whose name mltrack already uses for
/// another experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Import its runs into the existing experiment.
    #[default]
    Merge,
    /// Import it as a new experiment, named "<name> (imported)".
    Rename,
    /// Leave it out, with its runs.
    Skip,
}

impl std::str::FromStr for OnConflict {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "merge" => Ok(OnConflict::Merge),
            "rename" => Ok(OnConflict::Rename),
            "skip" => Ok(OnConflict::Skip),
            _ => Err(format!("'{s}' is not one of merge, rename, skip")),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these experiments (names or ids); all when empty.
    pub experiments: Vec<String>,
    pub dry_run: bool,
    pub on_conflict: OnConflict,
    pub skip_deleted: bool,
    /// The root new experiments' artifacts go under (as `mltrack ui` uses it).
    pub artifact_root: String,
}

/// What an import did, for the summary and the exit code.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub experiments_created: u64,
    pub experiments_updated: u64,
    pub runs_new: u64,
    pub runs_updated: u64,
    pub runs_unchanged: u64,
    pub points: u64,
    pub artifact_files: u64,
    pub artifact_bytes: u64,
    pub logged_models: u64,
    pub registered_models: u64,
    pub model_versions: u64,
    pub dashboards: u64,
    /// Objects left out on purpose, with why.
    pub skipped: Vec<String>,
    /// Objects that could not be imported, with why.
    pub problems: Vec<String>,
    /// Newest timestamp among the points written.
    pub newest_point: Option<i64>,
    /// What a dry run would do, a line per object.
    pub plan: Vec<String>,
}

impl Report {
    pub fn summary(&self, dry_run: bool) -> String {
        let mut s = String::new();
        let verb = if dry_run { "would import" } else { "imported" };
        let _ = writeln!(
            s,
            "{verb}: {} experiments ({} new), {} runs ({} new, {} updated, {} unchanged), {} metric points, \
             {} artifact files ({}), {} logged models, {} registered models with {} versions, {} dashboards",
            self.experiments_created + self.experiments_updated,
            self.experiments_created,
            self.runs_new + self.runs_updated + self.runs_unchanged,
            self.runs_new,
            self.runs_updated,
            self.runs_unchanged,
            self.points,
            self.artifact_files,
            crate::progress::bytes(self.artifact_bytes),
            self.logged_models,
            self.registered_models,
            self.model_versions,
            self.dashboards,
        );
        if !self.skipped.is_empty() {
            let _ = writeln!(s, "skipped {}:", self.skipped.len());
            for line in &self.skipped {
                let _ = writeln!(s, "  - {line}");
            }
        }
        if !self.problems.is_empty() {
            let _ = writeln!(
                s,
                "failed {} (not imported, or imported without what is named; run the import again once fixed):",
                self.problems.len()
            );
            for line in &self.problems {
                let _ = writeln!(s, "  - {line}");
            }
        }
        s
    }
}

/// Where a source experiment goes in mltrack.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    location: String,
    /// The experiment row to write (`None`: merged into an existing one, left as is).
    row: Option<Experiment>,
    created: bool,
}

/// A stable 64-bit FNV-1a hash, for fingerprints stored across versions.
fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

fn run_fingerprint(run: &Run, counts: Option<&HashMap<String, u64>>) -> String {
    let mut run = run.clone();
    run.info.artifact_uri.clear();
    let mut text = serde_json::to_string(&run).unwrap_or_default();
    if let Some(counts) = counts {
        let mut counts: Vec<_> = counts.iter().collect();
        counts.sort();
        text += &format!("{counts:?}");
    }
    fnv(text.as_bytes())
}

fn model_fingerprint(model: &SourceModel) -> String {
    let mut info = model.model.info.clone();
    info.artifact_uri.clear();
    let text = serde_json::to_string(&(&info, &model.model.data, &model.metrics)).unwrap_or_default();
    fnv(text.as_bytes())
}

fn same_point(s: &MetricSummary, m: &tracking::Metric) -> bool {
    s.step == m.step && s.timestamp == m.timestamp && s.latest.to_bits() == m.value.to_bits()
}

/// Points written per transaction: big enough to be fast, small enough to
/// keep each commit short for the server using the same database.
const POINTS_PER_WRITE: usize = 50_000;

pub struct Importer {
    source: Arc<dyn Source>,
    store: Store,
    artifacts: ArtifactStore,
    options: Options,
    pub progress: Arc<Progress>,
    report: Mutex<Report>,
    /// Source artifact root → mltrack artifact root, for registry sources.
    uri_map: Mutex<HashMap<String, String>>,
    imported_runs: Mutex<HashSet<String>>,
    imported_models: Mutex<HashSet<String>>,
}

impl Importer {
    pub fn new(source: Arc<dyn Source>, store: Store, artifacts: ArtifactStore, options: Options) -> Self {
        Importer {
            source,
            store,
            artifacts,
            options,
            progress: Arc::new(Progress::default()),
            report: Mutex::new(Report::default()),
            uri_map: Mutex::new(HashMap::new()),
            imported_runs: Mutex::new(HashSet::new()),
            imported_models: Mutex::new(HashSet::new()),
        }
    }

    fn report(&self) -> std::sync::MutexGuard<'_, Report> {
        self.report.lock().expect("report lock")
    }

    fn problem(&self, text: String) {
        self.report().problems.push(text);
    }

    /// One pass over the whole source. Returns what it did.
    pub async fn run(&self) -> Result<Report> {
        *self.report() = Report::default();
        let source_id = self.source.id().to_string();
        let mut experiments = Vec::new();
        for item in self.source.experiments().await? {
            match item {
                Ok(e) => experiments.push(e),
                Err(e) => self.problem(format!("{e:#}")),
            }
        }
        if !self.options.experiments.is_empty() {
            for wanted in &self.options.experiments {
                if !experiments.iter().any(|e| &e.experiment_id == wanted || &e.name == wanted) {
                    self.problem(format!("experiment '{wanted}': no experiment with that name or id in {source_id}"));
                }
            }
            experiments.retain(|e| self.options.experiments.iter().any(|w| w == &e.experiment_id || w == &e.name));
        }
        self.progress.experiments.add_total(experiments.len() as u64);
        // Source experiment id → mltrack's, for the dashboards that show them.
        let mut imported_experiments = HashMap::new();
        let existing = all_experiments(&self.store).await?;
        let mut next_free = existing
            .iter()
            .chain(experiments.iter())
            .filter_map(|e| e.experiment_id.parse::<i64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        for experiment in &experiments {
            if self.options.skip_deleted && experiment.lifecycle_stage == LifecycleStage::Deleted {
                self.report().skipped.push(format!(
                    "experiment {} '{}': deleted (--skip-deleted)",
                    experiment.experiment_id, experiment.name
                ));
                self.progress.experiments.add(1);
                continue;
            }
            let target = match self.target(experiment, &existing, &mut next_free).await? {
                Some(target) => target,
                None => {
                    self.progress.experiments.add(1);
                    continue;
                }
            };
            match self.import_experiment(experiment, &target).await {
                Ok(()) => {
                    imported_experiments.insert(experiment.experiment_id.clone(), target.id.clone());
                }
                Err(e) => self.problem(format!("experiment {} '{}': {e:#}", experiment.experiment_id, experiment.name)),
            }
            self.progress.experiments.add(1);
        }
        if let Err(e) = self.import_registry().await {
            self.problem(format!("model registry: {e:#}"));
        }
        if let Err(e) = self.import_dashboards(&imported_experiments).await {
            self.problem(format!("dashboards: {e:#}"));
        }
        Ok(self.report().clone())
    }

    /// Decides where a source experiment goes; `None` when it is skipped.
    async fn target(&self, src: &Experiment, existing: &[Experiment], next_free: &mut i64) -> Result<Option<Target>> {
        let marker_key = format!("experiment:{}", src.experiment_id);
        let mapped = self.store.import_marker(self.source.id(), &marker_key).await.map_err(err)?;
        let by_id = |id: &str| existing.iter().find(|e| e.experiment_id == id);
        let root = self.options.artifact_root.trim_end_matches('/');
        let fresh = |id: String, name: String| {
            let location = format!("{root}/{id}");
            let row =
                Experiment { experiment_id: id.clone(), name, artifact_location: location.clone(), ..src.clone() };
            Target { id, location, row: Some(row), created: true }
        };
        // Imported before: the same experiment again.
        if let Some(dst) = mapped.as_deref().and_then(by_id) {
            let row = Experiment {
                experiment_id: dst.experiment_id.clone(),
                name: dst.name.clone(),
                artifact_location: dst.artifact_location.clone(),
                ..src.clone()
            };
            return Ok(Some(Target {
                id: dst.experiment_id.clone(),
                location: dst.artifact_location.clone(),
                row: Some(row),
                created: false,
            }));
        }
        let same_name = existing.iter().find(|e| e.name == src.name);
        match same_name {
            Some(dst) if dst.experiment_id == src.experiment_id => {
                // The same id and name (the Default experiment, or one made by hand): bring the source's state over.
                let row = Experiment { artifact_location: dst.artifact_location.clone(), ..src.clone() };
                Ok(Some(Target {
                    id: dst.experiment_id.clone(),
                    location: dst.artifact_location.clone(),
                    row: Some(row),
                    created: false,
                }))
            }
            Some(dst) => match self.options.on_conflict {
                OnConflict::Merge => {
                    self.report().skipped.push(format!(
                        "experiment {} '{}': the name is taken in mltrack by experiment {}; its runs go there (--on-conflict merge)",
                        src.experiment_id, src.name, dst.experiment_id
                    ));
                    Ok(Some(Target {
                        id: dst.experiment_id.clone(),
                        location: dst.artifact_location.clone(),
                        row: None,
                        created: false,
                    }))
                }
                OnConflict::Skip => {
                    self.report().skipped.push(format!(
                        "experiment {} '{}': the name is taken in mltrack by experiment {} (--on-conflict skip)",
                        src.experiment_id, src.name, dst.experiment_id
                    ));
                    Ok(None)
                }
                OnConflict::Rename => {
                    let mut name = format!("{} (imported)", src.name);
                    let mut n = 2;
                    while existing.iter().any(|e| e.name == name) {
                        name = format!("{} (imported {n})", src.name);
                        n += 1;
                    }
                    let id = if by_id(&src.experiment_id).is_none() {
                        src.experiment_id.clone()
                    } else {
                        self.allocate(next_free)
                    };
                    self.report().skipped.push(format!(
                        "experiment {} '{}': the name is taken in mltrack; imported as experiment {id} '{name}' (--on-conflict rename)",
                        src.experiment_id, src.name
                    ));
                    Ok(Some(fresh(id, name)))
                }
            },
            None => {
                let id = match by_id(&src.experiment_id) {
                    None => src.experiment_id.clone(),
                    Some(other) => {
                        let id = self.allocate(next_free);
                        self.report().skipped.push(format!(
                            "experiment {} '{}': id {} is taken in mltrack by '{}'; imported as experiment {id}",
                            src.experiment_id, src.name, src.experiment_id, other.name
                        ));
                        id
                    }
                };
                Ok(Some(fresh(id, src.name.clone())))
            }
        }
    }

    fn allocate(&self, next_free: &mut i64) -> String {
        let id = *next_free;
        *next_free += 1;
        id.to_string()
    }

    async fn import_experiment(&self, src: &Experiment, target: &Target) -> Result<()> {
        let source_id = self.source.id();
        if !src.artifact_location.is_empty() {
            self.uri_map.lock().expect("lock").insert(src.artifact_location.clone(), target.location.clone());
        }
        if self.options.dry_run {
            self.report().plan.push(format!(
                "experiment {} '{}' -> mltrack experiment {}{}",
                src.experiment_id,
                src.name,
                target.id,
                if target.created { " (new)" } else { "" }
            ));
        } else if let Some(row) = &target.row {
            self.store.import_experiment(row).await.map_err(err)?;
            self.store
                .set_import_marker(source_id, &format!("experiment:{}", src.experiment_id), &target.id)
                .await
                .map_err(err)?;
        }
        {
            let mut report = self.report();
            if target.created {
                report.experiments_created += 1;
            } else {
                report.experiments_updated += 1;
            }
        }
        let mut runs = Vec::new();
        for item in self.source.runs(&src.experiment_id).await? {
            match item {
                Ok(run) if self.options.skip_deleted && run.info.lifecycle_stage == LifecycleStage::Deleted => {
                    self.report().skipped.push(format!("run {}: deleted (--skip-deleted)", run.info.run_id));
                }
                Ok(run) => runs.push(run),
                Err(e) => self.problem(format!("experiment {} '{}': {e:#}", src.experiment_id, src.name)),
            }
        }
        self.progress.runs.add_total(runs.len() as u64);
        let parallel = self.source.parallelism().max(1);
        let mut results = futures::stream::iter(runs.into_iter().map(|run| async move {
            let run_id = run.info.run_id.clone();
            let result = self.import_run(run, target).await;
            self.progress.runs.add(1);
            (run_id, result)
        }))
        .buffer_unordered(parallel);
        while let Some((run_id, result)) = results.next().await {
            if let Err(e) = result {
                self.problem(format!("run {run_id} (experiment {}): {e:#}", src.experiment_id));
            }
        }
        drop(results);
        for item in self.source.logged_models(&src.experiment_id).await? {
            let model = match item {
                Ok(model) => model,
                Err(e) => {
                    self.problem(format!("experiment {} '{}': {e:#}", src.experiment_id, src.name));
                    continue;
                }
            };
            if self.options.skip_deleted && model.model.info.lifecycle_stage == Some(LifecycleStage::Deleted) {
                self.report()
                    .skipped
                    .push(format!("logged model {}: deleted (--skip-deleted)", model.model.info.model_id));
                continue;
            }
            let model_id = model.model.info.model_id.clone();
            if let Err(e) = self.import_model(model, target).await {
                self.problem(format!("logged model {model_id} (experiment {}): {e:#}", src.experiment_id));
            }
        }
        Ok(())
    }

    async fn import_run(&self, mut run: Run, target: &Target) -> Result<()> {
        let source_id = self.source.id();
        let run_id = run.info.run_id.clone();
        let marker_key = format!("run:{run_id}");
        let counts = self.source.metric_counts(&run).await?;
        let fingerprint = run_fingerprint(&run, counts.as_ref());
        let marker = self.store.import_marker(source_id, &marker_key).await.map_err(err)?;
        let src_uri = std::mem::take(&mut run.info.artifact_uri);
        // A run already in mltrack stays in the experiment it is in.
        let existing = self.store.get_run(&run_id).await.ok();
        let experiment_id = existing.as_ref().map_or(target.id.clone(), |r| r.info.experiment_id.clone());
        let dst_uri = match &existing {
            Some(r) if !r.info.artifact_uri.is_empty() => r.info.artifact_uri.clone(),
            _ => format!("{}/{run_id}/artifacts", target.location.trim_end_matches('/')),
        };
        self.uri_map.lock().expect("lock").insert(src_uri.clone(), dst_uri.clone());
        self.imported_runs.lock().expect("lock").insert(run_id.clone());
        // Runs still running may gain artifacts without any other change.
        if marker.as_deref() == Some(fingerprint.as_str()) && run.info.status != RunStatus::Running {
            self.report().runs_unchanged += 1;
            return Ok(());
        }
        let summaries: HashMap<String, MetricSummary> = match &existing {
            Some(_) => self
                .store
                .metric_summaries(&run_id)
                .await
                .map_err(err)?
                .into_iter()
                .map(|s| (s.key.clone(), s))
                .collect(),
            None => HashMap::new(),
        };
        let stale: Vec<String> = run
            .data
            .metrics
            .iter()
            .filter(|m| match summaries.get(&m.key) {
                None => true,
                Some(s) => {
                    !same_point(s, m)
                        || counts.as_ref().and_then(|c| c.get(&m.key)).is_some_and(|&n| n != s.count as u64)
                }
            })
            .map(|m| m.key.clone())
            .collect();
        if self.options.dry_run {
            let state = if existing.is_none() { "new" } else { "changed" };
            self.report().plan.push(format!("run {run_id} ({state}): {} metrics to copy", stale.len()));
            self.count_run(existing.is_none());
            return Ok(());
        }
        // Read everything first: a source error leaves the run untouched.
        let mut histories = Vec::with_capacity(stale.len());
        for key in &stale {
            let points =
                self.source.metric_history(&run, key).await.map_err(|e| e.context(format!("metric '{key}'")))?;
            histories.push((key.clone(), points));
        }
        run.info.experiment_id = experiment_id;
        run.info.artifact_uri = dst_uri.clone();
        self.store.import_run(&run).await.map_err(err)?;
        for (key, points) in &histories {
            self.write_points(&run_id, key, points).await?;
        }
        self.count_run(existing.is_none());
        self.copy_artifacts(&src_uri, &dst_uri).await.map_err(|e| e.context("artifacts"))?;
        self.store.set_import_marker(source_id, &marker_key, &fingerprint).await.map_err(err)?;
        Ok(())
    }

    fn count_run(&self, new: bool) {
        let mut report = self.report();
        if new {
            report.runs_new += 1;
        } else {
            report.runs_updated += 1;
        }
    }

    async fn write_points(&self, run_id: &str, key: &str, points: &[Point]) -> Result<()> {
        for chunk in points.chunks(POINTS_PER_WRITE) {
            let inserted = self
                .store
                .import_metric_points(run_id, key, chunk)
                .await
                .map_err(|e| anyhow!("metric '{key}': {}", e.detail()))?;
            self.progress.points.add(chunk.len() as u64);
            let newest = chunk.iter().map(|p| p.timestamp).max();
            let mut report = self.report();
            report.points += inserted;
            report.newest_point = report.newest_point.max(newest);
        }
        Ok(())
    }

    /// Copies every file under `src_uri` that mltrack lacks (or holds with
    /// another size) to `dst_uri`, streaming.
    async fn copy_artifacts(&self, src_uri: &str, dst_uri: &str) -> Result<()> {
        if src_uri.is_empty() {
            return Ok(());
        }
        let files = self.source.list_artifacts(src_uri).await?;
        let dst_root = ArtifactPath::from_root_uri(dst_uri)
            .ok_or_else(|| anyhow!("mltrack's artifact URI {dst_uri} is not one this import can write to"))?;
        self.progress.artifact_bytes.add_total(files.iter().map(|f| f.size).sum());
        for ArtifactFile { path, size } in files {
            let rel = ArtifactPath::parse(&path).map_err(|e| anyhow!("artifact '{path}': {}", e.detail()))?;
            let dst = dst_root.join(&rel);
            let have = self.artifacts.stat(&dst).await.map_err(err)?;
            if have == Some(size) {
                self.progress.artifact_bytes.add(size);
                continue;
            }
            let progress = self.progress.clone();
            let stream = self
                .source
                .read_artifact(src_uri, &path)
                .await
                .map_err(|e| e.context(format!("artifact '{path}'")))?
                .inspect_ok(move |chunk| progress.artifact_bytes.add(chunk.len() as u64))
                .map_err(|e| format!("{e:#}"));
            let written =
                self.artifacts.put(&dst, stream).await.map_err(|e| anyhow!("artifact '{path}': {}", e.detail()))?;
            let mut report = self.report();
            report.artifact_files += 1;
            report.artifact_bytes += written;
        }
        Ok(())
    }

    async fn import_model(&self, model: SourceModel, target: &Target) -> Result<()> {
        let source_id = self.source.id();
        let model_id = model.model.info.model_id.clone();
        let marker_key = format!("model:{model_id}");
        let fingerprint = model_fingerprint(&model);
        let src_uri = model.model.info.artifact_uri.clone();
        let dst_uri = format!("{}/models/{model_id}/artifacts", target.location.trim_end_matches('/'));
        self.uri_map.lock().expect("lock").insert(src_uri.clone(), dst_uri.clone());
        self.imported_models.lock().expect("lock").insert(model_id.clone());
        let marker = self.store.import_marker(source_id, &marker_key).await.map_err(err)?;
        if marker.as_deref() == Some(fingerprint.as_str()) {
            return Ok(());
        }
        self.report().logged_models += 1;
        if self.options.dry_run {
            self.report().plan.push(format!("logged model {model_id}"));
            return Ok(());
        }
        let mut row = model.model.clone();
        row.info.experiment_id = target.id.clone();
        row.info.artifact_uri = dst_uri.clone();
        self.store.import_logged_model(&row, &model.metrics).await.map_err(err)?;
        self.copy_artifacts(&src_uri, &dst_uri).await.map_err(|e| e.context("artifacts"))?;
        self.store.set_import_marker(source_id, &marker_key, &fingerprint).await.map_err(err)?;
        Ok(())
    }

    /// A source artifact URI in mltrack's terms: the longest known root it
    /// lies under, swapped for mltrack's.
    fn map_uri(&self, uri: &str) -> Option<String> {
        let map = self.uri_map.lock().expect("lock");
        map.iter()
            .filter(|(src, _)| {
                !src.is_empty() && (uri == *src || uri.starts_with(&format!("{}/", src.trim_end_matches('/'))))
            })
            .max_by_key(|(src, _)| src.len())
            .map(|(src, dst)| format!("{}{}", dst.trim_end_matches('/'), &uri[src.trim_end_matches('/').len()..]))
    }

    /// Brings mltrack's dashboards over with their ids, versions and
    /// authors, showing the experiments they showed in the source (under
    /// the ids those got here). One that shows an experiment this import
    /// left out, or (with --experiment) pinned runs it did not bring, is
    /// skipped and said so.
    async fn import_dashboards(&self, experiments: &HashMap<String, String>) -> Result<()> {
        let filtered = !self.options.experiments.is_empty();
        for mut dashboard in self.source.dashboards().await? {
            let label = format!("dashboard {} '{}'", dashboard.dashboard_id, dashboard.spec.name);
            if let Some(missing) = dashboard.spec.experiment_ids.iter().find(|e| !experiments.contains_key(*e)) {
                self.report().skipped.push(format!("{label}: it shows experiment {missing}, which was not imported"));
                continue;
            }
            if filtered && dashboard.spec.experiment_ids.is_empty() {
                let imported = self.imported_runs.lock().expect("lock");
                if let Some(missing) = dashboard.spec.run_ids.iter().find(|r| !imported.contains(*r)) {
                    self.report().skipped.push(format!("{label}: it shows run {missing}, which was not imported"));
                    continue;
                }
            }
            for id in &mut dashboard.spec.experiment_ids {
                *id = experiments[id.as_str()].clone();
            }
            dashboard.spec = match dashboard.spec.checked() {
                Ok(spec) => spec,
                Err(e) => {
                    self.problem(format!("{label}: {}", e.message));
                    continue;
                }
            };
            if self.options.dry_run {
                let mut report = self.report();
                report.dashboards += 1;
                report.plan.push(label);
                continue;
            }
            match self.store.get_dashboard(&dashboard.dashboard_id).await {
                Ok(stored) if stored == dashboard => {}
                // Saved here after the version in the source: a newer edit is never undone.
                Ok(stored) if stored.version > dashboard.version => {
                    self.report().skipped.push(format!(
                        "{label}: mltrack has version {}, newer than the source's {}; kept",
                        stored.version, dashboard.version
                    ));
                    continue;
                }
                Ok(stored) => self.store.replace_dashboard(&dashboard, stored.version).await.map_err(err)?,
                Err(e) if e.error_code == tracking::ErrorCode::ResourceDoesNotExist => {
                    self.store.insert_dashboard(&dashboard).await.map_err(err)?
                }
                Err(e) => return Err(err(e)),
            }
            self.report().dashboards += 1;
        }
        Ok(())
    }

    async fn import_registry(&self) -> Result<()> {
        let filtered = !self.options.experiments.is_empty();
        for item in self.source.registered_models().await? {
            let SourceRegisteredModel { model, versions } = match item {
                Ok(m) => m,
                Err(e) => {
                    self.problem(format!("{e:#}"));
                    continue;
                }
            };
            let versions: Vec<_> = versions
                .into_iter()
                .filter(|v| {
                    !filtered
                        || v.run_id.as_ref().is_some_and(|r| self.imported_runs.lock().expect("lock").contains(r))
                        || v.model_id.as_ref().is_some_and(|m| self.imported_models.lock().expect("lock").contains(m))
                })
                .collect();
            if filtered && versions.is_empty() {
                continue;
            }
            {
                let mut report = self.report();
                report.registered_models += 1;
                report.model_versions += versions.len() as u64;
            }
            if self.options.dry_run {
                self.report().plan.push(format!("registered model '{}' with {} versions", model.name, versions.len()));
                continue;
            }
            let name = model.name.clone();
            let result: Result<()> = async {
                self.store.import_registered_model(&model).await.map_err(err)?;
                for mut v in versions {
                    if v.model_id.is_none() {
                        v.model_id = v.source.as_deref().and_then(logged_model_of);
                    }
                    let storage = self.storage_location(&v);
                    if let Some(source) = v.source.as_deref().filter(|s| !is_model_uri(s)) {
                        if let Some(mapped) = self.map_uri(source) {
                            v.source = Some(mapped);
                        }
                    }
                    self.store
                        .import_model_version(&v, storage.as_deref())
                        .await
                        .map_err(|e| anyhow!("version {}: {}", v.version, e.detail()))?;
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                self.problem(format!("registered model '{name}': {e:#}"));
            }
        }
        Ok(())
    }

    /// Where a version's files are in mltrack.
    fn storage_location(&self, v: &tracking::registry::ModelVersion) -> Option<String> {
        let source = v.source.as_deref()?;
        if let Some(model_id) = &v.model_id {
            let map = self.uri_map.lock().expect("lock");
            if let Some(dst) = map.values().find(|dst| dst.ends_with(&format!("/models/{model_id}/artifacts"))) {
                return Some(dst.clone());
            }
        }
        if let Some(rest) = source.strip_prefix("runs:/") {
            let (run_id, path) = rest.split_once('/').unwrap_or((rest, ""));
            let map = self.uri_map.lock().expect("lock");
            let dst = map.values().find(|dst| dst.ends_with(&format!("/{run_id}/artifacts")))?;
            return Some(format!("{dst}/{path}").trim_end_matches('/').to_string());
        }
        self.map_uri(source)
    }
}

fn is_model_uri(uri: &str) -> bool {
    uri.starts_with("runs:/") || uri.starts_with("models:/")
}

/// The logged model id in `models:/m-…`.
fn logged_model_of(source: &str) -> Option<String> {
    let rest = source.strip_prefix("models:/")?;
    let id = rest.split('/').next()?;
    id.starts_with("m-").then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_see_changes() {
        assert_eq!(fnv(b"abc"), fnv(b"abc"));
        assert_ne!(fnv(b"abc"), fnv(b"abd"));
        assert_eq!(fnv(b""), "cbf29ce484222325");
    }

    #[test]
    fn conflict_modes_parse() {
        assert_eq!("rename".parse::<OnConflict>(), Ok(OnConflict::Rename));
        assert!("replace".parse::<OnConflict>().is_err());
        assert_eq!(logged_model_of("models:/m-abc/x"), Some("m-abc".into()));
        assert_eq!(logged_model_of("models:/name/1"), None);
    }
}
