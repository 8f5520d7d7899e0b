//! Runs: create, read (with their data), update, delete/restore.

use super::db::{Db, Param, Row};
use super::experiments::experiment_stage;
use super::{find_active_run, find_run, parse_experiment_id, SqlStore};
use crate::changes::ChangeKind;
use crate::{NewRun, RunUpdate};
use std::collections::HashMap;
use tracking::validation::{validate_tag, Item};
use tracking::{
    tags, Dataset, DatasetInput, Error, KeyValue, LifecycleStage, Metric, ModelInput, ModelOutput, Result, Run,
    RunData, RunInfo, RunInputs, RunOutputs, RunStatus,
};

const RUN_COLUMNS: &str =
    "id, run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage";

fn to_info(r: &Row) -> RunInfo {
    let uuid = r.text(1);
    RunInfo {
        run_id: uuid.clone(),
        run_uuid: uuid,
        run_name: r.text(2),
        experiment_id: r.int(3).to_string(),
        user_id: r.text(4),
        status: RunStatus::parse(&r.text(5)).unwrap_or_default(),
        start_time: r.int(6),
        end_time: r.opt_int(7),
        artifact_uri: r.text(8),
        lifecycle_stage: LifecycleStage::parse(&r.text(9)).unwrap_or_default(),
    }
}

/// Loads whole runs (info, latest metrics, params, tags, inputs) for
/// internal ids, in the order given: one query per table for each chunk of
/// ids, never one per run.
pub(super) fn load_runs(db: &mut Db, ids: &[i64]) -> Result<Vec<Run>> {
    let mut runs: HashMap<i64, Run> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(db.ids_per_query()) {
        let any_of = db.any_of(chunk);
        let (any, params) = (any_of.sql, any_of.params());
        db.run(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id {any}"), &params, |r| {
            runs.insert(
                r.int(0),
                Run {
                    info: to_info(r),
                    data: RunData::default(),
                    inputs: RunInputs::default(),
                    outputs: RunOutputs::default(),
                },
            );
            Ok(())
        })?;
        for (table, is_param) in [("params", true), ("tags", false)] {
            let sql = format!("SELECT run_id, key, value FROM {table} WHERE run_id {any} ORDER BY run_id, key");
            db.run(&sql, &params, |r| {
                if let Some(run) = runs.get_mut(&r.int(0)) {
                    let list = if is_param { &mut run.data.params } else { &mut run.data.tags };
                    list.push(KeyValue { key: r.text(1), value: r.text(2) });
                }
                Ok(())
            })?;
        }
        let sql = format!(
            "SELECT run_id, key, bits, timestamp, step FROM latest_metrics WHERE run_id {any} ORDER BY run_id, key"
        );
        db.run(&sql, &params, |r| {
            if let Some(run) = runs.get_mut(&r.int(0)) {
                run.data.metrics.push(Metric {
                    key: r.text(1),
                    value: f64::from_bits(r.int(2) as u64),
                    timestamp: r.int(3),
                    step: r.int(4),
                    run_id: None,
                });
            }
            Ok(())
        })?;
        load_inputs(db, any, &params, &mut runs)?;
    }
    Ok(ids.iter().filter_map(|id| runs.remove(id)).collect())
}

