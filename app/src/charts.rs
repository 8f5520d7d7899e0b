//! Charts: a plain description of a figure ([`Figure`]), drawn by plotly.js
//! in the browser; and the downsampling the server applies to long series.

use crate::aggregate::{aggregate, Aggregate, Band, Center, Member};
use crate::format::format_value;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tracking::Point;

/// One line or set of markers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Trace {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<Option<f64>>,
    /// Hover text per point (run names in a scatter).
    pub text: Vec<String>,
    pub color: String,
    /// Marker colours point by point (each run's own in a scatter).
    pub point_colors: Vec<String>,
    /// Draw as bars at these category labels (one value per run) instead
    /// of a line over `x`.
    pub bar_labels: Vec<String>,
    pub markers: bool,
    /// Dashed: a failed or killed run.
    pub dash: bool,
    /// A line style by a second key (`LINE_STYLES`; 0 is solid). Never the
    /// plain dash, which marks stopped runs.
    pub line_style: usize,
    /// Fill down to the previous trace (the lower edge of a min-max band).
    pub fill_to_previous: bool,
    pub fill_color: String,
    pub show_legend: bool,
    pub width: f64,
    /// Hover text per point, shown as it is (a group's `mean [min, max] n=`).
    pub hover: Vec<String>,
    /// Left out of the hover box (a band's edges).
    pub no_hover: bool,
    /// Traces of one legend group show and hide together.
    pub legend_group: String,
    /// Opacity of the line (a raw line kept faint under its smoothed one).
    pub opacity: Option<f64>,
    /// The lines of many runs, one after another with a gap point between
    /// (`merge_lines`): each run's name and how many points it has, in
    /// order. Its hover text is the run's name, made only when drawn.
    pub merged_runs: Vec<(String, usize)>,
    /// Markers where failed or killed runs' lines end (`end_marks`): an ×
    /// each, in the run's colour (`point_colors`).
    pub end_marks: bool,
    /// A bar's spread above and below its value (a group's band).
    pub error_plus: Vec<f64>,
    pub error_minus: Vec<f64>,
}

