//! `/dashboards`: saved, shared views; `/dashboards/{id}`: one dashboard,
//! its panels and notes over the live data of the runs it selects.

use super::{ErrorNote, Loaded, Loading, ServerError};
use crate::aggregate::Grouping;
use crate::app_error::AppError;
use crate::components::add_panel::AddPanel;
use crate::components::artifacts::download_url;
use crate::components::chart_settings::{ChartSettings, XAxis};
use crate::components::markdown::markdown;
use crate::components::panel::Panel as MetricPanel;
use crate::components::parallel_panel::ParallelPanel;
use crate::components::status::{write_and_open, WriteErrors};
use crate::components::summary_charts::{BarChart, ScatterChart, ValueOf};
use crate::dashboard_draft::{self as draft, PanelMove, Selection};
use crate::format::{format_time, format_value};
use crate::logged_images::{all_steps, at_step};
use crate::parallel::{format_brushes, kept_by, parse_brushes, Brush};
use crate::server_fns::dashboards::{
    dashboard_view, delete_dashboard, duplicate_dashboard, list_dashboards, logged_images, save_dashboard, save_note,
    snapshot_dashboard, DashboardData, MAX_IMAGE_RUNS,
};
use crate::server_fns::{list_experiments, ChartRun};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use tracking::dashboards::{DashboardSpec, Panel};
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
            <Loaded what="dashboards" data=list let:loaded>
                {match loaded {
                        rows if rows.is_empty() && experiment.get_untracked().is_some() => view! {
                            <p class="empty">
                                "No dashboard shows this experiment yet. Open its Charts view and press \u{201c}Save as dashboard\u{201d}."
                            </p>
                        }.into_any(),
                        rows if rows.is_empty() => view! {
                            <p class="empty">
                                "No dashboards yet. Open an experiment's Charts view and press \u{201c}Save as dashboard\u{201d}, \
                                 or create one through the REST API (see the README)."
                            </p>
                        }.into_any(),
                        rows => {
                            let rows = rows.into_iter().map(|d| view! {
                                <tr data-dashboard-id=d.dashboard_id.clone()>
                                    <td class="name"><A href=format!("/dashboards/{}", d.dashboard_id)>{d.name.clone()}</A></td>
                                    <td>{d.description.clone()}</td>
                                    <td>{if d.snapshot { "snapshot".to_string() } else { d.experiment_ids.join(", ") }}</td>
                                    <td class="num">{d.panels}</td>
                                    <td>
                                        {format_time(d.last_update_time)}
                                        {(!d.last_updated_by.is_empty()).then(|| format!(" by {}", d.last_updated_by))}
                                    </td>
                                </tr>
                            }).collect_view();
                            view! {
                                <table class="grid" id="dashboards">
                                    <thead><tr><th>"Name"</th><th>"Description"</th><th>"Experiments"</th><th>"Panels"</th><th>"Last saved (UTC)"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }
                }}
            </Loaded>
        </section>
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let params = use_params_map();
    let url = use_query_map();
    // The runs of the selection the page shows: the unsaved draft's when the
    // URL carries one (read once per dashboard; edits refetch by themselves).
    let data = Resource::new(
        move || {
            let id = params.read().get("id").unwrap_or_default();
            let draft = url.with_untracked(|q| q.get("draft")).and_then(|t| draft::decode(&t).ok());
            (id, draft.map(|d| Selection::of(&d).to_text()).unwrap_or_default())
        },
        |(id, selection)| dashboard_view(id, selection),
    );
    view! {
        <section class="page wide">
            <Loaded what="dashboard" data let:found>
                <DashboardBody data=found reload=move || data.refetch() />
            </Loaded>
        </section>
    }
}

