//! Summaries of metric histories at several resolutions ("tiles"), kept
//! at ingest so that a chart of a long history reads about as many rows as
//! it has pixels, not every point.
//!
//! At each level a tile covers `2^shift` consecutive steps of one run's
//! metric and keeps its lowest and highest finite point (step, time,
//! value) and how many points it holds. A chart of a step range reads the
//! finest level whose tiles in the range fit its budget and draws each
//! tile's two extremes, so one-step spikes stay. NaN and ±inf points count
//! but are not extremes: a gap shows at full detail, not in an overview.
//!
//! Tiles are kept up to a watermark, `latest_metrics.tiled_below`: they
//! hold exactly the metric's points with a step below it. The watermark
//! follows the metric's highest step down to the start of its finest
//! tile, so the points past it are at most one finest tile's; a chart
//! reads those raw and merges them in. A point logged on its own past the
//! watermark (a training loop's next step) thus writes no tile: its commit
//! writes one page fewer. When the highest step enters a new finest tile,
//! the points between the old and the new watermark are folded in, read
//! back from the history (one tile's worth, once per 256 steps).
//!
//! A metric whose watermark is not known (stored before tiles existed) is
//! read in full, and its tiles are made again at its next write or by the
//! start-up backfill.

use super::db::{Db, Param};
use super::logging::{chunk_sizes, values_sql};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use tracking::{Point, Result};

/// Tile widths: 256, 4,096, 65,536 and 1,048,576 steps.
pub(super) const SHIFTS: [u32; 4] = [8, 12, 16, 20];
const FINEST: u32 = SHIFTS[0];
const COARSEST: u32 = SHIFTS[SHIFTS.len() - 1];
const MAX_ROWS_PER_UPSERT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Extreme {
    value: f64,
    step: i64,
    timestamp: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct Tile {
    shift: u32,
    tile: i64,
    min: Option<Extreme>,
    max: Option<Extreme>,
    count: i64,
}

impl Tile {
    /// Takes in another tile of the same place: counts add up, extremes compete.
    fn merge(&mut self, other: &Tile) {
        self.count += other.count;
        if let Some(m) = other.min.filter(|m| self.min.is_none_or(|s| m.value < s.value)) {
            self.min = Some(m);
        }
        if let Some(m) = other.max.filter(|m| self.max.is_none_or(|s| m.value > s.value)) {
            self.max = Some(m);
        }
    }

    fn empty(shift: u32, tile: i64) -> Self {
        Tile { shift, tile, min: None, max: None, count: 0 }
    }

    fn add(&mut self, p: &Point) {
        self.count += 1;
        if p.value.is_finite() {
            let e = Extreme { value: p.value, step: p.step, timestamp: p.timestamp };
            if self.min.is_none_or(|m| p.value < m.value) {
                self.min = Some(e);
            }
            if self.max.is_none_or(|m| p.value > m.value) {
                self.max = Some(e);
            }
        }
    }
}

/// Points as tiles at every level, in (level, tile) order.
fn tiles_of(points: &[Point]) -> Vec<Tile> {
    let mut tiles: Vec<Tile> = Vec::new();
    for shift in SHIFTS {
        // Points mostly come in step order, so the last point's tile is
        // tried first; the map finds the tile of a point that goes back.
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut last: Option<usize> = None;
        for p in points {
            let tile = p.step >> shift;
            let i = match last {
                Some(i) if tiles[i].tile == tile => i,
                _ => *index.entry(tile).or_insert_with(|| {
                    tiles.push(Tile::empty(shift, tile));
                    tiles.len() - 1
                }),
            };
            last = Some(i);
            tiles[i].add(p);
        }
    }
    tiles.sort_by_key(|t| (t.shift, t.tile));
    tiles
}

/// How a tile meets the one already stored under its key.
#[derive(Clone, Copy)]
enum Merge {
    /// New points of a batch: counts add up, extremes compete.
    Add,
    /// A tile made again from every stored point: it replaces the stored
    /// one, so two replicas rebuilding the same metric at once agree.
    Replace,
}

fn upsert_sql(rows: usize, merge: Merge) -> &'static str {
    static ADD: OnceLock<Vec<String>> = OnceLock::new();
    static REPLACE: OnceLock<Vec<String>> = OnceLock::new();
    let pick = |side: &str, op: &str, column: &str| {
        format!(
            "{column} = CASE WHEN metric_tiles.{side}_value IS NULL OR excluded.{side}_value {op} metric_tiles.{side}_value \
             THEN excluded.{column} ELSE metric_tiles.{column} END"
        )
    };
    let statements = |suffix: String| {
        (0..=MAX_ROWS_PER_UPSERT.trailing_zeros())
            .map(|bits| {
                values_sql(
                    "INSERT INTO metric_tiles (run_id, key_id, level, tile, min_step, min_ts, min_value, \
                     max_step, max_ts, max_value, count)",
                    11,
                    1 << bits,
                    &suffix,
                )
            })
            .collect::<Vec<_>>()
    };
    let all = match merge {
        Merge::Add => ADD.get_or_init(|| {
            statements(format!(
                " ON CONFLICT (run_id, key_id, level, tile) DO UPDATE SET {}, {}, {}, {}, {}, {}, \
                 count = metric_tiles.count + excluded.count",
                pick("min", "<", "min_step"),
                pick("min", "<", "min_ts"),
                pick("min", "<", "min_value"),
                pick("max", ">", "max_step"),
                pick("max", ">", "max_ts"),
                pick("max", ">", "max_value"),
            ))
        }),
        Merge::Replace => REPLACE.get_or_init(|| {
            statements(
                " ON CONFLICT (run_id, key_id, level, tile) DO UPDATE SET min_step = excluded.min_step, \
                 min_ts = excluded.min_ts, min_value = excluded.min_value, max_step = excluded.max_step, \
                 max_ts = excluded.max_ts, max_value = excluded.max_value, count = excluded.count"
                    .to_string(),
            )
        }),
    };
    &all[rows.trailing_zeros() as usize]
}