impl Trace {
    /// Each point's run name for lines merged by `merge_lines`: `None` at
    /// the gap between two runs.
    pub fn merged_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.merged_runs.iter().enumerate().flat_map(|(i, (name, n))| {
            (i > 0).then_some(None).into_iter().chain(std::iter::repeat_n(Some(name.as_str()), *n))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Figure {
    pub traces: Vec<Trace>,
    pub x_title: String,
    pub y_title: String,
    pub x_log: bool,
    pub y_log: bool,
    pub x_dates: bool,
    /// Scale y to the bulk of the values (`robust_range`), not to the
    /// rare spikes: what "ignore outliers" asks for.
    pub ignore_outliers: bool,
    /// A fixed y axis, `(low, high)` in the values' units.
    pub y_range: Option<(f64, f64)>,
    /// Hover shows the point under the pointer (with its run's name), not
    /// every line at that x: lines merged by `merge_lines`.
    pub closest_hover: bool,
    /// Values at the hovered x go to a table beside the charts (the chart
    /// view's), not to a box over the lines: no box is drawn.
    pub docked_hover: bool,
    /// Words at these x positions instead of numbers (a scatter of a
    /// param whose values are words).
    pub x_ticks: Vec<(f64, String)>,
}

/// One run's point in a scatter: its x value as logged (a number or a
/// word), its y, the legend entry it belongs to (its run, or its group)
/// and that entry's colour, and more hover lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    pub run: String,
    pub x: String,
    pub y: f64,
    pub series: String,
    pub color: String,
    pub more: Option<String>,
}

/// Most legend entries a scatter names; with more, points keep their colours
/// in one trace and no legend is drawn.
const SCATTER_LEGEND: usize = 20;

/// Runs as points of `y_field` against `x_field`, each legend entry (a run,
/// or a group) a trace in its colour. Words on x sit at their places in
/// their order (`compare_labels`), named on the axis; points that would
/// stack at one x are spread a little either side of it (the hover box
/// says the value as logged). A log x axis when numbers span 30x or more.
pub fn scatter(points: &[ScatterPoint], x_field: &str, y_field: &str) -> Figure {
    let numeric = points.iter().all(|p| p.x.trim().parse::<f64>().is_ok());
    let mut words: Vec<&str> = if numeric { Vec::new() } else { points.iter().map(|p| p.x.as_str()).collect() };
    words.sort_by(|a, b| crate::aggregate::compare_labels(a, b));
    words.dedup();
    let base = |p: &ScatterPoint| match numeric {
        true => p.x.trim().parse::<f64>().unwrap_or(f64::NAN),
        false => words.iter().position(|w| *w == p.x).unwrap_or(0) as f64,
    };
    let bases: Vec<f64> = points.iter().map(base).collect();
    let log_x = numeric && crate::parallel::spans_decades(&bases);
    // The k-th point at one x goes to slot k of 0, +1, -1, +2, -2, …, a
    // small step each: a 20th of a category, or of a decade on a log axis.
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    let (lo, hi) =
        bases.iter().filter(|x| x.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let xs: Vec<f64> = bases
        .iter()
        .map(|&x| {
            let k = seen.entry(x.to_bits()).or_insert(0);
            let slot = match *k {
                0 => 0.0,
                k if k % 2 == 1 => k.div_ceil(2) as f64,
                k => -((k / 2) as f64),
            };
            *k += 1;
            match (numeric, log_x) {
                (false, _) => x + slot * 0.05,
                (true, true) => x * 10f64.powf(slot * 0.02),
                (true, false) => x + slot * span * 0.006,
            }
        })
        .collect();
    let mut series: Vec<(&str, &str)> = Vec::new();
    for p in points {
        if !series.iter().any(|(s, _)| *s == p.series) {
            series.push((&p.series, &p.color));
        }
    }
    let hover = |p: &ScatterPoint| {
        let mut text = format!("{}<br>{x_field} = {}<br>{y_field} = {}", p.run, p.x, format_value(p.y));
        if let Some(more) = &p.more {
            text.push_str("<br>");
            text.push_str(more);
        }
        text
    };
    let traces = if series.len() > SCATTER_LEGEND {
        vec![Trace {
            x: xs.clone(),
            y: points.iter().map(|p| p.y.is_finite().then_some(p.y)).collect(),
            text: points.iter().map(hover).collect(),
            point_colors: points.iter().map(|p| p.color.clone()).collect(),
            markers: true,
            ..Default::default()
        }]
    } else {
        series
            .iter()
            .map(|(name, color)| {
                let mine: Vec<usize> = (0..points.len()).filter(|&i| points[i].series == *name).collect();
                Trace {
                    name: name.to_string(),
                    x: mine.iter().map(|&i| xs[i]).collect(),
                    y: mine.iter().map(|&i| points[i].y).map(|y| y.is_finite().then_some(y)).collect(),
                    text: mine.iter().map(|&i| hover(&points[i])).collect(),
                    color: color.to_string(),
                    markers: true,
                    show_legend: true,
                    ..Default::default()
                }
            })
            .collect()
    };
    Figure {
        traces,
        x_title: x_field.to_string(),
        y_title: y_field.to_string(),
        x_log: log_x,
        x_ticks: words.iter().enumerate().map(|(i, w)| (i as f64, w.to_string())).collect(),
        ..Default::default()
    }
}

/// Above this many run lines in one chart, lines of one look (colour,
/// dash, style, width, opacity) become one trace with gaps between runs:
/// plotly.js draws a trace at a time, so 1,000 runs cost 1,000 times its
/// per-trace work; 20 colours cost 20. Each point keeps its run's name for
/// the hover box (`Trace::merged_runs`).
pub const MERGE_ABOVE: usize = 100;

/// `traces` with their plain lines merged by look when there are more than
/// `above` of them (bars, markers, bands and faint raw lines stay as they
/// are); whether any were merged.
pub fn merge_lines(traces: Vec<Trace>, above: usize) -> (Vec<Trace>, bool) {
    let plain = |t: &Trace| t.bar_labels.is_empty() && !t.markers && !t.fill_to_previous && t.hover.is_empty();
    if traces.iter().filter(|t| plain(t)).count() <= above {
        return (traces, false);
    }
    let mut out: Vec<Trace> = Vec::new();
    let mut merged: Vec<(String, Trace, usize)> = Vec::new();
    for t in traces {
        if !plain(&t) {
            out.push(t);
            continue;
        }
        let look = format!("{}|{}|{}|{}|{:?}|{}", t.color, t.dash, t.line_style, t.width, t.opacity, t.no_hover);
        let name = t.name.clone();
        let i = match merged.iter().position(|(l, ..)| *l == look) {
            Some(i) => i,
            None => {
                let empty = Trace { x: Vec::new(), y: Vec::new(), hover: Vec::new(), show_legend: false, ..t.clone() };
                merged.push((look, empty, 0));
                merged.len() - 1
            }
        };
        let (_, m, runs) = &mut merged[i];
        if let Some(last) = m.x.last().copied() {
            // A gap between one run's line and the next (no value breaks
            // the line; the x is a number so that a figure equals itself).
            m.x.push(last);
            m.y.push(None);
        }
        m.merged_runs.push((name, t.y.len()));
        m.x.extend(t.x);
        m.y.extend(t.y);
        *runs += 1;
    }
    for (_, mut m, runs) in merged {
        m.name = format!("{runs} runs");
        m.legend_group = String::new();
        out.push(m);
    }
    (out, true)
}

/// An × at the last drawn point of each failed or killed run's line
/// (a dashed line): where the run stopped. Left out of the hover box and
/// the CSV, like the dash, which already says it. `None` when no such
/// line has a point.
pub fn end_marks(traces: &[Trace]) -> Option<Trace> {
    let mut marks = Trace {
        name: "where failed or killed runs stopped".into(),
        markers: true,
        no_hover: true,
        end_marks: true,
        ..Default::default()
    };
    for t in traces.iter().filter(|t| t.dash && !t.no_hover && t.bar_labels.is_empty()) {
        let last =
            t.y.iter().zip(&t.x).rev().find_map(|(y, x)| y.filter(|y| y.is_finite() && x.is_finite()).map(|y| (*x, y)));
        if let Some((x, y)) = last {
            marks.x.push(x);
            marks.y.push(Some(y));
            marks.point_colors.push(t.color.clone());
        }
    }
    (!marks.x.is_empty()).then_some(marks)
}

/// The y range that shows the bulk of the values: from the 2nd to the 98th
/// percentile of the finite ones (positive ones on a log axis, given as
/// log10 as plotly takes them), with a tenth of the span as margin. `None`
/// when there is too little to judge (fewer than 20 values) or nothing
/// to leave out.
pub fn robust_range(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let mut v: Vec<f64> =
        values.filter(|x| x.is_finite() && (!log || *x > 0.0)).map(|x| if log { x.log10() } else { x }).collect();
    if v.len() < 20 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.98));
    if lo == v[0] && hi == v[v.len() - 1] {
        return None;
    }
    let margin = if hi > lo { (hi - lo) * 0.1 } else { lo.abs().max(1e-12) * 0.1 };
    Some((lo - margin, hi + margin))
}

/// Tick spacing of a log axis over values from `lo` to `hi`: `None` for
/// 1-2-5 labels in each decade (not plotly's 2…9 clutter), or every so
/// many decades when they span more than four (the 1-2-5 labels of ten
/// decades would crowd the axis).
pub fn log_dtick(lo: f64, hi: f64) -> Option<f64> {
    if !(lo > 0.0 && hi.is_finite() && hi >= lo) {
        return None;
    }
    let decades = (hi / lo).log10();
    (decades > 4.0).then(|| (decades / 6.0).ceil().max(1.0))
}

/// A log axis's ticks over values from `lo` to `hi`, each labelled with its
/// whole value (`0.0005`, `2`, `1e-7`): plotly's own labels read "5" under
/// "1" for 0.5 and "100µ" for 0.0001.
pub fn log_ticks(lo: f64, hi: f64) -> Option<(Vec<f64>, Vec<String>)> {
    if !(lo > 0.0 && hi.is_finite() && hi >= lo) {
        return None;
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut values = Vec::new();
    match log_dtick(lo, hi) {
        None => {
            for d in first..=last {
                values.extend([1.0, 2.0, 5.0].map(|m| m * 10f64.powi(d)));
            }
        }
        Some(every) => {
            let every = every as i32;
            values.extend((first..=last).filter(|d| d.rem_euclid(every) == 0).map(|d| 10f64.powi(d)));
        }
    }
    // Only those near the values (plotly pads the range a little).
    values.retain(|v| *v >= lo / 3.0 && *v <= hi * 3.0);
    let text = values
        .iter()
        .map(|v| {
            // Rounded to the tick's own digits (2e-5 computes as 1.9999…e-5).
            let v = format!("{v:.3e}").parse::<f64>().unwrap_or(*v);
            if (1e-4..1e6).contains(&v) {
                format!("{v}")
            } else {
                format!("{v:e}")
            }
        })
        .collect();
    Some((values, text))
}

/// 20 qualitative colours from Paul Tol's colour-blind-safe schemes
/// (vibrant, muted, light), ordered so that neighbours differ most: runs
/// created one after another never look alike. The first ten are ten hues
/// (no two reds or pinks among them), and red comes last: on a chart red
/// reads as "failed", which a dashed line and an × already say.
pub const PALETTE: [&str; 20] = [
    "#0077BB", "#EE7733", "#009988", "#AA4499", "#33BBEE", "#117733", "#DDCC77", "#332288", "#EE3377", "#999933",
    "#882255", "#77AADD", "#44BB99", "#BBCC33", "#EE8866", "#99DDFF", "#AAAA00", "#FFAABB", "#CC6677", "#CC3311",
];

pub fn color(i: usize) -> String {
    PALETTE[i % PALETTE.len()].to_string()
}

/// A run's colour everywhere (table, run page, compare, scatter): chosen by
/// its place in its experiment's creation order (`store::run_ordinals`),
/// so it is the same on every page, reload and machine.
pub fn run_color(ordinal: i64) -> String {
    color(ordinal.rem_euclid(PALETTE.len() as i64) as usize)
}

/// About `max` points of `points` (in step order): each bucket of
/// consecutive points keeps its lowest and its highest value, so a
/// one-step spike survives downsampling, as do NaN points (gaps).
pub fn downsample(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max || max < 4 {
        return points.to_vec();
    }
    let buckets = max / 2;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max + 2);
    for bucket in points.chunks(size) {
        let finite = || bucket.iter().enumerate().filter(|(_, p)| p.value.is_finite());
        let lo = finite().min_by(|a, b| a.1.value.total_cmp(&b.1.value)).map(|(i, _)| i);
        let hi = finite().max_by(|a, b| a.1.value.total_cmp(&b.1.value)).map(|(i, _)| i);
        let gap = bucket.iter().position(|p| !p.value.is_finite());
        let mut keep: Vec<usize> = [lo, hi, gap].into_iter().flatten().collect();
        keep.sort_unstable();
        keep.dedup();
        out.extend(keep.into_iter().map(|i| bucket[i]));
    }
    out
}

/// An exponential moving average with MLflow's and TensorBoard's debiasing;
/// gaps stay gaps. `weight` 0 leaves the values as they are.
pub fn smooth(values: &[Option<f64>], weight: f64) -> Vec<Option<f64>> {
    if weight <= 0.0 {
        return values.to_vec();
    }
    let mut last = 0.0;
    let mut n = 0;
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                last = last * weight + (1.0 - weight) * v;
                n += 1;
                last / (1.0 - weight.powi(n))
            })
        })
        .collect()
}

/// A group of runs drawn as one line: its label, its runs' lines (x and
/// y), and how many runs it has in all (some may lack the metric).
pub struct Group {
    pub label: String,
    pub lines: Vec<(Vec<f64>, Vec<Option<f64>>)>,
    pub runs: usize,
    /// The group's colour (`color(i)`) and line style (`LINE_STYLES`).
    pub color_index: usize,
    pub line_style: usize,
}

/// Line styles a second key picks, by its values in order.
pub const LINE_STYLES: [&str; 5] = ["solid", "dotted", "dash-dot", "long dash", "long dash-dot"];

/// Each line style as an SVG `stroke-dasharray`, for keys drawn beside charts.
pub const LINE_DASHES: [&str; 5] = ["none", "2,3", "6,3,2,3", "10,4", "10,3,2,3"];

/// The line style of the `i`th value of a style key.
pub fn line_style(i: usize) -> usize {
    i % LINE_STYLES.len()
}

/// One run, for `build_groups`: its group label, its line-style label
/// (with a style key), and its line when it has the metric.
pub struct Grouped {
    pub label: String,
    pub style: Option<String>,
    pub line: Option<(Vec<f64>, Vec<Option<f64>>)>,
}

/// A group's label: its value of the grouping key, and with a style key
/// its value of that too (`adam · params.depth = 3`).
pub fn group_label(label: &str, style: Option<&str>, style_field: &str) -> String {
    match style {
        Some(style) => format!("{label} · {style_field} = {style}"),
        None => label.to_string(),
    }
}