#[component]
fn DashboardBody(data: DashboardData, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let d = data.dashboard.clone();
    let navigate = use_navigate();
    // What went wrong, a write's failure or an edit the rules refuse, in a sentence.
    let errors = WriteErrors::new();
    let url = use_query_map();
    // Edit mode (`?edit=1`, so it survives a reload) changes a draft kept in
    // the URL (`?draft=`, based on `?base=` version): Save stores it.
    let editing = Memo::new(move |_| url.read().get("edit").as_deref() == Some("1"));
    let draft_state = Memo::new(move |_| url.read().get("draft").filter(|t| !t.is_empty()).map(|t| draft::decode(&t)));
    let saved = d.spec.clone();
    let spec = Memo::new(move |_| match draft_state.get() {
        Some(Ok(s)) => s,
        _ => saved.clone(),
    });
    let dirty = Memo::new(move |_| matches!(draft_state.get(), Some(Ok(_))));
    let base = {
        let version = d.version;
        Memo::new(move |_| url.read().get("base").and_then(|b| b.parse::<i64>().ok()).unwrap_or(version))
    };
    let edit = {
        let (navigate, saved) = (navigate.clone(), d.spec.clone());
        Callback::new(move |next: DashboardSpec| {
            if let Err(e) = next.clone().checked() {
                errors.say(AppError::from(e));
                return;
            }
            errors.clear();
            let q = url.get_untracked();
            let target = if next == saved {
                super::url_with_params(&q, &[("edit", "1"), ("draft", ""), ("base", "")])
            } else {
                let base = base.get_untracked().to_string();
                super::url_with_params(&q, &[("edit", "1"), ("draft", &draft::encode(&next)), ("base", &base)])
            };
            navigate(&target, super::in_place());
        })
    };

    // The runs move while the page is open: lines grow in place, and the
    // run list and values are refetched (panels stay, so does their zoom).
    let runs = RwSignal::new(data.runs.clone());
    let values = RwSignal::new(data.values.clone());
    let missing = RwSignal::new(data.missing.len());
    let truncated = RwSignal::new(data.truncated);
    let gone = RwSignal::new(data.gone_experiments.clone());
    // The selection the runs are of; a draft that changes it fetches its runs.
    let loaded = StoredValue::new(Selection::of(&spec.get_untracked()));
    let fetch_runs = {
        let id = d.dashboard_id.clone();
        move || {
            let (id, selection) = (id.clone(), loaded.get_value().to_text());
            spawn_local(async move {
                match dashboard_view(id, selection).await {
                    Ok(fresh) => {
                        runs.try_set(fresh.runs);
                        values.try_set(fresh.values);
                        missing.try_set(fresh.missing.len());
                        truncated.try_set(fresh.truncated);
                        gone.try_set(fresh.gone_experiments);
                    }
                    Err(e) => {
                        errors.say(e);
                    }
                }
            });
        }
    };
    Effect::new({
        let fetch_runs = fetch_runs.clone();
        move |_| {
            let selection = Selection::of(&spec.read());
            if selection != loaded.get_value() {
                loaded.set_value(selection);
                fetch_runs();
            }
        }
    });
    let live = crate::live::provide_live(d.spec.experiment_ids.clone(), d.spec.run_ids.clone());
    let refresh = crate::live::debounced(1000, fetch_runs);
    // Bars, scatters and tables show latest values: every change refreshes
    // them (at most once a second); the lines append their own points.
    live.on(move |_| refresh());
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
            navigate(&super::url_with_param(&url.get_untracked(), "brush", &format_brushes(&b)), super::in_place())
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
    let page_url = format!("/dashboards/{}", d.dashboard_id);
    let edit_href = {
        let page_url = page_url.clone();
        move || if editing.get() { page_url.clone() } else { format!("{page_url}?edit=1") }
    };
    // Writes: each opens what it made, or says why not where the page's errors go.
    let duplicate = open_copy(d.dashboard_id.clone(), errors, "?edit=1", duplicate_dashboard);
    let snapshot = open_copy(d.dashboard_id.clone(), errors, "", snapshot_dashboard);
    let delete_write = errors.watch(Action::new(move |id: &String| delete_dashboard(id.clone())));
    Effect::new({
        let navigate = navigate.clone();
        move |_| {
            if matches!(delete_write.value().get(), Some(Ok(()))) {
                navigate("/dashboards", Default::default());
            }
        }
    });
    let save_write = errors.watch(Action::new(move |(id, version, text): &(String, i64, String)| {
        save_dashboard(id.clone(), *version, text.clone())
    }));
    Effect::new({
        let (navigate, page_url) = (navigate.clone(), page_url.clone());
        move |_| {
            if matches!(save_write.value().get(), Some(Ok(()))) {
                navigate(&format!("{page_url}?edit=1"), Default::default());
                reload();
            }
        }
    });
    let remove = {
        let (id, name) = (d.dashboard_id.clone(), d.spec.name.clone());
        move |_| {
            if !window().confirm_with_message(&format!("Delete the dashboard \u{201c}{name}\u{201d}?")).unwrap_or(false)
            {
                return;
            }
            delete_write.dispatch(id.clone());
        }
    };
    let save = {
        let id = d.dashboard_id.clone();
        move |_| {
            save_write.dispatch((id.clone(), base.get_untracked(), draft::encode(&spec.get_untracked())));
        }
    };
    let discard_href = format!("{page_url}?edit=1");
    let draft_bar = move || {
        let bad = match draft_state.get() {
            Some(Err(why)) => Some(view! { <ErrorNote message=why /> }),
            _ => None,
        };
        let bar = dirty.get().then(|| {
            view! {
                <div class="draft-bar" id="draft-bar" role="status">
                    <span>{format!("Unsaved changes, based on version {}. This page's link keeps them.", base.get())}</span>
                    <button id="save-draft" class="primary" on:click=save.clone()>"Save"</button>
                    <A href=discard_href.clone() attr:id="discard-draft">"Discard"</A>
                </div>
            }
        });
        view! { {bad} {bar} }
    };

    // The note form: on a dashboard being edited it adds to the draft;
    // otherwise it saves at once, as the version the page read.
    let (note_draft, set_note_draft) = signal(String::new());
    let note_write = errors.watch(Action::new(move |(id, version, text): &(String, i64, String)| {
        save_note(id.clone(), *version, None, text.clone())
    }));
    Effect::new(move |_| {
        if matches!(note_write.value().get(), Some(Ok(()))) {
            set_note_draft.set(String::new());
            reload();
        }
    });
    let add_note = {
        let (id, version) = (d.dashboard_id.clone(), d.version);
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = note_draft.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            if editing.get_untracked() {
                let mut next = spec.get_untracked();
                next.panels.push(Panel::Note { text });
                edit.run(next);
                set_note_draft.set(String::new());
                return;
            }
            note_write.dispatch((id.clone(), version, text));
        }
    };

    let selection = move || {
        let s = spec.get();
        if s.run_ids.is_empty() {
            let exps = s
                .experiment_ids
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let sep = if i == 0 { "" } else { ", " };
                    view! { {sep} <A href=format!("/experiments/{e}")>{format!("experiment {e}")}</A> }
                })
                .collect_view();
            let filter = (!s.filter.is_empty()).then(|| view! { " where " <code>{s.filter.clone()}</code> });
            view! { <span>"Runs of " {exps} {filter}</span> }.into_any()
        } else {
            view! { <span id="snapshot-note">{format!("A snapshot of {} runs", s.run_ids.len())}</span> }.into_any()
        }
    };
    let missing_note = move || {
        let n = missing.get();
        (n > 0).then(|| view! { <p class="muted">{format!("{n} pinned runs no longer exist.")}</p> })
    };
    let gone_note =
        move || gone.get().into_iter().map(|g| view! { <p class="muted gone-experiment">{g}</p> }).collect_view();
    let truncated_note = move || {
        truncated.get().then(|| {
            view! { <p class="muted">{format!("Showing the first {} runs the filter keeps.", runs.read().len())}</p> }
        })
    };
    // Each panel with its place; a move re-renders only the panels it moves.
    let items = move || {
        spec.read()
            .panels
            .iter()
            .enumerate()
            .map(|(i, p)| (i, serde_json::to_string(p).unwrap_or_default(), p.clone()))
            .collect::<Vec<_>>()
    };
    let metric_keys = Memo::new(move |_| {
        let mut keys: Vec<String> = runs
            .read()
            .iter()
            .flat_map(|r| r.latest.keys().filter_map(|k| k.strip_prefix("metrics.")).map(String::from))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    });
    view! {
        <div class="page-head">
            <h1><A href="/dashboards">"Dashboards"</A> " / " <span id="dashboard-name">{move || spec.read().name.clone()}</span></h1>
            <span class="muted">{format!("version {} · saved {} UTC", d.version, format_time(d.last_update_time))}</span>
            <crate::live::LiveBadge />
        </div>
        {move || {
            let description = spec.read().description.clone();
            (!description.is_empty()).then(|| view! { <div class="markdown">{markdown(&description)}</div> })
        }}
        <div class="toolbar">
            <span class="muted" id="dashboard-runs">{selection} {move || format!(" · {} runs", runs.read().len())}</span>
            {move || (!dirty.get()).then(|| view! {
                <A href=edit_href.clone() attr:id="edit-dashboard" attr:class="button">
                    {if editing.get() { "Done" } else { "Edit" }}
                </A>
            })}
            <button id="duplicate" on:click=duplicate title="A copy to change without touching this one">"Duplicate"</button>
            <button id="snapshot" on:click=snapshot title="A copy that keeps showing exactly today's runs">"Snapshot"</button>
            <button class="link danger" on:click=remove>"Delete"</button>
        </div>
        {draft_bar}
        {move || editing.get().then(|| view! { <DashboardSettings spec edit /> })}
        {missing_note}
        {gone_note}
        {truncated_note}
        {brush_note}
        {errors.view()}
        <div class="dashboard" id="dashboard-panels">
            <For each=items key=|(i, json, _)| (*i, json.clone()) let((i, _, p))>
                <DashboardItem index=i panel=p spec editing edit runs=runs_memo all_runs values brushes on_brush />
            </For>
        </div>
        {move || editing.get().then(|| {
            // A new panel at the end.
            let on_add = Callback::new(move |panel: Panel| {
                let mut next = spec.get_untracked();
                next.panels.push(panel);
                edit.run(next);
            });
            let kinds = draft::PANEL_KINDS.iter().map(|(k, ..)| *k).collect();
            view! { <AddPanel id="add-panel" kinds metric_keys on_add /> }
        })}
        // Folded away when only looking (open while editing).
        <details class="note-box" id="note-box" prop:open=move || editing.get()>
            <summary>"Add a note"</summary>
            <form class="note-form" on:submit=add_note id="add-note">
                <textarea rows="3" placeholder="Add a note (Markdown): why we dropped adamw, what to try next…"
                    prop:value=note_draft on:input=move |ev| set_note_draft.set(event_target_value(&ev))></textarea>
                <button type="submit">"Add note"</button>
            </form>
        </details>
    }
}

