//! `mltrack export --to FILE`: one portable file (a tar archive) holding
//! experiments, runs with every metric point, logged models, the registry
//! and all artifacts; `mltrack import --from FILE` reads it back.
//!
//! Layout, readable with `tar tf`:
//! - `mltrack-export.json`: format, version, where it came from, when
//! - `experiments.json`
//! - `runs/<experiment>/<run>.json`: the run and the archive entries of its metric histories
//! - `metrics/<run>/<n>.bin`: a history, 24 bytes a point (step, timestamp, value bits; little-endian)
//! - `models/<experiment>/<model>.json`, `registry/<n>.json`
//! - `dashboards.json`: mltrack's dashboards (absent in older exports)
//! - `artifacts/runs/<run>/…`, `artifacts/models/<model>/…`: the files

use crate::source::{ArtifactFile, ByteStream, Items, Source, SourceModel, SourceRegisteredModel};
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tracking::dashboards::Dashboard;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Experiment, LoggedModel, ModelMetric, Point, Run};

const MANIFEST: &str = "mltrack-export.json";
const FORMAT: &str = "mltrack-export";
const VERSION: u32 = 1;
/// Artifact roots inside an archive.
const SCHEME: &str = "mltrack-export:";
const DASHBOARDS: &str = "dashboards.json";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    source: String,
    created: i64,
}

#[derive(Serialize, Deserialize)]
struct RunEntry {
    run: Run,
    /// Metric key → archive entry of its history.
    histories: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct ModelEntry {
    model: LoggedModel,
    metrics: Vec<ModelMetric>,
}

#[derive(Serialize, Deserialize)]
struct RegistryEntry {
    model: RegisteredModel,
    versions: Vec<ModelVersion>,
}

fn encode_points(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * 24);
    for p in points {
        out.extend_from_slice(&p.step.to_le_bytes());
        out.extend_from_slice(&p.timestamp.to_le_bytes());
        out.extend_from_slice(&p.value.to_bits().to_le_bytes());
    }
    out
}

fn decode_points(bytes: &[u8]) -> Result<Vec<Point>> {
    if !bytes.len().is_multiple_of(24) {
        bail!("a metric history entry of {} bytes is not a whole number of points", bytes.len());
    }
    Ok(bytes
        .chunks_exact(24)
        .map(|c| Point {
            step: i64::from_le_bytes(c[0..8].try_into().expect("8 bytes")),
            timestamp: i64::from_le_bytes(c[8..16].try_into().expect("8 bytes")),
            value: f64::from_bits(u64::from_le_bytes(c[16..24].try_into().expect("8 bytes"))),
        })
        .collect())
}

/// Adapts an async byte stream to `Read` for the blocking tar writer.
struct StreamReader {
    stream: ByteStream,
    buffer: bytes::Bytes,
    handle: tokio::runtime::Handle,
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buffer.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(chunk)) => self.buffer = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(format!("{e:#}"))),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buffer.len());
        out[..n].copy_from_slice(&self.buffer[..n]);
        let _ = self.buffer.split_to(n);
        Ok(n)
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportReport {
    pub experiments: u64,
    pub runs: u64,
    pub points: u64,
    pub artifact_files: u64,
    pub artifact_bytes: u64,
    pub logged_models: u64,
    pub registered_models: u64,
    pub dashboards: u64,
}

/// Writes everything `source` holds to the archive at `path`. Runs on a
/// blocking thread (tar writes are synchronous); reads go back to the runtime.
pub async fn export(source: std::sync::Arc<dyn Source>, path: &Path, experiments: Vec<String>) -> Result<ExportReport> {
    let path = path.to_path_buf();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || write_archive(&*source, &path, &experiments, &handle))
        .await
        .map_err(|e| anyhow!("the export stopped: {e}"))?
}

fn append(builder: &mut tar::Builder<std::io::BufWriter<std::fs::File>>, name: &str, bytes: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(store::now_millis() as u64 / 1000);
    builder.append_data(&mut header, name, bytes).with_context(|| format!("could not write {name}"))
}

