//! A metric over a whole sweep, for panels of more runs than lines can
//! show: each group's band and centre line computed here from every run's
//! summary (its tiles), and a few runs' lines that stand for the rest.

use crate::aggregate::Aggregate;
use crate::app_error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::Series;
#[cfg(feature = "ssr")]
use super::{
    backend::{err, gate, require, store, Need},
    CHART_POINTS,
};
#[cfg(feature = "ssr")]
use tracking::permissions::Capability;

/// The most runs one sweep panel reads.
pub const MAX_SWEEP_RUNS: usize = 10_000;
/// Points a run contributes to its group's band.
#[cfg(feature = "ssr")]
const BAND_POINTS_PER_RUN: usize = 100;
/// Runs read at a time for the bands.
#[cfg(feature = "ssr")]
const BAND_CHUNK: usize = 500;
/// Points read for the bands, after which the runs read so far stand for
/// the rest (a quarter of a second on SQLite on 2 cores).
#[cfg(feature = "ssr")]
const MAX_BAND_POINTS: usize = 1_000_000;
/// Points on a band's grid.
#[cfg(feature = "ssr")]
const BAND_GRID: usize = 400;
/// The most lines a sweep panel draws besides its bands.
pub const MAX_SWEEP_LINES: usize = 60;

/// One group's band and centre line, and how many of its runs have the
/// metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SweepBand {
    pub aggregate: Aggregate,
    pub with_metric: usize,
}

/// A sweep panel's data: a band per group (in the order of the groups
/// asked for) and the lines drawn over them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sweep {
    pub bands: Vec<SweepBand>,
    pub lines: Vec<Series>,
    /// How many of the runs the bands were made of, when not all: a
    /// random sample, the same on every load.
    pub sampled: Option<usize>,
}

/// What a sweep panel asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SweepAsk {
    /// The runs, comma-separated (at most [`MAX_SWEEP_RUNS`]).
    pub run_ids: String,
    /// Each run's group, as comma-separated indexes, one per run; empty:
    /// all in one.
    pub group_of: String,
    pub key: String,
    pub min_step: Option<i64>,
    pub max_step: Option<i64>,
    /// The groups' line (`mean`, `median`) and band (`minmax`, `std`,
    /// `sem`, `iqr`, `none`).
    pub center: String,
    pub band: String,
    /// Runs drawn whatever their rank, comma-separated.
    pub keep: String,
    /// How many representative lines.
    pub lines: usize,
}

