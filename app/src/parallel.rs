//! Parallel coordinates over runs: an axis per param (numbers or
//! categories) and per metric (latest value), a line per run, and the
//! ranges a user drags on the axes (a "brush") that pick runs out. The
//! brush lives in the URL in the fields' own units
//! (`params.lr:0.001:0.01;params.optimizer=adam|sgd`), so a link selects
//! the same runs.

use crate::aggregate::compare_labels;
use crate::format::format_value;
use serde::{Deserialize, Serialize};

/// At most this many param axes (those that vary, in key order) and metric axes.
pub const MAX_PARAM_AXES: usize = 12;
pub const MAX_METRIC_AXES: usize = 8;

/// One axis: each run's position on it, already transformed (log10 on a
/// log axis, the category's index on a category axis), and its ticks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Axis {
    /// `params.lr`, `metrics.val_loss`.
    pub field: String,
    pub label: String,
    pub values: Vec<f64>,
    pub range: (f64, f64),
    /// The range of the values runs have (without the "none" tick).
    pub data_range: (f64, f64),
    pub tick_values: Vec<f64>,
    pub tick_text: Vec<String>,
    pub kind: AxisKind,
    /// Runs that lack the field sit on a "none" tick below the axis.
    pub missing: usize,
    /// The brushed range on this axis, in its transformed units.
    pub constraint: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum AxisKind {
    #[default]
    Linear,
    /// Values spanning 30x or more, all positive: drawn as log10.
    Log,
    /// Words (or numbers mixed with words): one tick per value, in natural order.
    Categories(Vec<String>),
}

/// The axes for runs whose field values `value(run, field)` gives: every
/// param field that varies among the runs, then the metric fields. A run
/// with a value on no axis (a sweep's parent, say) is not drawn at all
/// (its values are NaN): it would only pull a line along every "none".
pub fn axes(
    runs: usize,
    value: impl Fn(usize, &str) -> Option<String>,
    params: &[String],
    metrics: &[String],
) -> Vec<Axis> {
    let mut chosen: Vec<(&String, Vec<Option<String>>)> = Vec::new();
    for field in params {
        let vals: Vec<Option<String>> = (0..runs).map(|r| value(r, field)).collect();
        let mut distinct: Vec<&String> = vals.iter().flatten().collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() < 2 {
            continue;
        }
        chosen.push((field, vals));
        if chosen.len() == MAX_PARAM_AXES {
            break;
        }
    }
    for field in metrics.iter().take(MAX_METRIC_AXES) {
        let vals: Vec<Option<String>> = (0..runs).map(|r| value(r, field)).collect();
        if vals.iter().any(Option::is_some) {
            chosen.push((field, vals));
        }
    }
    let drawn: Vec<bool> = (0..runs).map(|r| chosen.iter().any(|(_, vals)| vals[r].is_some())).collect();
    chosen.into_iter().map(|(field, vals)| axis(field, &vals, &drawn)).collect()
}

