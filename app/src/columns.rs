//! What a runs-table column shows about its numbers: one number of
//! decimals for the whole column (so the points line up) and its best
//! value (lowest for losses and errors, highest otherwise).

/// Whether lower is better for a metric key: losses, errors, distances,
/// perplexity and times.
pub fn lower_is_better(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["loss", "err", "mse", "mae", "rmse", "perplexity", "ppl", "wer", "cer", "time", "latency", "dist", "nll"]
        .iter()
        .any(|w| k.contains(w))
}

/// Decimals that show every value of the column as `format_value` would
/// (at most 6), or `None` when some value needs scientific notation.
pub fn decimals(values: &[f64]) -> Option<usize> {
    let mut most = 0;
    for v in values.iter().filter(|v| v.is_finite() && **v != 0.0) {
        let mag = v.abs();
        if !(1e-4..1e7).contains(&mag) {
            return None;
        }
        let digits = (4 - mag.log10().floor() as i32).clamp(0, 8) as usize;
        let text = format!("{v:.digits$}");
        let shown = text.split_once('.').map_or(0, |(_, d)| d.trim_end_matches('0').len());
        most = most.max(shown);
    }
    Some(most.min(6))
}

/// A column's numbers: decimals and the best value, when it has numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnStats {
    pub decimals: Option<usize>,
    pub best: Option<f64>,
}

pub fn stats(key: &str, values: &[f64], is_metric: bool) -> ColumnStats {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let best = (is_metric && finite.len() > 1).then(|| {
        if lower_is_better(key) {
            finite.iter().copied().fold(f64::INFINITY, f64::min)
        } else {
            finite.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        }
    });
    ColumnStats { decimals: decimals(&finite), best }
}

/// `v` with the column's decimals.
pub fn format_in_column(v: f64, decimals: Option<usize>) -> String {
    match decimals {
        Some(d) if v.is_finite() => format!("{v:.d$}"),
        _ => crate::format::format_value(v),
    }
}

/// A param, metric (latest value) or tag of a run by `kind.key`.
pub fn value_of(run: &tracking::Run, field: &str) -> Option<String> {
    let (kind, key) = field.split_once('.')?;
    match kind {
        "params" => run.data.params.iter().find(|p| p.key == key).map(|p| p.value.clone()),
        "tags" => run.data.tags.iter().find(|t| t.key == key).map(|t| t.value.clone()),
        "metrics" => run.data.metrics.iter().find(|m| m.key == key).map(|m| m.value.to_string()),
        "attributes" if key == "status" => Some(run.info.status.as_str().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_shares_its_decimals_and_knows_its_best() {
        assert_eq!(decimals(&[0.5, 0.125, 12.0]), Some(3));
        assert_eq!(format_in_column(0.5, Some(3)), "0.500");
        assert_eq!(decimals(&[1e-9, 0.5]), None);
        assert_eq!(format_in_column(1e-9, None), "1.000e-9");
        assert_eq!(stats("val_loss", &[0.3, 0.1, f64::NAN], true).best, Some(0.1));
        assert_eq!(stats("accuracy", &[0.3, 0.9], true).best, Some(0.9));
        assert_eq!(stats("accuracy", &[0.3], true).best, None);
        assert_eq!(stats("lr", &[0.3, 0.9], false).best, None);
        assert!(lower_is_better("train/MSE") && !lower_is_better("f1"));
    }
}