fn write(db: &mut Db, run_id: i64, key_id: i64, tiles: &[Tile], merge: Merge) -> Result<()> {
    let mut rest = tiles;
    let mut params: Vec<Param> = Vec::with_capacity(11 * MAX_ROWS_PER_UPSERT);
    for n in chunk_sizes(rest.len(), MAX_ROWS_PER_UPSERT) {
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        params.clear();
        for t in chunk {
            params.extend::<[Param; 11]>([
                run_id.into(),
                key_id.into(),
                i64::from(t.shift).into(),
                t.tile.into(),
                t.min.map(|e| e.step).into(),
                t.min.map(|e| e.timestamp).into(),
                t.min.map(|e| e.value).into(),
                t.max.map(|e| e.step).into(),
                t.max.map(|e| e.timestamp).into(),
                t.max.map(|e| e.value).into(),
                t.count.into(),
            ]);
        }
        db.execute(upsert_sql(n, merge), &params)?;
    }
    Ok(())
}

/// Adds newly stored points of one metric to its tiles.
fn add(db: &mut Db, run_id: i64, key_id: i64, points: &[Point]) -> Result<()> {
    write(db, run_id, key_id, &tiles_of(points), Merge::Add)
}

/// The first step of the finest tile holding `step`: where the watermark
/// stands when `step` is a metric's highest.
fn watermark_for(step: i64) -> i64 {
    (step >> FINEST) << FINEST
}

/// One metric, as its summary row stands after a write.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tiled {
    /// Steps below this are in the tiles (`None`: not known).
    pub below: Option<i64>,
    /// The metric's highest step.
    pub highest: i64,
}

/// The stored points of one metric with steps in `[from, to)`.
fn stored(db: &mut Db, run_id: i64, key_id: i64, from: i64, to: i64) -> Result<Vec<Point>> {
    db.rows(
        "SELECT step, timestamp, bits FROM metrics WHERE run_id = ? AND key_id = ? AND step >= ? AND step < ?",
        &[run_id.into(), key_id.into(), from.into(), to.into()],
        |r| Point { step: r.int(0), timestamp: r.int(1), value: f64::from_bits(r.int(2) as u64) },
    )
}

fn set_watermark(db: &mut Db, run_id: i64, key: &str, below: i64) -> Result<()> {
    db.execute(
        "UPDATE latest_metrics SET tiled_below = ? WHERE run_id = ? AND key = ?",
        &[below.into(), run_id.into(), key.into()],
    )
    .map(|_| ())
}

/// Brings one metric's tiles up to date after `points` were stored, in the
/// writer's transaction; `repeated` when some of them were stored already
/// (their counts must not add up twice), `state` its summary row after
/// the write.
pub(super) fn after_write(
    db: &mut Db,
    run_id: i64,
    (key, key_id): (&str, i64),
    points: &[Point],
    repeated: bool,
    state: Tiled,
) -> Result<()> {
    let Some(below) = state.below else {
        // Tiles of unknown extent: made again from every point, once.
        return rebuild_all(db, run_id, (key, key_id));
    };
    let older: Vec<Point> = points.iter().filter(|p| p.step < below).copied().collect();
    if !older.is_empty() {
        if repeated {
            rebuild(db, run_id, key_id, &older, below)?;
        } else {
            add(db, run_id, key_id, &older)?;
        }
    }
    let target = watermark_for(state.highest);
    if target > below {
        let folded = stored(db, run_id, key_id, below, target)?;
        add(db, run_id, key_id, &folded)?;
        set_watermark(db, run_id, key, target)?;
    }
    Ok(())
}