fn axis(field: &str, all_vals: &[Option<String>], drawn: &[bool]) -> Axis {
    // Runs that are not drawn count as neither present nor missing.
    let vals: Vec<Option<String>> =
        all_vals.iter().zip(drawn).map(|(v, d)| if *d { v.clone() } else { None }).collect();
    let vals = &vals[..];
    let label = field.split_once('.').map_or(field, |(_, k)| k).to_string();
    let numbers: Option<Vec<Option<f64>>> = vals
        .iter()
        .map(|v| match v {
            None => Some(None),
            Some(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(Some),
        })
        .collect();
    let missing = vals.iter().zip(drawn).filter(|(v, d)| **d && v.is_none()).count();
    let mut a = match numbers {
        Some(nums) if nums.iter().any(Option::is_some) => numeric_axis(field, label, &nums),
        _ => category_axis(field, label, vals),
    };
    a.missing = missing;
    a.data_range = a.range;
    if missing > 0 {
        // Runs without the field sit on their own tick under the axis.
        let (lo, hi) = a.range;
        let span = if hi > lo { hi - lo } else { 1.0 };
        let none = lo - span * 0.12;
        for ((v, raw), d) in a.values.iter_mut().zip(vals).zip(drawn) {
            if raw.is_none() {
                *v = if *d { none } else { f64::NAN };
            }
        }
        a.range = (none, hi);
        a.tick_values.insert(0, none);
        a.tick_text.insert(0, "none".into());
    }
    a
}

/// Values drawn on a log axis by themselves: all positive and spanning
/// 30x or more (learning rates, weight decays).
pub fn spans_decades(values: &[f64]) -> bool {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lo > 0.0 && hi.is_finite() && hi / lo >= 30.0
}

fn numeric_axis(field: &str, label: String, nums: &[Option<f64>]) -> Axis {
    let present: Vec<f64> = nums.iter().flatten().copied().collect();
    let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if spans_decades(&present) {
        let values = nums.iter().map(|v| v.map_or(f64::NAN, f64::log10)).collect();
        let (tick_values, tick_text) = log_ticks(lo, hi);
        return Axis {
            field: field.into(),
            label: format!("{label} (log)"),
            values,
            range: (lo.log10(), hi.log10()),
            tick_values,
            tick_text,
            kind: AxisKind::Log,
            ..Default::default()
        };
    }
    let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let whole = present.iter().all(|v| v.fract() == 0.0);
    let (tick_values, tick_text, range) = if whole && hi - lo <= 10.0 {
        // Counts and depths: a tick at each whole number, none between.
        let ticks: Vec<f64> = (lo.ceil() as i64..=hi.floor() as i64).map(|v| v as f64).collect();
        let text = ticks.iter().map(|v| v.to_string()).collect();
        (ticks, text, (lo, hi))
    } else {
        round_ticks(lo, hi)
    };
    Axis {
        field: field.into(),
        label,
        values: nums.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
        range,
        tick_values,
        tick_text,
        ..Default::default()
    }
}

/// About five ticks at round numbers (steps of 1, 2, 2.5 or 5 times a power
/// of ten) covering `lo..hi`, each written with the step's decimals, and the
/// axis's range widened to the outer ticks.
pub fn round_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>, (f64, f64)) {
    let rough = (hi - lo) / 4.0;
    if !(rough.is_finite() && rough > 0.0) {
        return (vec![lo], vec![format_value(lo)], (lo - 0.5, lo + 0.5));
    }
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    // Decimals of the step itself: 0.25 needs two, 0.5 one, 20 none.
    let decimals =
        (0..10).find(|d| ((step * 10f64.powi(*d)).round() - step * 10f64.powi(*d)).abs() < 1e-6).unwrap_or(10);
    let values: Vec<f64> = (first..=last).map(|i| i as f64 * step).collect();
    let text = values
        .iter()
        .map(|v| {
            let v = if v.abs() < step * 1e-9 { 0.0 } else { *v };
            if (1e-4..1e7).contains(&v.abs()) || v == 0.0 {
                format!("{v:.*}", decimals as usize)
            } else {
                format_value(v)
            }
        })
        .collect();
    (values, text, (first as f64 * step, last as f64 * step))
}

/// Ticks at 1, 2 and 5 of each decade from `lo` to `hi` (log10 positions).
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>) {
    let mut values = Vec::new();
    let mut text = Vec::new();
    for decade in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(decade);
            if v >= lo * 0.999 && v <= hi * 1.001 {
                values.push(v.log10());
                text.push(format_value(v));
            }
        }
    }
    (values, text)
}

fn category_axis(field: &str, label: String, vals: &[Option<String>]) -> Axis {
    let mut cats: Vec<String> = vals.iter().flatten().cloned().collect();
    cats.sort_by(|a, b| compare_labels(a, b));
    cats.dedup();
    let values =
        vals.iter().map(|v| v.as_ref().and_then(|v| cats.iter().position(|c| c == v)).map_or(f64::NAN, |i| i as f64));
    let last = cats.len().saturating_sub(1) as f64;
    Axis {
        field: field.into(),
        label,
        values: values.collect(),
        range: (-0.3, last + 0.3),
        tick_values: (0..cats.len()).map(|i| i as f64).collect(),
        tick_text: cats.clone(),
        kind: AxisKind::Categories(cats),
        ..Default::default()
    }
}

/// A range dragged on one axis, in the field's own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Brush {
    Range { field: String, lo: f64, hi: f64 },
    Values { field: String, values: Vec<String> },
}

impl Brush {
    pub fn field(&self) -> &str {
        match self {
            Brush::Range { field, .. } | Brush::Values { field, .. } => field,
        }
    }