fn write_archive(
    source: &dyn Source,
    path: &Path,
    only: &[String],
    handle: &tokio::runtime::Handle,
) -> Result<ExportReport> {
    let partial = path.with_extension("partial");
    let file = std::fs::File::create(&partial).with_context(|| format!("could not create {}", partial.display()))?;
    let mut builder = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let mut report = ExportReport::default();
    let manifest =
        Manifest { format: FORMAT.into(), version: VERSION, source: source.id().into(), created: store::now_millis() };
    append(&mut builder, MANIFEST, &serde_json::to_vec_pretty(&manifest)?)?;
    let mut experiments: Vec<Experiment> = handle.block_on(source.experiments())?.into_iter().collect::<Result<_>>()?;
    if !only.is_empty() {
        experiments.retain(|e| only.iter().any(|w| w == &e.experiment_id || w == &e.name));
    }
    append(&mut builder, "experiments.json", &serde_json::to_vec(&experiments)?)?;
    report.experiments = experiments.len() as u64;
    let copy_artifacts =
        |builder: &mut tar::Builder<_>, root: &str, prefix: &str, report: &mut ExportReport| -> Result<()> {
            for ArtifactFile { path, size } in handle.block_on(source.list_artifacts(root))? {
                let stream = handle.block_on(source.read_artifact(root, &path))?;
                let mut header = tar::Header::new_gnu();
                header.set_size(size);
                header.set_mode(0o644);
                header.set_mtime(store::now_millis() as u64 / 1000);
                let reader = StreamReader { stream, buffer: bytes::Bytes::new(), handle: handle.clone() };
                // A file that changed size since it was listed fails the export rather than corrupt it.
                let mut counted = reader.take(size + 1);
                let name = format!("{prefix}/{path}");
                builder.append_data(&mut header, &name, &mut counted).with_context(|| format!("artifact {name}"))?;
                if counted.limit() != 1 {
                    bail!("artifact {name} changed while it was exported");
                }
                report.artifact_files += 1;
                report.artifact_bytes += size;
            }
            Ok(())
        };
    for e in &experiments {
        for run in handle.block_on(source.runs(&e.experiment_id))? {
            let run = run?;
            let run_id = run.info.run_id.clone();
            let mut histories = Vec::new();
            for (n, m) in run.data.metrics.iter().enumerate() {
                let points = handle.block_on(source.metric_history(&run, &m.key))?;
                let entry = format!("metrics/{run_id}/{n}.bin");
                append(&mut builder, &entry, &encode_points(&points))?;
                report.points += points.len() as u64;
                histories.push((m.key.clone(), entry));
            }
            copy_artifacts(&mut builder, &run.info.artifact_uri, &format!("artifacts/runs/{run_id}"), &mut report)?;
            let entry = RunEntry { run, histories };
            append(&mut builder, &format!("runs/{}/{run_id}.json", e.experiment_id), &serde_json::to_vec(&entry)?)?;
            report.runs += 1;
        }
        for model in handle.block_on(source.logged_models(&e.experiment_id))? {
            let SourceModel { model, metrics } = model?;
            let id = model.info.model_id.clone();
            copy_artifacts(&mut builder, &model.info.artifact_uri, &format!("artifacts/models/{id}"), &mut report)?;
            append(
                &mut builder,
                &format!("models/{}/{id}.json", e.experiment_id),
                &serde_json::to_vec(&ModelEntry { model, metrics })?,
            )?;
            report.logged_models += 1;
        }
    }
    for (n, model) in handle.block_on(source.registered_models())?.into_iter().enumerate() {
        let SourceRegisteredModel { model, versions } = model?;
        append(&mut builder, &format!("registry/{n}.json"), &serde_json::to_vec(&RegistryEntry { model, versions })?)?;
        report.registered_models += 1;
    }
    let mut dashboards = handle.block_on(source.dashboards())?;
    if !only.is_empty() {
        // A dashboard goes with a partial export when all it shows is in it.
        let exported: std::collections::HashSet<&str> = experiments.iter().map(|e| e.experiment_id.as_str()).collect();
        dashboards.retain(|d| {
            !d.spec.experiment_ids.is_empty() && d.spec.experiment_ids.iter().all(|e| exported.contains(e.as_str()))
        });
    }
    append(&mut builder, DASHBOARDS, &serde_json::to_vec(&dashboards)?)?;
    report.dashboards = dashboards.len() as u64;
    let mut out = builder.into_inner().context("could not finish the archive")?;
    out.flush()?;
    out.get_ref().sync_all()?;
    drop(out);
    std::fs::rename(&partial, path).with_context(|| format!("could not move the archive to {}", path.display()))?;
    Ok(report)
}

/// An export file opened for import: its entries indexed once by offset.
pub struct ArchiveSource {
    path: PathBuf,
    id: String,
    manifest_source: String,
    entries: BTreeMap<String, (u64, u64)>,
}

impl ArchiveSource {
    pub fn open(path: &Path) -> Result<Self> {
        let path = std::fs::canonicalize(path).with_context(|| format!("{} does not exist", path.display()))?;
        let file = std::fs::File::open(&path).with_context(|| format!("could not open {}", path.display()))?;
        let mut archive = tar::Archive::new(file);
        let mut entries = BTreeMap::new();
        for entry in
            archive.entries_with_seek().with_context(|| format!("{} is not an mltrack export", path.display()))?
        {
            let entry = entry.with_context(|| format!("{} is damaged", path.display()))?;
            let name = entry.path()?.to_string_lossy().into_owned();
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        let mut source = ArchiveSource { id: String::new(), manifest_source: String::new(), path, entries };
        let manifest: Manifest = serde_json::from_slice(
            &source
                .read(MANIFEST)
                .with_context(|| format!("{} is not an mltrack export file", source.path.display()))?,
        )
        .with_context(|| format!("{} has a damaged {MANIFEST}", source.path.display()))?;
        if manifest.format != FORMAT || manifest.version > VERSION {
            bail!(
                "{} is format {} version {}; this mltrack reads {FORMAT} version {VERSION}",
                source.path.display(),
                manifest.format,
                manifest.version
            );
        }
        source.id = format!("mltrack-export:{}@{}", manifest.source, manifest.created);
        source.manifest_source = manifest.source;
        Ok(source)
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let &(offset, size) = self.entries.get(name).ok_or_else(|| anyhow!("the export has no entry {name}"))?;
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = vec![0u8; size as usize];
        file.read_exact(&mut bytes).with_context(|| format!("entry {name} is cut short"))?;
        Ok(bytes)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        serde_json::from_slice(&self.read(name)?).with_context(|| format!("entry {name} is damaged"))
    }

    fn under(&self, prefix: &str) -> impl Iterator<Item = (&String, &(u64, u64))> {
        let prefix = prefix.to_string();
        self.entries.range(prefix.clone()..).take_while(move |(k, _)| k.starts_with(&prefix))
    }

    fn root_prefix(root_uri: &str) -> Result<String> {
        let rest = root_uri.strip_prefix(SCHEME).ok_or_else(|| anyhow!("{root_uri} is not in the export"))?;
        Ok(format!("artifacts/{}/", rest.trim_matches('/')))
    }
}

#[async_trait]
impl Source for ArchiveSource {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("mltrack export {} (from {})", self.path.display(), self.manifest_source)
    }

