//! [`ImportTarget`] for SQLite: upserts that keep the source's ids.

use super::db::{Db, Dialect, Param};
use super::logged_models::insert_metric;
use super::logging::{insert_inputs, log_points};
use super::{find_run, parse_experiment_id, SqlStore};
use crate::import::ImportTarget;
use async_trait::async_trait;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Error, Experiment, KeyValue, LifecycleStage, LoggedModel, ModelMetric, Point, Result, Run};

fn replace_pairs(db: &mut Db, sql: &str, owner: &[Param], items: &[KeyValue]) -> Result<()> {
    for kv in items {
        let mut params = owner.to_vec();
        params.push((&kv.key).into());
        params.push((&kv.value).into());
        db.execute(sql, &params)?;
    }
    Ok(())
}

fn import_experiment(db: &mut Db, e: &Experiment) -> Result<()> {
    let id = parse_experiment_id(&e.experiment_id)?;
    let other = db.row(
        "SELECT experiment_id FROM experiments WHERE name = ? AND experiment_id != ?",
        &[(&e.name).into(), id.into()],
        |r| r.int(0),
    )?;
    if let Some(other) = other {
        return Err(Error::already_exists(format!(
            "Experiment '{}' already exists in mltrack with id {other}",
            e.name
        )));
    }
    db.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id) DO UPDATE SET name = excluded.name, \
         artifact_location = excluded.artifact_location, lifecycle_stage = excluded.lifecycle_stage, \
         creation_time = excluded.creation_time, last_update_time = excluded.last_update_time",
        &[
            id.into(),
            (&e.name).into(),
            (&e.artifact_location).into(),
            e.lifecycle_stage.as_str().into(),
            e.creation_time.into(),
            e.last_update_time.into(),
        ],
    )?;
    if db.dialect() == Dialect::Postgres {
        // New experiments take ids from a sequence: move it past the ids
        // imported as they were, so the next one created does not collide.
        db.execute(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), \
             GREATEST((SELECT MAX(experiment_id) FROM experiments), 1))",
            &[],
        )?;
    }
    replace_pairs(
        db,
        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
        &[id.into()],
        &e.tags,
    )
}

fn import_run(db: &mut Db, run: &Run) -> Result<()> {
    let info = &run.info;
    let experiment_id = parse_experiment_id(&info.experiment_id)?;
    let deleted_time = match info.lifecycle_stage {
        LifecycleStage::Deleted => Some(info.end_time.unwrap_or(info.start_time)),
        LifecycleStage::Active => None,
    };
    db.execute(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, deleted_time, \
         lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (run_uuid) DO UPDATE SET name = excluded.name, user_id = excluded.user_id, \
         status = excluded.status, start_time = excluded.start_time, end_time = excluded.end_time, \
         deleted_time = excluded.deleted_time, lifecycle_stage = excluded.lifecycle_stage, \
         artifact_uri = excluded.artifact_uri",
        &[
            (&info.run_id).into(),
            experiment_id.into(),
            (&info.run_name).into(),
            (&info.user_id).into(),
            info.status.as_str().into(),
            info.start_time.into(),
            info.end_time.into(),
            deleted_time.into(),
            info.lifecycle_stage.as_str().into(),
            (&info.artifact_uri).into(),
        ],
    )?;
    let stored = find_run(db, &info.run_id)?;
    replace_pairs(
        db,
        "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        &[stored.id.into()],
        &run.data.params,
    )?;
    replace_pairs(
        db,
        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        &[stored.id.into()],
        &run.data.tags,
    )?;
    insert_inputs(db, stored.id, stored.experiment_id, &run.inputs.dataset_inputs)?;
    for input in &run.inputs.model_inputs {
        db.execute(
            "INSERT INTO run_model_inputs (run_id, model_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            &[stored.id.into(), (&input.model_id).into()],
        )?;
    }
    for output in &run.outputs.model_outputs {
        db.execute(
            "INSERT INTO run_model_outputs (run_id, model_id, step) VALUES (?, ?, ?) ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step",
            &[stored.id.into(), (&output.model_id).into(), output.step.into()],
        )?;
    }
    Ok(())
}

fn import_logged_model(db: &mut Db, model: &LoggedModel, metrics: &[ModelMetric]) -> Result<()> {
    let info = &model.info;
    let experiment_id = parse_experiment_id(&info.experiment_id)?;
    let stage = info.lifecycle_stage.unwrap_or_default();
    db.execute(
        "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, \
         last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id) DO UPDATE SET \
         experiment_id = excluded.experiment_id, name = excluded.name, artifact_location = excluded.artifact_location, \
         creation_timestamp_ms = excluded.creation_timestamp_ms, \
         last_updated_timestamp_ms = excluded.last_updated_timestamp_ms, status = excluded.status, \
         lifecycle_stage = excluded.lifecycle_stage, model_type = excluded.model_type, \
         source_run_id = excluded.source_run_id, status_message = excluded.status_message",
        &[
            (&info.model_id).into(),
            experiment_id.into(),
            (&info.name).into(),
            (&info.artifact_uri).into(),
            info.creation_timestamp_ms.into(),
            info.last_updated_timestamp_ms.into(),
            info.status.as_int().into(),
            stage.as_str().into(),
            info.model_type.as_ref().into(),
            info.source_run_id.as_ref().into(),
            info.status_message.as_ref().into(),
        ],
    )?;
    let owner = [Param::from(&info.model_id)];
    replace_pairs(
        db,
        "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
        &owner,
        &model.data.params,
    )?;
    replace_pairs(
        db,
        "INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
        &owner,
        &info.tags,
    )?;
    for m in metrics {
        insert_metric(db, &info.model_id, m)?;
    }
    Ok(())
}

