//! Groups of runs drawn as one line: the mean or median of the group's
//! runs at each x with a band (min–max, ±std, ±standard error), counted
//! only over the runs present there, so a run that ends early or has a gap
//! drops out of `n` instead of dragging the line to a stale value.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Center {
    #[default]
    Mean,
    Median,
}

impl Center {
    pub fn parse(s: &str) -> Self {
        if s == "median" {
            Center::Median
        } else {
            Center::Mean
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Center::Mean => "mean",
            Center::Median => "median",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Band {
    #[default]
    MinMax,
    Std,
    Sem,
    /// The middle half of the runs: 25th to 75th percentile.
    Iqr,
    None,
}

impl Band {
    pub fn parse(s: &str) -> Self {
        match s {
            "std" => Band::Std,
            "sem" => Band::Sem,
            "iqr" => Band::Iqr,
            "none" => Band::None,
            _ => Band::MinMax,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Band::MinMax => "minmax",
            Band::Std => "std",
            Band::Sem => "sem",
            Band::Iqr => "iqr",
            Band::None => "none",
        }
    }
}

/// How a chart groups its runs (`?group=params.optimizer&agg=median&band=std`):
/// an empty `field` draws every run on its own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grouping {
    pub field: String,
    pub center: Center,
    pub band: Band,
    /// A second key whose values pick line styles (`?style=`).
    pub style: String,
}

impl Grouping {
    pub fn from_query(field: Option<String>, center: Option<String>, band: Option<String>) -> Self {
        Grouping {
            field: field.unwrap_or_default(),
            center: Center::parse(center.as_deref().unwrap_or_default()),
            band: Band::parse(band.as_deref().unwrap_or_default()),
            style: String::new(),
        }
    }

    /// With line styles by `style` (empty: none).
    pub fn styled(self, style: Option<String>) -> Self {
        Grouping { style: style.unwrap_or_default(), ..self }
    }

    /// As a dashboard stores it.
    pub fn from_line_grouping(g: tracking::dashboards::LineGrouping) -> Self {
        Grouping::from_query(Some(g.by), Some(g.center), Some(g.band)).styled(Some(g.style))
    }

    /// As a dashboard line panel stores it (none when not grouped).
    pub fn line_grouping(&self) -> Option<tracking::dashboards::LineGrouping> {
        (!self.field.is_empty() || !self.style.is_empty()).then(|| tracking::dashboards::LineGrouping {
            by: self.field.clone(),
            center: self.center.name().into(),
            band: self.band.name().into(),
            style: self.style.clone(),
        })
    }
}

/// One run's line: x values and the values at them (`None` or a
/// non-finite value is a gap).
pub struct Member<'a> {
    pub x: &'a [f64],
    pub y: &'a [Option<f64>],
}

/// A group's line at each x of its grid.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Aggregate {
    pub x: Vec<f64>,
    pub center: Vec<Option<f64>>,
    /// The band's lower and upper edges.
    pub lo: Vec<Option<f64>>,
    pub hi: Vec<Option<f64>>,
    pub min: Vec<Option<f64>>,
    pub max: Vec<Option<f64>>,
    /// How many runs have a value at this x.
    pub n: Vec<usize>,
}