    /// Whether a run's value of the field lies in the brush.
    pub fn keeps(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (_, None) => false,
            (Brush::Range { lo, hi, .. }, Some(v)) => v.trim().parse::<f64>().is_ok_and(|v| *lo <= v && v <= *hi),
            (Brush::Values { values, .. }, Some(v)) => values.iter().any(|x| x == v),
        }
    }

    /// The brush for a range dragged on `axis` (transformed units).
    pub fn on_axis(axis: &Axis, lo: f64, hi: f64) -> Brush {
        let field = axis.field.clone();
        match &axis.kind {
            AxisKind::Linear => Brush::Range { field, lo, hi },
            AxisKind::Log => Brush::Range { field, lo: 10f64.powf(lo), hi: 10f64.powf(hi) },
            AxisKind::Categories(cats) => Brush::Values {
                field,
                values: cats
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (lo..=hi).contains(&(*i as f64)))
                    .map(|(_, c)| c.clone())
                    .collect(),
            },
        }
    }

    /// This brush on `axis`, in the axis's transformed units.
    pub fn constraint(&self, axis: &Axis) -> Option<(f64, f64)> {
        match (self, &axis.kind) {
            (Brush::Range { lo, hi, .. }, AxisKind::Log) if *lo > 0.0 => Some((lo.log10(), hi.log10())),
            (Brush::Range { lo, hi, .. }, AxisKind::Linear) => Some((*lo, *hi)),
            (Brush::Values { values, .. }, AxisKind::Categories(cats)) => {
                let idx: Vec<f64> =
                    cats.iter().enumerate().filter(|(_, c)| values.contains(c)).map(|(i, _)| i as f64).collect();
                Some((idx.first()? - 0.25, idx.last()? + 0.25))
            }
            _ => None,
        }
    }
}

/// Brushes from the URL's `brush` value, and whether some part of it could
/// not be read (that part is left out, and the page says so).
pub fn parse_brushes(text: &str) -> (Vec<Brush>, bool) {
    let mut out = Vec::new();
    let mut bad = false;
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let range = || {
            let (field, rest) = part.split_once(':')?;
            let (lo, hi) = rest.split_once(':')?;
            let (lo, hi) = (lo.parse::<f64>().ok()?, hi.parse::<f64>().ok()?);
            (lo <= hi && lo.is_finite() && hi.is_finite()).then(|| Brush::Range { field: field.to_string(), lo, hi })
        };
        let values = || {
            let (field, vals) = part.split_once('=')?;
            Some(Brush::Values { field: field.to_string(), values: vals.split('|').map(String::from).collect() })
        };
        match range().or_else(values) {
            Some(b) if b.field().contains('.') => out.push(b),
            _ => bad = true,
        }
    }
    (out, bad)
}

