//! Reading the folder the MLflow client writes with
//! `MLFLOW_TRACKING_URI=file:./mlruns`: `meta.yaml` files, one file per
//! metric (`timestamp value step` lines), param and tag files, artifacts.

use crate::source::{sort_points, ArtifactFile, ByteStream, Items, Source, SourceModel, SourceRegisteredModel};
use crate::uri_artifacts::UriArtifacts;
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tracking::registry::{ModelVersion, RegisteredModel, RegisteredModelAlias};
use tracking::{
    Dataset, DatasetInput, Experiment, KeyValue, LifecycleStage, LoggedModel, LoggedModelData, LoggedModelInfo,
    LoggedModelStatus, Metric, ModelInput, ModelMetric, ModelOutput, Point, Run, RunData, RunInfo, RunInputs,
    RunOutputs, RunStatus,
};

const TRASH: &str = ".trash";
/// Folders of an experiment that are not runs.
const RESERVED: [&str; 4] = ["tags", "datasets", "traces", "models"];

/// A parsed `meta.yaml`.
struct Meta {
    path: PathBuf,
    map: serde_yaml::Mapping,
}

impl Meta {
    fn read(dir: &Path) -> Result<Meta> {
        let path = dir.join("meta.yaml");
        let text = std::fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
        let value: serde_yaml::Value =
            serde_yaml::from_str(&text).with_context(|| format!("{} is not valid YAML", path.display()))?;
        match value {
            serde_yaml::Value::Mapping(map) => Ok(Meta { path, map }),
            _ => bail!("{} does not hold a mapping", path.display()),
        }
    }

    fn get(&self, key: &str) -> Option<&serde_yaml::Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| match v {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            _ => String::new(),
        })
    }

    fn required(&self, key: &str) -> Result<String> {
        self.text(key).ok_or_else(|| anyhow!("{} has no {key}", self.path.display()))
    }

    fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(serde_yaml::Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| anyhow!("{}: {key} is not an integer", self.path.display()))
            }
            Some(serde_yaml::Value::String(s)) => {
                s.parse().map(Some).map_err(|_| anyhow!("{}: {key} is not an integer", self.path.display()))
            }
            Some(_) => bail!("{}: {key} is not an integer", self.path.display()),
        }
    }
}

fn stage(meta: &Meta) -> Result<LifecycleStage> {
    let text = meta.text("lifecycle_stage").unwrap_or_else(|| "active".into());
    LifecycleStage::parse(&text).ok_or_else(|| anyhow!("{}: unknown lifecycle_stage '{text}'", meta.path.display()))
}

/// Key/value files under `dir` (a key with `/` is a nested file), sorted by key.
fn read_pairs(dir: &Path) -> Result<Vec<KeyValue>> {
    let mut pairs = Vec::new();
    if !dir.is_dir() {
        return Ok(pairs);
    }
    for (key, path) in files_under(dir)? {
        let value = std::fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
        pairs.push(KeyValue { key, value });
    }
    pairs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(pairs)
}