fn load_inputs(db: &mut Db, any: &str, params: &[Param], runs: &mut HashMap<i64, Run>) -> Result<()> {
    let mut tags: HashMap<(i64, i64), Vec<KeyValue>> = HashMap::new();
    db.run(
        &format!("SELECT run_id, dataset_id, key, value FROM input_tags WHERE run_id {any} ORDER BY key"),
        params,
        |r| {
            tags.entry((r.int(0), r.int(1))).or_default().push(KeyValue { key: r.text(2), value: r.text(3) });
            Ok(())
        },
    )?;
    let sql = format!(
        "SELECT ri.run_id, d.id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile \
         FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id WHERE ri.run_id {any} \
         ORDER BY ri.run_id, ri.position"
    );
    db.run(&sql, params, |r| {
        if let Some(run) = runs.get_mut(&r.int(0)) {
            run.inputs.dataset_inputs.push(DatasetInput {
                tags: tags.remove(&(r.int(0), r.int(1))).unwrap_or_default(),
                dataset: Dataset {
                    name: r.text(2),
                    digest: r.text(3),
                    source_type: r.text(4),
                    source: r.text(5),
                    schema: r.opt_text(6),
                    profile: r.opt_text(7),
                },
            });
        }
        Ok(())
    })?;
    let sql = format!("SELECT run_id, model_id FROM run_model_inputs WHERE run_id {any} ORDER BY run_id, model_id");
    db.run(&sql, params, |r| {
        if let Some(run) = runs.get_mut(&r.int(0)) {
            run.inputs.model_inputs.push(ModelInput { model_id: r.text(1) });
        }
        Ok(())
    })?;
    let sql = format!(
        "SELECT run_id, model_id, step FROM run_model_outputs WHERE run_id {any} ORDER BY run_id, step, model_id"
    );
    db.run(&sql, params, |r| {
        if let Some(run) = runs.get_mut(&r.int(0)) {
            run.outputs.model_outputs.push(ModelOutput { model_id: r.text(1), step: r.int(2) });
        }
        Ok(())
    })?;
    Ok(())
}

fn load_run(db: &mut Db, id: i64, run_uuid: &str) -> Result<Run> {
    load_runs(db, &[id])?.pop().ok_or_else(|| Error::not_found(format!("Run with id={run_uuid} not found")))
}

impl SqlStore {
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
            validate_tag(Item("tags", i), &tag.key, &tag.value)?;
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
        let run = self
            .writer
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
                        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                        &[id.into(), (&tag.key).into(), (&tag.value).into()],
                    )?;
                }
                // The caller gets the run as stored, built from what was just written.
                let mut tags: Vec<KeyValue> = Vec::with_capacity(run_tags.len());
                for tag in run_tags.into_iter().rev() {
                    if !tags.iter().any(|t| t.key == tag.key) {
                        tags.push(tag);
                    }
                }
                tags.sort_by(|a, b| a.key.cmp(&b.key));
                Ok(Run {
                    info: RunInfo {
                        run_id: run_uuid.clone(),
                        run_uuid,
                        run_name,
                        experiment_id: experiment_id.to_string(),
                        user_id,
                        status: RunStatus::Running,
                        start_time,
                        end_time: None,
                        artifact_uri,
                        lifecycle_stage: LifecycleStage::Active,
                    },
                    data: RunData { tags, ..Default::default() },
                    inputs: RunInputs::default(),
                    outputs: RunOutputs::default(),
                })
            })
            .await?;
        self.changes.publish(&run.info.experiment_id, &run.info.run_id, ChangeKind::RunCreated);
        Ok(run)
    }

    pub(super) async fn update_run_impl(&self, run_id: &str, update: RunUpdate) -> Result<RunInfo> {
        let uuid = run_id.to_string();
        let info = self
            .writer
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
            .await?;
        self.changes.publish(&info.experiment_id, run_id, ChangeKind::RunUpdated);
        Ok(info)
    }

    pub(super) async fn set_run_stage(&self, run_id: &str, stage: LifecycleStage) -> Result<()> {
        let uuid = run_id.to_string();
        let experiment_id = self
            .writer
            .write(move |db| {
                let run = find_run(db, &uuid)?;
                let deleted_time = (stage == LifecycleStage::Deleted).then(crate::now_millis);
                db.execute(
                    "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?",
                    &[stage.as_str().into(), deleted_time.into(), run.id.into()],
                )?;
                Ok(run.experiment_id)
            })
            .await?;
        let kind = if stage == LifecycleStage::Deleted { ChangeKind::RunDeleted } else { ChangeKind::RunRestored };
        self.changes.publish(experiment_id, run_id, kind);
        Ok(())
    }
}
