//! Reading MLflow's own database (SQLite or PostgreSQL) directly: the
//! fastest way in, with no server in between.

use crate::revisions::KNOWN;
use crate::source::{ArtifactFile, ByteStream, Items, Source, SourceModel, SourceRegisteredModel};
use crate::uri_artifacts::UriArtifacts;
use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::collections::{HashMap, HashSet};
use tracking::registry::{ModelVersion, RegisteredModel, RegisteredModelAlias};
use tracking::{
    Dataset, DatasetInput, Experiment, KeyValue, LifecycleStage, LoggedModel, LoggedModelData, LoggedModelInfo,
    LoggedModelStatus, Metric, ModelInput, ModelMetric, ModelOutput, Point, Run, RunData, RunInfo, RunInputs,
    RunOutputs, RunStatus,
};

pub struct SqlSource {
    pool: AnyPool,
    /// For SQLite, the same file on connections of the importer's own: the
    /// metric histories, millions of rows, are read there.
    sqlite: Option<crate::sqlite_reader::SqliteReader>,
    id: String,
    revision: String,
    tables: HashSet<String>,
    artifacts: UriArtifacts,
}

/// The sqlx URL for an SQLAlchemy database URI, read-only for SQLite, and
/// the name shown (and recorded) for it.
fn sqlx_url(uri: &str) -> Result<(String, String)> {
    if let Some(rest) = uri.strip_prefix("sqlite:///") {
        // SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db
        let path = std::path::Path::new(rest);
        if !path.is_file() {
            bail!("the MLflow database {} does not exist", path.display());
        }
        let abs = std::fs::canonicalize(path)?;
        return Ok((format!("sqlite://{}?mode=ro", abs.display()), format!("sqlite:///{}", abs.display())));
    }
    for scheme in ["postgresql", "postgres"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            // postgresql+psycopg2://… is SQLAlchemy's way to name a driver.
            let rest = match rest.strip_prefix('+') {
                Some(driver) => driver.split_once("://").map(|(_, r)| r).unwrap_or(""),
                None => rest.strip_prefix("://").unwrap_or(""),
            };
            let url = format!("postgres://{rest}");
            // The marker id leaves the password out.
            let shown = match rest.split_once('@') {
                Some((creds, host)) => format!("postgresql://{}@{host}", creds.split(':').next().unwrap_or("")),
                None => format!("postgresql://{rest}"),
            };
            return Ok((url, shown));
        }
    }
    bail!("{uri} is not a database URI this import reads (sqlite:///path or postgresql://…)")
}

fn stage(text: Option<String>) -> LifecycleStage {
    text.as_deref().and_then(LifecycleStage::parse).unwrap_or_default()
}

fn value(value: Option<f64>, is_nan: i64) -> f64 {
    if is_nan != 0 {
        f64::NAN
    } else {
        value.unwrap_or(0.0)
    }
}

impl SqlSource {
    pub async fn open(uri: &str, proxied_root: Option<String>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (url, id) = sqlx_url(uri)?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .with_context(|| format!("could not open the MLflow database {id}"))?;
        let postgres = url.starts_with("postgres");
        let tables_sql = if postgres {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        };
        let tables: HashSet<String> =
            sqlx::query(tables_sql).fetch_all(&pool).await?.iter().map(|r| r.get::<String, _>(0)).collect();
        if !tables.contains("alembic_version") || !tables.contains("experiments") || !tables.contains("runs") {
            bail!("{id} is not an MLflow database: it has no alembic_version, experiments and runs tables");
        }
        let revision: String = sqlx::query("SELECT version_num FROM alembic_version")
            .fetch_one(&pool)
            .await
            .context("could not read the schema revision (alembic_version)")?
            .get(0);
        if !KNOWN.contains(&revision.as_str()) {
            bail!(
                "{id} is at MLflow schema revision {revision}, which this mltrack does not know (it reads the {} \
                 revisions up to {}, MLflow 3.17); upgrade mltrack, or export with an MLflow server instead \
                 (--from http://…)",
                KNOWN.len(),
                KNOWN[KNOWN.len() - 1]
            );
        }
        let sqlite = match id.strip_prefix("sqlite://") {
            Some(path) => Some(
                crate::sqlite_reader::SqliteReader::open(std::path::Path::new(path))
                    .with_context(|| format!("could not open the MLflow database {id}"))?,
            ),
            None => None,
        };
        // Local and bucket artifact URIs are read only under the root named on the command line.
        let allowed_roots: Vec<String> = proxied_root.iter().cloned().collect();
        let artifacts = UriArtifacts { proxied_root, allowed_roots, ..Default::default() };
        Ok(SqlSource { pool, sqlite, id, revision, tables, artifacts })
    }

