//! What of a chart view's link could not be read. The view draws with the
//! defaults in their place; this names them, so that a mistyped or stale
//! link says what it left out instead of quietly showing something else.

use crate::aggregate::{Band, Center};
use crate::components::chart_settings::XAxis;

/// The settings in `query` (a link's `key=value` pairs) that the chart view
/// cannot use, as `key=value (why)`, given the metrics and the fields
/// (params, tags, status) its runs have.
pub fn unreadable(query: &[(String, String)], metrics: &[String], fields: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut left_out = |key: &str, value: &str, why: &str| out.push(format!("{key}={value} ({why})"));
    for (key, value) in query {
        let (key, value) = (key.as_str(), value.as_str());
        match key {
            "x" => match XAxis::parse(value) {
                Some(XAxis::Metric(k)) if !metrics.contains(&k) => left_out(key, value, "no such metric"),
                Some(_) => {}
                None => left_out(key, value, "step, time, relative or metric:<key>"),
            },
            "smooth" if !value.parse::<f64>().is_ok_and(|v| (0.0..=0.99).contains(&v)) => {
                left_out(key, value, "a number from 0 to 0.99")
            }
            "log" | "logx" | "clip" if !["0", "1", ""].contains(&value) => left_out(key, value, "0 or 1"),
            "agg" if Center::parse(value).name() != value => left_out(key, value, "mean or median"),
            "band" if Band::parse(value).name() != value => left_out(key, value, "minmax, std, sem, iqr or none"),
            "group" | "style" if !value.is_empty() && !fields.iter().any(|f| f == value) => {
                left_out(key, value, "no run has it")
            }
            "panel" => {
                for entry in value.split(',').filter(|e| !e.is_empty()) {
                    let mut parts = entry.split('~');
                    let metric = parts.next().unwrap_or_default();
                    let known_parts = parts.all(|p| {
                        ["log", "lin", "clip", "all"].contains(&p)
                            || p.strip_prefix('s').is_some_and(|v| v.parse::<f64>().is_ok_and(f64::is_finite))
                    });
                    if !metrics.iter().any(|m| m == metric) {
                        left_out(key, entry, "no such metric");
                    } else if !known_parts {
                        left_out(key, entry, "log, lin, clip, all or s<smoothing>");
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn good_links_leave_nothing_out() {
        let metrics = vec!["loss".to_string(), "val/acc".to_string()];
        let fields = vec!["params.lr".to_string()];
        let good = q(&[
            ("x", "metric:loss"),
            ("smooth", "0.6"),
            ("log", "1"),
            ("agg", "median"),
            ("band", "std"),
            ("group", "params.lr"),
            ("panel", "val/acc~log~s0.5,loss~clip"),
            ("q", "anything"),
        ]);
        assert!(unreadable(&good, &metrics, &fields).is_empty());
    }

    #[test]
    fn each_bad_setting_is_named_with_what_it_takes() {
        let metrics = vec!["loss".to_string()];
        let bad = q(&[
            ("x", "epoch"),
            ("smooth", "lots"),
            ("log", "yes"),
            ("agg", "max"),
            ("band", "p90"),
            ("group", "params.nope"),
            ("panel", "loss~huge,gone~log"),
            ("x", "metric:gone"),
        ]);
        let said = unreadable(&bad, &metrics, &[]);
        assert_eq!(
            said,
            [
                "x=epoch (step, time, relative or metric:<key>)",
                "smooth=lots (a number from 0 to 0.99)",
                "log=yes (0 or 1)",
                "agg=max (mean or median)",
                "band=p90 (minmax, std, sem, iqr or none)",
                "group=params.nope (no run has it)",
                "panel=loss~huge (log, lin, clip, all or s<smoothing>)",
                "panel=gone~log (no such metric)",
                "x=metric:gone (no such metric)",
            ]
        );
    }
}