/// Runs gathered by label, and by style label within (`style_field`
/// names the style key), in `compare_labels` order: a colour per label,
/// a line style per style label. A group counts every run of its labels,
/// with the metric or not (the legend's "k of m runs").
pub fn build_groups(runs: impl IntoIterator<Item = Grouped>, style_field: &str) -> Vec<Group> {
    let mut groups: BTreeMap<(String, Option<String>), Group> = BTreeMap::new();
    for r in runs {
        let g = groups.entry((r.label.clone(), r.style.clone())).or_insert_with(|| Group {
            label: group_label(&r.label, r.style.as_deref(), style_field),
            lines: Vec::new(),
            runs: 0,
            color_index: 0,
            line_style: 0,
        });
        g.runs += 1;
        g.lines.extend(r.line);
    }
    let rank = |labels: Vec<&String>| {
        let mut labels: Vec<&String> = labels;
        labels.sort_by(|a, b| crate::aggregate::compare_labels(a, b));
        labels.dedup();
        labels.into_iter().cloned().collect::<Vec<String>>()
    };
    let colours = rank(groups.keys().map(|(l, _)| l).collect());
    let styles = rank(groups.keys().filter_map(|(_, s)| s.as_ref()).collect());
    let mut out: Vec<((usize, usize), Group)> = groups
        .into_iter()
        .map(|((label, style), mut g)| {
            g.color_index = colours.iter().position(|l| *l == label).unwrap_or(0);
            g.line_style = style.and_then(|s| styles.iter().position(|l| *l == s)).map(line_style).unwrap_or(0);
            let style_rank = g.line_style;
            ((g.color_index, style_rank), g)
        })
        .collect();
    out.sort_by_key(|(k, _)| *k);
    out.into_iter().map(|(_, g)| g).collect()
}

/// Points on a group's line: its runs meet on a grid about this fine.
const GROUP_POINTS: usize = 1000;

/// Each group as its centre line (mean or median) over a band, in the
/// group's colour (by its place in `groups`). The band is fainter where
/// fewer of the group's runs have a value (one ended early or has a gap);
/// the hover box shows one line per group, `mean 0.12 [0.1, 0.2] n=5`,
/// never the band's edges.
pub fn group_traces(field: &str, groups: &[Group], center: Center, band: Band) -> Vec<Trace> {
    let mut traces = Vec::new();
    for g in groups {
        let members: Vec<Member> = g.lines.iter().map(|(x, y)| Member { x, y }).collect();
        let a = aggregate(&members, center, band, GROUP_POINTS);
        let with_metric = g.lines.iter().filter(|(_, y)| y.iter().flatten().any(|v| v.is_finite())).count();
        let line = BandLine {
            name: group_name(field, &g.label, with_metric, g.runs),
            color: color(g.color_index),
            line_style: g.line_style,
            with_metric,
        };
        traces.extend(band_traces(&line, &a, center, band));
    }
    traces
}

/// A group's name in the legend: `lr = 0.01 (3 runs)`, or `(2 of 3
/// runs)` when some lack the metric.
pub fn group_name(field: &str, label: &str, with_metric: usize, runs: usize) -> String {
    match (with_metric, runs) {
        (k, m) if k == m && k == 1 => format!("{field} = {label} (1 run)"),
        (k, m) if k == m => format!("{field} = {label} ({k} runs)"),
        (k, m) => format!("{field} = {label} ({k} of {m} runs)"),
    }
}

/// How one aggregate is drawn: its legend name, colour and line style,
/// and how many runs have the metric (where fewer have a value, the band
/// and line fade).
pub struct BandLine {
    pub name: String,
    pub color: String,
    pub line_style: usize,
    pub with_metric: usize,
}

/// One aggregate as its band (`band`'s edges filled) and its centre line,
/// whose hover reads `mean 0.12 [0.1, 0.2] n=5`.
pub fn band_traces(line: &BandLine, a: &Aggregate, center: Center, band: Band) -> Vec<Trace> {
    let mut traces = match band {
        Band::None => Vec::new(),
        _ => band_area(line, &a.lo, &a.hi, a, ["40", "18"]),
    };
    traces.extend(centre_line(line, a, center));
    traces
}

/// The area between `lo` and `hi` in the line's colour, filled with the
/// alpha `alphas[0]` where all its runs have values and `alphas[1]` where
/// some do not; never in the hover box.
pub fn band_area(
    line: &BandLine,
    lo: &[Option<f64>],
    hi: &[Option<f64>],
    a: &Aggregate,
    alphas: [&str; 2],
) -> Vec<Trace> {
    let mut traces = Vec::new();
    let (name, c) = (&line.name, &line.color);
    for (range, full) in segments(&a.n, line.with_metric) {
        let part = |v: &[Option<f64>]| v[range.clone()].to_vec();
        let edge = Trace {
            name: format!("{name} band"),
            x: a.x[range.clone()].to_vec(),
            y: part(hi),
            color: format!("{c}00"),
            no_hover: true,
            legend_group: name.clone(),
            ..Default::default()
        };
        let alpha = if full { alphas[0] } else { alphas[1] };
        let fill = Trace { y: part(lo), fill_to_previous: true, fill_color: format!("{c}{alpha}"), ..edge.clone() };
        traces.extend([edge, fill]);
    }
    traces
}

/// The aggregate's centre line, whose hover reads `mean 0.12 [0.1, 0.2] n=5`.
pub fn centre_line(line: &BandLine, a: &Aggregate, center: Center) -> Vec<Trace> {
    let mut traces = Vec::new();
    let (name, c, with_metric) = (&line.name, &line.color, line.with_metric);
    let hover: Vec<String> = a
        .center
        .iter()
        .zip(a.min.iter().zip(&a.max))
        .zip(&a.n)
        .map(|((m, (lo, hi)), n)| match (m, lo, hi) {
            (Some(m), Some(lo), Some(hi)) => {
                format!("{} {} [{}, {}] n={n}", center.name(), format_value(*m), format_value(*lo), format_value(*hi))
            }
            _ => String::new(),
        })
        .collect();
    // The line fades with its band where some of the group's runs have
    // stopped (or not begun): a mean over fewer runs jumps where one
    // ends, and should read as the estimate it is.
    for (k, (range, full)) in line_segments(&a.n, with_metric).into_iter().enumerate() {
        traces.push(Trace {
            name: name.clone(),
            x: a.x[range.clone()].to_vec(),
            y: a.center[range.clone()].to_vec(),
            color: c.clone(),
            line_style: line.line_style,
            show_legend: k == 0,
            width: if full { 2.2 } else { 1.6 },
            opacity: (!full).then_some(0.45),
            hover: hover[range].to_vec(),
            legend_group: name.clone(),
            ..Default::default()
        });
    }
    traces
}

/// Each group as one bar at its centre (mean or median of its runs'
/// values) with the band as error bars, in the group's colour: what a
/// grouped bar chart shows. The hover box names the centre, the range
/// and how many of the group's runs have the value.
pub fn group_bars(field: &str, groups: &[Group], center: Center, band: Band) -> Vec<Trace> {
    let mut traces = Vec::new();
    for g in groups {
        let members: Vec<Member> = g.lines.iter().map(|(x, y)| Member { x, y }).collect();
        let a = aggregate(&members, center, band, 2);
        let (Some(Some(c)), n) = (a.center.first().copied(), a.n.first().copied().unwrap_or(0)) else { continue };
        let (lo, hi) = (a.lo[0].unwrap_or(c), a.hi[0].unwrap_or(c));
        let (min, max) = (a.min[0].unwrap_or(c), a.max[0].unwrap_or(c));
        let runs = if g.runs == 1 { "1 run".to_string() } else { format!("{n} of {} runs", g.runs) };
        let label = format!("{field} = {}", g.label);
        traces.push(Trace {
            name: format!("{label} ({runs})"),
            bar_labels: vec![g.label.clone()],
            y: vec![Some(c)],
            color: color(g.color_index),
            error_plus: if band == Band::None { Vec::new() } else { vec![(hi - c).max(0.0)] },
            error_minus: if band == Band::None { Vec::new() } else { vec![(c - lo).max(0.0)] },
            hover: vec![format!(
                "{label}<br>{} {} [{}, {}] n={n}",
                center.name(),
                format_value(c),
                format_value(min),
                format_value(max)
            )],
            ..Default::default()
        });
    }
    traces
}

/// Stretches of a group's grid where all its `total` runs are present
/// (`true`) or fewer are, each reaching one point into the next so the
/// bands join.
fn segments(n: &[usize], total: usize) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n.len() {
        if i == n.len() || (n[i] >= total) != (n[start] >= total) {
            if n[start] > 0 {
                out.push((start..(i + 1).min(n.len()), n[start] >= total));
            }
            start = i;
        }
    }
    out
}