fn import_registered_model(db: &mut Db, model: &RegisteredModel) -> Result<()> {
    db.execute(
        "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET creation_time = excluded.creation_time, \
         last_updated_time = excluded.last_updated_time, description = excluded.description",
        &[
            (&model.name).into(),
            model.creation_timestamp.into(),
            model.last_updated_timestamp.into(),
            model.description.as_ref().into(),
        ],
    )?;
    let owner = [Param::from(&model.name)];
    replace_pairs(
        db,
        "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
        &owner,
        &model.tags,
    )?;
    for alias in &model.aliases {
        let version = tracking::registry::parse_version(&alias.version)?;
        db.execute(
            "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
            &[(&model.name).into(), (&alias.alias).into(), version.into()],
        )?;
    }
    Ok(())
}

fn import_model_version(db: &mut Db, v: &ModelVersion, storage_location: Option<&str>) -> Result<()> {
    let version = tracking::registry::parse_version(&v.version)?;
    db.execute(
        "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, \
         current_stage, source, storage_location, run_id, run_link, status, status_message, model_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET \
         creation_time = excluded.creation_time, last_updated_time = excluded.last_updated_time, \
         description = excluded.description, user_id = excluded.user_id, current_stage = excluded.current_stage, \
         source = excluded.source, storage_location = excluded.storage_location, run_id = excluded.run_id, \
         run_link = excluded.run_link, status = excluded.status, status_message = excluded.status_message, \
         model_id = excluded.model_id",
        &[
            (&v.name).into(),
            version.into(),
            v.creation_timestamp.into(),
            v.last_updated_timestamp.into(),
            v.description.as_ref().into(),
            v.user_id.as_ref().into(),
            (&v.current_stage).into(),
            v.source.as_ref().into(),
            storage_location.into(),
            v.run_id.as_deref().filter(|r| !r.is_empty()).into(),
            v.run_link.as_deref().filter(|r| !r.is_empty()).into(),
            (&v.status).into(),
            v.status_message.as_ref().into(),
            v.model_id.as_deref().filter(|m| !m.is_empty()).into(),
        ],
    )?;
    replace_pairs(
        db,
        "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
        &[(&v.name).into(), version.into()],
        &v.tags,
    )
}

#[async_trait]
impl ImportTarget for SqlStore {
    async fn import_experiment(&self, experiment: &Experiment) -> Result<()> {
        let experiment = experiment.clone();
        self.writer.write(move |db| import_experiment(db, &experiment)).await
    }

    async fn import_run(&self, run: &Run) -> Result<()> {
        let run = run.clone();
        self.writer.write(move |db| import_run(db, &run)).await
    }

    async fn import_metric_points(&self, run_id: &str, key: &str, points: &[Point]) -> Result<u64> {
        if points.is_empty() {
            return Ok(0);
        }
        let (run_id, key, points) = (run_id.to_string(), key.to_string(), points.to_vec());
        self.writer
            .write(move |db| {
                let run = find_run(db, &run_id)?;
                log_points(db, run.id, &key, &points)
            })
            .await
    }

    async fn import_logged_model(&self, model: &LoggedModel, metrics: &[ModelMetric]) -> Result<()> {
        let (model, metrics) = (model.clone(), metrics.to_vec());
        self.writer.write(move |db| import_logged_model(db, &model, &metrics)).await
    }

    async fn import_registered_model(&self, model: &RegisteredModel) -> Result<()> {
        let model = model.clone();
        self.writer.write(move |db| import_registered_model(db, &model)).await
    }

    async fn import_model_version(&self, version: &ModelVersion, storage_location: Option<&str>) -> Result<()> {
        let (version, location) = (version.clone(), storage_location.map(str::to_string));
        self.writer.write(move |db| import_model_version(db, &version, location.as_deref())).await
    }

    async fn import_marker(&self, source: &str, object: &str) -> Result<Option<String>> {
        let (source, object) = (source.to_string(), object.to_string());
        self.readers
            .read(move |db| {
                db.row(
                    "SELECT fingerprint FROM import_markers WHERE source = ? AND object = ?",
                    &[(&source).into(), (&object).into()],
                    |r| r.text(0),
                )
            })
            .await
    }

    async fn set_import_marker(&self, source: &str, object: &str, fingerprint: &str) -> Result<()> {
        let (source, object, fingerprint) = (source.to_string(), object.to_string(), fingerprint.to_string());
        self.writer
            .write(move |db| {
                db.execute(
                    "INSERT INTO import_markers (source, object, fingerprint, imported_at) VALUES (?, ?, ?, ?) ON CONFLICT (source, object) DO UPDATE SET fingerprint = excluded.fingerprint, imported_at = excluded.imported_at",
                    &[(&source).into(), (&object).into(), (&fingerprint).into(), crate::now_millis().into()],
                )?;
                Ok(())
            })
            .await
    }
}
