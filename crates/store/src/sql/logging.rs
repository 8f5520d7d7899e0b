//! Writes to a run's data: metrics, params, tags and dataset inputs.

use super::db::{Db, Dialect, Param};
use super::tiles;
use super::{find_active_run, SqlStore};
use crate::changes::ChangeKind;
use std::collections::HashMap;
use std::sync::OnceLock;
use tracking::validation::{
    self as v, validate_batch_limits, validate_length, validate_metric, validate_param, validate_tag, Item,
};
use tracking::{tags, DatasetInput, Error, KeyValue, Metric, Point, Result};

/// Largest number of rows in one multi-row INSERT. A batch is written in a
/// few large statements whose row counts are powers of two, so that only a
/// handful of distinct statements exist and all stay prepared.
const MAX_ROWS_PER_INSERT: usize = 512;
const MAX_ROWS_PER_UPSERT: usize = 128;

/// Splits `len` rows into power-of-two chunks of at most `max` rows.
pub(super) fn chunk_sizes(mut len: usize, max: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if len == 0 {
            return None;
        }
        let mut n = max;
        while n > len {
            n /= 2;
        }
        len -= n;
        Some(n)
    })
}

/// `INSERT … VALUES (…),(…)…` for `rows` rows of `columns` placeholders each.
pub(super) fn values_sql(prefix: &str, columns: usize, rows: usize, suffix: &str) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    format!("{prefix} VALUES {}{suffix}", vec![row.as_str(); rows].join(","))
}

/// The statements for every power-of-two chunk size up to `max`, built once:
/// `sql[log2(n)]` inserts `n` rows.
fn chunk_statements(max: usize, build: impl Fn(usize) -> String) -> Vec<String> {
    (0..=max.trailing_zeros()).map(|bits| build(1 << bits)).collect()
}

fn insert_metrics_sql(rows: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    &SQL.get_or_init(|| {
        chunk_statements(MAX_ROWS_PER_INSERT, |n| {
            values_sql("INSERT INTO metrics (run_id, key_id, step, timestamp, bits)", 5, n, " ON CONFLICT DO NOTHING")
        })
    })[rows.trailing_zeros() as usize]
}

fn upsert_summaries_sql(dialect: Dialect, rows: usize) -> &'static str {
    static SQLITE: OnceLock<Vec<String>> = OnceLock::new();
    static POSTGRES: OnceLock<Vec<String>> = OnceLock::new();
    let cell = match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    };
    &cell.get_or_init(|| {
        let upsert = upsert_summary(dialect);
        chunk_statements(MAX_ROWS_PER_UPSERT, |n| {
            values_sql(
                "INSERT INTO latest_metrics \
                 (run_id, key, value, is_nan, bits, timestamp, step, min_value, max_value, count, tiled_below)",
                11,
                n,
                &format!("{upsert} RETURNING key, tiled_below, step"),
            )
        })
    })[rows.trailing_zeros() as usize]
}

/// The stored form of a metric value: its exact bit pattern.
pub(super) fn to_bits(value: f64) -> i64 {
    value.to_bits() as i64
}

/// What a batch adds to one metric's summary row.
struct Summary<'a> {
    key: &'a str,
    /// MLflow's latest point: highest (step, timestamp, value), NaN as 0.
    step: i64,
    timestamp: i64,
    value: f64,
    min: Option<f64>,
    max: Option<f64>,
    count: i64,
}