/// The steps a tile covers, `[first, last]`.
fn span(shift: u32, tile: i64) -> (i64, i64) {
    let first = i128::from(tile) << shift;
    let last = ((i128::from(tile) + 1) << shift) - 1;
    let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (clamp(first), clamp(last))
}

/// Recomputes, from the stored points below the watermark `below`, the
/// tiles that `points` fall in: after a batch that repeated stored points,
/// whose counts would be off.
fn rebuild(db: &mut Db, run_id: i64, key_id: i64, points: &[Point], below: i64) -> Result<()> {
    let touched: std::collections::BTreeSet<(u32, i64)> =
        points.iter().flat_map(|p| SHIFTS.map(|s| (s, p.step >> s))).collect();
    for (shift, tile) in touched {
        let (first, last) = span(shift, tile);
        db.execute(
            "DELETE FROM metric_tiles WHERE run_id = ? AND key_id = ? AND level = ? AND tile = ?",
            &[run_id.into(), key_id.into(), i64::from(shift).into(), tile.into()],
        )?;
        let stored = stored(db, run_id, key_id, first, last.saturating_add(1).min(below))?;
        let whole = tiles_of(&stored);
        let one: Vec<Tile> = whole.into_iter().filter(|t| t.shift == shift && t.tile == tile).collect();
        write(db, run_id, key_id, &one, Merge::Replace)?;
    }
    Ok(())
}

/// Metrics of more than `min_points` points whose watermark is not known
/// (logged before tiles existed), after `(run_id, key)` `after` in that
/// order: up to `limit` of them, with their key's number.
pub(super) fn unsummarized(
    db: &mut Db,
    min_points: i64,
    after: (i64, &str),
    limit: i64,
) -> Result<Vec<(i64, String, i64)>> {
    db.rows(
        "SELECT lm.run_id, lm.key, k.id FROM latest_metrics lm JOIN metric_keys k ON k.key = lm.key \
         WHERE lm.tiled_below IS NULL AND lm.count > ? AND (lm.run_id > ? OR (lm.run_id = ? AND lm.key > ?)) \
         ORDER BY lm.run_id, lm.key LIMIT ?",
        &[min_points.into(), after.0.into(), after.0.into(), after.1.into(), limit.into()],
        |r| (r.int(0), r.text(1), r.int(2)),
    )
}

/// Makes every tile of one metric again from its stored points, up to the
/// watermark its highest step sets.
pub(super) fn rebuild_all(db: &mut Db, run_id: i64, (key, key_id): (&str, i64)) -> Result<()> {
    db.execute("DELETE FROM metric_tiles WHERE run_id = ? AND key_id = ?", &[run_id.into(), key_id.into()])?;
    let highest = db.row(
        "SELECT step FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step DESC LIMIT 1",
        &[run_id.into(), key_id.into()],
        |r| r.int(0),
    )?;
    let below = highest.map_or(i64::MIN, watermark_for);
    let points = stored(db, run_id, key_id, i64::MIN, below)?;
    write(db, run_id, key_id, &tiles_of(&points), Merge::Replace)?;
    set_watermark(db, run_id, key, below)
}

