//! `/dashboards`: saved, shared views; `/dashboards/{id}`: one dashboard,
//! its panels and notes over the live data of the runs it selects.

use super::artifacts::markdown;
use super::experiment_charts::Panel as MetricPanel;
use super::parallel_view::ParallelPanel;
use super::run::ChartSettings;
use super::{error_sentence, ErrorNote, Loading};
use crate::aggregate::Grouping;
use crate::charts::{Chart, Figure, Trace};
use crate::format::{format_time, format_value};
use crate::parallel::{format_brushes, kept_by, parse_brushes, Brush};
use crate::server_fns::dashboards::{
    arrange_panel, dashboard_view, delete_dashboard, duplicate_dashboard, list_dashboards, save_note,
    set_dashboard_filter, snapshot_dashboard, DashboardData, PanelMove,
};
use crate::server_fns::ChartRun;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use tracking::dashboards::Panel;
use tracking::Run;

#[component]
pub fn DashboardsPage() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    // `?experiment=ID`: the dashboards that show that experiment (linked from its page).
    let url = use_query_map();
    let experiment = Memo::new(move |_| url.read().get("experiment").filter(|e| !e.is_empty()));
    let list = Resource::new(move || (query.get(), experiment.get()), |(name, e)| list_dashboards(name, e));
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Dashboards"</h1>
                {move || experiment.get().map(|e| view! {
                    <span class="muted" id="dashboards-of">
                        "showing experiment " <A href=format!("/experiments/{e}")>{e.clone()}</A>
                        " · " <A href="/dashboards">"all dashboards"</A>
                    </span>
                })}
                <input id="dashboard-search" type="search" placeholder="Search dashboards by name"
                    prop:value=query on:input=move |ev| set_query.set(event_target_value(&ev)) />
            </div>
            <Transition fallback=|| view! { <Loading what="dashboards" /> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(rows) if rows.is_empty() && experiment.get_untracked().is_some() => view! {
                            <p class="empty">
                                "No dashboard shows this experiment yet. Open its Charts view and press \u{201c}Save as dashboard\u{201d}."
                            </p>
                        }.into_any(),
                        Ok(rows) if rows.is_empty() => view! {
                            <p class="empty">
                                "No dashboards yet. Open an experiment's Charts view and press \u{201c}Save as dashboard\u{201d}, \
                                 or create one through the REST API (see the README)."
                            </p>
                        }.into_any(),
                        Ok(rows) => {
                            let rows = rows.into_iter().map(|d| view! {
                                <tr data-dashboard-id=d.dashboard_id.clone()>
                                    <td class="name"><A href=format!("/dashboards/{}", d.dashboard_id)>{d.name.clone()}</A></td>
                                    <td>{d.description.clone()}</td>
                                    <td>{if d.snapshot { "snapshot".to_string() } else { d.experiment_ids.join(", ") }}</td>
                                    <td class="num">{d.panels}</td>
                                    <td>{format_time(d.last_update_time)}</td>
                                </tr>
                            }).collect_view();
                            view! {
                                <table class="grid" id="dashboards">
                                    <thead><tr><th>"Name"</th><th>"Description"</th><th>"Experiments"</th><th>"Panels"</th><th>"Updated (UTC)"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, dashboard_view);
    view! {
        <section class="page wide">
            <Transition fallback=|| view! { <Loading what="dashboard" /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(found) => view! { <DashboardBody data=found reload=move || data.refetch() /> }.into_any(),
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DashboardBody(data: DashboardData, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let d = data.dashboard.clone();
    let navigate = use_navigate();
    let (error, set_error) = signal(None::<String>);
    // The runs move while the page is open: lines grow in place, and the
    // run list and values are refetched (panels stay, so does their zoom).
    let runs = RwSignal::new(data.runs.clone());
    let values = RwSignal::new(data.values.clone());
    let live = crate::live::provide_live(d.spec.experiment_ids.clone(), d.spec.run_ids.clone());
    let refresh = crate::live::debounced(1000, {
        let id = d.dashboard_id.clone();
        move || {
            let id = id.clone();
            spawn_local(async move {
                if let Ok(fresh) = dashboard_view(id).await {
                    runs.try_set(fresh.runs);
                    values.try_set(fresh.values);
                }
            });
        }
    });
    // Bars, scatters and tables show latest values: every change refreshes
    // them (at most once a second); the lines append their own points.
    live.on(move |_| refresh());
    // Edit mode (`?edit=1`, so it survives a reload): each panel can move or go.
    let url = use_query_map();
    // Runs picked on a parallel-coordinates panel (`?brush=`, as on the
    // chart view): every panel shows only those.
    let brush_state = Memo::new(move |_| parse_brushes(&url.read().get("brush").unwrap_or_default()));
    let brushes = Memo::new(move |_| brush_state.get().0);
    let all_runs = Memo::new(move |_| runs.get());
    let runs_memo = Memo::new(move |_| {
        let all = all_runs.get();
        brushes
            .with(|b| if b.is_empty() { all } else { all.into_iter().filter(|r| kept_by(b, |f| r.value(f))).collect() })
    });
    let on_brush = {
        let navigate = navigate.clone();
        Callback::new(move |b: Vec<Brush>| {
            navigate(&super::url_with_param(&url.get_untracked(), "brush", &format_brushes(&b)), Default::default())
        })
    };
    let brush_note = move || {
        let (shown, all) = (runs_memo.read().len(), all_runs.read().len());
        (!brushes.read().is_empty()).then(|| {
            view! {
                <p class="selection-bar" id="dashboard-picked">
                    {format!("{shown} of {all} runs picked on the parallel coordinates")} " "
                    <button id="clear-brush" on:click=move |_| on_brush.run(Vec::new())>"Show all runs"</button>
                </p>
            }
        })
    };
    let editing = Memo::new(move |_| url.read().get("edit").as_deref() == Some("1"));
    let page_url = format!("/dashboards/{}", d.dashboard_id);
    let edit_href = move || if editing.get() { page_url.clone() } else { format!("{page_url}?edit=1") };
    let arrange = {
        let (id, version) = (d.dashboard_id.clone(), d.version);
        move |index: usize, action: PanelMove| {
            let id = id.clone();
            spawn_local(async move {
                match arrange_panel(id, version, index, action).await {
                    Ok(()) => reload(),
                    Err(e) => set_error.set(Some(error_sentence(&e))),
                }
            });
        }
    };
    let duplicate = open_copy(d.dashboard_id.clone(), duplicate_dashboard, "?edit=1", set_error);
    let snapshot = open_copy(d.dashboard_id.clone(), snapshot_dashboard, "", set_error);
    let remove = {
        let (id, name, navigate) = (d.dashboard_id.clone(), d.spec.name.clone(), navigate.clone());
        move |_| {
            if !window().confirm_with_message(&format!("Delete the dashboard \u{201c}{name}\u{201d}?")).unwrap_or(false)
            {
                return;
            }
            let (id, navigate) = (id.clone(), navigate.clone());
            spawn_local(async move {
                match delete_dashboard(id).await {
                    Ok(()) => navigate("/dashboards", Default::default()),
                    Err(e) => set_error.set(Some(error_sentence(&e))),
                }
            });
        }
    };
    // Edit mode: the filter that picks the dashboard's runs.
    let (filter_draft, set_filter_draft) = signal(d.spec.filter.clone());
    let save_filter = {
        let (id, version) = (d.dashboard_id.clone(), d.version);
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (id, filter) = (id.clone(), filter_draft.get_untracked());
            spawn_local(async move {
                match set_dashboard_filter(id, version, filter).await {
                    Ok(()) => reload(),
                    Err(e) => set_error.set(Some(error_sentence(&e))),
                }
            });
        }
    };
    let pinned = !d.spec.run_ids.is_empty();
    let filter_form = move || {
        (editing.get() && !pinned).then(|| {
            view! {
                <form class="filter-bar" id="dashboard-filter" on:submit=save_filter.clone()>
                    <input class="mono" placeholder="params.optimizer = 'adam' (empty: every run of its experiments)"
                        prop:value=filter_draft on:input=move |ev| set_filter_draft.set(event_target_value(&ev)) />
                    <button type="submit">"Show these runs"</button>
                </form>
            }
        })
    };
    let (draft, set_draft) = signal(String::new());
    let add_note = {
        let (id, version) = (d.dashboard_id.clone(), d.version);
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = draft.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            let id = id.clone();
            spawn_local(async move {
                match save_note(id, version, None, text).await {
                    Ok(()) => {
                        set_draft.set(String::new());
                        reload();
                    }
                    Err(e) => set_error.set(Some(error_sentence(&e))),
                }
            });
        }
    };

    let selection = if d.spec.run_ids.is_empty() {
        let exps = d
            .spec
            .experiment_ids
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let sep = if i == 0 { "" } else { ", " };
                view! { {sep} <A href=format!("/experiments/{e}")>{format!("experiment {e}")}</A> }
            })
            .collect_view();
        let filter = (!d.spec.filter.is_empty()).then(|| view! { " where " <code>{d.spec.filter.clone()}</code> });
        view! { <span>"Runs of " {exps} {filter}</span> }.into_any()
    } else {
        view! { <span id="snapshot-note">{format!("A snapshot of {} runs", d.spec.run_ids.len())}</span> }.into_any()
    };
    let missing = (!data.missing.is_empty()).then(|| {
        view! { <p class="muted">{format!("{} pinned runs no longer exist.", data.missing.len())}</p> }
    });
    let truncated = data.truncated.then(|| {
        view! { <p class="muted">{format!("Showing the first {} runs the filter keeps.", data.runs.len())}</p> }
    });
    let count = d.spec.panels.len();
    let panels = d
        .spec
        .panels
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let arrange = arrange.clone();
            let label = panel_label(p);
            let wide = p.wide();
            // One chart takes a grid cell (two side by side on a wide
            // screen); notes, sections, tables, parallel coordinates and
            // several metrics' charts take the page's width.
            let cell = matches!(p, Panel::Line { metrics, .. } if metrics.len() == 1)
                || matches!(p, Panel::Bar { .. } | Panel::Scatter { .. });
            let controls = move || {
                editing.get().then(|| {
                    let (up, down, remove, resize) = (arrange.clone(), arrange.clone(), arrange.clone(), arrange.clone());
                    let size = wide.map(|w| {
                        view! {
                            <button class="link resize-panel" on:click=move |_| resize(i, PanelMove::Resize)>
                                {if w { "\u{2194} Narrower" } else { "\u{2194} Full width" }}
                            </button>
                        }
                    });
                    let label = label.clone();
                    view! {
                        <div class="panel-controls">
                            <span class="muted">{label}</span>
                            <button class="link move-up" disabled=i == 0 on:click=move |_| up(i, PanelMove::Up)>"\u{2191} Up"</button>
                            <button class="link move-down" disabled=i + 1 == count on:click=move |_| down(i, PanelMove::Down)>"\u{2193} Down"</button>
                            {size}
                            <button class="link danger remove-panel" on:click=move |_| remove(i, PanelMove::Remove)>"Remove"</button>
                        </div>
                    }
                })
            };
            view! {
                <div class="dashboard-item" class:wide=wide == Some(true) class:full=!cell data-panel-index=i>
                    {controls}
                    <DashboardPanel index=i panel=p.clone() runs=runs_memo all_runs values brushes on_brush />
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="page-head">
            <h1><A href="/dashboards">"Dashboards"</A> " / " <span id="dashboard-name">{d.spec.name.clone()}</span></h1>
            <span class="muted">{format!("version {} · saved {} UTC", d.version, format_time(d.last_update_time))}</span>
            <crate::live::LiveBadge />
        </div>
        {(!d.spec.description.is_empty()).then(|| view! { <div class="markdown">{markdown(&d.spec.description)}</div> })}
        <div class="toolbar">
            <span class="muted" id="dashboard-runs">{selection} {move || format!(" · {} runs", runs.read().len())}</span>
            <A href=edit_href attr:id="edit-dashboard" attr:class="button">
                {move || if editing.get() { "Done" } else { "Edit" }}
            </A>
            <button id="duplicate" on:click=duplicate title="A copy to change without touching this one">"Duplicate"</button>
            <button id="snapshot" on:click=snapshot title="A copy that keeps showing exactly today's runs">"Snapshot"</button>
            <button class="link danger" on:click=remove>"Delete"</button>
        </div>
        {filter_form}
        {missing}
        {truncated}
        {brush_note}
        {move || error.get().map(|e| view! { <ErrorNote message=e /> })}
        <div class="dashboard" id="dashboard-panels">{panels}</div>
        <form class="note-form" on:submit=add_note id="add-note">
            <textarea rows="3" placeholder="Add a note (Markdown): why we dropped adamw, what to try next…"
                prop:value=draft on:input=move |ev| set_draft.set(event_target_value(&ev))></textarea>
            <button type="submit">"Add note"</button>
        </form>
    }
}