fn comparable(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

impl<'a> Summary<'a> {
    fn new(key: &'a str, first: Point) -> Self {
        let mut s = Summary {
            key,
            step: first.step,
            timestamp: first.timestamp,
            value: first.value,
            min: None,
            max: None,
            count: 0,
        };
        s.add(first);
        s
    }

    fn add(&mut self, m: Point) {
        self.count += 1;
        if !m.value.is_nan() {
            self.min = Some(self.min.map_or(m.value, |x| x.min(m.value)));
            self.max = Some(self.max.map_or(m.value, |x| x.max(m.value)));
        }
        let newer = (m.step, m.timestamp) > (self.step, self.timestamp)
            || ((m.step, m.timestamp) == (self.step, self.timestamp) && comparable(m.value) > comparable(self.value));
        if newer {
            (self.step, self.timestamp, self.value) = (m.step, m.timestamp, m.value);
        }
    }
}

fn point(m: &Metric) -> Point {
    Point { step: m.step, timestamp: m.timestamp, value: m.value }
}

/// Groups a batch by metric name, in first-seen order.
fn summarize(metrics: &[Metric]) -> Vec<Summary<'_>> {
    let mut summaries: Vec<Summary> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for m in metrics {
        match index.get(m.key.as_str()) {
            Some(&i) => summaries[i].add(point(m)),
            None => {
                index.insert(&m.key, summaries.len());
                summaries.push(Summary::new(&m.key, point(m)));
            }
        }
    }
    summaries
}

/// The number of each metric name in the batch, registering new names.
fn key_ids<'m>(db: &mut Db, summaries: &[Summary<'m>]) -> Result<HashMap<&'m str, i64>> {
    let mut ids = HashMap::with_capacity(summaries.len());
    for s in summaries {
        ids.insert(s.key, key_id(db, s.key)?);
    }
    Ok(ids)
}

/// Inserts the points; returns how many were new (a point identical in
/// every field to a stored one is stored once).
fn insert_metrics(db: &mut Db, run_id: i64, metrics: &[Metric], ids: &HashMap<&str, i64>) -> Result<u64> {
    let rows: Vec<[i64; 5]> =
        metrics.iter().map(|m| [run_id, ids[m.key.as_str()], m.step, m.timestamp, to_bits(m.value)]).collect();
    insert_rows(db, &rows)
}

/// PostgreSQL's insert of a whole batch: five arrays, one statement.
const INSERT_UNNESTED: &str = "INSERT INTO metrics (run_id, key_id, step, timestamp, bits) \
     SELECT * FROM UNNEST(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])";

/// Inserts rows of `(run_id, key_id, step, timestamp, bits)`; returns how many were new.
fn insert_rows(db: &mut Db, rows: &[[i64; 5]]) -> Result<u64> {
    if db.dialect() == Dialect::Postgres {
        // One statement and five parameters whatever the batch's size. A
        // plain insert costs PostgreSQL half of one with ON CONFLICT (whose
        // speculative insertion checks every row): try that first, and only
        // a batch that repeats stored points takes the slow way.
        let columns: [Vec<i64>; 5] = std::array::from_fn(|c| rows.iter().map(|r| r[c]).collect());
        let params: Vec<Param> = columns.iter().map(|c| Param::IntArray(c)).collect();
        db.execute("SAVEPOINT points", &[])?;
        return match db.execute(INSERT_UNNESTED, &params) {
            Ok(inserted) => db.execute("RELEASE points", &[]).map(|_| inserted),
            Err(e) if e.error_code == tracking::ErrorCode::ResourceAlreadyExists => {
                db.execute("ROLLBACK TO points", &[])?;
                db.execute("RELEASE points", &[])?;
                db.execute(&format!("{INSERT_UNNESTED} ON CONFLICT DO NOTHING"), &params)
            }
            Err(e) => Err(e),
        };
    }
    // SQLite: a few multi-row statements of power-of-two sizes.
    let mut inserted = 0;
    let mut rest = rows;
    let mut params: Vec<Param> = Vec::with_capacity(5 * MAX_ROWS_PER_INSERT);
    for n in chunk_sizes(rows.len(), MAX_ROWS_PER_INSERT) {
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        params.clear();
        params.extend(chunk.iter().flatten().map(|&v| Param::Int(v)));
        inserted += db.execute(insert_metrics_sql(n), &params)?;
    }
    Ok(inserted)
}

