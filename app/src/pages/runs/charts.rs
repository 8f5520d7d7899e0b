//! The experiment chart view (`/experiments/{id}?view=charts`): one panel
//! per metric for every run the table's filter keeps, each run in its own
//! colour, panels in sections by key prefix (`train/`, `val/`, …) and a
//! panel search (`?q=`). The filter, order and chart settings are the
//! table's and the URL's, so a link reopens the same view.

use super::super::{ErrorNote, Loading};
use crate::aggregate::Grouping;
use crate::components::add_panel::AddPanel;
use crate::components::chart_settings::{chart_settings, ChartControls, ChartSettings};
use crate::components::group_controls::GroupControls;
use crate::components::importance::ImportancePanel;
use crate::components::markdown::markdown;
use crate::components::name_prompt::NamePrompt;
use crate::components::panel::{section_of, Panel};
use crate::components::parallel_panel::ParallelPanel;
use crate::components::status::{write_and_open, WriteErrors};
use crate::components::summary_charts::{BarChart, ScatterChart, ValueOf};
use crate::components::values_dock::{ValuesAt, ValuesDock};
use crate::dashboard_draft::{format_added, parse_added, CHART_VIEW_KINDS, MAX_ADDED_PANELS};
use crate::live::{use_live, LiveEvent};
use crate::panel_overrides::{self, Override};
use crate::parallel::{format_brushes, kept_by, parse_brushes, Brush};
use crate::run_marks::{format_hidden, format_pins, parse_hidden, parse_pins};
use crate::server_fns::dashboards::{save_chart_view, ShownView};
use crate::server_fns::{chart_runs, ChartData, ChartRun};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeMap;
use tracking::dashboards::Panel as PanelSpec;

/// Panels that load and draw at once; those after them wait until the
/// user scrolls near (an experiment can have 1,000 metrics).
const EAGER_PANELS: usize = 24;

