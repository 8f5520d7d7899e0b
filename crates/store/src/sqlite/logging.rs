//! Writes to a run's data: metrics, params, tags and dataset inputs.

use super::{db_error, find_active_run, SqliteStore};
use sqlx::SqliteConnection;
use std::collections::HashMap;
use tracking::validation::{
    self as v, validate_batch_limits, validate_length, validate_metric, validate_param, validate_tag,
};
use tracking::{tags, DatasetInput, Error, KeyValue, Metric, Result};

/// Rows per multi-row INSERT. Chunks are powers of two so that only a few
/// distinct statements exist and all of them stay in the prepared-statement cache.
const METRIC_ROWS_PER_INSERT: usize = 64;

/// What a batch adds to one metric's summary row.
struct Summary {
    /// MLflow's latest point: highest (step, timestamp, value), NaN as 0.
    step: i64,
    timestamp: i64,
    value: f64,
    is_nan: bool,
    min: Option<f64>,
    max: Option<f64>,
    count: i64,
}

impl Summary {
    fn new(m: &Metric) -> Self {
        let mut s =
            Summary { step: m.step, timestamp: m.timestamp, value: 0.0, is_nan: true, min: None, max: None, count: 0 };
        s.add(m);
        s.set_latest(m);
        s
    }

    fn set_latest(&mut self, m: &Metric) {
        self.step = m.step;
        self.timestamp = m.timestamp;
        self.is_nan = m.value.is_nan();
        self.value = if self.is_nan { 0.0 } else { m.value };
    }

    fn add(&mut self, m: &Metric) {
        self.count += 1;
        if !m.value.is_nan() {
            self.min = Some(self.min.map_or(m.value, |x| x.min(m.value)));
            self.max = Some(self.max.map_or(m.value, |x| x.max(m.value)));
        }
    }

    fn merge(&mut self, m: &Metric) {
        self.add(m);
        let value = if m.value.is_nan() { 0.0 } else { m.value };
        let newer = (m.step, m.timestamp) > (self.step, self.timestamp)
            || ((m.step, m.timestamp) == (self.step, self.timestamp) && value > self.value);
        if newer {
            self.set_latest(m);
        }
    }
}

