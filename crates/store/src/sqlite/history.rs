//! Reading metric histories: whole, paged, or sampled across runs.

use super::runs::stored_value;
use super::{db_error, find_run, SqliteStore};
use crate::{decode_offset, encode_offset, HistoryInterval};
use std::collections::BTreeSet;
use tracking::{Error, Metric, Page, Result};

type PointRow = (String, f64, bool, i64, i64);

fn to_metric((key, value, is_nan, timestamp, step): PointRow, run_id: Option<&str>) -> Metric {
    Metric { key, value: stored_value(value, is_nan), timestamp, step, run_id: run_id.map(str::to_string) }
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

impl SqliteStore {
    pub(super) async fn get_metric_history_impl(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<Page<Metric>> {
        let run = find_run(&self.read, run_id).await?;
        let offset = decode_offset(page_token)?;
        let limit = match max_results {
            Some(n) if n < 1 => return Err(Error::invalid(format!("max_results must be positive, got {n}"))),
            Some(n) => n,
            None => -1,
        };
        let fetch = if limit < 0 { -1 } else { limit + 1 };
        let mut rows: Vec<PointRow> = sqlx::query_as(
            "SELECT key, value, is_nan, timestamp, step FROM metrics WHERE run_id = ? AND key = ? \
             ORDER BY step, timestamp, value LIMIT ? OFFSET ?",
        )
        .bind(run.id)
        .bind(key)
        .bind(fetch)
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db_error)?;
        let next_page_token = if limit >= 0 && rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            Some(encode_offset(offset + limit))
        } else {
            None
        };
        Ok(Page { items: rows.into_iter().map(|r| to_metric(r, None)).collect(), next_page_token })
    }

    pub(super) async fn get_metric_history_bulk_interval_impl(&self, q: &HistoryInterval) -> Result<Vec<Metric>> {
        let mut runs = Vec::with_capacity(q.run_ids.len());
        for run_id in &q.run_ids {
            runs.push((find_run(&self.read, run_id).await?.id, run_id.as_str()));
        }
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; runs.len()].join(",");
        let sql = format!("SELECT DISTINCT step FROM metrics WHERE key = ? AND run_id IN ({marks}) ORDER BY step");
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(&q.metric_key);
        for (id, _) in &runs {
            query = query.bind(id);
        }
        let steps = query.fetch_all(&self.read).await.map_err(db_error)?;
        let Some(&last) = steps.last() else { return Ok(Vec::new()) };
        let (start, end) = match (q.start_step, q.end_step) {
            (Some(s), Some(e)) => (s, e),
            _ => (0, last),
        };
        let mut chosen = sample_steps(&steps, start, end, q.max_results.max(1) as usize);

        // Keep each run's first and last step so that no line is cut short.
        let sql =
            format!("SELECT min(step), max(step) FROM metrics WHERE key = ? AND run_id IN ({marks}) GROUP BY run_id");
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(&q.metric_key);
        for (id, _) in &runs {
            query = query.bind(id);
        }
        for (lo, hi) in query.fetch_all(&self.read).await.map_err(db_error)? {
            chosen.extend([lo, hi].into_iter().filter(|s| (start..=end).contains(s)));
        }
        let chosen: Vec<i64> = chosen.into_iter().collect();

        let marks = vec!["?"; chosen.len()].join(",");
        let sql = format!(
            "SELECT key, value, is_nan, timestamp, step FROM metrics WHERE run_id = ? AND key = ? AND step IN ({marks}) \
             ORDER BY step, timestamp, value"
        );
        let mut out = Vec::new();
        for (id, run_id) in runs {
            let mut query = sqlx::query_as::<_, PointRow>(&sql).bind(id).bind(&q.metric_key);
            for s in &chosen {
                query = query.bind(s);
            }
            out.extend(
                query.fetch_all(&self.read).await.map_err(db_error)?.into_iter().map(|r| to_metric(r, Some(run_id))),
            );
        }
        Ok(out)
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