/// Files under `dir`, each with its path relative to `dir` (`/`-separated).
fn files_under(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).with_context(|| format!("could not list {}", current.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((rel, path));
            }
        }
    }
    Ok(out)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    if !dir.is_dir() {
        return Ok(dirs);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("could not list {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One metric file line: `timestamp value [step]` (plus dataset fields in
/// newer files), as MLflow's file store reads it.
fn parse_metric_line(line: &str) -> Option<(i64, f64, i64)> {
    let parts: Vec<&str> = line.split(' ').collect();
    if !matches!(parts.len(), 2 | 3 | 5) {
        return None;
    }
    let timestamp = parts[0].parse().ok()?;
    let value = parse_float(parts[1])?;
    let step = if parts.len() >= 3 { parts[2].parse().ok()? } else { 0 };
    Some((timestamp, value, step))
}

fn parse_float(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

fn read_metric_file(path: &Path) -> Result<Vec<Point>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    let mut points = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (timestamp, value, step) = parse_metric_line(line)
            .ok_or_else(|| anyhow!("{} line {}: '{line}' is not 'timestamp value step'", path.display(), n + 1))?;
        points.push(Point { step, timestamp, value });
    }
    Ok(points)
}

/// A run's or model's artifact root. The file store puts artifacts in the
/// object's own `artifacts` folder and writes that absolute path into
/// meta.yaml; a folder that was moved or copied (or a deleted experiment
/// moved to `.trash`) still names the old place. So a local root in that
/// default layout is read from the folder being imported; any other root
/// (S3, a server, a custom location) as written.
fn local_root(uri: String, dir: &Path) -> String {
    let is_local = !uri.contains("://") || uri.starts_with("file://");
    let default_layout = uri.trim_end_matches('/').ends_with(&format!("/{}/artifacts", name_of(dir)));
    if is_local && default_layout {
        return format!("file://{}", dir.join("artifacts").display());
    }
    uri
}

/// MLflow's latest point of a history: highest (step, timestamp, value).
fn latest(points: &[Point]) -> Option<Point> {
    let mut sorted = points.to_vec();
    sort_points(&mut sorted);
    sorted.last().copied()
}

pub struct MlrunsSource {
    root: PathBuf,
    id: String,
    artifacts: UriArtifacts,
    /// Where each experiment's folder is (`.trash` for deleted ones).
    experiment_dirs: std::sync::Mutex<HashMap<String, PathBuf>>,
}

impl MlrunsSource {
    /// `allowed_roots`: folders and buckets (named on the command line)
    /// whose artifact URIs may be read besides the mlruns folder itself.
    pub fn open(root: &Path, mut allowed_roots: Vec<String>) -> Result<Self> {
        let root = std::fs::canonicalize(root).with_context(|| format!("{} does not exist", root.display()))?;
        if !root.is_dir() {
            bail!("{} is not a folder", root.display());
        }
        let looks_like_mlruns = root.join("0").join("meta.yaml").is_file()
            || subdirs(&root)?.iter().any(|d| d.join("meta.yaml").is_file())
            || root.join(TRASH).is_dir();
        if !looks_like_mlruns {
            bail!("{} is not an mlruns folder: no experiment folder with a meta.yaml in it", root.display());
        }
        let id = format!("file://{}", root.display());
        allowed_roots.push(root.display().to_string());
        let artifacts = UriArtifacts { require_local_roots: true, allowed_roots, ..Default::default() };
        Ok(MlrunsSource { root, id, artifacts, experiment_dirs: Default::default() })
    }

    fn experiment_dir(&self, experiment_id: &str) -> Result<PathBuf> {
        if let Some(dir) = self.experiment_dirs.lock().expect("lock").get(experiment_id) {
            return Ok(dir.clone());
        }
        for dir in [self.root.join(experiment_id), self.root.join(TRASH).join(experiment_id)] {
            if dir.join("meta.yaml").is_file() {
                return Ok(dir);
            }
        }
        bail!("experiment {experiment_id} has no folder in {}", self.root.display())
    }

    fn read_experiment(&self, dir: &Path) -> Result<Experiment> {
        let meta = Meta::read(dir)?;
        Ok(Experiment {
            experiment_id: meta.text("experiment_id").unwrap_or_else(|| name_of(dir)),
            name: meta.required("name")?,
            artifact_location: meta.text("artifact_location").unwrap_or_default(),
            lifecycle_stage: stage(&meta)?,
            creation_time: meta.int("creation_time")?.unwrap_or(0),
            last_update_time: meta.int("last_update_time")?.unwrap_or(0),
            tags: read_pairs(&dir.join("tags"))?,
        })
    }

    fn read_run(&self, experiment_dir: &Path, dir: &Path) -> Result<Run> {
        let meta = Meta::read(dir)?;
        let run_id = meta.text("run_id").or_else(|| meta.text("run_uuid")).unwrap_or_else(|| name_of(dir));
        let status = match meta.get("status") {
            None => RunStatus::Running,
            Some(serde_yaml::Value::Number(n)) => match n.as_i64() {
                Some(1) => RunStatus::Running,
                Some(2) => RunStatus::Scheduled,
                Some(3) => RunStatus::Finished,
                Some(4) => RunStatus::Failed,
                Some(5) => RunStatus::Killed,
                _ => bail!("{}: unknown run status {n}", meta.path.display()),
            },
            Some(other) => {
                let text = other.as_str().unwrap_or_default();
                RunStatus::parse(text).ok_or_else(|| anyhow!("{}: unknown run status '{text}'", meta.path.display()))?
            }
        };
        let info = RunInfo {
            run_id: run_id.clone(),
            run_uuid: run_id.clone(),
            run_name: meta.text("run_name").unwrap_or_default(),
            experiment_id: meta.required("experiment_id")?,
            user_id: meta.text("user_id").unwrap_or_default(),
            status,
            start_time: meta.int("start_time")?.unwrap_or(0),
            end_time: meta.int("end_time")?,
            artifact_uri: local_root(meta.text("artifact_uri").unwrap_or_default(), dir),
            lifecycle_stage: stage(&meta)?,
        };
        let mut metrics = Vec::new();
        let metrics_dir = dir.join("metrics");
        if metrics_dir.is_dir() {
            for (key, path) in files_under(&metrics_dir)? {
                let points = read_metric_file(&path)?;
                if let Some(p) = latest(&points) {
                    metrics.push(Metric { key, value: p.value, timestamp: p.timestamp, step: p.step, run_id: None });
                }
            }
        }
        metrics.sort_by(|a, b| a.key.cmp(&b.key));
        let mut tags = read_pairs(&dir.join("tags"))?;
        if !info.run_name.is_empty() && !tags.iter().any(|t| t.key == tracking::tags::RUN_NAME) {
            tags.push(KeyValue::new(tracking::tags::RUN_NAME, &info.run_name));
        }
        let (inputs, model_inputs) = self.read_inputs(experiment_dir, dir)?;
        let mut model_outputs = Vec::new();
        for out in subdirs(&dir.join("outputs"))? {
            let meta = Meta::read(&out)?;
            model_outputs.push(ModelOutput {
                model_id: meta.text("source_id").unwrap_or_else(|| name_of(&out)),
                step: meta.int("step")?.unwrap_or(0),
            });
        }
        Ok(Run {
            info,
            data: RunData { metrics, params: read_pairs(&dir.join("params"))?, tags },
            inputs: RunInputs { dataset_inputs: inputs, model_inputs },
            outputs: RunOutputs { model_outputs },
        })
    }

    fn read_inputs(&self, experiment_dir: &Path, run_dir: &Path) -> Result<(Vec<DatasetInput>, Vec<ModelInput>)> {
        let mut datasets = Vec::new();
        let mut models = Vec::new();
        for input in subdirs(&run_dir.join("inputs"))? {
            let meta = Meta::read(&input)?;
            let source_id = meta.required("source_id")?;
            match meta.text("source_type").as_deref() {
                Some("MODEL") => models.push(ModelInput { model_id: source_id }),
                _ => {
                    let dataset = Meta::read(&experiment_dir.join("datasets").join(&source_id))?;
                    let mut tags: Vec<KeyValue> = match meta.get("tags") {
                        Some(serde_yaml::Value::Mapping(map)) => map
                            .iter()
                            .map(|(k, v)| KeyValue::new(k.as_str().unwrap_or_default(), v.as_str().unwrap_or_default()))
                            .collect(),
                        _ => Vec::new(),
                    };
                    tags.sort_by(|a, b| a.key.cmp(&b.key));
                    datasets.push(DatasetInput {
                        tags,
                        dataset: Dataset {
                            name: dataset.required("name")?,
                            digest: dataset.required("digest")?,
                            source_type: dataset.text("source_type").unwrap_or_default(),
                            source: dataset.text("source").unwrap_or_default(),
                            schema: dataset.text("schema"),
                            profile: dataset.text("profile"),
                        },
                    });
                }
            }
        }
        Ok((datasets, models))
    }

    fn run_dir(&self, run: &Run) -> Result<PathBuf> {
        Ok(self.experiment_dir(&run.info.experiment_id)?.join(&run.info.run_id))
    }

    fn read_model(&self, dir: &Path) -> Result<SourceModel> {
        let meta = Meta::read(dir)?;
        let model_id = meta.text("model_id").unwrap_or_else(|| name_of(dir));
        let status = match meta.get("status") {
            Some(serde_yaml::Value::Number(n)) => n.as_i64().and_then(LoggedModelStatus::from_int),
            Some(serde_yaml::Value::String(s)) => LoggedModelStatus::parse(s),
            _ => None,
        }
        .unwrap_or(LoggedModelStatus::LoggedModelPending);
        let mut metrics = Vec::new();
        let metrics_dir = dir.join("metrics");
        if metrics_dir.is_dir() {
            for (key, path) in files_under(&metrics_dir)? {
                let text =
                    std::fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
                for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
                    let parts: Vec<&str> = line.split(' ').collect();
                    let bad = || anyhow!("{} line {}: '{line}' is malformed", path.display(), n + 1);
                    if !matches!(parts.len(), 4 | 6) {
                        return Err(bad());
                    }
                    metrics.push(ModelMetric {
                        key: key.clone(),
                        timestamp: parts[0].parse().map_err(|_| bad())?,
                        value: parse_float(parts[1]).ok_or_else(bad)?,
                        step: parts[2].parse().map_err(|_| bad())?,
                        model_id: model_id.clone(),
                        run_id: Some(parts[3].to_string()).filter(|r| !r.is_empty() && r != "None"),
                        dataset_name: parts.get(4).map(|s| s.to_string()),
                        dataset_digest: parts.get(5).map(|s| s.to_string()),
                    });
                }
            }
        }
        let info = LoggedModelInfo {
            model_id: model_id.clone(),
            experiment_id: meta.required("experiment_id")?,
            name: meta.text("name").unwrap_or_default(),
            creation_timestamp_ms: meta.int("creation_timestamp")?.unwrap_or(0),
            last_updated_timestamp_ms: meta.int("last_updated_timestamp")?.unwrap_or(0),
            artifact_uri: local_root(meta.text("artifact_location").unwrap_or_default(), dir),
            status,
            model_type: meta.text("model_type").filter(|t| !t.is_empty()),
            source_run_id: meta.text("source_run_id").filter(|t| !t.is_empty()),
            status_message: meta.text("status_message").filter(|t| !t.is_empty()),
            tags: read_pairs(&dir.join("tags"))?,
            registrations: Vec::new(),
            lifecycle_stage: Some(stage(&meta)?),
        };
        Ok(SourceModel {
            model: LoggedModel {
                info,
                data: LoggedModelData { params: read_pairs(&dir.join("params"))?, metrics: Vec::new() },
            },
            metrics,
        })
    }

    fn read_registered_model(&self, dir: &Path) -> Result<SourceRegisteredModel> {
        let meta = Meta::read(dir)?;
        let name = meta.required("name")?;
        let mut aliases = Vec::new();
        for (alias, path) in files_under(&dir.join("aliases")).unwrap_or_default() {
            let version = std::fs::read_to_string(&path)?.trim().to_string();
            aliases.push(RegisteredModelAlias { alias, version });
        }
        aliases.sort_by(|a, b| a.alias.cmp(&b.alias));
        let model = RegisteredModel {
            name: name.clone(),
            creation_timestamp: meta.int("creation_timestamp")?.unwrap_or(0),
            last_updated_timestamp: meta.int("last_updated_timestamp")?.unwrap_or(0),
            description: meta.text("description").filter(|d| !d.is_empty()),
            latest_versions: Vec::new(),
            tags: read_pairs(&dir.join("tags"))?,
            aliases: aliases.clone(),
        };
        let mut versions = Vec::new();
        for vdir in subdirs(dir)? {
            if !name_of(&vdir).starts_with("version-") {
                continue;
            }
            let meta = Meta::read(&vdir)?;
            let version = meta.required("version")?;
            versions.push(ModelVersion {
                name: name.clone(),
                version: version.clone(),
                creation_timestamp: meta.int("creation_timestamp")?.unwrap_or(0),
                last_updated_timestamp: meta.int("last_updated_timestamp")?.unwrap_or(0),
                user_id: meta.text("user_id").filter(|u| !u.is_empty()),
                current_stage: meta.text("current_stage").unwrap_or_else(|| "None".into()),
                description: meta.text("description").filter(|d| !d.is_empty()),
                source: meta.text("source"),
                run_id: meta.text("run_id").filter(|r| !r.is_empty()),
                status: meta.text("status").unwrap_or_else(|| "READY".into()),
                status_message: meta.text("status_message").filter(|m| !m.is_empty()),
                tags: read_pairs(&vdir.join("tags"))?,
                run_link: meta.text("run_link").filter(|l| !l.is_empty()),
                aliases: aliases.iter().filter(|a| a.version == version).map(|a| a.alias.clone()).collect(),
                model_id: meta.text("model_id").filter(|m| !m.is_empty()),
            });
        }
        versions.sort_by_key(|v| v.version.parse::<i64>().unwrap_or(0));
        Ok(SourceRegisteredModel { model, versions })
    }
}