async fn insert_metrics(conn: &mut SqliteConnection, run_id: i64, metrics: &[Metric]) -> Result<()> {
    let mut rest = metrics;
    while !rest.is_empty() {
        let mut n = METRIC_ROWS_PER_INSERT;
        while n > rest.len() {
            n /= 2;
        }
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let sql = format!(
            "INSERT OR IGNORE INTO metrics (run_id, key, step, timestamp, value, is_nan) VALUES {}",
            vec!["(?,?,?,?,?,?)"; n].join(",")
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            let is_nan = m.value.is_nan();
            q = q
                .bind(run_id)
                .bind(&m.key)
                .bind(m.step)
                .bind(m.timestamp)
                .bind(if is_nan { 0.0 } else { m.value })
                .bind(is_nan);
        }
        q.execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

const UPSERT_SUMMARY: &str = "\
INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp, step, min_value, max_value, count) \
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
ON CONFLICT (run_id, key) DO UPDATE SET \
  value = CASE WHEN (excluded.step, excluded.timestamp, excluded.value) > (step, timestamp, value) THEN excluded.value ELSE value END, \
  is_nan = CASE WHEN (excluded.step, excluded.timestamp, excluded.value) > (step, timestamp, value) THEN excluded.is_nan ELSE is_nan END, \
  timestamp = CASE WHEN (excluded.step, excluded.timestamp, excluded.value) > (step, timestamp, value) THEN excluded.timestamp ELSE timestamp END, \
  step = CASE WHEN (excluded.step, excluded.timestamp, excluded.value) > (step, timestamp, value) THEN excluded.step ELSE step END, \
  min_value = coalesce(min(min_value, excluded.min_value), min_value, excluded.min_value), \
  max_value = coalesce(max(max_value, excluded.max_value), max_value, excluded.max_value), \
  count = count + excluded.count";

async fn update_summaries(conn: &mut SqliteConnection, run_id: i64, metrics: &[Metric]) -> Result<()> {
    let mut summaries: Vec<(&str, Summary)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for m in metrics {
        match index.get(m.key.as_str()) {
            Some(&i) => summaries[i].1.merge(m),
            None => {
                index.insert(&m.key, summaries.len());
                summaries.push((&m.key, Summary::new(m)));
            }
        }
    }
    for (key, s) in summaries {
        sqlx::query(UPSERT_SUMMARY)
            .bind(run_id)
            .bind(key)
            .bind(s.value)
            .bind(s.is_nan)
            .bind(s.timestamp)
            .bind(s.step)
            .bind(s.min)
            .bind(s.max)
            .bind(s.count)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn insert_params(conn: &mut SqliteConnection, run_id: i64, run_uuid: &str, params: &[KeyValue]) -> Result<()> {
    for p in params {
        let done = sqlx::query("INSERT OR IGNORE INTO params (run_id, key, value) VALUES (?, ?, ?)")
            .bind(run_id)
            .bind(&p.key)
            .bind(&p.value)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            let old: String = sqlx::query_scalar("SELECT value FROM params WHERE run_id = ? AND key = ?")
                .bind(run_id)
                .bind(&p.key)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_error)?;
            if old != p.value {
                return Err(Error::invalid(format!(
                    "Changing param values is not allowed. Param with key='{}' was already logged with \
                     value='{old}' for run ID='{run_uuid}'. Attempted logging new value '{}'.",
                    p.key, p.value
                )));
            }
        }
    }
    Ok(())
}

/// Sets a run's name and its `mlflow.runName` tag together, as MLflow keeps them equal.
pub(super) async fn set_run_name(conn: &mut SqliteConnection, run_id: i64, name: &str) -> Result<()> {
    sqlx::query("UPDATE runs SET name = ? WHERE id = ?")
        .bind(name)
        .bind(run_id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    sqlx::query("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)")
        .bind(run_id)
        .bind(tags::RUN_NAME)
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn set_tags(conn: &mut SqliteConnection, run_id: i64, tags: &[KeyValue]) -> Result<()> {
    for t in tags {
        if t.key == tags::RUN_NAME {
            set_run_name(conn, run_id, &t.value).await?;
            continue;
        }
        sqlx::query("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)")
            .bind(run_id)
            .bind(&t.key)
            .bind(&t.value)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// MLflow's checks on a `log-batch` request, with its messages and paths.
pub fn validate_batch(metrics: &[Metric], params: &[KeyValue], tags: &[KeyValue]) -> Result<()> {
    validate_batch_limits(metrics.len(), params.len(), tags.len())?;
    for (i, m) in metrics.iter().enumerate() {
        validate_metric(&format!("metrics[{i}]."), &m.key, m.timestamp)?;
    }
    for (i, p) in params.iter().enumerate() {
        validate_param(&format!("params[{i}]."), &p.key, &p.value)?;
        if params[..i].iter().any(|q| q.key == p.key) {
            let dupes: Vec<&str> = params.iter().filter(|q| q.key == p.key).skip(1).map(|q| q.key.as_str()).collect();
            return Err(Error::invalid(format!(
                "Duplicate parameter keys have been submitted: {dupes:?}. Please ensure the request \
                 contains only one param value per param key."
            )));
        }
    }
    for (i, t) in tags.iter().enumerate() {
        validate_tag(&format!("tags[{i}]."), &t.key, &t.value)?;
    }
    Ok(())
}

fn validate_input(i: usize, input: &DatasetInput) -> Result<()> {
    let d = &input.dataset;
    let path = |f: &str| format!("datasets[{i}].dataset.{f}");
    if d.name.is_empty() {
        return Err(v::missing_value(&path("name")));
    }
    if d.digest.is_empty() {
        return Err(v::missing_value(&path("digest")));
    }
    validate_length(&path("name"), &d.name, v::MAX_DATASET_NAME_SIZE)?;
    validate_length(&path("digest"), &d.digest, v::MAX_DATASET_DIGEST_SIZE)?;
    validate_length(&path("source"), &d.source, v::MAX_DATASET_SOURCE_SIZE)?;
    validate_length(&path("schema"), d.schema.as_deref().unwrap_or(""), v::MAX_DATASET_SCHEMA_SIZE)?;
    validate_length(&path("profile"), d.profile.as_deref().unwrap_or(""), v::MAX_DATASET_PROFILE_SIZE)?;
    for (j, t) in input.tags.iter().enumerate() {
        validate_length(&format!("datasets[{i}].tags[{j}].key"), &t.key, v::MAX_INPUT_TAG_KEY_SIZE)?;
        validate_length(&format!("datasets[{i}].tags[{j}].value"), &t.value, v::MAX_INPUT_TAG_VALUE_SIZE)?;
    }
    Ok(())
}

impl SqliteStore {
    pub(super) async fn log_batch_impl(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<KeyValue>,
        tags: Vec<KeyValue>,
    ) -> Result<()> {
        validate_batch(&metrics, &params, &tags)?;
        let uuid = run_id.to_string();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let run = find_active_run(conn, &uuid).await?;
                    insert_params(conn, run.id, &uuid, &params).await?;
                    set_tags(conn, run.id, &tags).await?;
                    if !metrics.is_empty() {
                        insert_metrics(conn, run.id, &metrics).await?;
                        update_summaries(conn, run.id, &metrics).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    pub(super) async fn delete_tag_impl(&self, run_id: &str, key: &str) -> Result<()> {
        let uuid = run_id.to_string();
        let key = key.to_string();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let run = find_active_run(conn, &uuid).await?;
                    let done = sqlx::query("DELETE FROM tags WHERE run_id = ? AND key = ?")
                        .bind(run.id)
                        .bind(&key)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found(format!("No tag with name: {key} in run with id {uuid}")));
                    }
                    Ok(())
                })
            })
            .await
    }

    pub(super) async fn log_inputs_impl(&self, run_id: &str, inputs: Vec<DatasetInput>) -> Result<()> {
        for (i, input) in inputs.iter().enumerate() {
            validate_input(i, input)?;
        }
        let uuid = run_id.to_string();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let run = find_active_run(conn, &uuid).await?;
                    for input in &inputs {
                        let d = &input.dataset;
                        let dataset_id: i64 = sqlx::query_scalar(
                            "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) \
                             VALUES (?, ?, ?, ?, ?, ?, ?) \
                             ON CONFLICT (experiment_id, name, digest) DO UPDATE SET name = excluded.name \
                             RETURNING id",
                        )
                        .bind(run.experiment_id)
                        .bind(&d.name)
                        .bind(&d.digest)
                        .bind(&d.source_type)
                        .bind(&d.source)
                        .bind(&d.schema)
                        .bind(&d.profile)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db_error)?;
                        sqlx::query(
                            "INSERT OR IGNORE INTO run_inputs (run_id, dataset_id, position) \
                             VALUES (?, ?, (SELECT count(*) FROM run_inputs WHERE run_id = ?))",
                        )
                        .bind(run.id)
                        .bind(dataset_id)
                        .bind(run.id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                        for t in &input.tags {
                            sqlx::query("INSERT OR REPLACE INTO input_tags (run_id, dataset_id, key, value) VALUES (?, ?, ?, ?)")
                                .bind(run.id)
                                .bind(dataset_id)
                                .bind(&t.key)
                                .bind(&t.value)
                                .execute(&mut *conn)
                                .await
                                .map_err(db_error)?;
                        }
                    }
                    Ok(())
                })
            })
            .await
    }
}
