//! `/compare?runs=…`, a report on a few runs: who they are (status,
//! duration, tags), an overlaid chart of one metric (x: step, wall time,
//! relative time or another metric; runs optionally grouped with mean and
//! band), small multiples of every metric, parallel coordinates, a
//! parameter-vs-metric scatter, the params (what differs marked) and the
//! latest metrics (best value marked, one precision per row). Every choice
//! is in the URL.

use super::Loaded;
use crate::aggregate::{compare_labels, Band, Center, Grouping, NONE_LABEL};
use crate::charts::{build_groups, color, group_traces, scatter, smooth, Chart, Figure, Grouped, ScatterPoint, Trace};
use crate::columns::{format_in_column, stats, value_of};
use crate::components::chart_settings::{ChartSettings, XAxis};
use crate::components::group_controls::GroupControls;
use crate::components::name_prompt::NamePrompt;
use crate::components::panel::Panel;
use crate::components::parallel_panel::ParallelPanel;
use crate::components::status::status_class;
use crate::components::status::{write_and_open, WriteErrors};
use crate::format::{encode, format_duration, format_time};
use crate::server_fns::dashboards::{save_comparison, ShownComparison};
use crate::server_fns::ChartRun;
use crate::server_fns::CHART_POINTS;
use crate::server_fns::{compare_runs, metric_series, Series};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeSet;
use tracking::{Run, RunStatus};

#[derive(Clone, PartialEq, Default)]
struct CompareView {
    runs: Vec<String>,
    metric: String,
    x: XAxis,
    group: String,
    /// The groups' centre and band (`agg`, `band`).
    grouping: Grouping,
    smooth: f64,
    log_y: bool,
    scatter_x: String,
    scatter_y: String,
    /// Log x on the scatter: chosen (`sxlog=1` or `0`), else by itself
    /// for a param spanning 30x or more (`parallel::spans_decades`).
    scatter_log_x: Option<bool>,
    diff_only: bool,
    /// What colours the parallel coordinates (`pcolor`).
    parallel_color: String,
}

fn read_view(q: &leptos_router::params::ParamsMap) -> CompareView {
    let get = |k: &str| q.get(k).unwrap_or_default();
    CompareView {
        runs: get("runs").split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
        metric: get("metric"),
        x: q.get("x").and_then(|x| XAxis::parse(&x)).unwrap_or_default(),
        group: get("group"),
        grouping: Grouping::from_query(q.get("group"), q.get("agg"), q.get("band")),
        smooth: get("smooth").parse().unwrap_or(0.0f64).clamp(0.0, 0.99),
        log_y: get("log") == "1",
        scatter_x: get("sx"),
        scatter_y: get("sy"),
        scatter_log_x: match get("sxlog").as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        diff_only: get("diff") == "1",
        parallel_color: get("pcolor"),
    }
}

fn url(v: &CompareView) -> String {
    let mut q = vec![format!("runs={}", v.runs.join(","))];
    let mut add = |k: &str, val: &str| {
        if !val.is_empty() {
            q.push(format!("{k}={}", encode(val)));
        }
    };
    add("metric", &v.metric);
    if v.x != XAxis::Step {
        add("x", &v.x.to_param());
    }
    add("group", &v.group);
    if !v.group.is_empty() {
        add("agg", v.grouping.center.name());
        add("band", v.grouping.band.name());
    }
    if v.smooth > 0.0 {
        add("smooth", &v.smooth.to_string());
    }
    if v.log_y {
        add("log", "1");
    }
    add("sx", &v.scatter_x);
    add("sy", &v.scatter_y);
    if let Some(on) = v.scatter_log_x {
        add("sxlog", if on { "1" } else { "0" });
    }
    if v.diff_only {
        add("diff", "1");
    }
    add("pcolor", &v.parallel_color);
    format!("/compare?{}", q.join("&"))
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| read_view(&query.read()));
    let ids = Memo::new(move |_| view_state.get().runs);
    let runs = Resource::new(move || ids.get(), compare_runs);
    view! {
        <section class="page wide">
            <div class="page-head"><h1>"Compare runs"</h1></div>
            <Loaded what="runs" data=runs let:loaded>
                {match loaded {
                        list if list.runs.len() < 2 => view! {
                            <p class="empty">"Choose at least two runs in an experiment's run table to compare them."</p>
                        }.into_any(),
                        list => view! { <CompareView runs=list.runs colors=list.colors view=view_state /> }.into_any(),
                }}
            </Loaded>
        </section>
    }
}