    async fn rows(&self, sql: &str, args: &[&str]) -> Result<Vec<AnyRow>> {
        let mut query = sqlx::query(sql);
        for a in args {
            query = query.bind(a.to_string());
        }
        query.fetch_all(&self.pool).await.with_context(|| format!("query failed: {sql}"))
    }

    /// Key/value rows `(owner, key, value)` grouped by owner.
    async fn pairs(&self, sql: &str, args: &[&str]) -> Result<HashMap<String, Vec<KeyValue>>> {
        let mut out: HashMap<String, Vec<KeyValue>> = HashMap::new();
        for r in self.rows(sql, args).await? {
            let value: Option<String> = r.try_get(2)?;
            out.entry(r.try_get(0)?)
                .or_default()
                .push(KeyValue { key: r.try_get(1)?, value: value.unwrap_or_default() });
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.key.cmp(&b.key));
        }
        Ok(out)
    }
}

#[async_trait]
impl Source for SqlSource {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("MLflow database {} (schema revision {})", self.id, self.revision)
    }

    async fn experiments(&self) -> Result<Items<Experiment>> {
        let mut tags = self
            .pairs("SELECT CAST(CAST(experiment_id AS BIGINT) AS TEXT), key, value FROM experiment_tags", &[])
            .await?;
        let rows = self
            .rows(
                "SELECT CAST(CAST(experiment_id AS BIGINT) AS TEXT), name, artifact_location, lifecycle_stage, \
                 CAST(creation_time AS BIGINT), CAST(last_update_time AS BIGINT) FROM experiments \
                 ORDER BY experiment_id",
                &[],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get(0)?;
            out.push(Ok(Experiment {
                tags: tags.remove(&id).unwrap_or_default(),
                experiment_id: id,
                name: r.try_get(1)?,
                artifact_location: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                lifecycle_stage: stage(r.try_get(3)?),
                creation_time: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0),
                last_update_time: r.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
            }));
        }
        Ok(out)
    }

    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>> {
        let in_experiment = "JOIN runs r ON r.run_uuid = x.run_uuid WHERE CAST(r.experiment_id AS TEXT) = $1";
        let mut params = self
            .pairs(&format!("SELECT x.run_uuid, x.key, x.value FROM params x {in_experiment}"), &[experiment_id])
            .await?;
        let mut tags = self
            .pairs(&format!("SELECT x.run_uuid, x.key, x.value FROM tags x {in_experiment}"), &[experiment_id])
            .await?;
        let mut metrics: HashMap<String, Vec<Metric>> = HashMap::new();
        let sql = format!(
            "SELECT x.run_uuid, x.key, x.value, CAST(CASE WHEN x.is_nan THEN 1 ELSE 0 END AS BIGINT), \
             CAST(x.timestamp AS BIGINT), CAST(x.step AS BIGINT) FROM latest_metrics x {in_experiment}"
        );
        for r in self.rows(&sql, &[experiment_id]).await? {
            metrics.entry(r.try_get(0)?).or_default().push(Metric {
                key: r.try_get(1)?,
                value: value(r.try_get(2)?, r.try_get(3)?),
                timestamp: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0),
                step: r.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
                run_id: None,
            });
        }
        let mut inputs = self.inputs(experiment_id).await?;
        let rows = self
            .rows(
                "SELECT run_uuid, name, user_id, status, CAST(start_time AS BIGINT), CAST(end_time AS BIGINT), \
                 lifecycle_stage, artifact_uri FROM runs WHERE CAST(experiment_id AS TEXT) = $1 ORDER BY start_time",
                &[experiment_id],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let run_id: String = r.try_get(0)?;
            let status: Option<String> = r.try_get(3)?;
            let Some(status) = status.as_deref().and_then(RunStatus::parse) else {
                out.push(Err(anyhow::anyhow!("run {run_id}: unknown status {status:?}")));
                continue;
            };
            let mut run_metrics = metrics.remove(&run_id).unwrap_or_default();
            run_metrics.sort_by(|a, b| a.key.cmp(&b.key));
            let (dataset_inputs, model_inputs, model_outputs) = inputs.remove(&run_id).unwrap_or_default();
            out.push(Ok(Run {
                info: RunInfo {
                    run_uuid: run_id.clone(),
                    run_name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    experiment_id: experiment_id.to_string(),
                    user_id: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                    status,
                    start_time: r.try_get::<Option<i64>, _>(4)?.unwrap_or(0),
                    end_time: r.try_get(5)?,
                    lifecycle_stage: stage(r.try_get(6)?),
                    artifact_uri: r.try_get::<Option<String>, _>(7)?.unwrap_or_default(),
                    run_id: run_id.clone(),
                },
                data: RunData {
                    metrics: run_metrics,
                    params: params.remove(&run_id).unwrap_or_default(),
                    tags: tags.remove(&run_id).unwrap_or_default(),
                },
                inputs: RunInputs { dataset_inputs, model_inputs },
                outputs: RunOutputs { model_outputs },
            }));
        }
        Ok(out)
    }

    async fn metric_counts(&self, run: &Run) -> Result<Option<HashMap<String, u64>>> {
        let rows = self
            .rows(
                "SELECT key, CAST(COUNT(*) AS BIGINT) FROM metrics WHERE run_uuid = $1 GROUP BY key",
                &[&run.info.run_id],
            )
            .await?;
        let mut counts = HashMap::with_capacity(rows.len());
        for r in rows {
            counts.insert(r.try_get(0)?, r.try_get::<i64, _>(1)? as u64);
        }
        Ok(Some(counts))
    }

    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>> {
        let sql = "SELECT CAST(step AS BIGINT), CAST(timestamp AS BIGINT), value, \
                   CAST(CASE WHEN is_nan THEN 1 ELSE 0 END AS BIGINT) FROM metrics \
                   WHERE run_uuid = $1 AND key = $2";
        let args = [run.info.run_id.as_str(), key];
        let mut points = match &self.sqlite {
            Some(db) => {
                db.metric_history(&run.info.run_id, key).await.with_context(|| format!("query failed: {sql}"))?
            }
            None => {
                let rows = self.rows(sql, &args).await?;
                let mut points = Vec::with_capacity(rows.len());
                for r in rows {
                    points.push(Point {
                        step: r.try_get::<Option<i64>, _>(0)?.unwrap_or(0),
                        timestamp: r.try_get::<Option<i64>, _>(1)?.unwrap_or(0),
                        value: value(r.try_get(2)?, r.try_get(3)?),
                    });
                }
                points
            }
        };
        crate::source::sort_points(&mut points);
        Ok(points)
    }

    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>> {
        if !self.tables.contains("logged_models") {
            return Ok(Vec::new());
        }
        let args = [experiment_id];
        let mut params = self
            .pairs(
                "SELECT model_id, param_key, param_value FROM logged_model_params WHERE CAST(experiment_id AS TEXT) = $1",
                &args,
            )
            .await?;
        let mut tags = self
            .pairs(
                "SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE CAST(experiment_id AS TEXT) = $1",
                &args,
            )
            .await?;
        let mut metrics: HashMap<String, Vec<ModelMetric>> = HashMap::new();
        let sql = "SELECT model_id, metric_name, CAST(metric_timestamp_ms AS BIGINT), CAST(metric_step AS BIGINT), \
                   metric_value, run_id, dataset_name, dataset_digest FROM logged_model_metrics \
                   WHERE CAST(experiment_id AS TEXT) = $1";
        for r in self.rows(sql, &args).await? {
            let model_id: String = r.try_get(0)?;
            let value: Option<f64> = r.try_get(4)?;
            metrics.entry(model_id.clone()).or_default().push(ModelMetric {
                key: r.try_get(1)?,
                timestamp: r.try_get(2)?,
                step: r.try_get(3)?,
                value: value.unwrap_or(f64::NAN),
                model_id,
                run_id: r.try_get::<Option<String>, _>(5)?.filter(|s| !s.is_empty()),
                dataset_name: r.try_get(6)?,
                dataset_digest: r.try_get(7)?,
            });
        }
        let rows = self
            .rows(
                "SELECT model_id, name, artifact_location, CAST(creation_timestamp_ms AS BIGINT), \
                 CAST(last_updated_timestamp_ms AS BIGINT), CAST(status AS BIGINT), lifecycle_stage, model_type, \
                 source_run_id, status_message FROM logged_models WHERE CAST(experiment_id AS TEXT) = $1",
                &args,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let model_id: String = r.try_get(0)?;
            let status: i64 = r.try_get(5)?;
            let info = LoggedModelInfo {
                model_id: model_id.clone(),
                experiment_id: experiment_id.to_string(),
                name: r.try_get(1)?,
                artifact_uri: r.try_get(2)?,
                creation_timestamp_ms: r.try_get(3)?,
                last_updated_timestamp_ms: r.try_get(4)?,
                status: LoggedModelStatus::from_int(status).unwrap_or(LoggedModelStatus::LoggedModelPending),
                lifecycle_stage: Some(stage(r.try_get(6)?)),
                model_type: r.try_get::<Option<String>, _>(7)?.filter(|s| !s.is_empty()),
                source_run_id: r.try_get::<Option<String>, _>(8)?.filter(|s| !s.is_empty()),
                status_message: r.try_get::<Option<String>, _>(9)?.filter(|s| !s.is_empty()),
                tags: tags.remove(&model_id).unwrap_or_default(),
                registrations: Vec::new(),
            };
            out.push(Ok(SourceModel {
                model: LoggedModel {
                    info,
                    data: LoggedModelData { params: params.remove(&model_id).unwrap_or_default(), metrics: Vec::new() },
                },
                metrics: metrics.remove(&model_id).unwrap_or_default(),
            }));
        }
        Ok(out)
    }

    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>> {
        if !self.tables.contains("registered_models") {
            return Ok(Vec::new());
        }
        let mut tags = self.pairs("SELECT name, key, value FROM registered_model_tags", &[]).await?;
        let mut version_tags =
            self.pairs("SELECT name || '/' || CAST(version AS TEXT), key, value FROM model_version_tags", &[]).await?;
        let mut aliases: HashMap<String, Vec<RegisteredModelAlias>> = HashMap::new();
        if self.tables.contains("registered_model_aliases") {
            for r in self
                .rows("SELECT name, alias, CAST(CAST(version AS BIGINT) AS TEXT) FROM registered_model_aliases", &[])
                .await?
            {
                aliases
                    .entry(r.try_get(0)?)
                    .or_default()
                    .push(RegisteredModelAlias { alias: r.try_get(1)?, version: r.try_get(2)? });
            }
        }
        let mut versions: HashMap<String, Vec<ModelVersion>> = HashMap::new();
        let rows = self
            .rows(
                "SELECT name, CAST(CAST(version AS BIGINT) AS TEXT), CAST(creation_time AS BIGINT), \
                 CAST(last_updated_time AS BIGINT), description, user_id, current_stage, source, run_id, run_link, \
                 status, status_message FROM model_versions ORDER BY name, version",
                &[],
            )
            .await?;
        for r in rows {
            let name: String = r.try_get(0)?;
            let version: String = r.try_get(1)?;
            let model_aliases = aliases.get(&name).map(Vec::as_slice).unwrap_or(&[]);
            let source: Option<String> = r.try_get(7)?;
            versions.entry(name.clone()).or_default().push(ModelVersion {
                tags: version_tags.remove(&format!("{name}/{version}")).unwrap_or_default(),
                aliases: model_aliases.iter().filter(|a| a.version == version).map(|a| a.alias.clone()).collect(),
                creation_timestamp: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
                last_updated_timestamp: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
                description: r.try_get(4)?,
                user_id: r.try_get::<Option<String>, _>(5)?.filter(|s| !s.is_empty()),
                current_stage: r.try_get::<Option<String>, _>(6)?.unwrap_or_else(|| "None".into()),
                model_id: source
                    .as_deref()
                    .and_then(|s| s.strip_prefix("models:/"))
                    .filter(|m| m.starts_with("m-"))
                    .map(|m| m.split('/').next().unwrap_or(m).to_string()),
                source,
                run_id: r.try_get::<Option<String>, _>(8)?.filter(|s| !s.is_empty()),
                run_link: r.try_get::<Option<String>, _>(9)?.filter(|s| !s.is_empty()),
                status: r.try_get::<Option<String>, _>(10)?.unwrap_or_else(|| "READY".into()),
                status_message: r.try_get::<Option<String>, _>(11)?.filter(|s| !s.is_empty()),
                name,
                version,
            });
        }
        let rows = self
            .rows(
                "SELECT name, CAST(creation_time AS BIGINT), CAST(last_updated_time AS BIGINT), description \
                 FROM registered_models ORDER BY name",
                &[],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let name: String = r.try_get(0)?;
            let mut model_aliases = aliases.remove(&name).unwrap_or_default();
            model_aliases.sort_by(|a, b| a.alias.cmp(&b.alias));
            out.push(Ok(SourceRegisteredModel {
                versions: versions.remove(&name).unwrap_or_default(),
                model: RegisteredModel {
                    tags: tags.remove(&name).unwrap_or_default(),
                    creation_timestamp: r.try_get::<Option<i64>, _>(1)?.unwrap_or(0),
                    last_updated_timestamp: r.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
                    description: r.try_get(3)?,
                    latest_versions: Vec::new(),
                    aliases: model_aliases,
                    name,
                },
            }));
        }
        Ok(out)
    }

    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        self.artifacts.list(root_uri).await
    }

    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        self.artifacts.read(root_uri, path).await
    }
}

