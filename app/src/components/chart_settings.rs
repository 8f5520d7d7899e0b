//! A chart's settings from the URL (x axis, log scales, smoothing, outliers)
//! and the controls that change them.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// What a chart's x axis measures (`?x=step|time|relative|metric:<key>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum XAxis {
    #[default]
    Step,
    /// The wall time each point was logged at, as dates.
    WallTime,
    /// Seconds since the run's first point.
    Relative,
    /// Another metric's value at the same step.
    Metric(String),
}

impl XAxis {
    /// The axis a URL or a dashboard names, or none for what it cannot be.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "step" => Some(XAxis::Step),
            "time" => Some(XAxis::WallTime),
            "relative" => Some(XAxis::Relative),
            _ => text.strip_prefix("metric:").filter(|k| !k.trim().is_empty()).map(|k| XAxis::Metric(k.to_string())),
        }
    }

    /// As a URL and a dashboard spell it.
    pub fn to_param(&self) -> String {
        match self {
            XAxis::Step => "step".into(),
            XAxis::WallTime => "time".into(),
            XAxis::Relative => "relative".into(),
            XAxis::Metric(key) => format!("metric:{key}"),
        }
    }

    /// The metric it reads, when it is another metric.
    pub fn metric(&self) -> Option<&str> {
        match self {
            XAxis::Metric(key) => Some(key),
            _ => None,
        }
    }

    /// Whether the points' wall times are needed to place them.
    pub fn needs_times(&self) -> bool {
        matches!(self, XAxis::WallTime | XAxis::Relative)
    }

    pub fn title(&self) -> &str {
        match self {
            XAxis::Step => "step",
            XAxis::WallTime => "wall time",
            XAxis::Relative => "seconds since start",
            XAxis::Metric(key) => key,
        }
    }

    /// x values for a series on this axis (a metric's come from
    /// `x_by_metric`; here they are the steps).
    pub fn values(&self, steps: &[i64], times: &[i64], start: i64) -> Vec<f64> {
        match self {
            XAxis::WallTime => times.iter().map(|t| *t as f64).collect(),
            XAxis::Relative => times.iter().map(|t| t.saturating_sub(start) as f64 / 1000.0).collect(),
            _ => steps.iter().map(|s| *s as f64).collect(),
        }
    }
}

/// Chart settings from the URL: x axis, log y, smoothing.
#[derive(Clone, PartialEq)]
pub struct ChartSettings {
    pub x: XAxis,
    pub log_y: bool,
    pub smooth: f64,
    /// Scale y to the bulk of the values, not to rare spikes (`?clip=1`).
    pub ignore_outliers: bool,
    /// A logarithmic x axis (`?logx=1`).
    pub log_x: bool,
    /// A fixed y axis (a dashboard panel's `y_range`).
    pub y_range: Option<(f64, f64)>,
}

pub fn chart_settings() -> Memo<ChartSettings> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        ChartSettings {
            x: q.get("x").and_then(|x| XAxis::parse(&x)).unwrap_or_default(),
            log_y: q.get("log").is_some_and(|l| l == "1"),
            smooth: q.get("smooth").and_then(|s| s.parse().ok()).unwrap_or(0.0f64).clamp(0.0, 0.99),
            ignore_outliers: q.get("clip").is_some_and(|c| c == "1"),
            log_x: q.get("logx").is_some_and(|l| l == "1"),
            y_range: None,
        }
    })
}

/// The x-axis, log and smoothing controls; each change goes into the URL.
/// With `metric_keys`, x can also be another metric (`x=metric:<key>`): a
/// run's points are placed at its value of that metric at the same step.
#[component]
pub fn ChartControls(
    settings: Memo<ChartSettings>,
    #[prop(optional, into)] metric_keys: Option<Signal<Vec<String>>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let query = use_query_map();
    let set = move |key: &'static str, value: String| {
        navigate(&crate::url_state::url_with_param(&query.get_untracked(), key, &value), crate::url_state::in_place());
    };
    let (set_x, set_log, set_smooth, set_clip, set_logx) = (set.clone(), set.clone(), set.clone(), set.clone(), set);
    view! {
        <div class="toolbar chart-controls">
            <label>
                "X axis "
                <select id="x-axis" on:change=move |ev| set_x("x", event_target_value(&ev))
                    prop:value=move || settings.get().x.to_param()>
                    <option value="step">"Step"</option>
                    <option value="time">"Wall time"</option>
                    <option value="relative">"Relative time"</option>
                    {move || metric_keys.map(|keys| {
                        let options = keys
                            .get()
                            .into_iter()
                            .map(|k| view! { <option value=format!("metric:{k}")>{k.clone()}</option> })
                            .collect_view();
                        view! { <optgroup label="Another metric">{options}</optgroup> }
                    })}
                </select>
            </label>
            <label class="pick">
                <input type="checkbox" id="log-y" prop:checked=move || settings.get().log_y
                    on:change=move |ev| set_log("log", if event_target_checked(&ev) { "1".into() } else { String::new() }) />
                "Log scale"
            </label>
            <label class="pick">
                <input type="checkbox" id="log-x" prop:checked=move || settings.get().log_x
                    on:change=move |ev| set_logx("logx", if event_target_checked(&ev) { "1".into() } else { String::new() }) />
                "Log x"
            </label>
            <label class="pick" title="Scale the y axis to the bulk of the values (2nd to 98th percentile), not to rare spikes">
                <input type="checkbox" id="ignore-outliers" prop:checked=move || settings.get().ignore_outliers
                    on:change=move |ev| set_clip("clip", if event_target_checked(&ev) { "1".into() } else { String::new() }) />
                "Ignore outliers"
            </label>
            <label>
                "Smoothing "
                <input type="range" id="smoothing" min="0" max="0.95" step="0.05"
                    prop:value=move || settings.get().smooth.to_string()
                    on:change=move |ev| set_smooth("smooth", event_target_value(&ev)) />
            </label>
        </div>
    }
}

impl ChartSettings {
    /// A figure of `traces` on these settings' axes (titles, log scales,
    /// dates, outliers, a fixed y range), with `y_title` up its side.
    pub fn figure(&self, traces: Vec<crate::charts::Trace>, y_title: &str) -> crate::charts::Figure {
        crate::charts::Figure {
            traces,
            x_title: self.x.title().into(),
            y_title: y_title.into(),
            y_log: self.log_y,
            x_dates: self.x == XAxis::WallTime,
            ignore_outliers: self.ignore_outliers,
            x_log: self.log_x,
            y_range: self.y_range,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_axes_read_and_spell_as_links_do() {
        for text in ["step", "time", "relative", "metric:epoch"] {
            assert_eq!(XAxis::parse(text).unwrap().to_param(), text);
        }
        assert_eq!(XAxis::parse("metric:"), None);
        assert_eq!(XAxis::parse("epoch"), None);
        assert_eq!(XAxis::parse("metric:lr").unwrap().metric(), Some("lr"));
        assert_eq!(XAxis::Relative.values(&[0, 1], &[1000, 3500], 1000), vec![0.0, 2.5]);
        assert!(XAxis::WallTime.needs_times() && !XAxis::Step.needs_times());
    }
}
