//! MLflow 3 logged models: create, read, finalize, delete, tags, params,
//! metrics, search, and the run inputs/outputs that link runs to them.

use super::compile::{Keyed, Metrics, Select, Table};
use super::db::{Db, Param, Row};
use super::experiments::experiment_stage;
use super::{find_active_run, parse_experiment_id, SqlStore};
use crate::page::page_of;
use crate::{search, LoggedModelQuery, NewLoggedModel};
use std::collections::HashMap;
use tracking::validation::{validate_param, validate_tag, Item};
use tracking::{
    Error, KeyValue, LifecycleStage, LoggedModel, LoggedModelData, LoggedModelInfo, LoggedModelStatus, ModelMetric,
    ModelOutput, Page, Result,
};

const COLUMNS: &str = "m.model_id, m.experiment_id, m.name, m.artifact_location, m.creation_timestamp_ms, \
    m.last_updated_timestamp_ms, m.status, m.lifecycle_stage, m.model_type, m.source_run_id, m.status_message";

fn to_info(r: &Row) -> LoggedModelInfo {
    LoggedModelInfo {
        model_id: r.text(0),
        experiment_id: r.int(1).to_string(),
        name: r.text(2),
        artifact_uri: r.text(3),
        creation_timestamp_ms: r.int(4),
        last_updated_timestamp_ms: r.int(5),
        status: LoggedModelStatus::from_int(r.int(6)).unwrap_or(LoggedModelStatus::LoggedModelStatusUnspecified),
        lifecycle_stage: LifecycleStage::parse(&r.text(7)),
        model_type: r.opt_text(8),
        source_run_id: r.opt_text(9),
        status_message: r.opt_text(10),
        tags: Vec::new(),
        registrations: Vec::new(),
    }
}

fn not_found(model_id: &str) -> Error {
    Error::not_found(format!("Logged model with ID '{model_id}' not found."))
}

/// MLflow's `_validate_logged_model_name`.
fn validate_name(name: &str) -> Result<()> {
    const BAD: [char; 6] = ['/', ':', '.', '%', '"', '\''];
    if name.is_empty() || name.contains(BAD) {
        return Err(Error::invalid(format!(
            "Invalid model name ('{name}') provided. Model name must be a non-empty string and cannot contain the \
             following characters: ('/', ':', '.', '%', '\"', \"'\")"
        )));
    }
    Ok(())
}

/// The model's experiment id, or RESOURCE_DOES_NOT_EXIST (deleted ones too when `allow_deleted`).
fn find_model(db: &mut Db, model_id: &str, allow_deleted: bool) -> Result<i64> {
    db.row("SELECT experiment_id, lifecycle_stage FROM logged_models WHERE model_id = ?", &[model_id.into()], |r| {
        (r.int(0), r.text(1))
    })?
    .filter(|(_, stage)| allow_deleted || stage != LifecycleStage::Deleted.as_str())
    .map(|(experiment_id, _)| experiment_id)
    .ok_or_else(|| not_found(model_id))
}

