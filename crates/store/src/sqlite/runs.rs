//! Runs: create, read (with their data), update, delete/restore.

use super::experiments::experiment_stage;
use super::{db_error, find_active_run, find_run, parse_experiment_id, SqliteStore};
use crate::{NewRun, RunUpdate};
use std::collections::HashMap;
use tracking::validation::validate_tag;
use tracking::{
    tags, Dataset, DatasetInput, Error, KeyValue, LifecycleStage, Metric, Result, Run, RunData, RunInfo, RunInputs,
    RunStatus,
};

type RunRow = (i64, String, String, i64, String, String, i64, Option<i64>, String, String);

const RUN_COLUMNS: &str =
    "id, run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage";

/// SQLite allows a limited number of bound values per statement.
const IDS_PER_QUERY: usize = 500;

fn to_info(row: &RunRow) -> RunInfo {
    RunInfo {
        run_id: row.1.clone(),
        run_uuid: row.1.clone(),
        run_name: row.2.clone(),
        experiment_id: row.3.to_string(),
        user_id: row.4.clone(),
        status: RunStatus::parse(&row.5).unwrap_or_default(),
        start_time: row.6,
        end_time: row.7,
        artifact_uri: row.8.clone(),
        lifecycle_stage: LifecycleStage::parse(&row.9).unwrap_or_default(),
    }
}

/// A metric value as stored: NaN is `0` plus a flag, since SQLite has no NaN.
pub(super) fn stored_value(value: f64, is_nan: bool) -> f64 {
    if is_nan {
        f64::NAN
    } else {
        value
    }
}

fn in_list(n: usize) -> String {
    vec!["?"; n].join(",")
}

