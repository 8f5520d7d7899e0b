//! The experiment chart view (`/experiments/{id}?view=charts`): one panel
//! per metric for every run the table's filter keeps, each run in its own
//! colour, panels in sections by key prefix (`train/`, `val/`, …) and a
//! panel search (`?q=`). The filter, order and chart settings are the
//! table's and the URL's, so a link reopens the same view.

use super::run::{chart_settings, x_title, x_values, ChartControls, ChartSettings};
use super::{error_sentence, ErrorNote, Loading};
use crate::charts::{smooth, Chart, Figure, Trace};
use crate::server_fns::{chart_runs, metric_series, ChartRun, Series};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeMap;

/// Points per run and panel: all runs' lines together stay about this many
/// points, at least 100 per run.
const PANEL_POINTS: usize = 200_000;

/// The section a metric key belongs in: its prefix before the first `/`.
pub fn section_of(key: &str) -> &str {
    key.split_once('/').map_or("metrics", |(prefix, _)| prefix)
}

#[component]
pub fn ExperimentCharts(experiment_id: String, filter: String, order: String, deleted: bool) -> impl IntoView {
    let settings = chart_settings();
    let query = use_query_map();
    let navigate = use_navigate();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let set_search = move |text: String| {
        navigate(&super::url_with_param(&query.get_untracked(), "q", &text), Default::default());
    };
    // Loaded in the browser: the charts are drawn there.
    let data = LocalResource::new(move || chart_runs(experiment_id.clone(), filter.clone(), order.clone(), deleted));
    view! {
        <div class="toolbar">
            <input
                id="panel-search"
                class="mono"
                placeholder="Search panels"
                prop:value=move || search.get()
                on:change=move |ev| set_search(event_target_value(&ev))
            />
        </div>
        <ChartControls settings />
        {move || match data.get() {
            None => view! { <Loading what="charts" /> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
            Some(Ok(d)) if d.runs.is_empty() => view! { <p class="empty">"No runs match."</p> }.into_any(),
            Some(Ok(d)) if d.metrics.is_empty() => {
                view! { <p class="empty">"These runs have no metrics."</p> }.into_any()
            }
            Some(Ok(d)) => {
                let q = search.get().to_lowercase();
                let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for key in d.metrics.iter().filter(|k| q.is_empty() || k.to_lowercase().contains(&q)) {
                    sections.entry(section_of(key).to_string()).or_default().push(key.clone());
                }
                let note = d.truncated.then(|| {
                    view! {
                        <p class="muted" id="charts-truncated">
                            {format!("Showing the first {} runs the filter keeps.", d.runs.len())}
                        </p>
                    }
                });
                let runs = d.runs.clone();
                let body = if sections.is_empty() {
                    view! { <p class="empty">"No panel matches the search."</p> }.into_any()
                } else {
                    sections
                        .into_iter()
                        .map(|(name, keys)| {
                            let count = match keys.len() {
                                1 => format!("{name} (1 panel)"),
                                n => format!("{name} ({n} panels)"),
                            };
                            let panels = keys
                                .into_iter()
                                .map(|key| view! { <Panel key runs=runs.clone() settings /> })
                                .collect_view();
                            view! {
                                <details class="panel-section" open data-section=name.clone()>
                                    <summary>{count}</summary>
                                    <div class="chart-grid">{panels}</div>
                                </details>
                            }
                        })
                        .collect_view()
                        .into_any()
                };
                view! {
                    <p class="muted" id="charts-run-count">{format!("{} runs", d.runs.len())}</p>
                    {note}
                    <div id="experiment-charts">{body}</div>
                }
                .into_any()
            }
        }}
    }
}

/// One metric of every run: a line per run in the run's colour (dashed
/// when it failed), or a bar per run when each logged it once.
#[component]
fn Panel(key: String, runs: Vec<ChartRun>, settings: Memo<ChartSettings>) -> impl IntoView {
    let ids: Vec<String> = runs.iter().map(|r| r.run_id.clone()).collect();
    let per_run = (PANEL_POINTS / ids.len().max(1)).max(100);
    let k = key.clone();
    let series = LocalResource::new(move || metric_series(ids.clone(), k.clone(), None, None, per_run));
    let k = key.clone();
    let figure = Signal::derive(move || {
        let data = series.get()?.ok()?;
        Some(panel_figure(&runs, &data, &settings.get(), &k))
    });
    let id = format!("panel-{}", key.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    view! {
        <figure class="chart-card" data-metric=key.clone()>
            <figcaption><span class="mono">{key.clone()}</span></figcaption>
            <Chart id figure />
        </figure>
    }
}

fn panel_figure(runs: &[ChartRun], data: &[Series], s: &ChartSettings, key: &str) -> Figure {
    let run_of = |id: &str| runs.iter().find(|r| r.run_id == id);
    let present: Vec<&Series> = data.iter().filter(|d| !d.steps.is_empty()).collect();
    let mut traces = Vec::new();
    if !present.is_empty() && present.iter().all(|d| d.steps.len() == 1) {
        for d in &present {
            let Some(run) = run_of(&d.run_id) else { continue };
            traces.push(Trace {
                name: run.name.clone(),
                bar_labels: vec![run.name.clone()],
                y: vec![d.values[0]],
                color: run.color.clone(),
                ..Default::default()
            });
        }
        return Figure { traces, x_title: "run".into(), y_title: key.into(), y_log: s.log_y, ..Default::default() };
    }
    for d in &present {
        let Some(run) = run_of(&d.run_id) else { continue };
        let start = d.times.first().copied().unwrap_or(0);
        traces.push(Trace {
            name: run.name.clone(),
            x: x_values(&s.x, &d.steps, &d.times, start),
            y: smooth(&d.values, s.smooth),
            color: run.color.clone(),
            dash: run.stopped,
            show_legend: runs.len() <= 20,
            width: 1.6,
            ..Default::default()
        });
    }
    Figure {
        traces,
        x_title: x_title(&s.x).into(),
        y_title: key.into(),
        y_log: s.log_y,
        x_dates: s.x == "time",
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_key_prefixes() {
        assert_eq!(section_of("train/loss"), "train");
        assert_eq!(section_of("val/acc/top1"), "val");
        assert_eq!(section_of("loss"), "metrics");
    }
}
