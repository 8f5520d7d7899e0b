//! Runs: create, read (with their data), update, delete/restore.

use super::db::{Db, Param};
use super::experiments::experiment_stage;
use super::{find_active_run, find_run, parse_experiment_id, SqliteStore};
use crate::{NewRun, RunUpdate};
use std::collections::HashMap;
use tracking::validation::validate_tag;
use tracking::{
    tags, Dataset, DatasetInput, Error, KeyValue, LifecycleStage, Metric, Result, Run, RunData, RunInfo, RunInputs,
    RunStatus,
};

/// One run as [`LOAD_RUNS`] renders it: info columns, then params, tags,
/// latest metrics (`key, bits, timestamp, step`) and dataset inputs.
type RunJson = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    String,
    String,
    Vec<(String, String)>,
    Vec<(String, String)>,
    Vec<(String, i64, i64, i64)>,
    Vec<InputJson>,
);
type InputJson = (String, String, String, String, Option<String>, Option<String>, Vec<(String, String)>);

/// Whole runs as one JSON document. sqlx hands over rows one message at a
/// time, at microseconds each; one aggregated row per query keeps loading a
/// page of 1,000 runs with all their data to a single round trip.
const LOAD_RUNS: &str = "\
SELECT json_group_array(json_array(
    r.id, r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time,
    r.artifact_uri, r.lifecycle_stage,
    json((SELECT json_group_array(json_array(key, value) ORDER BY key) FROM params WHERE run_id = r.id)),
    json((SELECT json_group_array(json_array(key, value) ORDER BY key) FROM tags WHERE run_id = r.id)),
    json((SELECT json_group_array(json_array(key, bits, timestamp, step) ORDER BY key)
          FROM latest_metrics WHERE run_id = r.id)),
    json((SELECT json_group_array(json_array(d.name, d.digest, d.source_type, d.source, d.schema, d.profile,
              json((SELECT json_group_array(json_array(it.key, it.value) ORDER BY it.key) FROM input_tags it
                    WHERE it.run_id = r.id AND it.dataset_id = d.id))) ORDER BY ri.position)
          FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id WHERE ri.run_id = r.id))
)) FROM runs r WHERE r.id IN ";

/// SQLite allows a limited number of bound values per statement.
const IDS_PER_QUERY: usize = 1000;

fn to_run(row: RunJson) -> (i64, Run) {
    let (
        id,
        uuid,
        name,
        experiment_id,
        user_id,
        status,
        start_time,
        end_time,
        artifact_uri,
        stage,
        params,
        tags,
        metrics,
        inputs,
    ) = row;
    let info = RunInfo {
        run_id: uuid.clone(),
        run_uuid: uuid,
        run_name: name,
        experiment_id: experiment_id.to_string(),
        user_id,
        status: RunStatus::parse(&status).unwrap_or_default(),
        start_time,
        end_time,
        artifact_uri,
        lifecycle_stage: LifecycleStage::parse(&stage).unwrap_or_default(),
    };
    let kv = |pairs: Vec<(String, String)>| pairs.into_iter().map(|(key, value)| KeyValue { key, value }).collect();
    let data = RunData {
        metrics: metrics
            .into_iter()
            .map(|(key, bits, timestamp, step)| Metric {
                key,
                value: f64::from_bits(bits as u64),
                timestamp,
                step,
                run_id: None,
            })
            .collect(),
        params: kv(params),
        tags: kv(tags),
    };
    let dataset_inputs = inputs
        .into_iter()
        .map(|(name, digest, source_type, source, schema, profile, tags)| DatasetInput {
            tags: kv(tags),
            dataset: Dataset { name, digest, source_type, source, schema, profile },
        })
        .collect();
    (id, Run { info, data, inputs: RunInputs { dataset_inputs } })
}

/// Loads whole runs (info, latest metrics, params, tags, inputs) for
/// internal ids, in the order given.
pub(super) fn load_runs(db: &mut Db, ids: &[i64]) -> Result<Vec<Run>> {
    let mut runs: HashMap<i64, Run> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let sql = format!("{LOAD_RUNS}({})", vec!["?"; chunk.len()].join(","));
        let params: Vec<Param> = chunk.iter().map(|&id| id.into()).collect();
        let json = db.row(&sql, &params, |r| r.text(0))?.unwrap_or_else(|| "[]".into());
        let rows: Vec<RunJson> =
            serde_json::from_str(&json).map_err(|e| Error::internal(format!("could not read runs: {e}")))?;
        runs.extend(rows.into_iter().map(to_run));
    }
    Ok(ids.iter().filter_map(|id| runs.remove(id)).collect())
}