/// `key` over a sweep's runs: each group's centre line and band on a
/// common step grid, from each run's points downsampled by its tiles.
/// Besides, `lines` runs' own lines: those at evenly spaced ranks of their
/// last value (the best, the worst and between, whichever way is
/// better), and the runs `keep` names (picked by the user, or first in
/// the view's order).
#[server(prefix = "/_app")]
pub async fn sweep_series(ask: SweepAsk) -> Result<Sweep, AppError> {
    let SweepAsk { run_ids, group_of, key, min_step, max_step, center, band, keep, lines } = ask;
    let ids: Vec<String> = split(&run_ids).take(MAX_SWEEP_RUNS).collect();
    let groups: Vec<usize> = match group_of.is_empty() {
        true => vec![0; ids.len()],
        false => split(&group_of)
            .map(|g| g.parse::<usize>().map_err(|_| AppError::invalid(format!("'{g}' is not a group's number"))))
            .collect::<Result<_, _>>()?,
    };
    if groups.len() < ids.len() {
        return Err(AppError::invalid(format!("{} runs but {} groups were named", ids.len(), groups.len())));
    }
    let count = groups.iter().take(ids.len()).max().map_or(0, |g| g + 1);
    if count > ids.len().max(1) {
        let runs = if ids.len() == 1 { "1 run".to_string() } else { format!("{} runs", ids.len()) };
        return Err(AppError::invalid(format!("Group {} is out of range for {runs}", count - 1)));
    }
    let keep: Vec<String> = split(&keep).filter(|k| ids.contains(k)).take(MAX_SWEEP_LINES).collect();
    require(&gate(), &[Need::Runs(ids.clone(), Capability::Read)], "see these runs").await?;
    let store = store();
    let group_by_run: std::collections::HashMap<&str, usize> =
        ids.iter().map(String::as_str).zip(groups.iter().copied()).collect();
    // Runs are read in the order of their ids (random, and the same on
    // every load) until the band has read enough points: 10,000 runs of
    // 1,000 steps each are 10,000,000 points, seconds to read; a band from
    // a random 1,000 of them looks the same, and the panel says so.
    let mut order: Vec<&String> = ids.iter().collect();
    order.sort();
    let mut reads = Vec::new();
    let mut points_read = 0;
    for chunk in order.chunks(BAND_CHUNK) {
        let chunk: Vec<String> = chunk.iter().map(|id| id.to_string()).collect();
        let part = store.metric_overviews(&chunk, &key, min_step, max_step, BAND_POINTS_PER_RUN).await.map_err(err)?;
        points_read += part.iter().map(|(_, points, _)| points.len()).sum::<usize>();
        reads.extend(part);
        if points_read >= MAX_BAND_POINTS {
            break;
        }
    }
    let runs_read = reads.len();
    let (center, band) = (crate::aggregate::Center::parse(&center), crate::aggregate::Band::parse(&band));
    // Each run's line, by group.
    let mut members: Vec<Vec<Line>> = vec![Vec::new(); count];
    let mut last_values: Vec<(usize, f64, String)> = Vec::new();
    for (run_id, points, _) in &reads {
        let Some(&g) = group_by_run.get(run_id.as_str()) else { continue };
        let points = crate::charts::downsample(points, BAND_POINTS_PER_RUN);
        if let Some(last) = points.iter().rev().find(|p| p.value.is_finite()) {
            last_values.push((g, last.value, run_id.clone()));
        }
        members[g].push((
            points.iter().map(|p| p.step as f64).collect(),
            points.iter().map(|p| p.value.is_finite().then_some(p.value)).collect(),
        ));
    }
    let bands = members
        .iter()
        .map(|lines| {
            let of: Vec<crate::aggregate::Member> =
                lines.iter().map(|(x, y)| crate::aggregate::Member { x, y }).collect();
            SweepBand {
                aggregate: crate::aggregate::aggregate(&of, center, band, BAND_GRID),
                with_metric: lines.iter().filter(|(_, y)| y.iter().any(Option::is_some)).count(),
            }
        })
        .collect();
    let mut chosen = representatives(last_values, count, lines.min(MAX_SWEEP_LINES));
    for k in keep {
        if !chosen.contains(&k) {
            chosen.push(k);
        }
    }
    // About two points a pixel of a panel for each line (a few lines), fewer as there are more.
    let budget = (CHART_POINTS * 4 / chosen.len().max(1)).clamp(200, CHART_POINTS);
    let drawn = store.metric_overviews(&chosen, &key, min_step, max_step, budget).await.map_err(err)?;
    let lines = drawn
        .into_iter()
        .map(|(run_id, points, total)| Series::of(run_id, &crate::charts::downsample(&points, budget), total, false))
        .collect();
    let sampled = (runs_read < ids.len()).then_some(runs_read);
    Ok(Sweep { bands, lines, sampled })
}

/// A run's steps and values.
#[cfg(feature = "ssr")]
type Line = (Vec<f64>, Vec<Option<f64>>);

/// The comma-separated items of a list, blanks left out.
#[cfg(feature = "ssr")]
fn split(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// Up to `lines` runs that stand for the rest: within each group (lines
/// shared between them), its runs ranked by their last value and taken at
/// evenly spaced ranks, the first and the last among them.
pub fn representatives(mut runs: Vec<(usize, f64, String)>, groups: usize, lines: usize) -> Vec<String> {
    if lines == 0 || runs.is_empty() {
        return Vec::new();
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then_with(|| a.2.cmp(&b.2)));
    let per_group = (lines / groups.max(1)).max(1);
    let mut out = Vec::new();
    for g in 0..groups {
        let of: Vec<&String> = runs.iter().filter(|r| r.0 == g).map(|r| &r.2).collect();
        let n = of.len();
        if n == 0 {
            continue;
        }
        let take = per_group.min(n);
        let mut ranks: Vec<usize> = match take {
            1 => vec![n / 2],
            _ => (0..take).map(|i| i * (n - 1) / (take - 1)).collect(),
        };
        ranks.dedup();
        out.extend(ranks.into_iter().map(|i| of[i].clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representatives_span_each_group_from_lowest_to_highest() {
        let runs: Vec<(usize, f64, String)> =
            (0..100u32).map(|i| (i as usize % 2, f64::from(i), format!("r{i}"))).collect();
        let picked = representatives(runs.clone(), 2, 6);
        // Group 0 holds r0, r2, …, r98; group 1 r1, …, r99: three each,
        // the lowest, the middle and the highest.
        assert_eq!(picked, ["r0", "r48", "r98", "r1", "r49", "r99"]);
        assert_eq!(representatives(runs.clone(), 2, 0), Vec::<String>::new());
        let one: Vec<(usize, f64, String)> = (0..5u32).map(|i| (0, -f64::from(i), format!("r{i}"))).collect();
        assert_eq!(representatives(one.clone(), 1, 10), ["r4", "r3", "r2", "r1", "r0"]);
        assert_eq!(representatives(one, 1, 1), ["r2"]);
    }
}