/// Stretches of a group's grid for its centre line: where all its `total`
/// runs are present (`true`), or fewer are; a faded stretch reaches one
/// point into the solid ones beside it, so the line stays joined and the
/// solid line ends at the last point all runs have.
fn line_segments(n: &[usize], total: usize) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    let full = |i: usize| n[i] >= total;
    for i in 1..=n.len() {
        if i == n.len() || full(i) != full(start) || (n[i] == 0) != (n[start] == 0) {
            if n[start] > 0 {
                let from = if start > 0 && !full(start) && full(start - 1) { start - 1 } else { start };
                let to = if i < n.len() && !full(start) && full(i) { i + 1 } else { i };
                out.push((from..to, full(start)));
            }
            start = i;
        }
    }
    out
}

/// The figure's data as CSV: `series,x,y` per point of each line (a bar
/// chart: `series,label,value`), leaving out band edges and faint raw lines.
pub fn figure_csv(fig: &Figure) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let bars = fig.traces.iter().any(|t| !t.bar_labels.is_empty());
    let mut out = if bars {
        "series,label,value\n".to_string()
    } else {
        format!("series,{},{}\n", field(&fig.x_title), field(&fig.y_title))
    };
    for t in fig.traces.iter().filter(|t| !t.no_hover) {
        let xs: Vec<String> =
            if t.bar_labels.is_empty() { t.x.iter().map(|x| x.to_string()).collect() } else { t.bar_labels.clone() };
        // Merged lines: each point under its own run's name, the gaps
        // between runs left out.
        let names: Vec<Option<&str>> = match t.merged_runs.is_empty() {
            true => vec![Some(t.name.as_str()); xs.len()],
            false => t.merged_names().collect(),
        };
        for ((x, y), name) in xs.iter().zip(&t.y).zip(names) {
            let Some(name) = name else { continue };
            let y = y.map(|v| v.to_string()).unwrap_or_default();
            out.push_str(&format!("{},{},{}\n", field(name), field(x), y));
        }
    }
    out
}

/// What a chart tells its page: the x range the user zoomed to (`None`:
/// zoomed back out), and the x of the point under the mouse.
#[derive(Clone, Copy, Default)]
pub struct ChartEvents {
    pub zoom: Option<Callback<Option<(f64, f64)>>>,
    pub hover: Option<Callback<f64>>,
}

/// A chart placeholder on the server, drawn by plotly.js once hydrated.
/// `on_zoom` hears the x range the user zoomed to (`None`: zoomed back out);
/// `on_hover` the x under the mouse (in the figure's own units).
/// A figure with nothing to draw shows `empty` (a sentence) instead of
/// empty axes.
#[component]
pub fn Chart(
    #[prop(into)] id: String,
    #[prop(into)] figure: Signal<Option<Figure>>,
    #[prop(optional)] on_zoom: Option<Callback<Option<(f64, f64)>>>,
    #[prop(default = None)] on_hover: Option<Callback<f64>>,
    #[prop(optional, into)] empty: Option<String>,
) -> impl IntoView {
    let events = ChartEvents { zoom: on_zoom, hover: on_hover };
    let node = NodeRef::<leptos::html::Div>::new();
    // Built once per change: a derived figure would be built again by each
    // reader (the emptiness check, the drawing), 30-70 ms each at 1,000 runs.
    // Shared, not copied, with the drawing queue.
    let figure = Memo::new(move |_| figure.get().map(std::sync::Arc::new));
    let nothing = Memo::new(move |_| {
        figure.with(|f| f.as_ref().is_some_and(|f| f.traces.iter().all(|t| t.y.iter().all(Option::is_none))))
    });
    // plotly.js loads as soon as a page has a chart, while its data is on the way.
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    Effect::new(move |_| draw::load_plotly());
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    Effect::new(move |_| {
        if let (Some(el), Some(fig)) = (node.get(), figure.get()) {
            if !nothing.get() {
                draw::when_attached(el, fig, events);
            }
        }
    });
    #[cfg(not(all(feature = "hydrate", target_family = "wasm")))]
    let _ = events;
    // Nothing to draw: no points at all, or points whose values are all NaN
    // or infinite (sent as gaps), which is worth saying.
    let empty = Memo::new(move |_| match &empty {
        Some(said) => said.clone(),
        None if figure.with(|f| f.as_ref().is_some_and(|f| f.traces.iter().any(|t| !t.y.is_empty()))) => {
            "Every value logged here is NaN or infinite: nothing to draw.".into()
        }
        None => "No run has logged this yet.".into(),
    });
    let export = {
        let id = id.clone();
        move |format: &'static str| {
            let id = id.clone();
            move |_| {
                #[cfg(all(feature = "hydrate", target_family = "wasm"))]
                match format {
                    "csv" => {
                        if let Some(fig) = figure.get_untracked() {
                            draw::download_text(&format!("{id}.csv"), &figure_csv(&fig));
                        }
                    }
                    image => draw::download_image(&id, image),
                }
                #[cfg(not(all(feature = "hydrate", target_family = "wasm")))]
                let _ = (&id, format);
            }
        }
    };
    view! {
        <div class="chart-export" class:hidden=nothing>
            <button class="link export-png" title="Download the chart as PNG" on:click=export("png")>"PNG"</button>
            <button class="link export-svg" title="Download the chart as SVG" on:click=export("svg")>"SVG"</button>
            <button class="link export-csv" title="Download the chart's data as CSV" on:click=export("csv")>"CSV"</button>
        </div>
        <div class="chart" id=id node_ref=node data-drawn="false" class:hidden=nothing></div>
        <Show when=move || nothing.get()>
            <p class="empty chart-empty">{move || empty.get()}</p>
        </Show>
    }
}

/// The plotly.js the charts are written for (`plotly.js-basic-dist-min`
/// in package.json; the server refuses to build with another), and where
/// mltrack serves it: by version, so browsers keep it for good.
macro_rules! plotly_version {
    () => {
        "4.1.1"
    };
}
pub const PLOTLY_VERSION: &str = plotly_version!();
pub const PLOTLY_FILE: &str = concat!("/vendor/plotly-basic-", plotly_version!(), ".min.js");

/// Loads plotly.js now, ahead of a page's first chart (a page that will
/// draw charts calls it before its data arrives, so that evaluating the
/// script does not delay the first chart).
pub fn load_plotly_early() {
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    draw::load_plotly();
}

/// Runs `then` once `el` comes within about two screens of the view (at
/// once if the browser cannot tell): a view of hundreds of panels asks
/// for and draws only the ones a user scrolls near.
pub fn when_near_view(el: &leptos::web_sys::Element, then: impl FnOnce() + 'static) {
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    draw::when_near_view(el, Box::new(then));
    #[cfg(not(all(feature = "hydrate", target_family = "wasm")))]
    let _ = (el, then);
}

/// Runs `then` once the next chart has been drawn, or after `limit` if no
/// chart is: what a page can show a moment later (the parallel
/// coordinates of 1,000 runs) does not hold up its first chart.
pub fn after_next_chart(then: impl FnOnce() + 'static, limit: std::time::Duration) {
    let once = std::rc::Rc::new(std::cell::Cell::new(Some(Box::new(then) as Box<dyn FnOnce()>)));
    let run = {
        let once = once.clone();
        move || {
            if let Some(f) = once.take() {
                f();
            }
        }
    };
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    draw::on_next_draw(Box::new(run.clone()));
    set_timeout(run, limit);
}

#[cfg(all(feature = "hydrate", target_family = "wasm"))]
mod draw {
    use super::{ChartEvents, Figure};
    use leptos::prelude::*;
    use plotly::common::{DashType, Fill, Line, Marker, Mode};
    use plotly::layout::{Axis, AxisType, Layout, Legend, Margin};
    use plotly::{Plot, Scatter};
    use std::sync::Arc;

    /// Draws `fig` into `el` once plotly.js is loaded and `el` is in the
    /// page. A newer figure for the same chart supersedes one still
    /// waiting (each call numbers the chart's figures in `data-gen`), so a
    /// setting changed while plotly.js loads never loses to the old one.
    pub fn when_attached(el: leptos::web_sys::HtmlDivElement, fig: Arc<Figure>, events: ChartEvents) {
        let generation = el.get_attribute("data-gen").and_then(|g| g.parse::<u64>().ok()).unwrap_or(0) + 1;
        let _ = el.set_attribute("data-gen", &generation.to_string());
        when_ready(el, fig, events, generation.to_string());
    }

    fn when_ready(el: leptos::web_sys::HtmlDivElement, fig: Arc<Figure>, events: ChartEvents, generation: String) {
        if el.get_attribute("data-gen").as_ref() != Some(&generation) {
            // A newer figure is on its way.
        } else if !plotly_loaded() {
            // plotly.js (1.2 MB) loads with the first chart, not with every page.
            load_plotly();
            set_timeout(move || when_ready(el, fig, events, generation), std::time::Duration::from_millis(30));
        } else if el.is_connected() {
            enqueue(Job { el, fig, events });
        } else {
            request_animation_frame(move || when_ready(el, fig, events, generation));
        }
    }