/// Stores one metric's points in the order given, with their summary row
/// and tiles; returns how many were new (a point identical in every field
/// to a stored one is stored once).
pub(super) fn log_points(db: &mut Db, run_id: i64, key: &str, points: &[Point]) -> Result<u64> {
    let Some((&first, rest)) = points.split_first() else { return Ok(0) };
    let key_id = key_id(db, key)?;
    let rows: Vec<[i64; 5]> = points.iter().map(|p| [run_id, key_id, p.step, p.timestamp, to_bits(p.value)]).collect();
    let inserted = insert_rows(db, &rows)?;
    if inserted == 0 {
        return Ok(0);
    }
    let mut summary = Summary::new(key, first);
    for &p in rest {
        summary.add(p);
    }
    // Points already stored change neither the latest value nor the range.
    summary.count = inserted as i64;
    let states = update_summaries(db, run_id, &[summary])?;
    let repeated = inserted < points.len() as u64;
    let state = states.get(key).copied().ok_or_else(|| Error::internal("no summary row returned"))?;
    tiles::after_write(db, run_id, (key, key_id), points, repeated, state)?;
    Ok(inserted)
}

/// Re-counts the points of metrics whose batch repeated stored points.
fn recount(db: &mut Db, run_id: i64, summaries: &[Summary], ids: &HashMap<&str, i64>) -> Result<()> {
    for s in summaries {
        db.execute(
            "UPDATE latest_metrics SET count = (SELECT count(*) FROM metrics WHERE run_id = ? AND key_id = ?) \
             WHERE run_id = ? AND key = ?",
            &[run_id.into(), ids[s.key].into(), run_id.into(), s.key.into()],
        )?;
    }
    Ok(())
}

/// The number of a metric name, registering it if new.
pub(super) fn key_id(db: &mut Db, key: &str) -> Result<i64> {
    let param: Param = key.into();
    let select = "SELECT id FROM metric_keys WHERE key = ?";
    if let Some(id) = db.row(select, &[param], |r| r.int(0))? {
        return Ok(id);
    }
    // Another writer (a second replica) may register the same name at the
    // same time: then this insert does nothing and the select finds its row.
    let inserted = "INSERT INTO metric_keys (key) VALUES (?) ON CONFLICT DO NOTHING RETURNING id";
    match db.row(inserted, &[param], |r| r.int(0))? {
        Some(id) => Ok(id),
        None => db.row(select, &[param], |r| r.int(0))?.ok_or_else(|| Error::internal("no metric key id returned")),
    }
}

/// Merges the batch into the summary rows; `newer` is MLflow's latest rule
/// evaluated against the stored row.
fn upsert_summary(dialect: Dialect) -> String {
    let newer = "(excluded.step, excluded.timestamp, excluded.value) > \
                 (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)";
    let take =
        |column: &str| format!("{column} = CASE WHEN {newer} THEN excluded.{column} ELSE latest_metrics.{column} END");
    let (least, greatest) = (dialect.least(), dialect.greatest());
    format!(
        " ON CONFLICT (run_id, key) DO UPDATE SET {}, {}, {}, {}, {}, \
         min_value = coalesce({least}(latest_metrics.min_value, excluded.min_value), \
                              latest_metrics.min_value, excluded.min_value), \
         max_value = coalesce({greatest}(latest_metrics.max_value, excluded.max_value), \
                              latest_metrics.max_value, excluded.max_value), \
         count = latest_metrics.count + excluded.count",
        take("value"),
        take("is_nan"),
        take("bits"),
        take("timestamp"),
        take("step"),
    )
}

/// Merges the batch into the summary rows; returns each metric's row as
/// its tiles need it.
fn update_summaries(db: &mut Db, run_id: i64, summaries: &[Summary]) -> Result<HashMap<String, tiles::Tiled>> {
    let mut rest = summaries;
    let mut params: Vec<Param> = Vec::new();
    let mut states = HashMap::with_capacity(summaries.len());
    for n in chunk_sizes(rest.len(), MAX_ROWS_PER_UPSERT) {
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        params.clear();
        for s in chunk {
            params.extend::<[Param; 11]>([
                run_id.into(),
                s.key.into(),
                comparable(s.value).into(),
                s.value.is_nan().into(),
                to_bits(s.value).into(),
                s.timestamp.into(),
                s.step.into(),
                s.min.into(),
                s.max.into(),
                s.count.into(),
                // A new metric has no tiles: none of its steps are below this.
                i64::MIN.into(),
            ]);
        }
        let rows = db.rows(upsert_summaries_sql(db.dialect(), n), &params, |r| {
            (r.text(0), tiles::Tiled { below: r.opt_int(1), highest: r.int(2) })
        })?;
        states.extend(rows);
    }
    Ok(states)
}

