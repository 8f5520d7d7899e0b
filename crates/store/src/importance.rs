//! Which parameters drive a metric over a sweep: for each param that varies,
//! its importance (the share of the metric's variance a random forest's
//! splits on it remove, as W&B's parameter-importance panel reports) and its
//! correlation with the metric (Pearson, signed; numbers only).
//!
//! The forest is small and histogram-based so that 10,000 runs take
//! milliseconds: each param's values fall in at most 32 bins (categories
//! are ordered by their mean metric, so a split can separate the good ones
//! from the bad), each tree grows on a bootstrap sample of at most 1,000
//! runs, trying a third of the params at each node. The random numbers come
//! from a fixed seed: the same runs give the same answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

const TREES: usize = 60;
const SAMPLE: usize = 1000;
const MAX_DEPTH: usize = 8;
const MIN_LEAF: usize = 3;
const BINS: usize = 32;

/// One param's part in a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamImportance {
    /// The param's key.
    pub param: String,
    /// Its share of the variance the forest explains (all params sum to 1).
    pub importance: f64,
    /// Pearson's r between the param and the metric, over the runs that
    /// have both (none for words, or a param that is constant there).
    pub correlation: Option<f64>,
    /// Its values are words (or numbers mixed with words).
    pub categorical: bool,
}

/// Each varying param's importance for the metric, most important first.
/// `runs` are each run's params and its value of the metric (finite).
pub fn param_importance(runs: &[(BTreeMap<String, String>, f64)]) -> Vec<ParamImportance> {
    let runs: Vec<&(BTreeMap<String, String>, f64)> = runs.iter().filter(|(_, y)| y.is_finite()).collect();
    if runs.len() < 3 {
        return Vec::new();
    }
    let y: Vec<f64> = runs.iter().map(|(_, y)| *y).collect();
    let keys: BTreeSet<&String> = runs.iter().flat_map(|(p, _)| p.keys()).collect();
    let mut features = Vec::new();
    for key in keys {
        let values: Vec<Option<&str>> = runs.iter().map(|(p, _)| p.get(key).map(String::as_str)).collect();
        let distinct: BTreeSet<&str> = values.iter().flatten().copied().collect();
        // As on the parallel coordinates: a param must take two values
        // (one value on some runs and none on others is the same setting).
        if distinct.len() < 2 {
            continue;
        }
        features.push(Feature::new(key, &values, &y));
    }
    if features.is_empty() {
        return Vec::new();
    }
    let gains = forest(&features, &y);
    let total: f64 = gains.iter().sum();
    let mut out: Vec<ParamImportance> = features
        .iter()
        .zip(&gains)
        .map(|(f, g)| ParamImportance {
            param: f.key.clone(),
            importance: if total > 0.0 { g / total } else { 0.0 },
            correlation: f.correlation,
            categorical: f.categorical,
        })
        .collect();
    out.sort_by(|a, b| b.importance.total_cmp(&a.importance).then_with(|| a.param.cmp(&b.param)));
    out
}

/// [`param_importance`], remembered for the last answers by their input:
/// a chart view asks again at each reload of the same runs.
pub fn cached_param_importance(metric: &str, runs: &[(BTreeMap<String, String>, f64)]) -> Vec<ParamImportance> {
    static CACHE: Mutex<Vec<(u64, Vec<ParamImportance>)>> = Mutex::new(Vec::new());
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    metric.hash(&mut h);
    for (params, y) in runs {
        params.hash(&mut h);
        y.to_bits().hash(&mut h);
    }
    let key = h.finish();
    if let Some((_, hit)) = CACHE.lock().map(|c| c.iter().find(|(k, _)| *k == key).cloned()).ok().flatten() {
        return hit;
    }
    let answer = param_importance(runs);
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(k, _)| *k != key);
        cache.push((key, answer.clone()));
        if cache.len() > 32 {
            cache.remove(0);
        }
    }
    answer
}

/// A param as the forest sees it: each run's bin.
struct Feature {
    key: String,
    bins: Vec<u8>,
    correlation: Option<f64>,
    categorical: bool,
}