pub fn format_brushes(brushes: &[Brush]) -> String {
    brushes
        .iter()
        .map(|b| match b {
            Brush::Range { field, lo, hi } => format!("{field}:{lo}:{hi}"),
            Brush::Values { field, values } => format!("{field}={}", values.join("|")),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Whether a run passes every brush.
pub fn kept_by(brushes: &[Brush], value: impl Fn(&str) -> Option<String>) -> bool {
    brushes.iter().all(|b| b.keeps(value(b.field()).as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<'a>(rows: &'a [&'a [(&'a str, &'a str)]]) -> impl Fn(usize, &str) -> Option<String> + 'a {
        move |r, f| rows[r].iter().find(|(k, _)| *k == f).map(|(_, v)| v.to_string())
    }

    #[test]
    fn axes_for_varying_params_and_metrics_with_automatic_log_and_categories() {
        let rows: [&[(&str, &str)]; 3] = [
            &[("params.lr", "0.001"), ("params.opt", "sgd"), ("params.seed", "1"), ("metrics.loss", "0.5")],
            &[("params.lr", "0.01"), ("params.opt", "adam"), ("params.seed", "1"), ("metrics.loss", "0.3")],
            &[("params.lr", "0.1"), ("params.opt", "adam"), ("params.seed", "1")],
        ];
        let params = ["params.lr", "params.opt", "params.seed"].map(String::from);
        let a = axes(3, table(&rows), &params, &["metrics.loss".into()]);
        // The seed is the same everywhere: no axis.
        assert_eq!(a.iter().map(|a| a.field.as_str()).collect::<Vec<_>>(), ["params.lr", "params.opt", "metrics.loss"]);
        assert_eq!(a[0].kind, AxisKind::Log);
        assert_eq!(a[0].label, "lr (log)");
        assert!((a[0].values[1] + 2.0).abs() < 1e-12);
        assert_eq!(a[0].tick_text, ["0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1"]);
        assert_eq!(a[1].kind, AxisKind::Categories(vec!["adam".into(), "sgd".into()]));
        assert_eq!(a[1].values, [1.0, 0.0, 0.0]);
        // The run without the metric sits on its own "none" tick.
        assert_eq!(a[2].missing, 1);
        assert_eq!(a[2].tick_text[0], "none");
        assert!(a[2].values[2] < 0.3 && a[2].values[2] == a[2].range.0);
    }

    #[test]
    fn linear_axes_have_round_ticks_and_a_run_on_no_axis_is_not_drawn() {
        let (values, text, range) = round_ticks(0.70814, 0.99852);
        assert_eq!(text, ["0.7", "0.8", "0.9", "1.0"]);
        assert_eq!(values.len(), 4);
        assert!((range.0 - 0.7).abs() < 1e-12 && (range.1 - 1.0).abs() < 1e-12);
        assert_eq!(round_ticks(32.0, 128.0).1, ["25", "50", "75", "100", "125", "150"]);
        assert_eq!(round_ticks(0.0, 0.3).1, ["0.0", "0.1", "0.2", "0.3"]);
        assert_eq!(round_ticks(-0.039, 0.574).1, ["-0.2", "0.0", "0.2", "0.4", "0.6"]);
        assert_eq!(round_ticks(38.75, 38.75).2, (38.25, 39.25));
        // A sweep's parent has no value on any axis: no line, no "none" tick.
        let rows: [&[(&str, &str)]; 3] = [
            &[("params.lr", "0.5"), ("metrics.loss", "0.5")],
            &[("params.lr", "0.25"), ("metrics.loss", "0.3")],
            &[("params.sweep", "depth")],
        ];
        let a = axes(3, table(&rows), &["params.lr".into()], &["metrics.loss".into()]);
        assert!(a.iter().all(|a| a.missing == 0 && a.values[2].is_nan() && !a.tick_text.contains(&"none".into())));
        assert_eq!(a[0].tick_text, ["0.2", "0.3", "0.4", "0.5"]);
    }

    #[test]
    fn numbers_mixed_with_words_are_categories_and_a_small_span_stays_linear() {
        let rows: [&[(&str, &str)]; 3] = [
            &[("params.depth", "4"), ("params.w", "1")],
            &[("params.depth", "auto"), ("params.w", "2")],
            &[("params.depth", "16"), ("params.w", "29")],
        ];
        let a = axes(3, table(&rows), &["params.depth".into(), "params.w".into()], &[]);
        assert_eq!(a[0].tick_text, ["4", "16", "auto"]);
        assert_eq!(a[1].kind, AxisKind::Linear);
    }

    #[test]
    fn brushes_round_trip_through_the_url_and_pick_runs() {
        let text = "params.lr:0.001:0.01;params.opt=adam|sgd";
        let (b, bad) = parse_brushes(text);
        assert!(!bad);
        assert_eq!(format_brushes(&b), text);
        let run = |lr: &str, opt: &str| {
            let (lr, opt) = (lr.to_string(), opt.to_string());
            move |f: &str| match f {
                "params.lr" => Some(lr.clone()),
                "params.opt" => Some(opt.clone()),
                _ => None,
            }
        };
        assert!(kept_by(&b, run("0.005", "adam")));
        assert!(!kept_by(&b, run("0.05", "adam")));
        assert!(!kept_by(&b, run("0.005", "lion")));
        assert!(!kept_by(&b, |_| None));
        let (partial, bad) = parse_brushes("params.lr:1:x;nonsense;params.lr:0.1:0.2");
        assert!(bad);
        assert_eq!(partial.len(), 1);
    }

    #[test]
    fn a_dragged_range_becomes_a_brush_in_the_fields_units() {
        let rows: [&[(&str, &str)]; 3] = [
            &[("params.lr", "0.001"), ("params.opt", "a")],
            &[("params.lr", "0.1"), ("params.opt", "b")],
            &[("params.lr", "1"), ("params.opt", "c")],
        ];
        let a = axes(3, table(&rows), &["params.lr".into(), "params.opt".into()], &[]);
        let b = Brush::on_axis(&a[0], -3.0, -1.0);
        assert!(b.keeps(Some("0.01")) && !b.keeps(Some("0.5")));
        let (lo, hi) = b.constraint(&a[0]).unwrap();
        assert!((lo + 3.0).abs() < 1e-9 && (hi + 1.0).abs() < 1e-9);
        let c = Brush::on_axis(&a[1], 0.8, 2.2);
        assert_eq!(c, Brush::Values { field: "params.opt".into(), values: vec!["b".into(), "c".into()] });
        assert_eq!(c.constraint(&a[1]), Some((0.75, 2.25)));
    }
}