fn load_run(db: &mut Db, id: i64, run_uuid: &str) -> Result<Run> {
    load_runs(db, &[id])?.pop().ok_or_else(|| Error::not_found(format!("Run with id={run_uuid} not found")))
}

impl SqliteStore {
    pub(super) async fn get_run_impl(&self, run_id: &str) -> Result<Run> {
        let run_uuid = run_id.to_string();
        self.readers
            .read(move |db| {
                let run = find_run(db, &run_uuid)?;
                load_run(db, run.id, &run_uuid)
            })
            .await
    }

    pub(super) async fn create_run_impl(&self, new: NewRun) -> Result<Run> {
        let experiment_id = parse_experiment_id(&new.experiment_id)?;
        for (i, tag) in new.tags.iter().enumerate() {
            validate_tag(&format!("tags[{i}]."), &tag.key, &tag.value)?;
        }
        let name_tag = new.tags.iter().rev().find(|t| t.key == tags::RUN_NAME).map(|t| t.value.clone());
        let requested = new.run_name.clone().filter(|n| !n.is_empty());
        if let (Some(name), Some(tag)) = (&requested, &name_tag) {
            if name != tag {
                return Err(Error::invalid(format!(
                    "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different \
                     values (run_name='{name}', mlflow.runName='{tag}')."
                )));
            }
        }
        let uuid = uuid::Uuid::new_v4();
        let run_uuid = uuid.simple().to_string();
        let run_name = requested.or(name_tag.clone()).unwrap_or_else(|| crate::generate_run_name(uuid.as_u128()));
        let mut run_tags = new.tags.clone();
        if name_tag.is_none() {
            run_tags.push(KeyValue::new(tags::RUN_NAME, run_name.clone()));
        }
        let user_id = if new.user_id.is_empty() {
            run_tags.iter().find(|t| t.key == tags::USER).map(|t| t.value.clone()).unwrap_or_default()
        } else {
            new.user_id.clone()
        };
        let start_time = new.start_time;
        // The new run is read back inside the write: it is what the caller gets.
        self.writer
            .write(move |db| {
                if experiment_stage(db, experiment_id)? != LifecycleStage::Active {
                    return Err(Error::invalid(format!(
                        "The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
                    )));
                }
                let location = db
                    .row(
                        "SELECT artifact_location FROM experiments WHERE experiment_id = ?",
                        &[experiment_id.into()],
                        |r| r.text(0),
                    )?
                    .unwrap_or_default();
                let artifact_uri = format!("{}/{run_uuid}/artifacts", location.trim_end_matches('/'));
                let id = db
                    .row(
                        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri) \
                         VALUES (?, ?, ?, ?, 'RUNNING', ?, ?) RETURNING id",
                        &[
                            (&run_uuid).into(),
                            experiment_id.into(),
                            (&run_name).into(),
                            (&user_id).into(),
                            start_time.into(),
                            (&artifact_uri).into(),
                        ],
                        |r| r.int(0),
                    )?
                    .ok_or_else(|| Error::internal("no run id returned"))?;
                for tag in &run_tags {
                    db.execute(
                        "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                        &[id.into(), (&tag.key).into(), (&tag.value).into()],
                    )?;
                }
                load_run(db, id, &run_uuid)
            })
            .await
    }

    pub(super) async fn update_run_impl(&self, run_id: &str, update: RunUpdate) -> Result<RunInfo> {
        let uuid = run_id.to_string();
        self.writer
            .write(move |db| {
                let run = find_active_run(db, &uuid)?;
                if let Some(status) = update.status {
                    db.execute("UPDATE runs SET status = ? WHERE id = ?", &[status.as_str().into(), run.id.into()])?;
                }
                if let Some(end_time) = update.end_time {
                    db.execute("UPDATE runs SET end_time = ? WHERE id = ?", &[end_time.into(), run.id.into()])?;
                }
                if let Some(name) = update.run_name.filter(|n| !n.is_empty()) {
                    super::logging::set_run_name(db, run.id, &name)?;
                }
                Ok(load_run(db, run.id, &uuid)?.info)
            })
            .await
    }

    pub(super) async fn set_run_stage(&self, run_id: &str, stage: LifecycleStage) -> Result<()> {
        let uuid = run_id.to_string();
        self.writer
            .write(move |db| {
                let run = find_run(db, &uuid)?;
                let deleted_time = (stage == LifecycleStage::Deleted).then(crate::now_millis);
                db.execute(
                    "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?",
                    &[stage.as_str().into(), deleted_time.into(), run.id.into()],
                )?;
                Ok(())
            })
            .await
    }
}
