//! A chart's settings from the URL (x axis, log scales, smoothing, outliers)
//! and the controls that change them.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Chart settings from the URL: x axis, log y, smoothing.
#[derive(Clone, PartialEq)]
pub struct ChartSettings {
    pub x: String,
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
            x: q.get("x")
                .filter(|x| {
                    ["step", "time", "relative"].contains(&x.as_str())
                        || x.strip_prefix("metric:").is_some_and(|k| !k.is_empty())
                })
                .unwrap_or_else(|| "step".into()),
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
                    prop:value=move || settings.get().x>
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

/// x values for a series under the chosen x axis.
pub fn x_values(x: &str, steps: &[i64], times: &[i64], start: i64) -> Vec<f64> {
    match x {
        "time" => times.iter().map(|t| *t as f64).collect(),
        "relative" => times.iter().map(|t| t.saturating_sub(start) as f64 / 1000.0).collect(),
        _ => steps.iter().map(|s| *s as f64).collect(),
    }
}

impl ChartSettings {
    /// A figure of `traces` on these settings' axes (titles, log scales,
    /// dates, outliers, a fixed y range), with `y_title` up its side.
    pub fn figure(&self, traces: Vec<crate::charts::Trace>, y_title: &str) -> crate::charts::Figure {
        crate::charts::Figure {
            traces,
            x_title: x_title(&self.x).into(),
            y_title: y_title.into(),
            y_log: self.log_y,
            x_dates: self.x == "time",
            ignore_outliers: self.ignore_outliers,
            x_log: self.log_x,
            y_range: self.y_range,
            ..Default::default()
        }
    }
}

pub fn x_title(x: &str) -> &str {
    match x {
        "time" => "wall time",
        "relative" => "seconds since start",
        _ => x.strip_prefix("metric:").unwrap_or("step"),
    }
}