impl SqliteStore {
    /// Loads whole runs (info, latest metrics, params, tags, inputs) for
    /// internal ids, in the order given.
    pub(super) async fn load_runs(&self, ids: &[i64]) -> Result<Vec<Run>> {
        let mut runs: HashMap<i64, Run> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            self.load_chunk(chunk, &mut runs).await?;
        }
        Ok(ids.iter().filter_map(|id| runs.remove(id)).collect())
    }

    async fn load_chunk(&self, ids: &[i64], out: &mut HashMap<i64, Run>) -> Result<()> {
        let marks = in_list(ids.len());
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id IN ({marks})");
        let mut q = sqlx::query_as::<_, RunRow>(&sql);
        for id in ids {
            q = q.bind(id);
        }
        for row in q.fetch_all(&self.read).await.map_err(db_error)? {
            let run = Run { info: to_info(&row), data: RunData::default(), inputs: RunInputs::default() };
            out.insert(row.0, run);
        }

        for (table, is_param) in [("params", true), ("tags", false)] {
            let sql = format!("SELECT run_id, key, value FROM {table} WHERE run_id IN ({marks}) ORDER BY run_id, key");
            let mut q = sqlx::query_as::<_, (i64, String, String)>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            for (id, key, value) in q.fetch_all(&self.read).await.map_err(db_error)? {
                if let Some(run) = out.get_mut(&id) {
                    let list = if is_param { &mut run.data.params } else { &mut run.data.tags };
                    list.push(KeyValue { key, value });
                }
            }
        }

        let sql = format!(
            "SELECT run_id, key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_id IN ({marks}) ORDER BY run_id, key"
        );
        let mut q = sqlx::query_as::<_, (i64, String, f64, bool, i64, i64)>(&sql);
        for id in ids {
            q = q.bind(id);
        }
        for (id, key, value, is_nan, timestamp, step) in q.fetch_all(&self.read).await.map_err(db_error)? {
            if let Some(run) = out.get_mut(&id) {
                run.data.metrics.push(Metric {
                    key,
                    value: stored_value(value, is_nan),
                    timestamp,
                    step,
                    run_id: None,
                });
            }
        }

        let sql = format!(
            "SELECT ri.run_id, d.id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile \
             FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id WHERE ri.run_id IN ({marks}) \
             ORDER BY ri.run_id, ri.position"
        );
        type InputRow = (i64, i64, String, String, String, String, Option<String>, Option<String>);
        let mut q = sqlx::query_as::<_, InputRow>(&sql);
        for id in ids {
            q = q.bind(id);
        }
        let inputs = q.fetch_all(&self.read).await.map_err(db_error)?;
        if inputs.is_empty() {
            return Ok(());
        }
        let sql =
            format!("SELECT run_id, dataset_id, key, value FROM input_tags WHERE run_id IN ({marks}) ORDER BY key");
        let mut q = sqlx::query_as::<_, (i64, i64, String, String)>(&sql);
        for id in ids {
            q = q.bind(id);
        }
        let mut input_tags: HashMap<(i64, i64), Vec<KeyValue>> = HashMap::new();
        for (run_id, dataset_id, key, value) in q.fetch_all(&self.read).await.map_err(db_error)? {
            input_tags.entry((run_id, dataset_id)).or_default().push(KeyValue { key, value });
        }
        for (run_id, dataset_id, name, digest, source_type, source, schema, profile) in inputs {
            if let Some(run) = out.get_mut(&run_id) {
                run.inputs.dataset_inputs.push(DatasetInput {
                    tags: input_tags.remove(&(run_id, dataset_id)).unwrap_or_default(),
                    dataset: Dataset { name, digest, source_type, source, schema, profile },
                });
            }
        }
        Ok(())
    }

    pub(super) async fn get_run_impl(&self, run_id: &str) -> Result<Run> {
        let run = find_run(&self.read, run_id).await?;
        self.load_runs(&[run.id])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found(format!("Run with id={run_id} not found")))
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

        let created = run_uuid.clone();
        let id = self
            .writer
            .write(move |conn| {
                Box::pin(async move {
                    let stage = experiment_stage(conn, experiment_id).await?;
                    if stage != LifecycleStage::Active {
                        return Err(Error::invalid(format!(
                            "The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
                        )));
                    }
                    let location: String =
                        sqlx::query_scalar("SELECT artifact_location FROM experiments WHERE experiment_id = ?")
                            .bind(experiment_id)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    let artifact_uri = format!("{}/{run_uuid}/artifacts", location.trim_end_matches('/'));
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri) \
                         VALUES (?, ?, ?, ?, 'RUNNING', ?, ?) RETURNING id",
                    )
                    .bind(&run_uuid)
                    .bind(experiment_id)
                    .bind(&run_name)
                    .bind(&user_id)
                    .bind(start_time)
                    .bind(&artifact_uri)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_error)?;
                    for tag in &run_tags {
                        sqlx::query("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)")
                            .bind(id)
                            .bind(&tag.key)
                            .bind(&tag.value)
                            .execute(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    }
                    Ok(id)
                })
            })
            .await?;
        self.load_runs(&[id])
            .await?
            .pop()
            .ok_or_else(|| Error::internal(format!("run {created} vanished after it was created")))
    }

    pub(super) async fn update_run_impl(&self, run_id: &str, update: RunUpdate) -> Result<RunInfo> {
        let uuid = run_id.to_string();
        let id = self
            .writer
            .write(move |conn| {
                Box::pin(async move {
                    let run = find_active_run(conn, &uuid).await?;
                    if let Some(status) = update.status {
                        sqlx::query("UPDATE runs SET status = ? WHERE id = ?")
                            .bind(status.as_str())
                            .bind(run.id)
                            .execute(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    }
                    if let Some(end_time) = update.end_time {
                        sqlx::query("UPDATE runs SET end_time = ? WHERE id = ?")
                            .bind(end_time)
                            .bind(run.id)
                            .execute(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    }
                    if let Some(name) = update.run_name.filter(|n| !n.is_empty()) {
                        super::logging::set_run_name(conn, run.id, &name).await?;
                    }
                    Ok(run.id)
                })
            })
            .await?;
        let run = self.load_runs(&[id]).await?.pop();
        run.map(|r| r.info).ok_or_else(|| Error::not_found(format!("Run with id={run_id} not found")))
    }

    pub(super) async fn set_run_stage(&self, run_id: &str, stage: LifecycleStage) -> Result<()> {
        let uuid = run_id.to_string();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let run = find_run(&mut *conn, &uuid).await?;
                    let deleted_time = (stage == LifecycleStage::Deleted).then(crate::now_millis);
                    sqlx::query("UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?")
                        .bind(stage.as_str())
                        .bind(deleted_time)
                        .bind(run.id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    Ok(())
                })
            })
            .await
    }
}