#[component]
fn CompareView(runs: Vec<Run>, colors: Vec<String>, view: Memo<CompareView>) -> impl IntoView {
    let navigate = use_navigate();
    let set = move |f: &dyn Fn(&mut CompareView)| {
        let mut v = view.get_untracked();
        f(&mut v);
        navigate(&url(&v), super::in_place());
    };
    let metric_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| r.data.metrics.iter().map(|m| m.key.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let param_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| r.data.params.iter().map(|p| p.key.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tag_keys: Vec<String> = runs
        .iter()
        .flat_map(|r| r.data.tags.iter().filter(|t| !t.key.starts_with("mlflow.")).map(|t| t.key.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let first_metric = metric_keys.first().cloned().unwrap_or_default();
    let metric = {
        let first = first_metric.clone();
        Memo::new(move |_| Some(view.get().metric).filter(|m| !m.is_empty()).unwrap_or_else(|| first.clone()))
    };
    let scatter_x = {
        let fallback =
            param_keys.first().map(|k| format!("params.{k}")).unwrap_or_else(|| format!("metrics.{first_metric}"));
        Memo::new(move |_| Some(view.get().scatter_x).filter(|m| !m.is_empty()).unwrap_or_else(|| fallback.clone()))
    };
    let scatter_y = {
        let fallback = format!("metrics.{first_metric}");
        Memo::new(move |_| Some(view.get().scatter_y).filter(|m| !m.is_empty()).unwrap_or_else(|| fallback.clone()))
    };

    let ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
    let names: Vec<String> = runs.iter().map(|r| r.info.run_name.clone()).collect();
    let ids_for_series = ids.clone();
    // Chart data loads in the browser only (charts are drawn there).
    let loaded =
        LocalResource::new(move || metric_series(ids_for_series.clone(), metric.get(), None, None, CHART_POINTS, true));
    // Live: the compared runs' new points join their lines in place.
    let live_ids = ids.clone();
    crate::live::provide_live(vec![], ids.clone());
    let series = crate::live::live_series(
        metric.into(),
        Signal::derive(move || loaded.get().and_then(|r| r.ok())),
        move |run| live_ids.iter().any(|i| i == run),
        CHART_POINTS / 2,
        move || loaded.refetch(),
    );
    // The x metric when the x axis is another metric.
    let ids_for_x = ids.clone();
    let x_metric = Memo::new(move |_| view.get().x.metric().map(str::to_string));
    let x_series = LocalResource::new(move || {
        let (ids, key) = (ids_for_x.clone(), x_metric.get());
        async move {
            match key {
                Some(k) => metric_series(ids, k, None, None, CHART_POINTS, false).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let runs_for_chart = runs.clone();
    let names_for_chart = names.clone();
    let colors_for_chart = colors.clone();
    let figure = Signal::derive(move || {
        let v = view.get();
        let data = series.get()?;
        let xs = x_series.get().and_then(|r| r.ok()).unwrap_or_default();
        Some(line_figure(&runs_for_chart, &names_for_chart, &colors_for_chart, &data, &xs, &v, &metric.get()))
    });

    let scatter_log = {
        let runs = runs.clone();
        Memo::new(move |_| {
            let fx = scatter_x.get();
            let auto = || {
                let xs: Option<Vec<f64>> =
                    runs.iter().filter_map(|r| value_of(r, &fx)).map(|v| v.parse::<f64>().ok()).collect();
                xs.is_some_and(|xs| crate::parallel::spans_decades(&xs))
            };
            view.with(|v| v.scatter_log_x).unwrap_or_else(auto)
        })
    };
    let runs_for_scatter = runs.clone();
    let colors_for_scatter = colors.clone();
    let scatter_figure = Signal::derive(move || {
        let (fx, fy) = (scatter_x.get(), scatter_y.get());
        // Grouped, a point takes its group's colour, as on the chart above.
        let group = view.with(|v| v.group.clone());
        let label_of = |r: &Run| value_of(r, &group).unwrap_or_else(|| NONE_LABEL.into());
        let mut labels: Vec<String> =
            if group.is_empty() { Vec::new() } else { runs_for_scatter.iter().map(label_of).collect() };
        labels.sort_by(|a, b| compare_labels(a, b));
        labels.dedup();
        let points: Vec<ScatterPoint> = runs_for_scatter
            .iter()
            .zip(&colors_for_scatter)
            .filter_map(|(r, c)| {
                let (x, y) = (value_of(r, &fx)?, value_of(r, &fy)?.parse::<f64>().ok()?);
                let (series, color, more) = match group.is_empty() {
                    true => (r.info.run_name.clone(), c.clone(), None),
                    false => {
                        let label = label_of(r);
                        let i = labels.iter().position(|l| *l == label).unwrap_or(0);
                        (format!("{group} = {label}"), color(i), Some(format!("{group} = {label}")))
                    }
                };
                Some(ScatterPoint { run: r.info.run_name.clone(), x, y, series, color, more })
            })
            .collect();
        let mut figure = scatter(&points, &fx, &fy);
        // Chosen by the user (`sxlog`), else by the values.
        figure.x_log = figure.x_ticks.is_empty() && scatter_log.get();
        Some(figure)
    });

    // "Save as dashboard": these runs, this metric's chart, the scatter and
    // a table of the params that differ.
    let differing: Vec<String> = param_keys
        .iter()
        .filter(|k| runs.iter().map(|r| value_of(r, &format!("params.{k}"))).collect::<BTreeSet<_>>().len() > 1)
        .map(|k| format!("params.{k}"))
        .collect();
    let save_errors = WriteErrors::new();
    let save_write = write_and_open(
        save_errors,
        move |shown: &ShownComparison| save_comparison(shown.clone()),
        |id| format!("/dashboards/{id}"),
    );
    let save = {
        let ids = ids.clone();
        Callback::new(move |name: String| {
            let v = view.get_untracked();
            let (metric, scatter_x, scatter_y) =
                (metric.get_untracked(), scatter_x.get_untracked(), scatter_y.get_untracked());
            let mut columns = differing.clone();
            if !metric.is_empty() {
                columns.push(format!("metrics.{metric}"));
            }
            let shown = ShownComparison {
                name,
                run_ids: ids.clone(),
                metric,
                x: v.x.to_param(),
                smoothing: v.smooth,
                log_y: v.log_y,
                scatter_x,
                scatter_y,
                group: v.grouping.line_grouping(),
                columns,
            };
            save_write.dispatch(shown);
        })
    };

    // Parameter table: rows whose values differ across runs are marked.
    let runs_for_table = runs.clone();
    let param_keys_table = param_keys.clone();
    let param_table = move || {
        let diff_only = view.get().diff_only;
        param_keys_table
            .iter()
            .filter_map(|k| {
                let values: Vec<Option<String>> = runs_for_table.iter().map(|r| value_of(r, &format!("params.{k}"))).collect();
                let differs = values.iter().collect::<BTreeSet<_>>().len() > 1;
                (differs || !diff_only).then(|| {
                    view! {
                        <tr class:differs=differs>
                            <th class="mono">{k.clone()}</th>
                            {values.into_iter().map(|v| view! { <td>{v.unwrap_or_else(|| "–".into())}</td> }).collect_view()}
                        </tr>
                    }
                })
            })
            .collect_view()
    };
    let runs_for_metrics = runs.clone();
    let metric_keys_table = metric_keys.clone();
    // Each row in one precision, its best value marked (lowest for losses
    // and errors, highest otherwise).
    let metric_table = move || {
        metric_keys_table
            .iter()
            .map(|k| {
                let values: Vec<Option<f64>> = runs_for_metrics
                    .iter()
                    .map(|r| r.data.metrics.iter().find(|m| &m.key == k).map(|m| m.value))
                    .collect();
                let row = stats(k, &values.iter().flatten().copied().collect::<Vec<_>>(), true);
                view! {
                    <tr data-metric=k.clone()>
                        <th class="mono">{k.clone()}</th>
                        {values
                            .into_iter()
                            .map(|v| match v {
                                Some(v) => {
                                    let best = row.best == Some(v);
                                    view! {
                                        <td class="num" class:best=best title=if best { format!("{v} (best of these runs)") } else { v.to_string() }>
                                            {format_in_column(v, row.decimals)}
                                        </td>
                                    }
                                    .into_any()
                                }
                                None => view! { <td class="num muted">"–"</td> }.into_any(),
                            })
                            .collect_view()}
                    </tr>
                }
            })
            .collect_view()
    };
    // Who the runs are: status, times, user, source, and their tags.
    let runs_for_overview = runs.clone();
    let tag_keys_overview = tag_keys.clone();
    let overview_rows = move || {
        let row = |label: &str, id: &str, cells: Vec<AnyView>| {
            view! { <tr data-row=id.to_string()><th>{label.to_string()}</th>{cells}</tr> }
        };
        let cells = |f: &dyn Fn(&Run) -> AnyView| runs_for_overview.iter().map(f).collect::<Vec<_>>();
        let mut rows = vec![
            row(
                "Status",
                "status",
                cells(&|r| {
                    let st = r.info.status;
                    view! { <td><span class=status_class(st)>{st.as_str().to_lowercase()}</span></td> }.into_any()
                }),
            ),
            row("Started", "started", cells(&|r| view! { <td>{format_time(r.info.start_time)}</td> }.into_any())),
            row(
                "Duration",
                "duration",
                cells(&|r| {
                    let d = match (r.info.end_time, r.info.status) {
                        (Some(end), _) => format_duration(end.saturating_sub(r.info.start_time)),
                        (None, RunStatus::Running) => "running".into(),
                        (None, _) => "–".into(),
                    };
                    view! { <td class="num">{d}</td> }.into_any()
                }),
            ),
            row("User", "user", cells(&|r| view! { <td>{r.info.user_id.clone()}</td> }.into_any())),
            row(
                "Source",
                "source",
                cells(&|r| {
                    let source = r
                        .data
                        .tags
                        .iter()
                        .find(|t| t.key == tracking::tags::SOURCE_NAME)
                        .map(|t| t.value.clone())
                        .unwrap_or_default();
                    let short = source.rsplit('/').next().unwrap_or_default().to_string();
                    view! { <td title=source>{short}</td> }.into_any()
                }),
            ),
        ];
        for k in &tag_keys_overview {
            rows.push(row(
                &format!("tag: {k}"),
                &format!("tags.{k}"),
                cells(&|r| {
                    let v = r.data.tags.iter().find(|t| &t.key == k).map(|t| t.value.clone());
                    view! { <td>{v.unwrap_or_else(|| "–".into())}</td> }.into_any()
                }),
            ));
        }
        rows.collect_view()
    };
    let run_headers = |runs: &[Run]| {
        runs
        .iter()
        .cloned()
        .zip(colors.clone())
        .map(|(r, c)| {
            view! {
                <th>
                    <span class="swatch" style=format!("background:{c}")></span>
                    <A href=format!("/experiments/{}/runs/{}", r.info.experiment_id, r.info.run_id)>{r.info.run_name.clone()}</A>
                </th>
            }
        })
        .collect_view()
    };
    let (run_headers0, run_headers1, run_headers2) = (run_headers(&runs), run_headers(&runs), run_headers(&runs));
    // The runs as the shared panels and parallel coordinates take them.
    let chart_runs: Vec<ChartRun> = runs
        .iter()
        .zip(&colors)
        .map(|(r, c)| {
            let mut fields: std::collections::BTreeMap<String, String> =
                r.data.params.iter().map(|p| (format!("params.{}", p.key), p.value.clone())).collect();
            fields.extend(
                r.data
                    .tags
                    .iter()
                    .filter(|t| !t.key.starts_with("mlflow."))
                    .map(|t| (format!("tags.{}", t.key), t.value.clone())),
            );
            fields.insert("attributes.status".into(), r.info.status.as_str().to_string());
            ChartRun {
                run_id: r.info.run_id.clone(),
                name: r.info.run_name.clone(),
                color: c.clone(),
                stopped: matches!(r.info.status, RunStatus::Failed | RunStatus::Killed),
                fields,
                latest: r.data.metrics.iter().map(|m| (format!("metrics.{}", m.key), m.value)).collect(),
            }
        })
        .collect();
    let chart_runs = Memo::new(move |_| chart_runs.clone());
    let panel_settings = Memo::new(move |_| {
        view.with(|v| ChartSettings {
            x: v.x.clone(),
            log_y: v.log_y,
            smooth: v.smooth,
            ignore_outliers: false,
            log_x: false,
            y_range: None,
        })
    });
    let panel_grouping = Signal::derive(move || view.with(|v| v.grouping.clone()));
    // Small multiples: every metric the runs logged, a panel each (those
    // past the first screenfuls load when scrolled to).
    let panels = metric_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let lazy = i >= 6;
            view! { <Panel key=key.clone() runs=chart_runs settings=panel_settings grouping=panel_grouping lazy /> }
        })
        .collect_view();
    let brushes = RwSignal::new(Vec::new());
    let on_brush = Callback::new(move |b| brushes.set(b));
    let set_pcolor = set.clone();
    let on_pcolor = Callback::new(move |c: String| set_pcolor(&move |v| v.parallel_color = c.clone()));

    let options = |keys: &[String], prefix: &str| {
        keys.iter()
            .map(|k| view! { <option value=format!("{prefix}{k}")>{format!("{prefix}{k}")}</option> })
            .collect_view()
    };
    let group_options = {
        let mut v: Vec<String> = param_keys.iter().map(|k| format!("params.{k}")).collect();
        v.extend(tag_keys.iter().map(|k| format!("tags.{k}")));
        v
    };
    let scatter_fields: Vec<String> = param_keys
        .iter()
        .map(|k| format!("params.{k}"))
        .chain(metric_keys.iter().map(|k| format!("metrics.{k}")))
        .collect();
    let s3 = set.clone();
    let set_group = Callback::new(move |(key, value): (&'static str, String)| {
        s3(&move |v| match key {
            "group" => {
                v.group = value.clone();
                v.grouping.field = value.clone();
            }
            "agg" => v.grouping.center = Center::parse(&value),
            _ => v.grouping.band = Band::parse(&value),
        })
    });
    let (s1, s2, s4, s5, s6, s7, s8, s9) =
        (set.clone(), set.clone(), set.clone(), set.clone(), set.clone(), set.clone(), set.clone(), set);
    view! {
        <div class="toolbar">
            <NamePrompt id="save-comparison" label="Save as dashboard" placeholder="Name of the dashboard"
                title="Save these runs, this chart, the scatter and what differs as a dashboard to share" on_name=save />
        </div>
        {save_errors.view()}
        <h2>"Runs"</h2>
        <div class="table-scroll">
            <table class="grid compare" id="compare-runs">
                <thead><tr><th></th>{run_headers0}</tr></thead>
                <tbody>{overview_rows}</tbody>
            </table>
        </div>
        <h2 class="page-head">"Metric" <crate::live::LiveBadge /></h2>
        <div class="toolbar">
            <label>"Metric "
                <select id="compare-metric" prop:value=move || metric.get()
                    on:change=move |ev| { let m = event_target_value(&ev); s1(&move |v| v.metric = m.clone()) }>
                    {metric_keys.iter().map(|k| view! { <option value=k.clone()>{k.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"X axis "
                <select id="compare-x" prop:value=move || view.get().x.to_param()
                    on:change=move |ev| {
                        let x = XAxis::parse(&event_target_value(&ev)).unwrap_or_default();
                        s2(&move |v| v.x = x.clone())
                    }>
                    <option value="step">"Step"</option>
                    <option value="time">"Wall time"</option>
                    <option value="relative">"Relative time"</option>
                    {options(&metric_keys, "metric:")}
                </select>
            </label>
            <label class="pick">
                <input type="checkbox" prop:checked=move || view.get().log_y
                    on:change=move |ev| { let on = event_target_checked(&ev); s4(&move |v| v.log_y = on) } />
                "Log scale"
            </label>
            <label>"Smoothing "
                <input type="range" min="0" max="0.95" step="0.05" prop:value=move || view.get().smooth.to_string()
                    on:change=move |ev| { let s = event_target_value(&ev).parse().unwrap_or(0.0); s5(&move |v| v.smooth = s) } />
            </label>
        </div>
        <GroupControls keys=group_options grouping=Signal::derive(move || view.get().grouping) on_set=set_group />
        <figure class="chart-card wide-chart"><Chart id="compare-chart" figure /></figure>
        <h2>"Every metric"</h2>
        <div class="chart-grid" id="compare-panels">{panels}</div>
        <h2>"Parallel coordinates"</h2>
        <ParallelPanel id="compare-parallel" runs=chart_runs grouping=panel_grouping brushes=brushes
            color_by=Signal::derive(move || view.with(|v| v.parallel_color.clone())) on_color=on_pcolor on_brush />
        <h2>"Parameter vs metric"</h2>
        <div class="toolbar">
            <label>"X "
                <select id="scatter-x" prop:value=move || scatter_x.get()
                    on:change=move |ev| { let x = event_target_value(&ev); s6(&move |v| v.scatter_x = x.clone()) }>
                    {scatter_fields.iter().map(|k| view! { <option value=k.clone()>{k.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Y "
                <select id="scatter-y" prop:value=move || scatter_y.get()
                    on:change=move |ev| { let y = event_target_value(&ev); s7(&move |v| v.scatter_y = y.clone()) }>
                    {options(&metric_keys, "metrics.")}
                </select>
            </label>
            <label class="pick">
                <input type="checkbox" id="scatter-log-x" prop:checked=move || scatter_log.get()
                    on:change=move |ev| { let on = event_target_checked(&ev); s8(&move |v| v.scatter_log_x = Some(on)) } />
                "Log x"
            </label>
        </div>
        <figure class="chart-card wide-chart"><Chart id="scatter-chart" figure=scatter_figure /></figure>
        <h2>"Parameters"</h2>
        <label class="pick">
            <input type="checkbox" id="diff-only" prop:checked=move || view.get().diff_only
                on:change=move |ev| { let on = event_target_checked(&ev); s9(&move |v| v.diff_only = on) } />
            "Only parameters that differ"
        </label>
        <div class="table-scroll">
            <table class="grid compare" id="compare-params">
                <thead><tr><th></th>{run_headers1}</tr></thead>
                <tbody>{param_table}</tbody>
            </table>
        </div>
        <h2>"Metrics (latest)"</h2>
        <div class="table-scroll">
            <table class="grid compare" id="compare-metrics">
                <thead><tr><th></th>{run_headers2}</tr></thead>
                <tbody>{metric_table}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The overlaid chart: one line per run, or per group a mean line with its
/// min–max band.
fn line_figure(
    runs: &[Run],
    names: &[String],
    colors: &[String],
    data: &[Series],
    x_data: &[Series],
    v: &CompareView,
    metric: &str,
) -> Figure {
    let xs_of = |s: &Series| -> Vec<f64> {
        let start = s.times.first().copied().unwrap_or(0);
        match v.x.metric() {
            Some(_) => crate::components::panel::x_by_metric(s, x_data),
            None => v.x.values(&s.steps, &s.times, start),
        }
    };
    let x_title = v.x.title().to_string();
    let mut traces = Vec::new();
    if v.group.is_empty() && !data.is_empty() && data.iter().all(|s| s.steps.len() <= 1) {
        // A metric logged once per run (a final score): a bar per run in
        // its colour, not lines of one point.
        for s in data {
            let i = runs.iter().position(|r| r.info.run_id == s.run_id).unwrap_or(0);
            let name = names.get(i).cloned().unwrap_or_default();
            traces.push(Trace {
                name: name.clone(),
                bar_labels: vec![name],
                y: vec![s.values.first().copied().flatten()],
                color: colors.get(i).cloned().unwrap_or_else(|| color(i)),
                ..Default::default()
            });
        }
        return Figure {
            traces,
            x_title: "run".into(),
            y_title: metric.to_string(),
            y_log: v.log_y,
            ..Default::default()
        };
    }
    if v.group.is_empty() {
        for s in data {
            let i = runs.iter().position(|r| r.info.run_id == s.run_id).unwrap_or(0);
            // A failed or killed run is marked by its line, not by a colour.
            let stopped = runs.get(i).is_some_and(|r| matches!(r.info.status, RunStatus::Failed | RunStatus::Killed));
            traces.push(Trace {
                name: names.get(i).cloned().unwrap_or_default(),
                x: xs_of(s),
                y: smooth(&s.values, v.smooth),
                color: colors.get(i).cloned().unwrap_or_else(|| color(i)),
                dash: stopped,
                show_legend: true,
                width: 1.8,
                ..Default::default()
            });
        }
        traces.extend(crate::charts::end_marks(&traces));
    } else {
        let label_of = |id: &str| {
            runs.iter()
                .find(|r| r.info.run_id == id)
                .and_then(|r| value_of(r, &v.group))
                .unwrap_or_else(|| NONE_LABEL.into())
        };
        let members = runs.iter().map(|r| Grouped {
            label: label_of(&r.info.run_id),
            style: None,
            line: data.iter().find(|s| s.run_id == r.info.run_id).map(|s| (xs_of(s), smooth(&s.values, v.smooth))),
        });
        let groups = build_groups(members, "");
        traces = group_traces(&v.group, &groups, v.grouping.center, v.grouping.band);
    }
    Figure {
        traces,
        x_title,
        y_title: metric.to_string(),
        y_log: v.log_y,
        x_dates: v.x == XAxis::WallTime,
        ..Default::default()
    }
}