/// One panel in its grid cell, with the edit mode's controls above it.
#[component]
fn DashboardItem(
    index: usize,
    panel: Panel,
    spec: Memo<DashboardSpec>,
    editing: Memo<bool>,
    edit: Callback<DashboardSpec>,
    runs: Memo<Vec<ChartRun>>,
    all_runs: Memo<Vec<ChartRun>>,
    values: RwSignal<Vec<Run>>,
    brushes: Memo<Vec<Brush>>,
    on_brush: Callback<Vec<Brush>>,
) -> impl IntoView {
    let label = panel_label(&panel);
    let wide = panel.wide();
    let note = match &panel {
        Panel::Note { text } => Some(text.clone()),
        _ => None,
    };
    // One chart takes a grid cell (two side by side on a wide screen);
    // notes, sections, tables, image grids, parallel coordinates and several
    // metrics' charts take the page's width.
    let cell = matches!(&panel, Panel::Line { metrics, overlay, .. } if metrics.len() == 1 || *overlay)
        || matches!(&panel, Panel::Bar { .. } | Panel::Scatter { .. });
    let arrange = move |action: PanelMove| {
        if let Some(panels) = draft::arranged(spec.get_untracked().panels, index, action) {
            edit.run(DashboardSpec { panels, ..spec.get_untracked() })
        }
    };
    // Editing a note's text in place (edit mode only).
    let (rewriting, set_rewriting) = signal(None::<String>);
    let controls = move || {
        editing.get().then(|| {
            let count = spec.read().panels.len();
            let size = wide.map(|w| {
                view! {
                    <button class="link resize-panel" on:click=move |_| arrange(PanelMove::Resize)>
                        {if w { "\u{2194} Narrower" } else { "\u{2194} Full width" }}
                    </button>
                }
            });
            let rewrite = note.clone().map(|text| {
                view! { <button class="link edit-note" on:click=move |_| set_rewriting.set(Some(text.clone()))>"Edit text"</button> }
            });
            view! {
                <div class="panel-controls">
                    <span class="muted">{label.clone()}</span>
                    <button class="link move-up" disabled=index == 0 on:click=move |_| arrange(PanelMove::Up)>"\u{2191} Up"</button>
                    <button class="link move-down" disabled=index + 1 == count on:click=move |_| arrange(PanelMove::Down)>"\u{2193} Down"</button>
                    {size}
                    {rewrite}
                    <button class="link danger remove-panel" on:click=move |_| arrange(PanelMove::Remove)>"Remove"</button>
                </div>
            }
        })
    };
    let apply_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(text) = rewriting.get_untracked() else { return };
        let mut next = spec.get_untracked();
        if let Some(p @ Panel::Note { .. }) = next.panels.get_mut(index) {
            *p = Panel::Note { text };
            edit.run(next);
        }
        set_rewriting.set(None);
    };
    let body = move || {
        match rewriting.get() {
        Some(text) => view! {
            <form class="note-form note-rewrite" on:submit=apply_note>
                <textarea rows="5" prop:value=text on:input=move |ev| set_rewriting.set(Some(event_target_value(&ev)))></textarea>
                <button type="submit">"Apply"</button>
                <button type="button" class="link" on:click=move |_| set_rewriting.set(None)>"Cancel"</button>
            </form>
        }
        .into_any(),
        None => view! { <DashboardPanel index panel=panel.clone() runs all_runs values brushes on_brush /> }.into_any(),
    }
    };
    view! {
        <div class="dashboard-item" class:wide=wide == Some(true) class:full=!cell data-panel-index=index>
            {controls}
            {body}
        </div>
    }
}