    struct Job {
        el: leptos::web_sys::HtmlDivElement,
        fig: Arc<Figure>,
        events: ChartEvents,
    }

    thread_local! {
        static QUEUE: std::cell::RefCell<std::collections::VecDeque<Job>> = Default::default();
        static BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static AFTER_DRAW: std::cell::RefCell<Vec<Box<dyn FnOnce()>>> = Default::default();
    }

    /// `then` runs after the next chart is drawn (a frame later).
    pub fn on_next_draw(then: Box<dyn FnOnce()>) {
        AFTER_DRAW.with_borrow_mut(|w| w.push(then));
    }

    /// Charts are drawn one at a time, a frame apart: a page of many panels
    /// shows its first ones while the others are still to come, instead of
    /// all at once after every one is done. A newer figure for a chart
    /// replaces one still waiting.
    fn enqueue(job: Job) {
        QUEUE.with_borrow_mut(|q| {
            q.retain(|j| j.el != job.el);
            q.push_back(job);
        });
        if !BUSY.replace(true) {
            pump();
        }
    }

    fn pump() {
        let Some(Job { el, fig, events }) = QUEUE.with_borrow_mut(|q| q.pop_front()) else {
            BUSY.set(false);
            return;
        };
        leptos::task::spawn_local(async move {
            if el.is_connected() {
                // A new x axis or scale starts a new view; new data keeps it.
                let revision = format!(
                    "{}|{}|{}|{}|{}|{:?}",
                    fig.x_title, fig.x_dates, fig.x_log, fig.y_log, fig.ignore_outliers, fig.y_range
                );
                react(&el.id(), &fig, &revision).await;
                let _ = el.set_attribute("data-drawn", "true");
                if let Some(cb) = events.zoom {
                    listen_for_zoom(&el, cb);
                }
                if let Some(cb) = events.hover {
                    listen_for_hover(&el, cb);
                }
                let waiting = AFTER_DRAW.with_borrow_mut(std::mem::take);
                if !waiting.is_empty() {
                    // After the browser has painted the chart.
                    request_animation_frame(move || {
                        set_timeout(move || waiting.into_iter().for_each(|f| f()), std::time::Duration::ZERO)
                    });
                }
            }
            request_animation_frame(pump);
        });
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = Plotly, js_name = react)]
        async fn plotly_react(
            id: &str,
            figure: &js_sys::Object,
        ) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
    }

    /// `Plotly.react` with a `uirevision`: redrawing with new data (live
    /// points, smoothing) under the same revision keeps what the user did
    /// to the chart: zoom, pan, hidden traces.
    async fn react(id: &str, fig: &Figure, revision: &str) {
        let figure = plot(fig).to_js_object();
        set_points(&figure, fig);
        if let Ok(layout) = js_sys::Reflect::get(&figure, &"layout".into()) {
            let _ = js_sys::Reflect::set(&layout, &"uirevision".into(), &revision.into());
            // The hover box lists runs from the highest value down, as
            // their lines lie on the chart (plotly.js 4's `hoversort`,
            // which the plotly crate does not know yet).
            let _ = js_sys::Reflect::set(&layout, &"hoversort".into(), &"value descending".into());
            if fig.docked_hover {
                // Heard anywhere over the plot, and marked by a line across it.
                let _ = js_sys::Reflect::set(&layout, &"hoverdistance".into(), &(-1.0).into());
                if let Ok(x) = js_sys::Reflect::get(&layout, &"xaxis".into()) {
                    for (k, v) in [
                        ("showspikes", wasm_bindgen::JsValue::TRUE),
                        ("spikemode", "across".into()),
                        ("spikesnap", "hovered data".into()),
                        ("spikethickness", 1.0.into()),
                        ("spikedash", "dot".into()),
                        ("spikecolor", "#71717a".into()),
                    ] {
                        let _ = js_sys::Reflect::set(&x, &k.into(), &v);
                    }
                }
            }
            // Log axes label 1, 2 and 5 of each decade (or every few decades),
            // from the span of the drawn values (read only for a log axis).
            let span = |values: &mut dyn Iterator<Item = f64>| {
                values
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
            };
            let lines = || fig.traces.iter().filter(|t| !t.no_hover);
            for (name, log) in [("yaxis", fig.y_log), ("xaxis", fig.x_log)] {
                let Some(axis) = log.then(|| js_sys::Reflect::get(&layout, &name.into()).ok()).flatten() else {
                    continue;
                };
                let (lo, hi) = match name {
                    "yaxis" => span(&mut lines().flat_map(|t| t.y.iter().flatten().copied())),
                    _ => span(&mut lines().flat_map(|t| t.x.iter().copied())),
                };
                if let Some((values, text)) = super::log_ticks(lo, hi) {
                    let values: js_sys::Array = values.into_iter().map(wasm_bindgen::JsValue::from_f64).collect();
                    let text: js_sys::Array = text.into_iter().map(wasm_bindgen::JsValue::from).collect();
                    let _ = js_sys::Reflect::set(&axis, &"tickmode".into(), &"array".into());
                    let _ = js_sys::Reflect::set(&axis, &"tickvals".into(), &values);
                    let _ = js_sys::Reflect::set(&axis, &"ticktext".into(), &text);
                }
            }
        }
        if let Err(e) = plotly_react(id, &figure).await {
            leptos::logging::warn!("plotly could not draw {id}: {e:?}");
        }
    }

    /// Each line's points, copied into the plotly figure as typed arrays
    /// (NaN where a line breaks), and the run names of merged lines: at
    /// 1,000 runs, writing them out as JSON text for plotly to parse again
    /// cost the first chart a third of a second.
    fn set_points(figure: &js_sys::Object, fig: &Figure) {
        let Some(data) = js_sys::Reflect::get(figure, &"data".into()).ok().filter(js_sys::Array::is_array) else {
            return;
        };
        let data = js_sys::Array::from(&data);
        for (i, t) in fig.traces.iter().enumerate() {
            if !t.bar_labels.is_empty() {
                continue;
            }
            let trace = data.get(i as u32);
            let y: Vec<f64> = t.y.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            let _ = js_sys::Reflect::set(&trace, &"x".into(), &js_sys::Float64Array::from(t.x.as_slice()));
            let _ = js_sys::Reflect::set(&trace, &"y".into(), &js_sys::Float64Array::from(y.as_slice()));
            if !t.merged_runs.is_empty() {
                let names = js_sys::Array::new_with_length(t.y.len() as u32);
                let mut at = 0u32;
                for (k, (name, n)) in t.merged_runs.iter().enumerate() {
                    if k > 0 {
                        names.set(at, "".into());
                        at += 1;
                    }
                    names.fill(&name.into(), at, at + *n as u32);
                    at += *n as u32;
                }
                let _ = js_sys::Reflect::set(&trace, &"text".into(), &names);
            }
        }
    }

    fn plotly_loaded() -> bool {
        js_sys::Reflect::has(&leptos::prelude::window(), &"Plotly".into()).unwrap_or(false)
    }

    pub fn load_plotly() {
        let doc = leptos::prelude::document();
        if doc.get_element_by_id("plotly-js").is_some() {
            return;
        }
        if let (Ok(script), Some(body)) = (doc.create_element("script"), doc.body()) {
            let _ = script.set_attribute("id", "plotly-js");
            let _ = script.set_attribute("src", super::PLOTLY_FILE);
            let _ = body.append_child(&script);
        }
    }

    /// Plotly's `plotly_relayout` event on the chart's div, bound once.
    fn listen_for_zoom(el: &leptos::web_sys::HtmlDivElement, cb: Callback<Option<(f64, f64)>>) {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::{JsCast, JsValue};
        if el.get_attribute("data-zoom-bound").is_some() {
            return;
        }
        let Some(on) = js_sys::Reflect::get(el, &"on".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return;
        };
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let get = |k: &str| js_sys::Reflect::get(&ev, &k.into()).ok();
            if get("xaxis.autorange").and_then(|v| v.as_bool()) == Some(true) {
                cb.run(None);
            } else if let (Some(a), Some(b)) =
                (get("xaxis.range[0]").and_then(|v| v.as_f64()), get("xaxis.range[1]").and_then(|v| v.as_f64()))
            {
                cb.run(Some((a, b)));
            } else if let Some(range) = get("xaxis.range").filter(js_sys::Array::is_array) {
                let range = js_sys::Array::from(&range);
                if let (Some(a), Some(b)) = (range.get(0).as_f64(), range.get(1).as_f64()) {
                    cb.run(Some((a, b)));
                }
            }
        });
        let _ = on.call2(el, &"plotly_relayout".into(), handler.as_ref().unchecked_ref());
        // The chart lives as long as the page; so does its handler.
        handler.forget();
        let _ = el.set_attribute("data-zoom-bound", "true");
    }

    /// Plotly's `plotly_hover` event on the chart's div, bound once: the x
    /// the figure gave the point under the mouse (its own number, also on a
    /// date axis, where plotly would hand back a date string).
    fn listen_for_hover(el: &leptos::web_sys::HtmlDivElement, cb: Callback<f64>) {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::{JsCast, JsValue};
        if el.get_attribute("data-hover-bound").is_some() {
            return;
        }
        let Some(on) = js_sys::Reflect::get(el, &"on".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return;
        };
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &k.into()).ok();
            let Some(point) =
                get(&ev, "points").filter(js_sys::Array::is_array).map(|p| js_sys::Array::from(&p).get(0))
            else {
                return;
            };
            let index = get(&point, "pointNumber").and_then(|n| n.as_f64());
            let xs = get(&point, "data").and_then(|d| get(&d, "x"));
            let x = match (index, xs) {
                (Some(i), Some(xs)) => js_sys::Reflect::get_u32(&xs, i as u32).ok().and_then(|x| x.as_f64()),
                _ => None,
            };
            if let Some(x) = x.filter(|x| x.is_finite()) {
                cb.run(x);
            }
        });
        let _ = on.call2(el, &"plotly_hover".into(), handler.as_ref().unchecked_ref());
        handler.forget();
        let _ = el.set_attribute("data-hover-bound", "true");
    }

    /// `Plotly.downloadImage` of the chart: a PNG or SVG file named after it.
    pub fn download_image(id: &str, format: &str) {
        use wasm_bindgen::JsCast;
        let w: wasm_bindgen::JsValue = leptos::prelude::window().into();
        let Some(plotly) = js_sys::Reflect::get(&w, &"Plotly".into()).ok() else { return };
        let Some(download) = js_sys::Reflect::get(&plotly, &"downloadImage".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return;
        };
        let Some(el) = leptos::prelude::document().get_element_by_id(id) else { return };
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"format".into(), &format.into());
        let _ = js_sys::Reflect::set(&options, &"filename".into(), &id.into());
        let _ = download.call2(&plotly, &el, &options);
    }

    /// Saves `text` as a file named `name`, through a link to a data URL.
    pub fn download_text(name: &str, text: &str) {
        use wasm_bindgen::JsCast;
        let doc = leptos::prelude::document();
        let Ok(a) = doc.create_element("a") else { return };
        let href = format!("data:text/csv;charset=utf-8,{}", js_sys::encode_uri_component(text));
        let _ = a.set_attribute("href", &href);
        let _ = a.set_attribute("download", name);
        if let (Some(body), Ok(link)) = (doc.body(), a.dyn_into::<leptos::web_sys::HtmlElement>()) {
            let _ = body.append_child(&link);
            link.click();
            let _ = body.remove_child(&link);
        }
    }

    /// An `IntersectionObserver` (through js_sys: web-sys's feature is not
    /// compiled in) that runs `then` the first time `el` is within 1,600 px
    /// of the view, then lets go of it.
    pub fn when_near_view(el: &leptos::web_sys::Element, then: Box<dyn FnOnce()>) {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::{JsCast, JsValue};
        let w: JsValue = leptos::prelude::window().into();
        let Some(observer_class) = js_sys::Reflect::get(&w, &"IntersectionObserver".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            then();
            return;
        };
        let then = std::cell::Cell::new(Some(then));
        let seen = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |entries: JsValue, observer: JsValue| {
            let near = js_sys::Array::from(&entries).iter().any(|e| {
                js_sys::Reflect::get(&e, &"isIntersecting".into()).ok().and_then(|v| v.as_bool()) == Some(true)
            });
            if near {
                if let Some(f) = then.take() {
                    f();
                }
                if let Some(stop) = js_sys::Reflect::get(&observer, &"disconnect".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                {
                    let _ = stop.call0(&observer);
                }
            }
        });
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"rootMargin".into(), &"1600px 0px".into());
        let observer = js_sys::Reflect::construct(&observer_class, &js_sys::Array::of2(seen.as_ref(), &options)).ok();
        let observe = observer.as_ref().and_then(|o| {
            js_sys::Reflect::get(o, &"observe".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        });
        if let (Some(observer), Some(observe)) = (observer, observe) {
            let _ = observe.call1(&observer, el);
        }
        // Called at most until it lets go; it lives as long as the page.
        seen.forget();
    }

    /// `matchMedia('(prefers-color-scheme: dark)').matches`, through
    /// js_sys (web-sys's MediaQueryList feature is not compiled in).
    fn prefers_dark() -> bool {
        use wasm_bindgen::JsCast;
        let w: wasm_bindgen::JsValue = leptos::prelude::window().into();
        js_sys::Reflect::get(&w, &"matchMedia".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call1(&w, &"(prefers-color-scheme: dark)".into()).ok())
            .and_then(|m| js_sys::Reflect::get(&m, &"matches".into()).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// The legend beside the chart, or under it when its names are long
    /// (groups: `params.optimizer = adam (5 runs)`), so the plot keeps
    /// its width.
    /// Long legend names go below the plot, a row each.
    fn legend_below(fig: &Figure) -> bool {
        fig.traces.iter().any(|t| t.show_legend && t.name.chars().count() > 24)
    }

    fn legend(fig: &Figure, ink: &'static str) -> Legend {
        let legend = Legend::new().font(plotly::common::Font::new().color(ink));
        if legend_below(fig) {
            use plotly::common::{Anchor, Orientation};
            legend.orientation(Orientation::Horizontal).x(0.0).y(-0.3).y_anchor(Anchor::Top)
        } else {
            legend
        }
    }

    fn plot(fig: &Figure) -> Plot {
        let dark = prefers_dark();
        let ink = if dark { "#d4d4d8" } else { "#27272a" };
        let grid = if dark { "#3f3f46" } else { "#e4e4e7" };
        let mut plot = Plot::new();
        for t in &fig.traces {
            if !t.bar_labels.is_empty() {
                let mut bar =
                    plotly::Bar::new(t.bar_labels.clone(), t.y.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                        .name(&t.name)
                        .show_legend(t.show_legend)
                        .marker(Marker::new().color(t.color.clone()));
                if !t.error_plus.is_empty() {
                    use plotly::common::{ErrorData, ErrorType};
                    bar = bar.error_y(
                        ErrorData::new(ErrorType::Data)
                            .symmetric(false)
                            .array(t.error_plus.clone())
                            .array_minus(t.error_minus.clone())
                            .color(ink),
                    );
                }
                if !t.hover.is_empty() {
                    bar = bar.hover_text_array(t.hover.clone()).hover_template("%{hovertext}<extra></extra>");
                }
                plot.add_trace(bar);
                continue;
            }
            let mut line = Line::new().color(t.color.clone()).width(if t.width > 0.0 { t.width } else { 1.5 });
            let styled = [DashType::Solid, DashType::Dot, DashType::DashDot, DashType::LongDash, DashType::LongDashDot];
            if t.line_style > 0 && !t.dash {
                line = line.dash(styled[t.line_style % styled.len()].clone());
            }
            if t.dash {
                line = line.dash(DashType::Dash);
            }
            // The points go in as typed arrays when drawn (`set_points`).
            let mut trace = Scatter::new(Vec::<f64>::new(), Vec::<f64>::new())
                .name(&t.name)
                .show_legend(t.show_legend)
                .mode(if t.markers { Mode::Markers } else { Mode::Lines })
                .line(line)
                .marker(match (t.point_colors.is_empty(), t.end_marks) {
                    (_, true) => Marker::new()
                        .color_array(t.point_colors.clone())
                        .size(12)
                        .symbol(plotly::common::MarkerSymbol::XThinOpen)
                        .line(Line::new().width(2.0)),
                    (true, false) => Marker::new().color(t.color.clone()).size(9),
                    (false, false) => Marker::new().color_array(t.point_colors.clone()).size(9),
                })
                .connect_gaps(false);
            if !t.text.is_empty() {
                // The point's own words only: not the trace's name or raw coordinates again.
                trace = trace.text_array(t.text.clone()).hover_template("%{text}<extra></extra>");
            }
            if !t.hover.is_empty() {
                trace = trace.text_array(t.hover.clone()).hover_template("%{text}");
            }
            if !t.merged_runs.is_empty() && !fig.docked_hover {
                // Each point's run name comes with its points (`set_points`).
                trace = trace.hover_template("%{text}: %{y}");
            }
            if t.no_hover {
                trace = trace.hover_info(plotly::common::HoverInfo::Skip);
            } else if fig.docked_hover {
                // Still heard (`plotly_hover`), not drawn.
                trace = trace.hover_info(plotly::common::HoverInfo::None);
            }
            if !t.legend_group.is_empty() {
                trace = trace.legend_group(&t.legend_group);
            }
            if let Some(o) = t.opacity {
                trace = trace.opacity(o);
            }
            if t.fill_to_previous {
                trace = trace.fill(Fill::ToNextY).fill_color(t.fill_color.clone());
            }
            plot.add_trace(trace);
        }
        let axis = |title: &str, log: bool| {
            let mut a = Axis::new().title(title).grid_color(grid).color(ink).zero_line(false).auto_range(true);
            if log {
                a = a.type_(AxisType::Log);
            }
            a
        };
        let mut x = axis(&fig.x_title, fig.x_log);
        if fig.x_dates {
            x = x.type_(AxisType::Date);
        }
        if !fig.x_ticks.is_empty() {
            x = x
                .tick_values(fig.x_ticks.iter().map(|(at, _)| *at).collect())
                .tick_text(fig.x_ticks.iter().map(|(_, word)| word.clone()).collect());
        }
        let mut y = axis(&fig.y_title, fig.y_log);
        if let Some((low, high)) = fig.y_range {
            let range = if fig.y_log { vec![low.log10(), high.log10()] } else { vec![low, high] };
            y = y.auto_range(false).range(range);
        } else if fig.ignore_outliers {
            let values = fig.traces.iter().filter(|t| !t.no_hover).flat_map(|t| t.y.iter().flatten().copied());
            if let Some((lo, hi)) = super::robust_range(values, fig.y_log) {
                y = y.auto_range(false).range(vec![lo, hi]);
            }
        }
        let layout = Layout::new()
            .x_axis(x)
            .y_axis(y)
            .paper_background_color("rgba(0,0,0,0)")
            .plot_background_color("rgba(0,0,0,0)")
            .margin(Margin::new().left(56).right(16).top(16).bottom(44))
            .legend(legend(fig, ink))
            // Lines: one hover box lists every run at that x, each with its
            // colour; markers and bars: the point under the pointer.
            // (Traces left out of the hover box, such as end marks, do not count.)
            .hover_mode(if fig.docked_hover {
                // The x under the pointer, wherever it is over the plot.
                plotly::layout::HoverMode::X
            } else if !fig.closest_hover
                && fig.traces.iter().filter(|t| !t.no_hover).all(|t| !t.markers && t.bar_labels.is_empty())
            {
                plotly::layout::HoverMode::XUnified
            } else {
                plotly::layout::HoverMode::Closest
            })
            .auto_size(true)
            // A legend below grows the figure instead of squeezing the plot.
            .height(if legend_below(fig) {
                320 + 21 * fig.traces.iter().filter(|t| t.show_legend).count().min(16)
            } else {
                320
            });
        plot.set_layout(layout);
        plot.set_configuration(plotly::Configuration::new().responsive(true).display_logo(false));
        plot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_are_left_out_of_the_y_range() {
        // A loss that starts at 50 and settles near 1, with one NaN.
        let mut values: Vec<f64> = (0..200).map(|i| 1.0 + 1.0 / (i as f64 + 1.0)).collect();
        values[0] = 50.0;
        values[1] = 40.0;
        values[100] = f64::NAN;
        let (lo, hi) = robust_range(values.iter().copied(), false).unwrap();
        assert!(lo > 0.9 && lo < 1.0 && hi < 2.0, "{lo}..{hi}");
        // On a log axis, in log10 units, zeros and negatives left out.
        let logged = values.iter().copied().chain([0.0, -1.0]);
        let (lo, hi) = robust_range(logged, true).unwrap();
        assert!(lo < 0.0 && hi < 0.3, "{lo}..{hi}");
        // Too few values, or none outlying: plotly's own range.
        assert_eq!(robust_range([1.0, 100.0].into_iter(), false), None);
        assert_eq!(robust_range((0..50).map(|_| 3.0), false), None);
    }

    #[test]
    fn many_run_lines_merge_by_look_with_gaps_and_names() {
        let line = |name: &str, color: &str, dash: bool| Trace {
            name: name.into(),
            x: vec![0.0, 1.0],
            y: vec![Some(1.0), Some(0.5)],
            color: color.into(),
            dash,
            show_legend: true,
            ..Default::default()
        };
        let few = vec![line("a", "#000000", false), line("b", "#000000", false)];
        assert_eq!(merge_lines(few.clone(), 2), (few, false));
        let many = vec![
            line("a", "#000000", false),
            line("b", "#111111", false),
            line("c", "#000000", false),
            line("d", "#000000", true),
        ];
        let (merged, did) = merge_lines(many.clone(), 2);
        assert!(did);
        assert_eq!(merged.len(), 3, "one trace per look");
        let black = &merged[0];
        assert_eq!(black.name, "2 runs");
        assert_eq!(black.y, [Some(1.0), Some(0.5), None, Some(1.0), Some(0.5)]);
        assert_eq!(black.x[2], black.x[1], "a gap, at a number");
        assert_eq!(merged, merge_lines(many, 2).0, "a figure equals itself (a memo keeps it)");
        // Exported, each point is under its own run again.
        let csv = figure_csv(&Figure {
            traces: merged.clone(),
            x_title: "step".into(),
            y_title: "loss".into(),
            ..Default::default()
        });
        assert_eq!(csv.lines().next(), Some("series,step,loss"));
        assert_eq!(csv.lines().filter(|l| l.starts_with("a,")).count(), 2, "{csv}");
        assert!(csv.contains("\nc,0,1\n") && csv.contains("\nc,1,0.5\n"), "{csv}");
        assert!(!csv.contains("runs,"), "no merged names: {csv}");
        assert_eq!(csv.lines().count(), 1 + 8, "four runs of two points, no gap rows: {csv}");
        let names: Vec<Option<&str>> = black.merged_names().collect();
        assert_eq!(names, [Some("a"), Some("a"), None, Some("c"), Some("c")], "each point's run, for the hover box");
        assert!(!black.show_legend);
        assert!(merged[2].dash, "a stopped run keeps its dash");
    }

    #[test]
    fn stopped_runs_end_in_a_mark_at_their_last_drawn_point() {
        let line = |dash: bool, y: Vec<Option<f64>>| Trace {
            x: (0..y.len()).map(|i| i as f64).collect(),
            y,
            dash,
            color: if dash { "#CC3311" } else { "#0077BB" }.into(),
            ..Default::default()
        };
        assert_eq!(end_marks(&[line(false, vec![Some(1.0), Some(2.0)])]), None);
        let marks =
            end_marks(&[line(false, vec![Some(1.0)]), line(true, vec![Some(1.0), Some(0.5), None, Some(f64::NAN)])])
                .expect("a mark");
        assert_eq!((marks.x, marks.y, marks.point_colors), (vec![1.0], vec![Some(0.5)], vec!["#CC3311".to_string()]));
        assert!(marks.no_hover && marks.markers && marks.end_marks);
        // A faint raw line under a smoothed one gets none of its own.
        assert_eq!(end_marks(&[Trace { no_hover: true, ..line(true, vec![Some(1.0)]) }]), None);
    }

    #[test]
    fn the_palette_keeps_reds_apart_and_red_last() {
        let reds = ["#CC3311", "#EE3377", "#CC6677", "#FFAABB", "#882255", "#EE8866"];
        assert!(PALETTE[..10].iter().filter(|c| reds.contains(c)).count() <= 1);
        assert_eq!(PALETTE[19], "#CC3311");
        let mut all = PALETTE.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 20);
    }

    #[test]
    fn log_axes_label_one_two_five_or_every_few_decades() {
        assert_eq!(log_dtick(0.01, 3.0), None, "2.5 decades: 1-2-5");
        assert_eq!(log_dtick(1e-3, 10.0), None, "4 decades: still 1-2-5");
        assert_eq!(log_dtick(1e-6, 1e6), Some(2.0), "12 decades: every other one");
        assert_eq!(log_dtick(1e-3, 1e2), Some(1.0));
        assert_eq!(log_dtick(f64::INFINITY, f64::NEG_INFINITY), None, "no positive values");
        let (values, text) = log_ticks(1e-4, 3e-3).unwrap();
        assert_eq!(text, ["0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005"]);
        assert_eq!(values.len(), text.len());
        assert_eq!(log_ticks(0.3, 4.0).unwrap().1, ["0.1", "0.2", "0.5", "1", "2", "5", "10"]);
        assert_eq!(log_ticks(1e-7, 1e5).unwrap().1, ["1e-6", "0.0001", "0.01", "1", "100", "10000"]);
        assert_eq!(log_ticks(0.0, 1.0), None);
    }

    #[test]
    fn downsampling_keeps_spikes_and_gaps() {
        let mut points: Vec<Point> =
            (0..100_000).map(|i| Point { step: i, timestamp: i, value: (i % 7) as f64 * 0.01 }).collect();
        points[54_321].value = 1000.0;
        points[77_777].value = f64::NAN;
        let kept = downsample(&points, 2000);
        assert!(kept.len() <= 2100, "{}", kept.len());
        assert!(kept.iter().any(|p| p.value == 1000.0));
        assert!(kept.iter().any(|p| p.value.is_nan()));
        assert!(kept.windows(2).all(|w| w[0].step < w[1].step));
        assert_eq!(downsample(&points[..10], 2000).len(), 10);
    }

    #[test]
    fn runs_created_together_get_different_colours() {
        let first: Vec<String> = (0..20).map(run_color).collect();
        let distinct: std::collections::HashSet<&String> = first.iter().collect();
        assert_eq!(distinct.len(), 20);
        assert_eq!(run_color(20), run_color(0));
        assert_eq!(run_color(-1), run_color(19));
    }

    #[test]
    fn groups_take_a_colour_per_label_and_a_line_style_per_style_label() {
        let run = |label: &str, style: Option<&str>, has: bool| Grouped {
            label: label.into(),
            style: style.map(String::from),
            line: has.then(|| (vec![0.0], vec![Some(1.0)])),
        };
        let groups = build_groups(
            [
                run("sgd", Some("10"), true),
                run("adam", Some("2"), true),
                run("adam", Some("10"), false),
                run("adam", Some("2"), true),
                run("sgd", Some("2"), true),
            ],
            "params.depth",
        );
        let seen: Vec<(&str, usize, usize, usize, usize)> =
            groups.iter().map(|g| (g.label.as_str(), g.color_index, g.line_style, g.runs, g.lines.len())).collect();
        assert_eq!(
            seen,
            [
                ("adam · params.depth = 2", 0, 0, 2, 2),
                ("adam · params.depth = 10", 0, 1, 1, 0),
                ("sgd · params.depth = 2", 1, 0, 1, 1),
                ("sgd · params.depth = 10", 1, 1, 1, 1),
            ]
        );
        // Without a style key: a group per label, solid.
        let plain = build_groups([run("b", None, true), run("a", None, true)], "");
        assert_eq!(
            plain.iter().map(|g| (g.label.as_str(), g.color_index, g.line_style)).collect::<Vec<_>>(),
            [("a", 0, 0), ("b", 1, 0)]
        );
    }

    #[test]
    fn a_group_band_fades_where_runs_are_missing() {
        let groups = [Group {
            color_index: 0,
            line_style: 0,
            label: "adam".into(),
            lines: vec![
                ((0..4).map(f64::from).collect(), vec![Some(4.0), Some(3.0), Some(2.0), Some(1.0)]),
                ((0..2).map(f64::from).collect(), vec![Some(8.0), Some(7.0)]),
            ],
            runs: 3,
        }];
        let traces = group_traces("params.optimizer", &groups, Center::Mean, Band::MinMax);
        // Two band pairs (all present, then one left) and the centre line,
        // solid where both runs are, faded where one is left.
        assert_eq!(traces.len(), 6);
        assert_eq!(traces[1].fill_color, "#0077BB40");
        assert_eq!(traces[3].fill_color, "#0077BB18");
        assert_eq!((traces[0].x.clone(), traces[2].x.clone()), (vec![0.0, 1.0, 2.0], vec![2.0, 3.0]));
        let (line, rest) = (&traces[4], &traces[5]);
        assert_eq!(line.name, "params.optimizer = adam (2 of 3 runs)");
        assert_eq!(line.hover[0], "mean 6 [4, 8] n=2");
        assert_eq!((line.opacity, line.show_legend, line.x.clone()), (None, true, vec![0.0, 1.0]));
        assert_eq!((rest.opacity, rest.show_legend, rest.x.clone()), (Some(0.45), false, vec![1.0, 2.0, 3.0]));
        assert_eq!(rest.hover[2], "mean 1 [1, 1] n=1");
        // A run that starts late: faded first, reaching into the solid line.
        assert_eq!(line_segments(&[1, 1, 2, 2, 0, 2], 2), [(0..3, false), (2..4, true), (5..6, true)]);
        assert_eq!(rest.legend_group, line.legend_group);
        assert!(traces[..4].iter().all(|t| t.no_hover && !t.show_legend));
    }

    #[test]
    fn grouped_bars_stand_at_the_centre_with_the_band_as_error_bars() {
        let run = |label: &str, v: Option<f64>| Grouped {
            label: label.into(),
            style: None,
            line: v.map(|v| (vec![0.0], vec![Some(v)])),
        };
        let groups = build_groups(
            [run("adam", Some(0.9)), run("adam", Some(0.8)), run("adam", None), run("sgd", Some(0.5))],
            "",
        );
        let bars = group_bars("params.optimizer", &groups, Center::Mean, Band::MinMax);
        assert_eq!(bars.len(), 2);
        assert_eq!(
            (bars[0].bar_labels.clone(), bars[0].name.clone()),
            (vec!["adam".to_string()], "params.optimizer = adam (2 of 3 runs)".to_string())
        );
        assert!((bars[0].y[0].unwrap() - 0.85).abs() < 1e-9);
        assert!((bars[0].error_plus[0] - 0.05).abs() < 1e-9 && (bars[0].error_minus[0] - 0.05).abs() < 1e-9);
        assert_eq!(bars[0].hover[0], "params.optimizer = adam<br>mean 0.85 [0.8, 0.9] n=2");
        assert_eq!((bars[1].error_plus.clone(), bars[1].color.clone()), (vec![0.0], color(1)));
        // No band: no error bars; a group none of whose runs has the value: no bar.
        let none =
            group_bars("f", &build_groups([run("a", Some(1.0)), run("b", None)], ""), Center::Median, Band::None);
        assert_eq!(none.len(), 1);
        assert!(none[0].error_plus.is_empty());
    }

    #[test]
    fn scatters_name_words_on_the_axis_spread_stacked_points_and_keep_a_legend() {
        let p = |run: &str, x: &str, y: f64| ScatterPoint {
            run: run.into(),
            x: x.into(),
            y,
            series: run.into(),
            color: format!("#{run}"),
            more: None,
        };
        let fig = scatter(
            &[p("a", "sgd", 1.0), p("b", "adam", 2.0), p("c", "adam", 3.0), p("d", "adam", 4.0)],
            "params.opt",
            "m",
        );
        assert_eq!(fig.x_ticks, vec![(0.0, "adam".to_string()), (1.0, "sgd".to_string())]);
        let xs: Vec<f64> = fig.traces.iter().map(|t| t.x[0]).collect();
        assert_eq!(xs, vec![1.0, 0.0, 0.05, -0.05]);
        assert_eq!(fig.traces.len(), 4);
        assert!(fig.traces.iter().all(|t| t.show_legend));
        assert_eq!(fig.traces[1].text[0], "b<br>params.opt = adam<br>m = 2");
        // Numbers spanning decades: a log axis, stacked points a little apart on it.
        let fig = scatter(&[p("a", "0.001", 1.0), p("b", "0.1", 2.0), p("c", "0.1", 3.0)], "params.lr", "m");
        assert!(fig.x_log && fig.x_ticks.is_empty());
        assert!(fig.traces[2].x[0] > 0.1 && fig.traces[2].x[0] < 0.11);
        // Many legend entries: one trace, each point in its colour, no legend.
        let many: Vec<ScatterPoint> = (0..30).map(|i| p(&i.to_string(), &i.to_string(), 1.0)).collect();
        let fig = scatter(&many, "x", "y");
        assert_eq!((fig.traces.len(), fig.traces[0].point_colors.len(), fig.traces[0].show_legend), (1, 30, false));
    }

    #[test]
    fn csv_has_every_line_point_but_no_band_edges() {
        let fig = Figure {
            x_title: "step".into(),
            y_title: "val_loss".into(),
            traces: vec![
                Trace { name: "band".into(), x: vec![0.0], y: vec![Some(9.0)], no_hover: true, ..Default::default() },
                Trace { name: "run, \"a\"".into(), x: vec![0.0, 1.0], y: vec![Some(0.5), None], ..Default::default() },
            ],
            ..Default::default()
        };
        assert_eq!(figure_csv(&fig), "series,step,val_loss\n\"run, \"\"a\"\"\",0,0.5\n\"run, \"\"a\"\"\",1,\n");
        let bars = Figure {
            traces: vec![Trace {
                name: "r1".into(),
                bar_labels: vec!["r1".into()],
                y: vec![Some(0.9)],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(figure_csv(&bars), "series,label,value\nr1,r1,0.9\n");
    }

    #[test]
    fn smoothing_debiases_and_keeps_gaps() {
        let s = smooth(&[Some(1.0), None, Some(1.0)], 0.9);
        assert!((s[0].unwrap() - 1.0).abs() < 1e-9 && s[1].is_none() && (s[2].unwrap() - 1.0).abs() < 1e-9);
    }
}