/// Points standing for the metric's points with steps in `[lo, hi]` on a
/// chart of `max_points`: each tile's lowest and highest point at the
/// coarsest level with at least `max_points / 4` tiles in the range (so at
/// most 16 times `max_points / 2`), in step order, and how many points
/// those tiles hold. The points past the watermark `below` join the tiles
/// they fall in. `None` when the range is small enough to read whole
/// (fewer than `max_points / 4` tiles even at the finest level), or the
/// tiles and the points past the watermark do not account for all `total`
/// points of the metric.
pub(super) fn overview(
    db: &mut Db,
    run_id: i64,
    key_id: i64,
    (total, below): (i64, Option<i64>),
    (lo, hi): (i64, i64),
    max_points: usize,
) -> Result<Option<(Vec<Point>, i64)>> {
    let budget = (max_points / 2).max(1) as i128;
    let width = i128::from(hi) - i128::from(lo) + 1;
    if total <= 2 * max_points as i64 || width <= 2 * max_points as i128 {
        return Ok(None);
    }
    let Some(below) = below else { return Ok(None) };
    let counted = db
        .row(
            "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM metric_tiles WHERE run_id = ? AND key_id = ? AND level = ?",
            &[run_id.into(), key_id.into(), i64::from(COARSEST).into()],
            |r| r.int(0),
        )?
        .unwrap_or(0);
    let recent = stored(db, run_id, key_id, below, i64::MAX)?;
    if counted + recent.len() as i64 != total {
        return Ok(None);
    }
    // The coarsest level that still has a tile per two buckets of the
    // budget (up to 16 tiles a bucket: the caller merges them further):
    // many runs in one chart each get a small budget, and 10,000 steps in
    // 39 tiles beat reading them all. When even the finest has fewer, the
    // range is read whole.
    let Some(shift) = SHIFTS.into_iter().rev().find(|s| (width >> s) >= (budget / 2).max(1)) else {
        return Ok(None);
    };
    let mut tiles: BTreeMap<i64, Tile> = db
        .rows(
            "SELECT tile, min_step, min_ts, min_value, max_step, max_ts, max_value, count FROM metric_tiles \
             WHERE run_id = ? AND key_id = ? AND level = ? AND tile >= ? AND tile <= ?",
            &[run_id.into(), key_id.into(), i64::from(shift).into(), (lo >> shift).into(), (hi >> shift).into()],
            |r| {
                let extreme = |s: usize| {
                    r.opt_real(s + 2).map(|value| Extreme { value, step: r.int(s), timestamp: r.int(s + 1) })
                };
                let tile = r.int(0);
                (tile, Tile { shift, tile, min: extreme(1), max: extreme(4), count: r.int(7) })
            },
        )?
        .into_iter()
        .collect();
    let in_range = (lo >> shift)..=(hi >> shift);
    for t in tiles_of(&recent).into_iter().filter(|t| t.shift == shift && in_range.contains(&t.tile)) {
        match tiles.get_mut(&t.tile) {
            Some(stored) => stored.merge(&t),
            None => {
                tiles.insert(t.tile, t);
            }
        }
    }
    let mut out = Vec::with_capacity(tiles.len() * 2);
    let mut count = 0;
    for t in tiles.values() {
        count += t.count;
        let mut pair: Vec<Point> = [t.min, t.max]
            .into_iter()
            .flatten()
            .map(|e| Point { step: e.step, timestamp: e.timestamp, value: e.value })
            .filter(|p| (lo..=hi).contains(&p.step))
            .collect();
        pair.sort_by_key(|p| (p.step, p.timestamp));
        pair.dedup_by_key(|p| (p.step, p.timestamp));
        out.extend(pair);
    }
    Ok(Some((out, count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_becomes_tiles_with_their_extremes_at_every_level() {
        let mut points: Vec<Point> = (0..600).map(|s| Point { step: s, timestamp: 1000 + s, value: 1.0 }).collect();
        points[300].value = 9.0;
        points[301].value = -2.0;
        points[302].value = f64::NAN;
        let tiles = tiles_of(&points);
        let fine: Vec<&Tile> = tiles.iter().filter(|t| t.shift == 8).collect();
        assert_eq!(fine.iter().map(|t| t.count).collect::<Vec<_>>(), [256, 256, 88]);
        assert_eq!(fine[1].max.unwrap().step, 300);
        assert_eq!(fine[1].min.unwrap().value, -2.0);
        let coarse: Vec<&Tile> = tiles.iter().filter(|t| t.shift == 20).collect();
        assert_eq!(coarse.len(), 1);
        assert_eq!(coarse[0].count, 600);
        // Negative steps fall in tiles below zero.
        assert_eq!(tiles_of(&[Point { step: -1, timestamp: 0, value: 0.0 }])[0].tile, -1);
        assert_eq!(span(8, -1), (-256, -1));
        assert_eq!(span(20, i64::MAX >> 20).1, i64::MAX);
    }

    #[test]
    fn points_out_of_step_order_make_the_same_tiles() {
        let sorted: Vec<Point> = (0..2_000)
            .map(|s| Point { step: s, timestamp: s, value: ((s * 7_919) % 1_000) as f64 + s as f64 / 1e4 })
            .collect();
        // A late point far back, a point before zero, and a shuffle.
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.swap(3, 1_500);
        shuffled.push(Point { step: -5, timestamp: 0, value: 1.5 });
        let mut with_negative = sorted.clone();
        with_negative.insert(0, Point { step: -5, timestamp: 0, value: 1.5 });
        assert_eq!(tiles_of(&shuffled), tiles_of(&with_negative));
        let fine: Vec<Tile> = tiles_of(&with_negative).into_iter().filter(|t| t.shift == 8).collect();
        assert_eq!(fine.iter().map(|t| t.tile).collect::<Vec<_>>(), [-1, 0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(fine.iter().map(|t| t.count).sum::<i64>(), 2_001);
    }
}
