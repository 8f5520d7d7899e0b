//! Reading metric histories: whole, paged, or sampled across runs.

use super::db::{Db, Param};
use super::{find_run, tiles, SqlStore};
use crate::page::page_of;
use crate::{decode_offset, HistoryInterval};
use std::collections::BTreeSet;
use tracking::{Error, Metric, Page, Point, Result};

/// Reads `step, timestamp, bits` rows into metrics of `key`.
fn points(db: &mut Db, sql: &str, params: &[Param], key: &str, run_id: Option<&str>) -> Result<Vec<Metric>> {
    db.rows(sql, params, |r| Metric {
        key: key.to_string(),
        value: f64::from_bits(r.int(2) as u64),
        timestamp: r.int(1),
        step: r.int(0),
        run_id: run_id.map(str::to_string),
    })
}

/// Picks at most `max_results` evenly spread steps out of the sorted `steps`
/// in `[start, end]`, always keeping the last one (MLflow's sampling).
fn sample_steps(steps: &[i64], start: i64, end: i64, max_results: usize) -> BTreeSet<i64> {
    let lo = steps.partition_point(|&s| s < start);
    let hi = steps.partition_point(|&s| s <= end);
    if hi <= lo {
        return BTreeSet::new();
    }
    if hi - lo <= max_results {
        return steps[lo..hi].iter().copied().collect();
    }
    let interval = (hi - lo) as f64 / max_results as f64;
    let mut out: BTreeSet<i64> =
        (0..max_results).map(|i| lo + (i as f64 * interval) as usize).filter(|&i| i < hi).map(|i| steps[i]).collect();
    out.insert(steps[hi - 1]);
    out
}

/// The number of a metric name, if any run has logged it.
fn metric_key_id(db: &mut Db, key: &str) -> Result<Option<i64>> {
    db.row("SELECT id FROM metric_keys WHERE key = ?", &[key.into()], |r| r.int(0))
}

/// One run's metric over a step range, for a chart of `max_points`: from
/// the tiles when the range is long, else every point (see `tiles`).
fn overview(
    db: &mut Db,
    run_id: i64,
    (key, key_id): (&str, i64),
    (min_step, max_step): (Option<i64>, Option<i64>),
    max_points: usize,
) -> Result<(Vec<Point>, u64)> {
    let (lo, hi) = (min_step.unwrap_or(i64::MIN), max_step.unwrap_or(i64::MAX));
    let summary = db
        .row(
            "SELECT count, tiled_below FROM latest_metrics WHERE run_id = ? AND key = ?",
            &[run_id.into(), key.into()],
            |r| (r.int(0), r.opt_int(1)),
        )?
        .unwrap_or((0, None));
    // The steps the range really spans: two seeks in the index.
    let mut edge = |order: &str| {
        db.row(
            &format!(
                "SELECT step FROM metrics WHERE run_id = ? AND key_id = ? AND step >= ? AND step <= ? \
                 ORDER BY step {order} LIMIT 1"
            ),
            &[run_id.into(), key_id.into(), lo.into(), hi.into()],
            |r| r.int(0),
        )
    };
    let (Some(first), Some(last)) = (edge("ASC")?, edge("DESC")?) else {
        return Ok((Vec::new(), 0));
    };
    if let Some((points, count)) = tiles::overview(db, run_id, key_id, summary, (first, last), max_points)? {
        return Ok((points, count.max(0) as u64));
    }
    let points = db.rows(
        "SELECT step, timestamp, bits FROM metrics \
         WHERE run_id = ? AND key_id = ? AND step >= ? AND step <= ? ORDER BY step, timestamp, bits",
        &[run_id.into(), key_id.into(), first.into(), last.into()],
        |r| Point { step: r.int(0), timestamp: r.int(1), value: f64::from_bits(r.int(2) as u64) },
    )?;
    let count = points.len() as u64;
    Ok((points, count))
}