type RunLinks = (Vec<DatasetInput>, Vec<ModelInput>, Vec<ModelOutput>);

impl SqlSource {
    /// Dataset inputs, model inputs and model outputs of an experiment's runs.
    async fn inputs(&self, experiment_id: &str) -> Result<HashMap<String, RunLinks>> {
        let mut out: HashMap<String, RunLinks> = HashMap::new();
        if !self.tables.contains("inputs") {
            return Ok(out);
        }
        let mut tags = self
            .pairs(
                "SELECT t.input_uuid, t.name, t.value FROM input_tags t JOIN inputs i ON i.input_uuid = t.input_uuid \
                 JOIN runs r ON r.run_uuid = i.destination_id WHERE CAST(r.experiment_id AS TEXT) = $1",
                &[experiment_id],
            )
            .await?;
        let rows = self
            .rows(
                "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, \
                 d.dataset_schema, d.dataset_profile FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id \
                 JOIN runs r ON r.run_uuid = i.destination_id \
                 WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND CAST(r.experiment_id AS TEXT) = $1 \
                 ORDER BY i.destination_id, d.name",
                &[experiment_id],
            )
            .await?;
        for r in rows {
            let input_uuid: String = r.try_get(1)?;
            out.entry(r.try_get(0)?).or_default().0.push(DatasetInput {
                tags: tags.remove(&input_uuid).unwrap_or_default(),
                dataset: Dataset {
                    name: r.try_get(2)?,
                    digest: r.try_get(3)?,
                    source_type: r.try_get(4)?,
                    source: r.try_get(5)?,
                    schema: r.try_get(6)?,
                    profile: r.try_get(7)?,
                },
            });
        }
        let rows = self
            .rows(
                "SELECT i.destination_id, i.source_id FROM inputs i JOIN runs r ON r.run_uuid = i.destination_id \
                 WHERE i.source_type = 'MODEL' AND i.destination_type = 'RUN' AND CAST(r.experiment_id AS TEXT) = $1",
                &[experiment_id],
            )
            .await?;
        for r in rows {
            out.entry(r.try_get(0)?).or_default().1.push(ModelInput { model_id: r.try_get(1)? });
        }
        if self.tables.contains("logged_models") {
            let rows = self
                .rows(
                    "SELECT i.source_id, i.destination_id, CAST(i.step AS BIGINT) FROM inputs i \
                     JOIN runs r ON r.run_uuid = i.source_id \
                     WHERE i.source_type = 'RUN_OUTPUT' AND i.destination_type = 'MODEL_OUTPUT' \
                     AND CAST(r.experiment_id AS TEXT) = $1",
                    &[experiment_id],
                )
                .await?;
            for r in rows {
                out.entry(r.try_get(0)?)
                    .or_default()
                    .2
                    .push(ModelOutput { model_id: r.try_get(1)?, step: r.try_get(2)? });
            }
        }
        Ok(out)
    }
}