#[async_trait]
impl Source for MlrunsSource {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("MLflow file store at {}", self.root.display())
    }

    fn parallelism(&self) -> usize {
        2
    }

    async fn experiments(&self) -> Result<Items<Experiment>> {
        let mut experiments = Vec::new();
        let mut problems = Vec::new();
        let mut dirs = HashMap::new();
        let candidates = subdirs(&self.root)?.into_iter().chain(subdirs(&self.root.join(TRASH))?);
        for dir in candidates {
            let name = name_of(&dir);
            if name == TRASH || name == "models" || !dir.join("meta.yaml").exists() {
                continue;
            }
            match self.read_experiment(&dir) {
                Ok(e) => {
                    dirs.insert(e.experiment_id.clone(), dir);
                    experiments.push(e);
                }
                Err(e) => problems.push(Err(e.context(format!("experiment folder {}", dir.display())))),
            }
        }
        experiments.sort_by_key(|e| e.experiment_id.parse::<i64>().unwrap_or(i64::MAX));
        *self.experiment_dirs.lock().expect("lock") = dirs;
        Ok(experiments.into_iter().map(Ok).chain(problems).collect())
    }

    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>> {
        let dir = self.experiment_dir(experiment_id)?;
        let mut runs = Vec::new();
        for run_dir in subdirs(&dir)? {
            if RESERVED.contains(&name_of(&run_dir).as_str()) || !run_dir.join("meta.yaml").exists() {
                continue;
            }
            runs.push(self.read_run(&dir, &run_dir).with_context(|| format!("run folder {}", run_dir.display())));
        }
        Ok(runs)
    }

    async fn metric_counts(&self, run: &Run) -> Result<Option<HashMap<String, u64>>> {
        let dir = self.run_dir(run)?.join("metrics");
        let mut counts = HashMap::new();
        if dir.is_dir() {
            for (key, path) in files_under(&dir)? {
                let text = std::fs::read_to_string(&path)?;
                counts.insert(key, text.lines().filter(|l| !l.trim().is_empty()).count() as u64);
            }
        }
        Ok(Some(counts))
    }

    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>> {
        let path = self.run_dir(run)?.join("metrics").join(key);
        let mut points = read_metric_file(&path)?;
        sort_points(&mut points);
        Ok(points)
    }

    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>> {
        let dir = self.experiment_dir(experiment_id)?.join("models");
        let mut models = Vec::new();
        for model_dir in subdirs(&dir)? {
            models.push(
                self.read_model(&model_dir).with_context(|| format!("logged model folder {}", model_dir.display())),
            );
        }
        Ok(models)
    }

    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>> {
        let mut models = Vec::new();
        for dir in subdirs(&self.root.join("models"))? {
            models.push(
                self.read_registered_model(&dir).with_context(|| format!("registered model folder {}", dir.display())),
            );
        }
        Ok(models)
    }

    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        self.artifacts.list(root_uri).await
    }

    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        self.artifacts.read(root_uri, path).await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_metric_line;

    #[test]
    fn metric_lines_as_mlflow_writes_them() {
        assert_eq!(parse_metric_line("1700000000000 0.5 3"), Some((1700000000000, 0.5, 3)));
        assert_eq!(parse_metric_line("1700000000000 0.5"), Some((1700000000000, 0.5, 0)));
        let (_, v, _) = parse_metric_line("1 nan 2").unwrap();
        assert!(v.is_nan());
        assert_eq!(parse_metric_line("1 inf 2").map(|p| p.1), Some(f64::INFINITY));
        assert_eq!(parse_metric_line("1 -inf 2").map(|p| p.1), Some(f64::NEG_INFINITY));
        assert_eq!(parse_metric_line("1 x 2"), None);
        assert_eq!(parse_metric_line("1 0.5 2 extra"), None);
    }
}