/// What Duplicate and Snapshot do: `make` a copy of dashboard `id` on the
/// server and open it (with `query`), or say why not.
fn open_copy<F, Fut>(
    id: String,
    make: F,
    query: &'static str,
    set_error: WriteSignal<Option<String>>,
) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static
where
    F: Fn(String) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<String, ServerFnError>> + 'static,
{
    let navigate = use_navigate();
    move |_| {
        let (id, make, navigate) = (id.clone(), make.clone(), navigate.clone());
        spawn_local(async move {
            match make(id).await {
                Ok(copy) => navigate(&format!("/dashboards/{copy}{query}"), Default::default()),
                Err(e) => set_error.set(Some(error_sentence(&e))),
            }
        });
    }
}

#[component]
fn DashboardPanel(
    index: usize,
    panel: Panel,
    runs: Memo<Vec<ChartRun>>,
    all_runs: Memo<Vec<ChartRun>>,
    values: RwSignal<Vec<Run>>,
    brushes: Memo<Vec<Brush>>,
    on_brush: Callback<Vec<Brush>>,
) -> impl IntoView {
    match panel {
        Panel::Parallel { fields, color, group, title } => {
            let grouping = Signal::stored(
                group.map(|g| Grouping::from_query(Some(g.by), Some(g.center), Some(g.band))).unwrap_or_default(),
            );
            // The colour is the dashboard's; changing it is an edit.
            let (color_by, set_color_by) = signal(color);
            let on_color = Callback::new(move |c: String| set_color_by.set(c));
            view! {
                {(!title.is_empty()).then(|| view! { <h3>{title}</h3> })}
                <ParallelPanel id=format!("dash-parallel-{index}") runs=all_runs grouping brushes color_by on_color on_brush fields />
            }
            .into_any()
        }
        Panel::Section { title } => view! { <h2 class="dashboard-section">{title}</h2> }.into_any(),
        Panel::Note { text } => view! { <div class="markdown dashboard-note">{markdown(&text)}</div> }.into_any(),
        Panel::Line { metrics, x, smoothing, log_y, title, group, .. } => {
            let settings = Memo::new(move |_| ChartSettings { x: x.clone(), log_y, smooth: smoothing });
            let grouping = Signal::stored(
                group.map(|g| Grouping::from_query(Some(g.by), Some(g.center), Some(g.band))).unwrap_or_default(),
            );
            let charts =
                metrics.into_iter().map(|key| view! { <MetricPanel key runs settings grouping /> }).collect_view();
            view! {
                {(!title.is_empty()).then(|| view! { <h3>{title}</h3> })}
                <div class="chart-grid">{charts}</div>
            }
            .into_any()
        }
        Panel::Bar { metric, title, .. } => {
            let key = metric.clone();
            let figure = Signal::derive(move || {
                let runs = runs.get();
                let values = values.get();
                let traces = runs
                    .iter()
                    .filter_map(|r| {
                        let v = latest(&values, &r.run_id, &format!("metrics.{key}"))?.parse::<f64>().ok()?;
                        Some(Trace {
                            name: r.name.clone(),
                            bar_labels: vec![r.name.clone()],
                            y: vec![Some(v)],
                            color: r.color.clone(),
                            ..Default::default()
                        })
                    })
                    .collect();
                Some(Figure { traces, x_title: "run".into(), y_title: key.clone(), ..Default::default() })
            });
            let caption = if title.is_empty() { metric.clone() } else { title };
            view! {
                <figure class="chart-card" data-metric=metric>
                    <figcaption><span class="mono">{caption}</span></figcaption>
                    <Chart id=format!("dash-bar-{index}") figure />
                </figure>
            }
            .into_any()
        }
        Panel::Scatter { x, y, title, .. } => {
            let (fx, fy) = (x.clone(), y.clone());
            let figure = Signal::derive(move || {
                let (runs, values) = (runs.get(), values.get());
                let mut categories: Vec<String> = Vec::new();
                let mut t = Trace { markers: true, name: fy.clone(), ..Default::default() };
                for r in &runs {
                    let (Some(vx), Some(vy)) = (
                        latest(&values, &r.run_id, &fx),
                        latest(&values, &r.run_id, &fy).and_then(|v| v.parse::<f64>().ok()),
                    ) else {
                        continue;
                    };
                    let xv = vx.parse::<f64>().unwrap_or_else(|_| {
                        let i = categories.iter().position(|c| *c == vx).unwrap_or_else(|| {
                            categories.push(vx.clone());
                            categories.len() - 1
                        });
                        i as f64
                    });
                    t.x.push(xv);
                    t.y.push(Some(vy));
                    t.text.push(format!("{} ({vx})", r.name));
                    t.point_colors.push(r.color.clone());
                }
                Some(Figure { traces: vec![t], x_title: fx.clone(), y_title: fy.clone(), ..Default::default() })
            });
            let caption = if title.is_empty() { format!("{y} vs {x}") } else { title };
            view! {
                <figure class="chart-card">
                    <figcaption><span class="mono">{caption}</span></figcaption>
                    <Chart id=format!("dash-scatter-{index}") figure />
                </figure>
            }
            .into_any()
        }
        Panel::Table { columns, title } => {
            let head = columns.iter().map(|c| view! { <th class="mono">{c.clone()}</th> }).collect_view();
            let body = move || {
                let (runs, values) = (runs.get(), values.get());
                runs.into_iter()
                    .map(|r| {
                        let cells = columns
                            .iter()
                            .map(|c| {
                                let v = latest(&values, &r.run_id, c).unwrap_or_else(|| "–".into());
                                let shown = v.parse::<f64>().map(format_value).unwrap_or(v);
                                view! { <td>{shown}</td> }
                            })
                            .collect_view();
                        view! {
                            <tr>
                                <td class="name"><span class="run-dot" style=format!("background:{}", r.color)></span>{r.name.clone()}</td>
                                {cells}
                            </tr>
                        }
                    })
                    .collect_view()
            };
            view! {
                {(!title.is_empty()).then(|| view! { <h3>{title}</h3> })}
                <table class="grid dashboard-table"><thead><tr><th>"Run"</th>{head}</tr></thead><tbody>{body}</tbody></table>
            }
            .into_any()
        }
    }
}

/// What a panel is, in a few words, for the edit mode's controls.
fn panel_label(panel: &Panel) -> String {
    match panel {
        Panel::Section { title } => format!("Section \u{201c}{title}\u{201d}"),
        Panel::Note { .. } => "Note".into(),
        Panel::Line { metrics, .. } => format!("Line chart: {}", metrics.join(", ")),
        Panel::Bar { metric, .. } => format!("Bars: {metric}"),
        Panel::Scatter { x, y, .. } => format!("Scatter: {y} vs {x}"),
        Panel::Table { columns, .. } => format!("Table: {} columns", columns.len()),
        Panel::Parallel { .. } => "Parallel coordinates".into(),
    }
}

/// A run's value of `metrics.<k>` (latest), `params.<k>` or `tags.<k>`.
fn latest(values: &[Run], run_id: &str, field: &str) -> Option<String> {
    super::compare::value_of(values.iter().find(|r| r.info.run_id == run_id)?, field)
}