impl Feature {
    fn new(key: &str, values: &[Option<&str>], y: &[f64]) -> Feature {
        let numbers: Option<Vec<Option<f64>>> = values
            .iter()
            .map(|v| match v {
                None => Some(None),
                Some(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(Some),
            })
            .collect();
        match numbers {
            Some(nums) => {
                let present: Vec<(f64, f64)> = nums.iter().zip(y).filter_map(|(x, y)| Some(((*x)?, *y))).collect();
                // Runs without the param sit in a bin of their own, below the others.
                let mut sorted: Vec<f64> = present.iter().map(|(x, _)| *x).collect();
                sorted.sort_by(f64::total_cmp);
                sorted.dedup();
                let edges = quantile_edges(&sorted, BINS - 1);
                let bins = nums
                    .iter()
                    .map(|x| match x {
                        None => 0,
                        Some(x) => 1 + edges.partition_point(|e| e < x) as u8,
                    })
                    .collect();
                Feature { key: key.into(), bins, correlation: pearson(&present), categorical: false }
            }
            None => {
                // Categories ordered by their mean metric (missing is one of them).
                let mut sums: HashMap<Option<&str>, (f64, usize)> = HashMap::new();
                for (v, y) in values.iter().zip(y) {
                    let e = sums.entry(*v).or_default();
                    e.0 += y;
                    e.1 += 1;
                }
                let mut order: Vec<(Option<&str>, f64)> =
                    sums.into_iter().map(|(k, (s, n))| (k, s / n as f64)).collect();
                order.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                let rank: HashMap<Option<&str>, usize> = order.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
                let groups = order.len().min(BINS);
                let bins = values.iter().map(|v| (rank[v] * groups / order.len()) as u8).collect();
                Feature { key: key.into(), bins, correlation: None, categorical: true }
            }
        }
    }
}

/// At most `n` cut points splitting sorted distinct values into bins of
/// about equal counts (every value its own bin when there are few).
fn quantile_edges(sorted: &[f64], n: usize) -> Vec<f64> {
    if sorted.len() <= n + 1 {
        return sorted.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    }
    let mut edges: Vec<f64> = (1..=n).map(|i| sorted[i * (sorted.len() - 1) / (n + 1)]).collect();
    edges.dedup();
    edges
}

fn pearson(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in points {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// xorshift64*: small, fast, and the same sequence every time.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// Each feature's total variance reduction over the forest's splits.
fn forest(features: &[Feature], y: &[f64]) -> Vec<f64> {
    let mut gains = vec![0.0; features.len()];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let n = y.len();
    let tries = features.len().div_ceil(3).max(1);
    for _ in 0..TREES {
        let mut rows: Vec<usize> = (0..SAMPLE.min(n)).map(|_| rng.below(n)).collect();
        grow(features, y, &mut rows, 0, tries, &mut rng, &mut gains);
    }
    gains
}

/// Splits `rows` at the best of `tries` random features, recording the
/// variance that split removes, then grows each side.
fn grow(
    features: &[Feature],
    y: &[f64],
    rows: &mut [usize],
    depth: usize,
    tries: usize,
    rng: &mut Rng,
    gains: &mut [f64],
) {
    if depth >= MAX_DEPTH || rows.len() < 2 * MIN_LEAF {
        return;
    }
    let (total_sum, count) = (rows.iter().map(|&r| y[r]).sum::<f64>(), rows.len() as f64);
    let parent = total_sum * total_sum / count;
    // (feature, threshold bin, gain): rows with bin <= threshold go left.
    let mut best: Option<(usize, u8, f64)> = None;
    let mut tried = BTreeSet::new();
    while tried.len() < tries.min(features.len()) {
        tried.insert(rng.below(features.len()));
    }
    for &f in &tried {
        let mut sum = [0.0f64; BINS + 1];
        let mut cnt = [0usize; BINS + 1];
        for &r in rows.iter() {
            let b = features[f].bins[r] as usize;
            sum[b] += y[r];
            cnt[b] += 1;
        }
        let (mut left_sum, mut left_n) = (0.0, 0usize);
        for b in 0..BINS {
            left_sum += sum[b];
            left_n += cnt[b];
            let right_n = rows.len() - left_n;
            if left_n < MIN_LEAF || right_n < MIN_LEAF {
                continue;
            }
            let right_sum = total_sum - left_sum;
            let gain = left_sum * left_sum / left_n as f64 + right_sum * right_sum / right_n as f64 - parent;
            if gain > best.map_or(1e-12, |b| b.2) {
                best = Some((f, b as u8, gain));
            }
        }
    }
    let Some((f, threshold, gain)) = best else { return };
    gains[f] += gain;
    let mut split = 0;
    for i in 0..rows.len() {
        if features[f].bins[rows[i]] <= threshold {
            rows.swap(i, split);
            split += 1;
        }
    }
    let (left, right) = rows.split_at_mut(split);
    grow(features, y, left, depth + 1, tries, rng, gains);
    grow(features, y, right, depth + 1, tries, rng, gains);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sweep where lr drives the metric (lower lr, lower loss), the
    /// optimizer matters a little, and the seed not at all.
    fn sweep(n: usize) -> Vec<(BTreeMap<String, String>, f64)> {
        let mut rng = Rng(7);
        (0..n)
            .map(|i| {
                let lr = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2][rng.below(5)];
                let opt = ["adam", "sgd", "lion"][rng.below(3)];
                let seed = rng.below(1000);
                let noise = rng.below(1000) as f64 / 1e5;
                let loss = 0.1 + 10.0 * lr + if opt == "sgd" { 0.005 } else { 0.0 } + noise;
                let mut p = BTreeMap::new();
                p.insert("lr".to_string(), lr.to_string());
                p.insert("optimizer".to_string(), opt.to_string());
                p.insert("seed".to_string(), seed.to_string());
                // A param only some runs have, always the same.
                if i % 2 == 0 {
                    p.insert("warmup".to_string(), "100".to_string());
                }
                // One some runs have, with values that vary.
                if i % 3 == 0 {
                    p.insert("layers".to_string(), (i % 4).to_string());
                }
                (p, loss)
            })
            .collect()
    }

    #[test]
    fn the_param_that_drives_the_metric_ranks_first_with_its_sign() {
        let got = param_importance(&sweep(300));
        let names: Vec<&str> = got.iter().map(|p| p.param.as_str()).collect();
        assert_eq!(names[0], "lr", "{got:?}");
        assert!(got[0].importance > 0.8, "{got:?}");
        let lr = &got[0];
        assert!(lr.correlation.is_some_and(|r| r > 0.9), "higher lr, higher loss: {lr:?}");
        let opt = got.iter().find(|p| p.param == "optimizer").unwrap();
        assert!(opt.categorical && opt.correlation.is_none());
        let seed = got.iter().find(|p| p.param == "seed").unwrap();
        assert!(seed.importance < opt.importance + 0.05 && seed.importance < 0.1, "{got:?}");
        assert!((got.iter().map(|p| p.importance).sum::<f64>() - 1.0).abs() < 1e-9);
        // A param on some runs only counts when its values vary.
        assert!(!got.iter().any(|p| p.param == "warmup"));
        assert!(got.iter().any(|p| p.param == "layers"));
        // The same runs, the same answer.
        assert_eq!(param_importance(&sweep(300)), got);
        assert_eq!(cached_param_importance("loss", &sweep(300)), got);
    }

    #[test]
    fn too_few_runs_or_nothing_that_varies_is_no_answer() {
        assert!(param_importance(&sweep(2)).is_empty());
        let same: Vec<_> =
            (0..10).map(|i| (BTreeMap::from([("lr".to_string(), "0.1".to_string())]), i as f64)).collect();
        assert!(param_importance(&same).is_empty());
    }

    #[test]
    fn ten_thousand_runs() {
        let runs = sweep(10_000);
        let start = std::time::Instant::now();
        let got = param_importance(&runs);
        // Measured, not asserted (tests run in debug builds on a busy
        // machine): `cargo test --release -p store importance -- --nocapture`.
        println!("param importance over 10,000 runs: {:?}", start.elapsed());
        assert_eq!(got[0].param, "lr");
    }
}