#[component]
pub fn ExperimentCharts(
    experiment_id: String,
    filter: String,
    order: String,
    deleted: bool,
    /// The runs, when they came with the page (`chart_runs` of this filter).
    initial: Option<Result<ChartData, String>>,
) -> impl IntoView {
    let settings = chart_settings();
    let query = use_query_map();
    let navigate = use_navigate();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let grouping = Memo::new(move |_| {
        let q = query.read();
        Grouping::from_query(q.get("group"), q.get("agg"), q.get("band")).styled(q.get("style"))
    });
    let set_param = {
        let navigate = navigate.clone();
        Callback::new(move |(key, value): (&'static str, String)| {
            navigate(
                &crate::url_state::url_with_param(&query.get_untracked(), key, &value),
                crate::url_state::in_place(),
            )
        })
    };
    // A panel's own log scale, smoothing and outliers over the view's (`?panel=`).
    let overrides = Memo::new(move |_| panel_overrides::parse(&query.read().get("panel").unwrap_or_default()));
    let on_override = Callback::new(move |(key, o): (String, Override)| {
        let mut all = overrides.get_untracked();
        if o.is_empty() {
            all.remove(&key);
        } else {
            all.insert(key, o);
        }
        set_param.run(("panel", panel_overrides::format(&all)));
    });
    let set_search = {
        let navigate = navigate.clone();
        move |text: String| {
            navigate(
                &crate::url_state::url_with_param(&query.get_untracked(), "q", &text),
                crate::url_state::in_place(),
            )
        }
    };
    // The newest answer: the one that came with the page (the server renders
    // it in, so the panels ask for their lines as soon as the page is live),
    // else one asked for now, then live reloads'. Panels hang on `runs` and
    // `metrics` only, so a run that starts or ends redraws their lines but
    // keeps the panels (and their zoom).
    let (loaded, set_loaded) = signal(initial);
    let ask = {
        let (experiment_id, filter, order) = (experiment_id.clone(), filter.clone(), order.clone());
        move || {
            let (experiment_id, filter, order) = (experiment_id.clone(), filter.clone(), order.clone());
            spawn_local(async move {
                let answer = chart_runs(experiment_id, filter, order, deleted).await.map_err(|e| e.message);
                let _ = set_loaded.try_set(Some(answer));
            })
        }
    };
    Effect::new({
        let ask = ask.clone();
        move |_| {
            if loaded.with_untracked(Option::is_none) {
                ask();
            }
        }
    });
    let runs = Memo::new(move |_| {
        loaded.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.runs.clone()).unwrap_or_default())
    });
    let metrics = Memo::new(move |_| {
        loaded.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.metrics.clone()).unwrap_or_default())
    });
    // Runs brushed on the parallel coordinates (`?brush=`): the panels
    // draw only those.
    let brush_state = Memo::new(move |_| parse_brushes(&query.read().get("brush").unwrap_or_default()));
    let brushes = Memo::new(move |_| brush_state.get().0);
    let color_by = Memo::new(move |_| query.read().get("pcolor").unwrap_or_default());
    // Runs hidden with their eye toggle (`?hide=`) and colours pinned over
    // a run's own (`?colors=`).
    let hidden = Memo::new(move |_| parse_hidden(&query.read().get("hide").unwrap_or_default()));
    let pin_state = Memo::new(move |_| parse_pins(&query.read().get("colors").unwrap_or_default()));
    let loaded_runs = runs;
    let all_runs = Memo::new(move |_| {
        let mut runs = loaded_runs.get();
        pin_state.with(|(pins, _)| {
            for r in &mut runs {
                if let Some(c) = pins.get(&r.run_id) {
                    r.color = c.clone();
                }
            }
        });
        runs
    });
    let unhidden = Memo::new(move |_| {
        let hidden = hidden.get();
        all_runs.get().into_iter().filter(|r| !hidden.contains(&r.run_id)).collect::<Vec<_>>()
    });
    // Runs ticked in the table when the view was switched (`?sel=`): the
    // panels draw only those.
    let picked = Memo::new(move |_| {
        let sel = query.read().get("sel").unwrap_or_default();
        sel.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<std::collections::BTreeSet<String>>()
    });
    let runs = Memo::new(move |_| {
        let mut shown = unhidden.get();
        picked.with(|p| {
            if !p.is_empty() {
                shown.retain(|r| p.contains(&r.run_id));
            }
        });
        brushes.with(|b| {
            if b.is_empty() {
                shown
            } else {
                shown.into_iter().filter(|r| kept_by(b, |f| r.value(f))).collect()
            }
        })
    });
    let toggle_hidden = Callback::new(move |id: String| {
        let mut h = hidden.get_untracked();
        if !h.remove(&id) {
            h.insert(id);
        }
        set_param.run(("hide", format_hidden(&h)));
    });
    let pin_color = Callback::new(move |(id, color): (String, String)| {
        let mut pins = pin_state.get_untracked().0;
        pins.insert(id, color);
        set_param.run(("colors", format_pins(&pins)));
    });
    let on_brush = Callback::new(move |b: Vec<Brush>| set_param.run(("brush", format_brushes(&b))));
    // Panels added over the one per metric (`?add=`): metrics in one
    // chart, bars, scatters and notes.
    let added_state = Memo::new(move |_| parse_added(&query.read().get("add").unwrap_or_default()));
    let added = Memo::new(move |_| added_state.get().0);
    let set_added = Callback::new(move |panels: Vec<PanelSpec>| set_param.run(("add", format_added(&panels))));
    let on_add = Callback::new(move |panel: PanelSpec| {
        let mut panels = added.get_untracked();
        panels.insert(0, panel);
        panels.truncate(MAX_ADDED_PANELS);
        set_added.run(panels);
    });
    let value: ValueOf = Callback::new(move |(id, field): (String, String)| {
        all_runs.with(|runs| runs.iter().find(|r| r.run_id == id).and_then(|r| r.value(&field)))
    });
    let on_color = Callback::new(move |c: String| set_param.run(("pcolor", c)));
    // Values at the hovered step, from whichever panel is hovered; a row
    // clicked there shows that run alone (`?sel=`, as runs ticked in the table).
    let docked = RwSignal::new(None::<ValuesAt>);
    provide_context(docked);
    let isolate = Callback::new(move |id: String| set_param.run(("sel", id)));
    // The metric the params are weighed for (`?imp=`): else the one the
    // parallel coordinates are coloured by, else the first.
    let importance_metric = Memo::new(move |_| {
        let q = query.read();
        let chosen = q.get("imp").filter(|m| !m.is_empty());
        let coloured = q.get("pcolor").and_then(|c| c.strip_prefix("metrics.").map(String::from));
        chosen.or(coloured).or_else(|| metrics.with(|m| m.first().cloned())).unwrap_or_default()
    });
    let picked_param = Memo::new(move |_| query.read().get("sx").unwrap_or_default());
    let on_importance_metric = Callback::new(move |m: String| set_param.run(("imp", m)));
    let on_pick_param = Callback::new(move |f: String| set_param.run(("sx", f)));
    // The parallel coordinates open on demand (`?pc=1`), or by themselves
    // when the link picks runs on them: the first screen is for line charts.
    let parallel_open =
        Memo::new(move |_| query.read().get("pc").is_some_and(|v| v == "1") || brushes.with(|b| !b.is_empty()));
    let group_keys = Memo::new(move |_| {
        loaded.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.group_keys.clone()).unwrap_or_default())
    });
    let metrics_shown = move |q: &str| -> Vec<String> {
        metrics.get_untracked().into_iter().filter(|k| q.is_empty() || k.to_lowercase().contains(q)).collect()
    };
    // "Save as dashboard": this view as it is shown, under a name.
    let save_errors = WriteErrors::new();
    let save_write = write_and_open(
        save_errors,
        move |shown: &ShownView| save_chart_view(shown.clone()),
        |id| format!("/dashboards/{id}"),
    );
    let save = {
        let (experiment_id, filter, order) = (experiment_id.clone(), filter.clone(), order.clone());
        Callback::new(move |name: String| {
            let q = search.get_untracked().to_lowercase();
            let shown: Vec<String> = metrics_shown(&q);
            let s = settings.get_untracked();
            let (experiment_id, filter, order) = (experiment_id.clone(), filter.clone(), order.clone());
            save_write.dispatch(ShownView {
                name,
                experiment_id,
                filter,
                order_by: order,
                metrics: shown,
                x: s.x.to_param(),
                smoothing: s.smooth,
                log_y: s.log_y,
                ignore_outliers: s.ignore_outliers,
                group: grouping.get_untracked().line_grouping(),
                parallel_color: color_by.get_untracked(),
                colors: format_pins(&pin_state.get_untracked().0),
                hidden: format_hidden(&hidden.get_untracked()),
                overrides: panel_overrides::format(&overrides.get_untracked()),
                added: format_added(&added.get_untracked()),
            });
        })
    };
    let truncated = Memo::new(move |_| loaded.with(|d| matches!(d, Some(Ok(d)) if d.truncated)));
    let state = Memo::new(move |_| match &*loaded.read() {
        None => Err(None),
        Some(Err(e)) => Err(Some(e.clone())),
        Some(Ok(d)) if d.runs.is_empty() => Ok("No runs match."),
        Some(Ok(d)) if d.metrics.is_empty() => Ok("These runs have no metrics."),
        Some(Ok(_)) => Ok(""),
    });
    // The run list and the parallel coordinates render once the first
    // panel is drawn (or 1.5 s on, if none is), so the first chart does not
    // wait for 1,000 runs' lines to be laid out.
    let (rest_shown, set_rest_shown) = signal(false);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        crate::charts::load_plotly_early();
        if state.read().is_ok() {
            let show = move || {
                let _ = set_rest_shown.try_set(true);
            };
            crate::charts::after_next_chart(show, std::time::Duration::from_millis(1500));
            return true;
        }
        false
    });
    let (run_list_open, set_run_list_open) = signal(false);
    if let Some(live) = use_live() {
        // Runs that start, end or change, and metrics new to the view,
        // reload the run list; points of known runs go straight to the panels.
        let reload = crate::live::debounced(1000, ask);
        live.on(move |event| {
            let known = |run: &str| all_runs.try_with_untracked(|r| r.iter().any(|r| r.run_id == run)).unwrap_or(true);
            let new_key = |points: &[crate::live::LivePoint]| {
                metrics.try_with_untracked(|m| points.iter().any(|p| !m.contains(&p.key))).unwrap_or(false)
            };
            let new_range_key =
                |keys: &[String]| metrics.try_with_untracked(|m| keys.iter().any(|k| !m.contains(k))).unwrap_or(false);
            match &event {
                LiveEvent::Metrics { run_id, points, .. } if known(run_id) && !new_key(points) => {}
                LiveEvent::MetricsRange { run_id, keys, .. } if known(run_id) && !new_range_key(keys) => {}
                LiveEvent::Experiment { .. } => {}
                _ => reload(),
            }
        });
    }
    view! {
        <div class="toolbar">
            <input
                id="panel-search"
                class="mono"
                placeholder="Search panels"
                prop:value=move || search.get()
                on:change=move |ev| set_search(event_target_value(&ev))
            />
            <details class="add-chart-panel" id="add-chart-panel">
                <summary>"Add panel"</summary>
                <AddPanel id="add-chart-panel-form" kinds=CHART_VIEW_KINDS.to_vec() metric_keys=metrics on_add />
            </details>
            <NamePrompt id="save-dashboard" label="Save as dashboard" placeholder="Name of the dashboard"
                title="Save these panels, this filter and these settings as a dashboard to share" on_name=save />
        </div>
        {save_errors.view()}
        <ChartControls settings metric_keys=metrics />
        <GroupControls keys=group_keys grouping on_set=set_param />
        {move || match state.get() {
            Err(None) => view! { <Loading what="charts" /> }.into_any(),
            Err(Some(e)) => view! { <ErrorNote message=e /> }.into_any(),
            Ok(empty) if !empty.is_empty() => view! { <p class="empty">{empty}</p> }.into_any(),
            Ok(_) => {
                let body = move || {
                    let q = search.get().to_lowercase();
                    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
                    for key in metrics.get().into_iter().filter(|k| q.is_empty() || k.to_lowercase().contains(&q)) {
                        sections.entry(section_of(&key).to_string()).or_default().push(key);
                    }
                    if sections.is_empty() {
                        return view! { <p class="empty">"No panel matches the search."</p> }.into_any();
                    }
                    let mut shown = 0;
                    sections
                        .into_iter()
                        .map(|(name, keys)| {
                            let count = match keys.len() {
                                1 => format!("{name} (1 panel)"),
                                n => format!("{name} ({n} panels)"),
                            };
                            let panels = keys
                                .into_iter()
                                .map(|key| {
                                    shown += 1;
                                    let lazy = shown > EAGER_PANELS;
                                    view! { <Panel key runs settings grouping overrides on_override lazy /> }
                                })
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
                let selection = move || {
                    let (shown, all) = (runs.read().len(), unhidden.read().len());
                    if !picked.read().is_empty() && brushes.read().is_empty() {
                        return view! {
                            <p class="selection-bar" id="charts-run-count">
                                {format!("{shown} of {all} runs: those selected in the table")}
                                " "
                                <button id="clear-selection" on:click=move |_| set_param.run(("sel", String::new()))>"Show all runs"</button>
                            </p>
                        }
                        .into_any();
                    }
                    if brushes.read().is_empty() {
                        return view! { <p class="muted" id="charts-run-count">{format!("{all} runs")}</p> }.into_any();
                    }
                    let ids: Vec<String> = runs.read().iter().take(100).map(|r| r.run_id.clone()).collect();
                    let compare = (2..=100).contains(&shown).then(|| {
                        view! { <A href=format!("/compare?runs={}", ids.join(",")) attr:id="compare-brushed">{format!("Compare {shown}")}</A> }
                    });
                    view! {
                        <p class="selection-bar" id="charts-run-count">
                            {format!("{shown} of {all} runs picked on the parallel coordinates")}
                            " " {compare} " "
                            <button id="clear-brush" on:click=move |_| on_brush.run(Vec::new())>"Show all runs"</button>
                        </p>
                    }
                    .into_any()
                };
                let run_list = move || {
                    if !rest_shown.get() {
                        return None;
                    }
                    let hidden = hidden.get();
                    // Items only while the list is open: 1,000 of them cost
                    // a first chart 100 ms.
                    let runs = if run_list_open.get() { all_runs.get() } else { Vec::new() };
                    let items = runs
                        .into_iter()
                        .map(|r| {
                            let off = hidden.contains(&r.run_id);
                            let (id1, id2) = (r.run_id.clone(), r.run_id.clone());
                            view! {
                                <li class:hidden-run=off data-run-id=r.run_id.clone()>
                                    <button class="link eye" aria-pressed=(!off).to_string()
                                        title=if off { "Show this run in the charts" } else { "Hide this run from the charts" }
                                        on:click=move |_| toggle_hidden.run(id1.clone())>
                                        {if off { "○" } else { "◉" }}
                                    </button>
                                    <input type="color" class="pin-color" title="Pin a colour for this run (kept in the link)"
                                        // A colour input takes lower-case hex only (else it shows black).
                                        prop:value=r.color.to_lowercase()
                                        on:change=move |ev| pin_color.run((id2.clone(), event_target_value(&ev))) />
                                    <span class:stopped=r.stopped>{r.name.clone()}</span>
                                </li>
                            }
                        })
                        .collect_view();
                    let n = hidden.len();
                    let summary = if n == 0 { "Runs shown".to_string() } else { format!("Runs shown ({n} hidden)") };
                    Some(view! {
                        <details class="run-list" id="run-list" prop:open=run_list_open
                            on:toggle=move |ev| set_run_list_open.set(event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open())>
                            <summary>{summary}</summary>
                            <ul>{items}</ul>
                        </details>
                    })
                };
                view! {
                    {move || pin_state.get().1.then(|| view! {
                        <ErrorNote message="Some colours in this link could not be read; those runs keep their own.".to_string() />
                    })}
                    {move || added_state.get().1.then(|| view! {
                        <ErrorNote message="Some added panels in this link could not be read; they were left out.".to_string() />
                    })}
                    {move || brush_state.get().1.then(|| view! {
                        <ErrorNote message="Part of the selection in this link could not be read; it was left out.".to_string() />
                    })}
                    {move || {
                        let pairs: Vec<(String, String)> =
                            query.with(|q| q.latest_values().map(|(k, v)| (k.to_string(), v.to_string())).collect());
                        let said = metrics.with(|m| group_keys.with(|g| crate::chart_link::unreadable(&pairs, m, g)));
                        (!said.is_empty()).then(|| {
                            let message = format!(
                                "Some settings in this link could not be read; the charts are drawn without them: {}.",
                                said.join(", ")
                            );
                            view! { <ErrorNote message /> }
                        })
                    }}
                    {selection}
                    {run_list}
                    <details class="panel-section" data-section="parallel" id="parallel-section" prop:open=parallel_open
                        on:toggle=move |ev| {
                            let open = event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open();
                            if open != parallel_open.get_untracked() {
                                set_param.run(("pc", if open { "1".into() } else { String::new() }));
                            }
                        }>
                        <summary>
                            "Parallel coordinates and parameter importance "
                            <span class="muted">"(pick runs by their params and metrics; see which params matter)"</span>
                        </summary>
                        {
                            let (experiment_id, filter) = (experiment_id.clone(), filter.clone());
                            move || match rest_shown.get() && parallel_open.get() {
                                true => view! {
                                    <ParallelPanel id="parallel" runs=unhidden grouping brushes color_by on_color on_brush />
                                    <ImportancePanel experiment_id=experiment_id.clone() filter=filter.clone() deleted
                                        metrics=metrics metric=importance_metric on_metric=on_importance_metric
                                        picked=picked_param on_pick=on_pick_param runs=unhidden />
                                }.into_any(),
                                false => view! { <div class="parallel-placeholder"></div> }.into_any(),
                            }
                        }
                    </details>
                    {move || truncated.get().then(|| view! {
                        <p class="muted" id="charts-truncated">
                            {format!("Showing the first {} runs the filter keeps.", runs.read_untracked().len())}
                        </p>
                    })}
                    <div class="charts-with-values">
                        <div id="experiment-charts">
                            <AddedPanels panels=added runs settings grouping overrides on_override value on_set=set_added />
                            {body}
                        </div>
                        <ValuesDock values=docked on_isolate=isolate />
                    </div>
                }
                .into_any()
            }
        }}
    }
}

/// The panels a link adds over the one per metric, first on the page, each
/// with a button that takes it away again.
#[component]
fn AddedPanels(
    panels: Memo<Vec<PanelSpec>>,
    runs: Memo<Vec<ChartRun>>,
    settings: Memo<ChartSettings>,
    grouping: Memo<Grouping>,
    overrides: Memo<panel_overrides::Overrides>,
    on_override: Callback<(String, Override)>,
    value: ValueOf,
    on_set: Callback<Vec<PanelSpec>>,
) -> impl IntoView {
    move || {
        let all = panels.get();
        if all.is_empty() {
            return None;
        }
        let count = match all.len() {
            1 => "Added (1 panel)".to_string(),
            n => format!("Added ({n} panels)"),
        };
        let items = all
            .into_iter()
            .enumerate()
            .map(|(i, panel)| {
                let remove = move |_| {
                    let mut rest = panels.get_untracked();
                    if i < rest.len() {
                        rest.remove(i);
                    }
                    on_set.run(rest);
                };
                let body = match panel {
                    PanelSpec::Line { metrics, .. } => {
                        let mut keys = metrics.into_iter();
                        let key = keys.next().unwrap_or_default();
                        view! { <Panel key with=keys.collect() runs settings grouping overrides on_override /> }.into_any()
                    }
                    PanelSpec::Bar { metric, title, .. } => {
                        let caption = if title.is_empty() { metric.clone() } else { title };
                        view! { <BarChart id=format!("added-bar-{i}") metric caption runs value grouping /> }.into_any()
                    }
                    PanelSpec::Scatter { x, y, title, .. } => {
                        let caption = if title.is_empty() { format!("{y} vs {x}") } else { title };
                        view! { <ScatterChart id=format!("added-scatter-{i}") x y caption runs value /> }.into_any()
                    }
                    PanelSpec::Note { text } => {
                        view! { <div class="markdown added-note">{markdown(&text)}</div> }.into_any()
                    }
                    // `parse_added` keeps no other kind.
                    _ => ().into_any(),
                };
                view! {
                    <div class="added-panel" data-added-index=i>
                        <button class="link remove-added" title="Take this panel away" on:click=remove>"\u{00d7}"</button>
                        {body}
                    </div>
                }
            })
            .collect_view();
        Some(view! {
            <details class="panel-section" open data-section="added" id="added-panels">
                <summary>{count}</summary>
                <div class="chart-grid">{items}</div>
            </details>
        })
    }
}