/// Loads whole models (info, tags, params, metrics) in the order of `ids`.
fn load_models(db: &mut Db, ids: &[String]) -> Result<Vec<LoggedModel>> {
    let mut models: HashMap<String, LoggedModel> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let params: Vec<Param> = chunk.iter().map(|id| id.into()).collect();
        db.run(&format!("SELECT {COLUMNS} FROM logged_models m WHERE m.model_id IN ({marks})"), &params, |r| {
            let info = to_info(r);
            models.insert(info.model_id.clone(), LoggedModel { info, data: LoggedModelData::default() });
            Ok(())
        })?;
        for table in ["logged_model_tags", "logged_model_params"] {
            let sql = format!("SELECT model_id, key, value FROM {table} WHERE model_id IN ({marks}) ORDER BY key");
            db.run(&sql, &params, |r| {
                if let Some(m) = models.get_mut(&r.text(0)) {
                    let kv = KeyValue { key: r.text(1), value: r.text(2) };
                    match table {
                        "logged_model_tags" => m.info.tags.push(kv),
                        _ => m.data.params.push(kv),
                    }
                }
                Ok(())
            })?;
        }
        let sql = format!(
            "SELECT model_id, key, step, timestamp, bits, run_id, dataset_name, dataset_digest \
             FROM logged_model_metrics WHERE model_id IN ({marks}) ORDER BY key, step, timestamp"
        );
        db.run(&sql, &params, |r| {
            if let Some(m) = models.get_mut(&r.text(0)) {
                let opt = |s: String| (!s.is_empty()).then_some(s);
                m.data.metrics.push(ModelMetric {
                    key: r.text(1),
                    step: r.int(2),
                    timestamp: r.int(3),
                    value: f64::from_bits(r.int(4) as u64),
                    model_id: r.text(0),
                    run_id: opt(r.text(5)),
                    dataset_name: opt(r.text(6)),
                    dataset_digest: opt(r.text(7)),
                });
            }
            Ok(())
        })?;
    }
    Ok(ids.iter().filter_map(|id| models.remove(id)).collect())
}

fn load_model(db: &mut Db, model_id: &str) -> Result<LoggedModel> {
    load_models(db, &[model_id.to_string()])?.pop().ok_or_else(|| not_found(model_id))
}

fn touch(db: &mut Db, model_id: &str) -> Result<()> {
    db.execute(
        "UPDATE logged_models SET last_updated_timestamp_ms = ? WHERE model_id = ?",
        &[crate::now_millis().into(), model_id.into()],
    )?;
    Ok(())
}

fn upsert(db: &mut Db, table: &str, model_id: &str, items: &[KeyValue]) -> Result<()> {
    let sql = format!("INSERT INTO {table} (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value");
    for kv in items {
        db.execute(&sql, &[model_id.into(), (&kv.key).into(), (&kv.value).into()])?;
    }
    Ok(())
}

/// Stores one point of a model's metric (a repeat replaces the stored one).
pub(super) fn insert_metric(db: &mut Db, model_id: &str, m: &ModelMetric) -> Result<()> {
    db.execute(
        "INSERT INTO logged_model_metrics \
         (model_id, key, step, timestamp, bits, value, run_id, dataset_name, dataset_digest) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (model_id, key, step, timestamp, run_id, dataset_name, dataset_digest) \
         DO UPDATE SET bits = excluded.bits, value = excluded.value",
        &[
            model_id.into(),
            (&m.key).into(),
            m.step.into(),
            m.timestamp.into(),
            (m.value.to_bits() as i64).into(),
            (!m.value.is_nan()).then_some(m.value).into(),
            m.run_id.as_deref().unwrap_or("").into(),
            m.dataset_name.as_deref().unwrap_or("").into(),
            m.dataset_digest.as_deref().unwrap_or("").into(),
        ],
    )?;
    Ok(())
}

