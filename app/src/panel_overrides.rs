//! A chart-view panel's own settings over the view's (`?panel=`): log
//! scale, smoothing and ignoring outliers, per metric key, so one panel
//! can differ from the rest. In the URL as `key~log~s0.6~clip,key2~lin`:
//! MLflow's metric keys never hold `~` or `,`.

use crate::components::chart_settings::ChartSettings;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Override {
    pub log_y: Option<bool>,
    pub smooth: Option<f64>,
    pub ignore_outliers: Option<bool>,
}

impl Override {
    pub fn is_empty(&self) -> bool {
        *self == Override::default()
    }

    /// The view's settings with this panel's own on top.
    pub fn apply(&self, view: &ChartSettings) -> ChartSettings {
        ChartSettings {
            log_y: self.log_y.unwrap_or(view.log_y),
            smooth: self.smooth.unwrap_or(view.smooth),
            ignore_outliers: self.ignore_outliers.unwrap_or(view.ignore_outliers),
            ..view.clone()
        }
    }
}

pub type Overrides = BTreeMap<String, Override>;

/// The overrides in `?panel=`; parts that do not read are left out.
pub fn parse(text: &str) -> Overrides {
    let mut out = Overrides::new();
    for entry in text.split(',') {
        let mut parts = entry.split('~');
        let Some(key) = parts.next().filter(|k| !k.is_empty()) else { continue };
        let mut o = Override::default();
        for part in parts {
            match part {
                "log" => o.log_y = Some(true),
                "lin" => o.log_y = Some(false),
                "clip" => o.ignore_outliers = Some(true),
                "all" => o.ignore_outliers = Some(false),
                s => {
                    if let Some(v) = s.strip_prefix('s').and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()) {
                        o.smooth = Some(v.clamp(0.0, 0.99));
                    }
                }
            }
        }
        if !o.is_empty() {
            out.insert(key.to_string(), o);
        }
    }
    out
}

pub fn format(overrides: &Overrides) -> String {
    let entry = |(key, o): (&String, &Override)| {
        let mut parts = vec![key.clone()];
        if let Some(log) = o.log_y {
            parts.push(if log { "log" } else { "lin" }.into());
        }
        if let Some(s) = o.smooth {
            parts.push(format!("s{s}"));
        }
        if let Some(clip) = o.ignore_outliers {
            parts.push(if clip { "clip" } else { "all" }.into());
        }
        parts.join("~")
    };
    overrides.iter().filter(|(_, o)| !o.is_empty()).map(entry).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_round_trip_and_apply_over_the_view() {
        let text = "val/loss~log~s0.6,train loss~lin~clip,bad~s9x,~log";
        let parsed = parse(text);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parse(&format(&parsed)), parsed);
        let view = ChartSettings {
            x: crate::components::chart_settings::XAxis::Step,
            log_y: false,
            smooth: 0.0,
            ignore_outliers: false,
            log_x: false,
            y_range: None,
        };
        let val = parsed["val/loss"].apply(&view);
        assert!(val.log_y && val.smooth == 0.6 && !val.ignore_outliers);
        let train = parsed["train loss"].apply(&ChartSettings { log_y: true, ..view.clone() });
        assert!(!train.log_y && train.ignore_outliers);
        assert_eq!(parse("a~s5")["a"].smooth, Some(0.99));
    }
}