impl SqlStore {
    pub(super) async fn get_metric_history_impl(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<Page<Point>> {
        let offset = decode_offset(page_token)?;
        let limit = match max_results {
            Some(n) if n < 1 => return Err(Error::invalid(format!("max_results must be positive, got {n}"))),
            Some(n) => n,
            None => -1,
        };
        let (run_id, key) = (run_id.to_string(), key.to_string());
        self.readers
            .read(move |db| {
                let run = find_run(db, &run_id)?;
                // One more than asked for tells whether another page exists;
                // "no limit" is the largest one (PostgreSQL refuses -1).
                let fetch = if limit < 0 { i64::MAX } else { limit.saturating_add(1) };
                let items = db.rows(
                    "SELECT step, timestamp, bits FROM metrics \
                     WHERE run_id = ? AND key_id = (SELECT id FROM metric_keys WHERE key = ?) \
                     ORDER BY step, timestamp, bits LIMIT ? OFFSET ?",
                    &[run.id.into(), (&key).into(), fetch.into(), offset.into()],
                    |r| Point { step: r.int(0), timestamp: r.int(1), value: f64::from_bits(r.int(2) as u64) },
                )?;
                Ok(page_of(items, offset, limit))
            })
            .await
    }

    pub(super) async fn metric_overview_impl(
        &self,
        run_id: &str,
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<(Vec<Point>, u64)> {
        let (run_id, key) = (run_id.to_string(), key.to_string());
        self.readers
            .read(move |db| {
                let run = find_run(db, &run_id)?;
                let Some(key_id) = metric_key_id(db, &key)? else { return Ok((Vec::new(), 0)) };
                overview(db, run.id, (&key, key_id), (min_step, max_step), max_points)
            })
            .await
    }

    /// [`Self::metric_overview_impl`] for many runs: a few reader jobs of
    /// many runs each (not a job per run), spread over the readers.
    pub(super) async fn metric_overviews_impl(
        &self,
        run_ids: &[String],
        key: &str,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: usize,
    ) -> Result<Vec<(String, Vec<Point>, u64)>> {
        let per_job = run_ids.len().div_ceil(4).max(1);
        let jobs = run_ids.chunks(per_job).map(|chunk| {
            let (chunk, key) = (chunk.to_vec(), key.to_string());
            self.readers.read(move |db| {
                // The metric's number, looked up once for all the runs.
                let Some(key_id) = metric_key_id(db, &key)? else { return Ok(Vec::new()) };
                let mut out = Vec::with_capacity(chunk.len());
                for run_id in chunk {
                    // Runs that do not exist add nothing.
                    let Ok(run) = find_run(db, &run_id) else { continue };
                    let (points, total) = overview(db, run.id, (&key, key_id), (min_step, max_step), max_points)?;
                    out.push((run_id, points, total));
                }
                Ok(out)
            })
        });
        let parts = futures::future::try_join_all(jobs).await?;
        Ok(parts.into_iter().flatten().collect())
    }

    pub(super) async fn get_metric_history_bulk_impl(
        &self,
        run_ids: &[String],
        key: &str,
        max_results: i64,
    ) -> Result<Vec<Metric>> {
        let mut run_ids = run_ids.to_vec();
        run_ids.sort();
        run_ids.dedup();
        let key = key.to_string();
        self.readers
            .read(move |db| {
                let mut out: Vec<Metric> = Vec::new();
                for run_id in &run_ids {
                    let left = max_results.saturating_sub(out.len() as i64);
                    if left <= 0 {
                        break;
                    }
                    // As in MLflow, runs that do not exist add nothing.
                    let Ok(run) = find_run(db, run_id) else { continue };
                    let mut metrics = points(
                        db,
                        "SELECT step, timestamp, bits FROM metrics \
                         WHERE run_id = ? AND key_id = (SELECT id FROM metric_keys WHERE key = ?) \
                         ORDER BY timestamp, step LIMIT ?",
                        &[run.id.into(), (&key).into(), left.into()],
                        &key,
                        Some(run_id),
                    )?;
                    metrics.sort_by(|a, b| {
                        (a.timestamp, a.step).cmp(&(b.timestamp, b.step)).then(a.value.total_cmp(&b.value))
                    });
                    out.extend(metrics);
                }
                Ok(out)
            })
            .await
    }

    pub(super) async fn get_metric_history_bulk_interval_impl(&self, q: &HistoryInterval) -> Result<Vec<Metric>> {
        let q = q.clone();
        self.readers
            .read(move |db| {
                let mut runs = Vec::with_capacity(q.run_ids.len());
                for run_id in &q.run_ids {
                    runs.push((find_run(db, run_id)?.id, run_id.as_str()));
                }
                if runs.is_empty() {
                    return Ok(Vec::new());
                }
                let marks = vec!["?"; runs.len()].join(",");
                let mut params: Vec<Param> = vec![(&q.metric_key).into()];
                params.extend(runs.iter().map(|(id, _)| Param::Int(*id)));
                let steps = db.rows(
                    &format!(
                        "SELECT DISTINCT step FROM metrics WHERE key_id = (SELECT id FROM metric_keys WHERE key = ?) \
                         AND run_id IN ({marks}) ORDER BY step"
                    ),
                    &params,
                    |r| r.int(0),
                )?;
                let Some(&last) = steps.last() else { return Ok(Vec::new()) };
                let (start, end) = match (q.start_step, q.end_step) {
                    (Some(s), Some(e)) => (s, e),
                    _ => (0, last),
                };
                let mut chosen = sample_steps(&steps, start, end, q.max_results.max(1) as usize);
                // Keep each run's first and last step so that no line is cut
                // short: two seeks in the index per run.
                let key_id = metric_key_id(db, &q.metric_key)?.unwrap_or_default();
                for (id, _) in &runs {
                    for order in ["ASC", "DESC"] {
                        let edge = db.row(
                            &format!(
                                "SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step {order} LIMIT 1"
                            ),
                            &[(*id).into(), key_id.into()],
                            |r| r.int(0),
                        )?;
                        chosen.extend(edge.filter(|s| (start..=end).contains(s)));
                    }
                }
                let sql = format!(
                    "SELECT step, timestamp, bits FROM metrics \
                     WHERE run_id = ? AND key_id = (SELECT id FROM metric_keys WHERE key = ?) AND step IN ({}) \
                     ORDER BY step, timestamp, bits",
                    vec!["?"; chosen.len()].join(",")
                );
                let mut out = Vec::new();
                for (id, run_id) in &runs {
                    let mut params: Vec<Param> = vec![(*id).into(), (&q.metric_key).into()];
                    params.extend(chosen.iter().map(|&s| Param::Int(s)));
                    out.extend(points(db, &sql, &params, &q.metric_key, Some(run_id))?);
                }
                Ok(out)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::sample_steps;

    #[test]
    fn sampling_keeps_the_ends_and_the_budget() {
        let steps: Vec<i64> = (0..1000).collect();
        let s = sample_steps(&steps, 0, 999, 100);
        assert!(s.len() <= 101);
        assert!(s.contains(&0) && s.contains(&999));
        assert_eq!(sample_steps(&steps, 10, 20, 100).len(), 11);
        assert!(sample_steps(&steps, 2000, 3000, 10).is_empty());
    }
}