/// Edit mode: the dashboard's name, description and the runs it shows.
#[component]
fn DashboardSettings(spec: Memo<DashboardSpec>, edit: Callback<DashboardSpec>) -> impl IntoView {
    let change = move |f: &dyn Fn(&mut DashboardSpec)| {
        let mut next = spec.get_untracked();
        f(&mut next);
        edit.run(next);
    };
    let (filter_text, set_filter_text) = signal(spec.get_untracked().filter);
    let pinned = !spec.get_untracked().run_ids.is_empty();
    let chosen = move |id: &str| spec.read().experiment_ids.iter().any(|e| e == id);
    let toggle = move |id: String, on: bool| {
        change(&|s| {
            s.experiment_ids.retain(|e| *e != id);
            if on {
                s.experiment_ids.push(id.clone());
            }
        })
    };
    // The experiments are listed once the picker opens (in the browser: the
    // page hydrates as the server rendered it, closed).
    let (opened, set_opened) = signal(false);
    let experiments = LocalResource::new(move || async move {
        if opened.get() {
            list_experiments().await
        } else {
            Ok(Vec::new())
        }
    });
    let choices = move || {
        opened.get().then(|| {
            view! {
                <Suspense fallback=|| view! { <Loading what="experiments" /> }>
                    {move || Suspend::new(async move {
                        match experiments.await {
                            Ok(rows) => rows
                                .into_iter()
                                .filter(|r| r.experiment.lifecycle_stage == tracking::LifecycleStage::Active)
                                .map(|r| {
                                    let id = r.experiment.experiment_id.clone();
                                    let id2 = id.clone();
                                    view! {
                                        <label>
                                            <input type="checkbox" data-experiment-id=id.clone() prop:checked=move || chosen(&id)
                                                on:change=move |ev| toggle(id2.clone(), event_target_checked(&ev)) />
                                            {r.experiment.name.clone()}
                                        </label>
                                    }
                                })
                                .collect_view()
                                .into_any(),
                            Err(e) => view! { <ServerError error=e /> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        })
    };
    let picker = move || {
        (!pinned).then(|| {
            view! {
                <details class="experiment-picker" id="dashboard-experiments" on:toggle=move |_| set_opened.set(true)>
                    <summary>{move || format!("Experiments ({})", spec.read().experiment_ids.len())}</summary>
                    {choices}
                </details>
            }
        })
    };
    let apply_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = filter_text.get_untracked().trim().to_string();
        change(&|s| s.filter = text.clone());
    };
    view! {
        <div class="dashboard-settings" id="dashboard-settings">
            <label>"Name "
                <input id="dashboard-name-input" prop:value=move || spec.read().name.clone()
                    on:change=move |ev| { let v = event_target_value(&ev); change(&|s| s.name = v.clone()) } />
            </label>
            <label>"Description "
                <input id="dashboard-description-input" placeholder="Markdown" prop:value=move || spec.read().description.clone()
                    on:change=move |ev| { let v = event_target_value(&ev); change(&|s| s.description = v.clone()) } />
            </label>
            {picker}
            {(!pinned).then(|| view! {
                <form class="filter-bar" id="dashboard-filter" on:submit=apply_filter>
                    <input class="mono" placeholder="params.optimizer = 'adam' (empty: every run of its experiments)"
                        prop:value=filter_text on:input=move |ev| set_filter_text.set(event_target_value(&ev)) />
                    <button type="submit">"Show these runs"</button>
                </form>
            })}
        </div>
    }
}

/// What Duplicate and Snapshot do: `make` a copy of dashboard `id` on the
/// server and open it (with `query`), or say why not in `errors`.
fn open_copy<F, Fut>(
    id: String,
    errors: WriteErrors,
    query: &'static str,
    make: F,
) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, AppError>> + Send + 'static,
{
    let copy =
        write_and_open(errors, move |id: &String| make(id.clone()), move |made| format!("/dashboards/{made}{query}"));
    move |_| {
        copy.dispatch(id.clone());
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
            let grouping = Signal::stored(group.map(Grouping::from_line_grouping).unwrap_or_default());
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
        Panel::Images { key, title } => view! { <ImageGrid index key title runs /> }.into_any(),
        Panel::Note { text } => view! { <div class="markdown dashboard-note">{markdown(&text)}</div> }.into_any(),
        Panel::Line {
            metrics, x, smoothing, log_y, ignore_outliers, log_x, y_range, title, group, overlay, ..
        } => {
            let settings = Memo::new(move |_| ChartSettings {
                x: XAxis::parse(&x).unwrap_or_default(),
                log_y,
                smooth: smoothing,
                ignore_outliers,
                log_x,
                y_range: y_range.map(|[low, high]| (low, high)),
            });
            let grouping = Signal::stored(group.map(Grouping::from_line_grouping).unwrap_or_default());
            let charts = match overlay {
                true => {
                    let mut keys = metrics.into_iter();
                    let key = keys.next().unwrap_or_default();
                    view! { <MetricPanel key with=keys.collect() runs settings grouping /> }.into_any()
                }
                false => metrics
                    .into_iter()
                    .map(|key| view! { <MetricPanel key runs settings grouping /> })
                    .collect_view()
                    .into_any(),
            };
            view! {
                {(!title.is_empty()).then(|| view! { <h3>{title}</h3> })}
                <div class="chart-grid">{charts}</div>
            }
            .into_any()
        }
        Panel::Bar { metric, title, group, .. } => {
            let caption = if title.is_empty() { metric.clone() } else { title };
            let grouping = Signal::stored(group.map(Grouping::from_line_grouping).unwrap_or_default());
            view! { <BarChart id=format!("dash-bar-{index}") metric caption runs value=value_of(values) grouping /> }
                .into_any()
        }
        Panel::Scatter { x, y, title, .. } => {
            let caption = if title.is_empty() { format!("{y} vs {x}") } else { title };
            view! { <ScatterChart id=format!("dash-scatter-{index}") x y caption runs value=value_of(values) /> }
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

/// The images the runs logged under `key`, a column per run, at the step
/// the slider picks (`?img<index>=<step>`; the last step by default).
#[component]
fn ImageGrid(index: usize, key: String, title: String, runs: Memo<Vec<ChartRun>>) -> impl IntoView {
    let ids = Memo::new(move |_| {
        runs.read().iter().take(MAX_IMAGE_RUNS).map(|r| r.run_id.clone()).collect::<Vec<_>>().join(",")
    });
    // Loaded by the browser: images are no part of the page's first paint.
    let images = LocalResource::new({
        let key = key.clone();
        move || logged_images(ids.get(), key.clone())
    });
    let url = use_query_map();
    let navigate = use_navigate();
    let param = format!("img{index}");
    let chosen = {
        let param = param.clone();
        Memo::new(move |_| url.read().get(&param).and_then(|s| s.parse::<i64>().ok()))
    };
    let caption = if title.is_empty() { key.clone() } else { title };
    // Drawn once loaded, in the browser (the server renders the loading line).
    let grid = move || {
        let (navigate, param, key) = (navigate.clone(), param.clone(), key.clone());
        // Not read on the server: a browser-only resource read there
        // unsettles the page's suspense.
        let found = match if cfg!(feature = "ssr") { None } else { images.get() } {
            None => return view! { <Loading what="images" /> }.into_any(),
            Some(Ok(found)) => found,
            Some(Err(e)) => return view! { <ServerError error=e /> }.into_any(),
        };
        let steps = all_steps(&found);
        let Some(&last) = steps.last() else {
            let why = format!(
                "No run here logged images under \u{201c}{key}\u{201d} (mlflow.log_image(image, key=\"{key}\", step=...))."
            );
            return view! { <p class="chart-empty">{why}</p> }.into_any();
        };
        let step = Memo::new(move |_| chosen.get().unwrap_or(last));
        let position = {
            let steps = steps.clone();
            move || steps.partition_point(|s| *s < step.get()).min(steps.len() - 1).to_string()
        };
        let pick = {
            let steps = steps.clone();
            move |ev: leptos::ev::Event| {
                let i = event_target_value(&ev).parse::<usize>().unwrap_or(0).min(steps.len() - 1);
                let target = super::url_with_param(&url.get_untracked(), &param, &steps[i].to_string());
                navigate(&target, leptos_router::NavigateOptions { replace: true, ..super::in_place() });
            }
        };
        let names: std::collections::HashMap<String, (String, String)> =
            runs.get_untracked().into_iter().map(|r| (r.run_id, (r.name, r.color))).collect();
        let cells = move || {
            let at = step.get();
            found
                .iter()
                .map(|r| {
                    let (name, color) = names.get(&r.run_id).cloned().unwrap_or_default();
                    let image = match at_step(&r.images, at) {
                        Some(img) => {
                            let full = download_url(&r.run_id, &img.path);
                            let shown = download_url(&r.run_id, img.thumbnail.as_ref().unwrap_or(&img.path));
                            let label = format!("step {}", img.step);
                            view! {
                                <a href=full target="_blank" rel="noopener">
                                    <img src=shown alt=format!("{name} {label}") />
                                </a>
                                <span class="muted">{label}</span>
                            }
                            .into_any()
                        }
                        None => view! { <span class="muted">"no image yet"</span> }.into_any(),
                    };
                    view! {
                        <figure class="image-cell" data-run-id=r.run_id.clone()>
                            <figcaption><span class="run-dot" style=format!("background:{color}")></span>{name.clone()}</figcaption>
                            {image}
                        </figure>
                    }
                })
                .collect_view()
        };
        let max = (steps.len() - 1).to_string();
        view! {
            <div class="image-step">
                <input type="range" min="0" max=max step="1" prop:value=position on:input=pick />
                <span class="mono">{move || format!("step {}", step.get())}</span>
            </div>
            <div class="image-grid">{cells}</div>
        }
        .into_any()
    };
    view! {
        <figure class="chart-card image-panel" data-image-key=caption.clone()>
            <figcaption><span class="mono">{caption.clone()}</span></figcaption>
            {grid}
        </figure>
    }
}

/// What a panel is, in a few words, for the edit mode's controls.
fn panel_label(panel: &Panel) -> String {
    match panel {
        Panel::Section { title } => format!("Section \u{201c}{title}\u{201d}"),
        Panel::Note { .. } => "Note".into(),
        Panel::Images { key, .. } => format!("Images: {key}"),
        Panel::Line { metrics, overlay: true, .. } => format!("Chart: {} in one", metrics.join(", ")),
        Panel::Line { metrics, .. } => format!("Chart: {}", metrics.join(", ")),
        Panel::Bar { metric, .. } => format!("Bars: {metric}"),
        Panel::Scatter { x, y, .. } => format!("Scatter: {y} vs {x}"),
        Panel::Table { columns, .. } => format!("Table: {} columns", columns.len()),
        Panel::Parallel { .. } => "Parallel coordinates".into(),
    }
}

/// Where bars and scatters read a run's values: the dashboard's.
fn value_of(values: RwSignal<Vec<Run>>) -> ValueOf {
    Callback::new(move |(run_id, field): (String, String)| values.with(|v| latest(v, &run_id, &field)))
}

/// A run's value of `metrics.<k>` (latest), `params.<k>` or `tags.<k>`.
fn latest(values: &[Run], run_id: &str, field: &str) -> Option<String> {
    crate::columns::value_of(values.iter().find(|r| r.info.run_id == run_id)?, field)
}