pub(super) fn insert_params(db: &mut Db, run_id: i64, run_uuid: &str, params: &[KeyValue]) -> Result<()> {
    for p in params {
        let inserted = db.execute(
            "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            &[run_id.into(), (&p.key).into(), (&p.value).into()],
        )?;
        if inserted == 0 {
            let old = db
                .row("SELECT value FROM params WHERE run_id = ? AND key = ?", &[run_id.into(), (&p.key).into()], |r| {
                    r.text(0)
                })?
                .unwrap_or_default();
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
pub(super) fn set_run_name(db: &mut Db, run_id: i64, name: &str) -> Result<()> {
    db.execute("UPDATE runs SET name = ? WHERE id = ?", &[name.into(), run_id.into()])?;
    db.execute(
        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        &[run_id.into(), tags::RUN_NAME.into(), name.into()],
    )?;
    Ok(())
}

fn set_tags(db: &mut Db, run_id: i64, tags: &[KeyValue]) -> Result<()> {
    for t in tags {
        if t.key == tags::RUN_NAME {
            set_run_name(db, run_id, &t.value)?;
        } else {
            db.execute(
                "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                &[run_id.into(), (&t.key).into(), (&t.value).into()],
            )?;
        }
    }
    Ok(())
}

/// MLflow's checks on a `log-batch` request, with its messages and paths.
fn validate_batch(metrics: &[Metric], params: &[KeyValue], tags: &[KeyValue]) -> Result<()> {
    validate_batch_limits(metrics.len(), params.len(), tags.len())?;
    for (i, m) in metrics.iter().enumerate() {
        validate_metric(Item("metrics", i), &m.key, m.timestamp)?;
    }
    for (i, p) in params.iter().enumerate() {
        validate_param(Item("params", i), &p.key, &p.value)?;
        if params[..i].iter().any(|q| q.key == p.key) {
            let dupes: Vec<&str> = params.iter().filter(|q| q.key == p.key).skip(1).map(|q| q.key.as_str()).collect();
            return Err(Error::invalid(format!(
                "Duplicate parameter keys have been submitted: {dupes:?}. Please ensure the request \
                 contains only one param value per param key."
            )));
        }
    }
    for (i, t) in tags.iter().enumerate() {
        validate_tag(Item("tags", i), &t.key, &t.value)?;
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

/// Links dataset inputs to a run, creating the experiment's datasets as needed.
pub(super) fn insert_inputs(db: &mut Db, run_id: i64, experiment_id: i64, inputs: &[DatasetInput]) -> Result<()> {
    for input in inputs {
        let d = &input.dataset;
        let dataset_id = db
            .row(
                "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (experiment_id, name, digest) DO UPDATE SET name = excluded.name \
                 RETURNING id",
                &[
                    experiment_id.into(),
                    (&d.name).into(),
                    (&d.digest).into(),
                    (&d.source_type).into(),
                    (&d.source).into(),
                    d.schema.as_ref().into(),
                    d.profile.as_ref().into(),
                ],
                |r| r.int(0),
            )?
            .ok_or_else(|| Error::internal("no dataset id returned"))?;
        db.execute(
            "INSERT INTO run_inputs (run_id, dataset_id, position) \
             VALUES (?, ?, (SELECT count(*) FROM run_inputs WHERE run_id = ?)) ON CONFLICT DO NOTHING",
            &[run_id.into(), dataset_id.into(), run_id.into()],
        )?;
        for t in &input.tags {
            db.execute(
                "INSERT INTO input_tags (run_id, dataset_id, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, dataset_id, key) DO UPDATE SET value = excluded.value",
                &[run_id.into(), dataset_id.into(), (&t.key).into(), (&t.value).into()],
            )?;
        }
    }
    Ok(())
}

impl SqlStore {
    pub(super) async fn log_batch_impl(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<KeyValue>,
        tags: Vec<KeyValue>,
    ) -> Result<()> {
        validate_batch(&metrics, &params, &tags)?;
        let uuid = run_id.to_string();
        let other = !params.is_empty() || !tags.is_empty();
        // The closure hands the points back for the change feed: no copy.
        let (experiment_id, metrics) = self
            .writer
            .write(move |db| {
                let run = find_active_run(db, &uuid)?;
                insert_params(db, run.id, &uuid, &params)?;
                set_tags(db, run.id, &tags)?;
                if !metrics.is_empty() {
                    let summaries = summarize(&metrics);
                    let ids = key_ids(db, &summaries)?;
                    let inserted = insert_metrics(db, run.id, &metrics, &ids)?;
                    let states = update_summaries(db, run.id, &summaries)?;
                    let repeated = inserted < metrics.len() as u64;
                    if repeated {
                        recount(db, run.id, &summaries, &ids)?;
                    }
                    // Each metric's points, grouped in one pass over the batch.
                    let mut by_key: HashMap<&str, Vec<Point>> = HashMap::with_capacity(summaries.len());
                    for m in &metrics {
                        by_key.entry(m.key.as_str()).or_default().push(point(m));
                    }
                    for (key, points) in by_key {
                        let state =
                            states.get(key).copied().ok_or_else(|| Error::internal("no summary row returned"))?;
                        tiles::after_write(db, run.id, (key, ids[key]), &points, repeated, state)?;
                    }
                }
                Ok((run.experiment_id, metrics))
            })
            .await?;
        if other {
            self.changes.publish(experiment_id, run_id, ChangeKind::RunUpdated);
        }
        if !metrics.is_empty() {
            self.changes.publish(experiment_id, run_id, ChangeKind::Metrics(metrics));
        }
        Ok(())
    }

    pub(super) async fn delete_tag_impl(&self, run_id: &str, key: &str) -> Result<()> {
        let uuid = run_id.to_string();
        let key = key.to_string();
        self.writer
            .write(move |db| {
                let run = find_active_run(db, &uuid)?;
                let deleted =
                    db.execute("DELETE FROM tags WHERE run_id = ? AND key = ?", &[run.id.into(), (&key).into()])?;
                if deleted == 0 {
                    return Err(Error::not_found(format!("No tag with name: {key} in run with id {uuid}")));
                }
                Ok(run.experiment_id)
            })
            .await
            .map(|experiment_id| self.changes.publish(experiment_id, run_id, ChangeKind::RunUpdated))
    }

    pub(super) async fn log_inputs_impl(&self, run_id: &str, inputs: Vec<DatasetInput>) -> Result<()> {
        for (i, input) in inputs.iter().enumerate() {
            validate_input(i, input)?;
        }
        let uuid = run_id.to_string();
        self.writer
            .write(move |db| {
                let run = find_active_run(db, &uuid)?;
                insert_inputs(db, run.id, run.experiment_id, &inputs)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::chunk_sizes;

    #[test]
    fn every_chunk_size_has_its_statement() {
        for n in chunk_sizes(1023, super::MAX_ROWS_PER_INSERT) {
            assert_eq!(super::insert_metrics_sql(n).matches('(').count(), n + 1);
        }
        assert_eq!(super::upsert_summaries_sql(super::Dialect::Sqlite, 128).matches("(?,").count(), 128);
    }

    #[test]
    fn chunks_are_powers_of_two_covering_everything() {
        let sizes: Vec<usize> = chunk_sizes(1000, 512).collect();
        assert_eq!(sizes, [512, 256, 128, 64, 32, 8]);
        assert_eq!(chunk_sizes(1, 512).collect::<Vec<_>>(), [1]);
        assert_eq!(chunk_sizes(0, 512).count(), 0);
    }
}