/// The group's statistics on a common grid: every x some run logged, or
/// `max_points` evenly spaced x values when there are more. A run counts
/// at a grid x between two of its consecutive finite points (its value
/// interpolated linearly, exact where it logged that x), never beyond its
/// first or last point nor across a gap.
pub fn aggregate(members: &[Member], center: Center, band: Band, max_points: usize) -> Aggregate {
    let lines: Vec<Vec<(f64, Option<f64>)>> = members.iter().map(line_of).collect();
    let grid = grid_of(&lines, max_points.max(2));
    let mut out = Aggregate::default();
    let mut values = Vec::with_capacity(lines.len());
    for &x in &grid {
        values.clear();
        values.extend(lines.iter().filter_map(|l| value_at(l, x)));
        out.x.push(x);
        out.n.push(values.len());
        if values.is_empty() {
            for v in [&mut out.center, &mut out.lo, &mut out.hi, &mut out.min, &mut out.max] {
                v.push(None);
            }
            continue;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let mid = match center {
            Center::Mean => mean,
            Center::Median => median(&values),
        };
        let (min, max) = (values[0], values[values.len() - 1]);
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let (lo, hi) = match band {
            Band::MinMax => (Some(min), Some(max)),
            Band::Std => (Some(mid - std), Some(mid + std)),
            Band::Sem => (Some(mid - std / n.sqrt()), Some(mid + std / n.sqrt())),
            Band::Iqr => (Some(quantile(&values, 0.25)), Some(quantile(&values, 0.75))),
            Band::None => (None, None),
        };
        out.center.push(Some(mid));
        out.lo.push(lo);
        out.hi.push(hi);
        out.min.push(Some(min));
        out.max.push(Some(max));
    }
    out
}

/// The `q` quantile of sorted values, between neighbours where it falls
/// between two (as numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (i, frac) = (at.floor() as usize, at.fract());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * frac,
        None => sorted[i],
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// A member's points in x order, non-finite values as gaps, points with no
/// usable x left out.
fn line_of(m: &Member) -> Vec<(f64, Option<f64>)> {
    let mut line: Vec<(f64, Option<f64>)> =
        m.x.iter().zip(m.y).filter(|(x, _)| x.is_finite()).map(|(x, y)| (*x, y.filter(|v| v.is_finite()))).collect();
    if !line.windows(2).all(|w| w[0].0 <= w[1].0) {
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    line
}

fn grid_of(lines: &[Vec<(f64, Option<f64>)>], max_points: usize) -> Vec<f64> {
    let mut xs: Vec<f64> = lines.iter().flatten().filter(|(_, y)| y.is_some()).map(|(x, _)| *x).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() <= max_points {
        return xs;
    }
    let (first, last) = (xs[0], xs[xs.len() - 1]);
    let step = (last - first) / (max_points - 1) as f64;
    (0..max_points).map(|i| if i + 1 == max_points { last } else { first + step * i as f64 }).collect()
}

/// A line's value at `x`: the point there, or between its two neighbours
/// when both are values; `None` outside the line or inside a gap.
fn value_at(line: &[(f64, Option<f64>)], x: f64) -> Option<f64> {
    let i = line.partition_point(|(px, _)| *px < x);
    match line.get(i) {
        Some((px, y)) if *px == x => {
            // The last of several points at the same x is the value.
            let same = line[i..].iter().take_while(|(p, _)| *p == x).last().map(|(_, y)| *y);
            same.unwrap_or(*y)
        }
        Some((px, Some(b))) if i > 0 => {
            let (qx, a) = line[i - 1];
            let a = a?;
            Some(a + (b - a) * (x - qx) / (px - qx))
        }
        _ => None,
    }
}

/// Group labels in a natural order: numbers by value (so `lr = 0.01`
/// comes before `lr = 0.1` and `batch = 32` before `batch = 128`), then
/// words, with runs missing the key last.
pub fn compare_labels(a: &str, b: &str) -> Ordering {
    let rank = |s: &str| match s.parse::<f64>() {
        Ok(v) if v.is_finite() => (0, v),
        _ if s == NONE_LABEL => (2, 0.0),
        _ => (1, 0.0),
    };
    let (ra, va) = rank(a);
    let (rb, vb) = rank(b);
    ra.cmp(&rb).then(va.total_cmp(&vb)).then_with(|| a.cmp(b))
}

/// The label of runs that lack the grouping key.
pub const NONE_LABEL: &str = "(none)";

#[cfg(test)]
mod tests {
    use super::*;

    fn of(x: &[f64], y: &[Option<f64>]) -> (Vec<f64>, Vec<Option<f64>>) {
        (x.to_vec(), y.to_vec())
    }

    fn run(lines: &[(Vec<f64>, Vec<Option<f64>>)], center: Center, band: Band) -> Aggregate {
        let members: Vec<Member> = lines.iter().map(|(x, y)| Member { x, y }).collect();
        aggregate(&members, center, band, 1000)
    }

    #[test]
    fn mean_median_and_min_max_over_shared_steps() {
        let lines = [
            of(&[0.0, 1.0], &[Some(1.0), Some(2.0)]),
            of(&[0.0, 1.0], &[Some(2.0), Some(4.0)]),
            of(&[0.0, 1.0], &[Some(6.0), Some(9.0)]),
        ];
        let a = run(&lines, Center::Mean, Band::MinMax);
        assert_eq!(a.x, vec![0.0, 1.0]);
        assert_eq!(a.center, vec![Some(3.0), Some(5.0)]);
        assert_eq!((a.lo[0], a.hi[0]), (Some(1.0), Some(6.0)));
        assert_eq!(a.n, vec![3, 3]);
        let m = run(&lines, Center::Median, Band::MinMax);
        assert_eq!(m.center, vec![Some(2.0), Some(4.0)]);
        let even = run(&lines[..2], Center::Median, Band::None);
        assert_eq!(even.center, vec![Some(1.5), Some(3.0)]);
        assert_eq!(even.lo, vec![None, None]);
    }

    #[test]
    fn a_run_that_ends_early_leaves_the_count_not_a_stale_value() {
        let lines = [
            of(&[0.0, 1.0, 2.0, 3.0], &[Some(4.0), Some(3.0), Some(2.0), Some(1.0)]),
            of(&[0.0, 1.0], &[Some(8.0), Some(7.0)]),
        ];
        let a = run(&lines, Center::Mean, Band::MinMax);
        assert_eq!(a.n, vec![2, 2, 1, 1]);
        assert_eq!(a.center, vec![Some(6.0), Some(5.0), Some(2.0), Some(1.0)]);
        assert_eq!(a.min[3], Some(1.0));
    }

    #[test]
    fn gaps_and_non_finite_values_are_left_out() {
        let lines = [
            of(&[0.0, 1.0, 2.0], &[Some(1.0), None, Some(3.0)]),
            of(&[0.0, 1.0, 2.0], &[Some(3.0), Some(f64::NAN), Some(f64::INFINITY)]),
            of(&[0.0, 1.0, 2.0], &[Some(5.0), Some(5.0), Some(5.0)]),
        ];
        let a = run(&lines, Center::Mean, Band::MinMax);
        assert_eq!(a.n, vec![3, 1, 2]);
        assert_eq!(a.center, vec![Some(3.0), Some(5.0), Some(4.0)]);
        assert!(a.center.iter().flatten().all(|v| v.is_finite()));
    }

    #[test]
    fn runs_logged_at_different_steps_meet_by_interpolation() {
        let lines =
            [of(&[0.0, 2.0, 4.0], &[Some(0.0), Some(2.0), Some(4.0)]), of(&[1.0, 3.0], &[Some(10.0), Some(10.0)])];
        let a = run(&lines, Center::Mean, Band::MinMax);
        assert_eq!(a.x, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(a.n, vec![1, 2, 2, 2, 1]);
        assert_eq!(a.center[1], Some(5.5));
        assert_eq!(a.center[2], Some(6.0));
    }

    #[test]
    fn std_and_standard_error_bands() {
        let lines = [of(&[0.0], &[Some(1.0)]), of(&[0.0], &[Some(3.0)])];
        let std = run(&lines, Center::Mean, Band::Std);
        let s = 2f64.sqrt();
        assert!((std.hi[0].unwrap() - (2.0 + s)).abs() < 1e-12);
        assert!((std.lo[0].unwrap() - (2.0 - s)).abs() < 1e-12);
        let sem = run(&lines, Center::Mean, Band::Sem);
        assert!((sem.hi[0].unwrap() - 3.0).abs() < 1e-12);
        let four =
            [of(&[0.0], &[Some(1.0)]), of(&[0.0], &[Some(2.0)]), of(&[0.0], &[Some(3.0)]), of(&[0.0], &[Some(9.0)])];
        let iqr = run(&four, Center::Median, Band::Iqr);
        assert_eq!((iqr.lo[0], iqr.center[0], iqr.hi[0]), (Some(1.75), Some(2.5), Some(4.5)));
        let one = run(&lines[..1], Center::Mean, Band::Std);
        assert_eq!((one.lo[0], one.hi[0]), (Some(1.0), Some(1.0)));
    }

    #[test]
    fn long_lines_meet_on_a_bounded_grid() {
        let x: Vec<f64> = (0..10_000).map(f64::from).collect();
        let y: Vec<Option<f64>> = x.iter().map(|v| Some(v * 2.0)).collect();
        let shifted: Vec<f64> = x.iter().map(|v| v + 0.5).collect();
        let members = [Member { x: &x, y: &y }, Member { x: &shifted, y: &y }];
        let a = aggregate(&members, Center::Mean, Band::MinMax, 500);
        assert_eq!(a.x.len(), 500);
        assert_eq!((a.x[0], a.x[499]), (0.0, 9999.5));
        assert_eq!(a.n[0], 1);
        assert_eq!(a.n[250], 2);
    }

    #[test]
    fn numeric_labels_sort_as_numbers() {
        let mut labels = vec!["128", NONE_LABEL, "adam", "32", "1e-3", "0.01"];
        labels.sort_by(|a, b| compare_labels(a, b));
        assert_eq!(labels, vec!["1e-3", "0.01", "32", "128", "adam", NONE_LABEL]);
    }
}