    async fn experiments(&self) -> Result<Items<Experiment>> {
        let list: Vec<Experiment> = self.json("experiments.json")?;
        Ok(list.into_iter().map(Ok).collect())
    }

    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>> {
        let names: Vec<String> = self.under(&format!("runs/{experiment_id}/")).map(|(k, _)| k.clone()).collect();
        Ok(names
            .into_iter()
            .map(|name| {
                let entry: RunEntry = self.json(&name)?;
                let mut run = entry.run;
                run.info.artifact_uri = format!("{SCHEME}runs/{}", run.info.run_id);
                Ok(run)
            })
            .collect())
    }

    async fn metric_counts(&self, run: &Run) -> Result<Option<HashMap<String, u64>>> {
        let entry: RunEntry = self.json(&format!("runs/{}/{}.json", run.info.experiment_id, run.info.run_id))?;
        Ok(Some(
            entry.histories.into_iter().map(|(k, e)| (k, self.entries.get(&e).map_or(0, |(_, s)| s / 24))).collect(),
        ))
    }

    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>> {
        let entry: RunEntry = self.json(&format!("runs/{}/{}.json", run.info.experiment_id, run.info.run_id))?;
        let (_, name) =
            entry.histories.iter().find(|(k, _)| k == key).ok_or_else(|| anyhow!("no history of '{key}'"))?;
        let mut points = decode_points(&self.read(name)?)?;
        crate::source::sort_points(&mut points);
        Ok(points)
    }

    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>> {
        let names: Vec<String> = self.under(&format!("models/{experiment_id}/")).map(|(k, _)| k.clone()).collect();
        Ok(names
            .into_iter()
            .map(|name| {
                let entry: ModelEntry = self.json(&name)?;
                let mut model = entry.model;
                model.info.artifact_uri = format!("{SCHEME}models/{}", model.info.model_id);
                Ok(SourceModel { model, metrics: entry.metrics })
            })
            .collect())
    }

    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>> {
        let names: Vec<String> = self.under("registry/").map(|(k, _)| k.clone()).collect();
        Ok(names
            .into_iter()
            .map(|name| {
                let entry: RegistryEntry = self.json(&name)?;
                Ok(SourceRegisteredModel { model: entry.model, versions: entry.versions })
            })
            .collect())
    }

    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        let prefix = Self::root_prefix(root_uri)?;
        Ok(self
            .under(&prefix)
            .map(|(name, &(_, size))| ArtifactFile { path: name[prefix.len()..].to_string(), size })
            .collect())
    }

    async fn dashboards(&self) -> Result<Vec<Dashboard>> {
        if !self.entries.contains_key(DASHBOARDS) {
            return Ok(Vec::new());
        }
        self.json(DASHBOARDS)
    }

    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        let name = format!("{}{path}", Self::root_prefix(root_uri)?);
        let &(offset, size) = self.entries.get(&name).ok_or_else(|| anyhow!("the export has no file {name}"))?;
        let mut file = tokio::fs::File::open(&self.path).await?;
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        file.seek(SeekFrom::Start(offset)).await?;
        let reader = file.take(size);
        let stream = futures::stream::try_unfold(reader, move |mut reader| async move {
            let mut buf = vec![0u8; 256 * 1024];
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, anyhow::Error>(None);
            }
            buf.truncate(n);
            Ok(Some((bytes::Bytes::from(buf), reader)))
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_round_trip_bit_for_bit() {
        let points = vec![
            Point { step: 0, timestamp: 1, value: 0.5 },
            Point { step: 1, timestamp: 2, value: f64::NAN },
            Point { step: -3, timestamp: 3, value: f64::NEG_INFINITY },
        ];
        let back = decode_points(&encode_points(&points)).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[1].value.to_bits(), f64::NAN.to_bits());
        assert_eq!(back[2], points[2]);
        assert!(decode_points(&[0u8; 23]).is_err());
    }
}