impl SqlStore {
    pub(super) async fn create_logged_model_impl(&self, new: NewLoggedModel) -> Result<LoggedModel> {
        if let Some(name) = &new.name {
            validate_name(name)?;
        }
        let experiment_id = parse_experiment_id(&new.experiment_id)?;
        for (i, p) in new.params.iter().enumerate() {
            validate_param(Item("params", i), &p.key, &p.value)?;
        }
        for (i, t) in new.tags.iter().enumerate() {
            validate_tag(Item("tags", i), &t.key, &t.value)?;
        }
        let uuid = uuid::Uuid::new_v4();
        let model_id = format!("m-{}", uuid.simple());
        let name = new.name.clone().unwrap_or_else(|| crate::generate_run_name(uuid.as_u128()));
        self.writer
            .write(move |db| {
                if experiment_stage(db, experiment_id)? != LifecycleStage::Active {
                    return Err(Error::invalid(format!(
                        "The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
                    )));
                }
                let root = db
                    .row("SELECT artifact_location FROM experiments WHERE experiment_id = ?", &[experiment_id.into()], |r| {
                        r.text(0)
                    })?
                    .unwrap_or_default();
                let location = format!("{}/models/{model_id}/artifacts", root.trim_end_matches('/'));
                let now = crate::now_millis();
                db.execute(
                    "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, \
                     last_updated_timestamp_ms, status, model_type, source_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    &[
                        (&model_id).into(),
                        experiment_id.into(),
                        (&name).into(),
                        (&location).into(),
                        now.into(),
                        now.into(),
                        LoggedModelStatus::LoggedModelPending.as_int().into(),
                        new.model_type.as_deref().filter(|t| !t.is_empty()).into(),
                        new.source_run_id.as_deref().filter(|t| !t.is_empty()).into(),
                    ],
                )?;
                upsert(db, "logged_model_params", &model_id, &new.params)?;
                upsert(db, "logged_model_tags", &model_id, &new.tags)?;
                load_model(db, &model_id)
            })
            .await
    }

    pub(super) async fn get_logged_model_impl(&self, model_id: &str, allow_deleted: bool) -> Result<LoggedModel> {
        let model_id = model_id.to_string();
        self.readers
            .read(move |db| {
                find_model(db, &model_id, allow_deleted)?;
                load_model(db, &model_id)
            })
            .await
    }

    pub(super) async fn finalize_logged_model_impl(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel> {
        let model_id = model_id.to_string();
        self.writer
            .write(move |db| {
                find_model(db, &model_id, false)?;
                db.execute(
                    "UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?",
                    &[status.as_int().into(), crate::now_millis().into(), (&model_id).into()],
                )?;
                load_model(db, &model_id)
            })
            .await
    }

    pub(super) async fn delete_logged_model_impl(&self, model_id: &str) -> Result<()> {
        let model_id = model_id.to_string();
        self.writer
            .write(move |db| {
                find_model(db, &model_id, false)?;
                db.execute(
                    "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE model_id = ?",
                    &[crate::now_millis().into(), (&model_id).into()],
                )?;
                Ok(())
            })
            .await
    }

    pub(super) async fn set_logged_model_tags_impl(&self, model_id: &str, tags: Vec<KeyValue>) -> Result<()> {
        for (i, t) in tags.iter().enumerate() {
            validate_tag(Item("tags", i), &t.key, &t.value)?;
        }
        let model_id = model_id.to_string();
        self.writer
            .write(move |db| {
                find_model(db, &model_id, false)?;
                upsert(db, "logged_model_tags", &model_id, &tags)?;
                touch(db, &model_id)
            })
            .await
    }

    pub(super) async fn delete_logged_model_tag_impl(&self, model_id: &str, key: &str) -> Result<()> {
        let (model_id, key) = (model_id.to_string(), key.to_string());
        self.writer
            .write(move |db| {
                find_model(db, &model_id, false)?;
                let n = db.execute(
                    "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?",
                    &[(&model_id).into(), (&key).into()],
                )?;
                if n == 0 {
                    return Err(Error::not_found(format!(
                        "No tag with key '{key}' found for model with ID '{model_id}'."
                    )));
                }
                touch(db, &model_id)
            })
            .await
    }

    pub(super) async fn log_logged_model_params_impl(&self, model_id: &str, params: Vec<KeyValue>) -> Result<()> {
        for (i, p) in params.iter().enumerate() {
            validate_param(Item("params", i), &p.key, &p.value)?;
        }
        let model_id = model_id.to_string();
        self.writer
            .write(move |db| {
                find_model(db, &model_id, false)?;
                upsert(db, "logged_model_params", &model_id, &params)?;
                touch(db, &model_id)
            })
            .await
    }

    pub(super) async fn log_model_metrics_impl(&self, metrics: Vec<ModelMetric>) -> Result<()> {
        if metrics.is_empty() {
            return Ok(());
        }
        self.writer
            .write(move |db| {
                for m in &metrics {
                    find_model(db, &m.model_id, false)?;
                    insert_metric(db, &m.model_id, m)?;
                }
                Ok(())
            })
            .await
    }

    pub(super) async fn log_outputs_impl(&self, run_id: &str, models: Vec<ModelOutput>) -> Result<()> {
        let run_id = run_id.to_string();
        self.writer
            .write(move |db| {
                let run = find_active_run(db, &run_id)?;
                for m in &models {
                    find_model(db, &m.model_id, false)?;
                    db.execute(
                        "INSERT INTO run_model_outputs (run_id, model_id, step) VALUES (?, ?, ?) ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step",
                        &[run.id.into(), (&m.model_id).into(), m.step.into()],
                    )?;
                }
                Ok(())
            })
            .await
    }

    pub(super) async fn log_model_inputs_impl(&self, run_id: &str, model_ids: Vec<String>) -> Result<()> {
        if model_ids.is_empty() {
            return Ok(());
        }
        let run_id = run_id.to_string();
        self.writer
            .write(move |db| {
                let run = find_active_run(db, &run_id)?;
                for model_id in &model_ids {
                    find_model(db, model_id, false)?;
                    db.execute(
                        "INSERT INTO run_model_inputs (run_id, model_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        &[run.id.into(), model_id.into()],
                    )?;
                }
                Ok(())
            })
            .await
    }

    pub(super) async fn search_logged_models_impl(&self, query: &LoggedModelQuery) -> Result<Page<LoggedModel>> {
        let parsed = search::logged_models(query)?;
        let search = &parsed.search;
        let mut select = Select::new(&LOGGED_MODELS, "m.model_id");
        select.and("m.lifecycle_stage = 'active'");
        if !parsed.experiment_ids.is_empty() {
            select.and_in("m.experiment_id", &parsed.experiment_ids);
        }
        select.filter(&search.clauses)?;
        if !parsed.datasets.is_empty() {
            select.and_with(|sql, args| {
                sql.push('(');
                for (i, dataset) in parsed.datasets.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(" OR ");
                    }
                    sql.push_str(
                        "EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id \
                         AND x.dataset_name = ?",
                    );
                    args.text(&dataset.name);
                    if let Some(digest) = &dataset.digest {
                        sql.push_str(" AND x.dataset_digest = ?");
                        args.text(digest);
                    }
                    sql.push(')');
                }
                sql.push(')');
            });
        }
        select.order_by(&search.order)?;
        select.then_by("m.creation_timestamp_ms DESC");
        select.then_by("m.model_id");
        let (offset, limit) = (search.offset, search.limit);
        let (sql, args) = select.page(limit, offset);
        self.readers
            .read(move |db| {
                let ids = db.rows(&sql, &args.params(), |r| r.text(0))?;
                let page = page_of(ids, offset, limit);
                Ok(Page { items: load_models(db, &page.items)?, next_page_token: page.next_page_token })
            })
            .await
    }
}

const OWNER: &[(&str, &str)] = &[("model_id", "m.model_id")];

static LOGGED_MODELS: Table = Table {
    from: "logged_models m",
    attributes: &[
        ("name", "m.name"),
        ("model_id", "m.model_id"),
        ("model_type", "m.model_type"),
        ("status", "m.status"),
        ("source_run_id", "m.source_run_id"),
        ("creation_timestamp", "m.creation_timestamp_ms"),
        ("last_updated_timestamp", "m.last_updated_timestamp_ms"),
    ],
    params: Some(Keyed { table: "logged_model_params", owner: OWNER }),
    tags: Some(Keyed { table: "logged_model_tags", owner: OWNER }),
    metrics: Metrics::Points(Keyed { table: "logged_model_metrics", owner: OWNER }),
    ne_keeps_untagged: &[],
    datasets: None,
};
