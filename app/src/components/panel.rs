//! One metric of many runs as a chart panel: the chart view's, a
//! dashboard's and the compare page's small multiples.

use super::chart_settings::{ChartSettings, XAxis};
use super::values_dock::{describe_x, values_at, ValuesAt};
use crate::aggregate::{compare_labels, Grouping, NONE_LABEL};
use crate::charts::{build_groups, group_bars, group_traces, smooth, Chart, Figure, Grouped, Trace};
use crate::panel_overrides::{Override, Overrides};
use crate::server_fns::sweep::{sweep_series, Sweep, SweepAsk};
use crate::server_fns::{metric_series, ChartRun, Series, SWEEP_ABOVE};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Points per panel: all runs' lines together stay about this many points
/// (at least 100 per run), several per pixel of a panel's width; each
/// run's bucket keeps its lowest and highest value, so spikes stay.
const PANEL_POINTS: usize = 40_000;

/// The section a metric key belongs in: its prefix before the first `/`.
pub fn section_of(key: &str) -> &str {
    key.split_once('/').map_or("metrics", |(prefix, _)| prefix)
}

/// One metric of every run: a line per run in the run's colour (dashed
/// when it failed), or a bar per run when each logged it once. Points the
/// runs log while the view is open are appended in place. With `with`,
/// those metrics are drawn over it, a line style per metric.
#[component]
pub fn Panel(
    key: String,
    /// Other metrics overlaid on `key` (`train_loss` with `val_loss`).
    #[prop(optional)]
    with: Vec<String>,
    runs: Memo<Vec<ChartRun>>,
    settings: Memo<ChartSettings>,
    #[prop(optional, into)] grouping: Option<Signal<Grouping>>,
    /// The chart view's per-panel settings, and how a panel changes its own.
    #[prop(optional)]
    overrides: Option<Memo<Overrides>>,
    #[prop(optional)] on_override: Option<Callback<(String, Override)>>,
    /// Ask for the data only once the panel is scrolled near.
    #[prop(optional)]
    lazy: bool,
) -> impl IntoView {
    let view_settings = settings;
    let keys: Vec<String> = std::iter::once(key.clone()).chain(with).collect();
    // An overlay's settings and element are named by all its keys.
    let key = keys.join("+");
    let own = {
        let key = key.clone();
        Memo::new(move |_| overrides.and_then(|o| o.with(|o| o.get(&key).copied())).unwrap_or_default())
    };
    let settings = Memo::new(move |_| own.get().apply(&view_settings.get()));
    let ids = Memo::new(move |_| runs.with(|r| r.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>()));
    let k = keys.clone();
    // Zooming in on steps fetches that range again, at full detail where
    // the budget allows.
    let (zoom, set_zoom) = signal(None::<(i64, i64)>);
    // Wall times are asked for only for an x axis of time. A plain signal
    // set by an effect: a resource that tracks the settings memo itself
    // stops handing its data on when another setting (smoothing, outliers)
    // changes.
    let (with_times, set_with_times) = signal(false);
    Effect::new(move |_| {
        let wanted = settings.with(|s| s.x.needs_times());
        if wanted != with_times.get_untracked() {
            set_with_times.set(wanted);
        }
    });
    let card = NodeRef::<leptos::html::Figure>::new();
    let (near, set_near) = signal(!lazy);
    Effect::new(move |_| {
        if let Some(el) = card.get() {
            if !near.get_untracked() {
                crate::charts::when_near_view(&el, move || {
                    let _ = set_near.try_set(true);
                });
            }
        }
    });
    // More runs than lines can show: each group's band and a few lines
    // from the server (`sweep_series`), by step.
    let sweeping = Memo::new(move |_| runs.with(|r| r.len() > SWEEP_ABOVE));
    let sweep_groups = Memo::new(move |_| match sweeping.get() {
        true => runs.with(|r| sweep_groups_of(r, &grouping.map(|g| g.get()).unwrap_or_default())),
        false => SweepGroups::default(),
    });
    let loaded = LocalResource::new(move || {
        let (ids, range, with_times, near) = (ids.get(), zoom.get(), with_times.get(), near.get());
        let per_run = (PANEL_POINTS / (ids.len() * k.len()).max(1)).max(100);
        let (from, to) = (range.map(|r| r.0), range.map(|r| r.1));
        let requests: Vec<_> = match sweeping.get() {
            true => Vec::new(),
            false => k
                .iter()
                .map(|k| {
                    crate::fetch_slots::in_turn(metric_series(ids.clone(), k.clone(), from, to, per_run, with_times))
                })
                .collect(),
        };
        // Nothing yet (not a pending request: a resource waits for its
        // request to end before it hears of a change).
        async move {
            match near {
                true => Some(futures::future::try_join_all(requests).await),
                false => None,
            }
        }
    });
    let k = keys.clone();
    let swept = LocalResource::new(move || {
        let (range, near, groups) = (zoom.get(), near.get(), sweep_groups.get());
        let (from, to) = (range.map(|r| r.0), range.map(|r| r.1));
        let (center, band) = (groups.center.name().to_string(), groups.band.name().to_string());
        let requests: Vec<_> = match groups.run_ids.is_empty() {
            true => Vec::new(),
            false => k
                .iter()
                .map(|k| {
                    crate::fetch_slots::heavy_in_turn(sweep_series(SweepAsk {
                        run_ids: groups.run_ids.clone(),
                        group_of: groups.group_of.clone(),
                        key: k.clone(),
                        min_step: from,
                        max_step: to,
                        center: center.clone(),
                        band: band.clone(),
                        keep: match groups.grouped {
                            true => String::new(),
                            false => runs.with_untracked(|r| with_extremes(&groups.keep, r, k)),
                        },
                        lines: groups.lines,
                    }))
                })
                .collect(),
        };
        async move {
            match near && !requests.is_empty() {
                true => Some(futures::future::try_join_all(requests).await),
                false => None,
            }
        }
    });
    let on_zoom = Callback::new(move |range: Option<(f64, f64)>| {
        if settings.get_untracked().x == XAxis::Step || sweeping.get_untracked() {
            set_zoom.set(range.map(|(a, b)| (a.floor() as i64, b.ceil() as i64)));
        }
    });
    // x by another metric: that metric's values, matched by step.
    let x_key = Memo::new(move |_| settings.read().x.metric().map(String::from));
    let x_loaded = LocalResource::new(move || {
        let (ids, key, near) = (ids.get(), x_key.get(), near.get());
        let per_run = (PANEL_POINTS / ids.len().max(1)).max(100);
        // A sweep is drawn by step.
        let key = key.filter(|_| !sweeping.get());
        async move {
            match key {
                Some(_) if !near => None,
                Some(key) => {
                    Some(crate::fetch_slots::in_turn(metric_series(ids, key, None, None, per_run, false)).await.ok())
                }
                None => Some(None),
            }
        }
    });
    // Each metric's lines, with the points that arrived live since.
    let all_series: Vec<Signal<Option<Vec<Series>>>> = (0..keys.len())
        .map(|i| {
            crate::live::live_series(
                Signal::stored(keys[i].clone()),
                // Read in the browser only: the server renders the panel empty, and
                // a browser-only resource read there unsettles the page's suspense
                // (its aftermath touched disposed signals: a panic in the log).
                Signal::derive(move || {
                    if cfg!(feature = "ssr") {
                        return None;
                    }
                    if sweeping.get() {
                        return swept.get().flatten().and_then(|r| r.ok()).and_then(|mut all| {
                            (i < all.len()).then(|| std::mem::take(&mut all.swap_remove(i).lines))
                        });
                    }
                    loaded
                        .get()
                        .flatten()
                        .and_then(|r| r.ok())
                        .and_then(|mut all| (i < all.len()).then(|| all.swap_remove(i)))
                }),
                // A sweep's drawn lines take their runs' new points; its
                // bands are made again when they reload.
                move |run| match sweeping.get_untracked() {
                    true => swept
                        .try_with_untracked(|s| {
                            s.as_ref()
                                .and_then(|s| s.as_ref())
                                .and_then(|s| s.as_ref().ok())
                                .is_some_and(|all| all.iter().any(|s| s.lines.iter().any(|l| l.run_id == run)))
                        })
                        .unwrap_or(false),
                    false => ids.try_with_untracked(|ids| ids.iter().any(|i| i == run)).unwrap_or(false),
                },
                PANEL_POINTS / 4,
                move || match sweeping.get_untracked() {
                    true => swept.refetch(),
                    false => loaded.refetch(),
                },
            )
        })
        .collect();
    let series = all_series[0];
    let overlaid = keys.len() > 1;
    // In the chart view, values at the hovered x go to its docked table.
    let docked = use_context::<RwSignal<Option<ValuesAt>>>();
    let on_hover = docked.filter(|_| !overlaid).map(|docked| {
        let key = key.clone();
        Callback::new(move |x: f64| {
            let s = settings.get_untracked();
            if s.x.metric().is_some() {
                return;
            }
            let Some(data) = series.get_untracked() else { return };
            let rows = runs.with_untracked(|runs| {
                values_at(runs, &data, |d| s.x.values(&d.steps, &d.times, d.times.first().copied().unwrap_or(0)), x)
            });
            docked.set(Some(ValuesAt { metric: key.clone(), at: describe_x(&s.x, x), rows }));
        })
    });
    let k = keys.clone();
    let figure = Signal::derive(move || {
        let all: Vec<Vec<Series>> = all_series.iter().map(|s| s.get()).collect::<Option<_>>()?;
        let grouping = grouping.map(|g| g.get()).unwrap_or_default();
        let s = settings.get();
        if sweeping.get() {
            let bands: Vec<Sweep> = swept.get().flatten()?.ok()?;
            let groups = sweep_groups.get();
            let s = ChartSettings { x: XAxis::Step, ..s };
            let figures: Vec<Figure> = bands
                .iter()
                .zip(&all)
                .zip(&k)
                .map(|((sweep, lines), key)| runs.with(|runs| sweep_figure(runs, sweep, lines, &groups, &s, key)))
                .collect();
            return Some(match figures.len() {
                1 => figures.into_iter().next().unwrap_or_default(),
                _ => overlay_of(figures, &s, &k),
            });
        }
        let x_data = if s.x.metric().is_some() { x_loaded.get().flatten()?.unwrap_or_default() } else { Vec::new() };
        // Switched to a time axis: wait for the data with wall times.
        if s.x.needs_times() && all.iter().flatten().any(|d| d.times.len() != d.steps.len()) {
            return None;
        }
        let mut figure = runs.with(|runs| match all.len() {
            1 => panel_figure(runs, &all[0], &x_data, &s, &grouping, &k[0]),
            _ => overlay_figure(runs, &all, &x_data, &s, &grouping, &k),
        });
        // Lines of runs (not groups' means, not bars) hover into the dock.
        figure.docked_hover = on_hover.is_some()
            && grouping.field.is_empty()
            && s.x.metric().is_none()
            && figure.traces.iter().all(|t| t.bar_labels.is_empty());
        Some(figure)
    });
    let id = format!("panel-{}", key.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    // The panel's own settings, behind a toggle (chart view only).
    let (open, set_open) = signal(false);
    let own_controls = on_override.map(|set| {
        let change = {
            let key = key.clone();
            move |f: &dyn Fn(&mut Override)| {
                let mut o = own.get_untracked();
                f(&mut o);
                set.run((key.clone(), o));
            }
        };
        let (c1, c2, c3, c4) = (change.clone(), change.clone(), change.clone(), change);
        let controls = move || {
            open.get().then(|| {
                let (c1, c2, c3, c4) = (c1.clone(), c2.clone(), c3.clone(), c4.clone());
                view! {
                    <div class="panel-own toolbar">
                        <label class="pick">
                            <input type="checkbox" class="own-log" prop:checked=move || settings.get().log_y
                                on:change=move |ev| { let on = event_target_checked(&ev); c1(&|o| o.log_y = Some(on)) } />
                            "Log scale"
                        </label>
                        <label class="pick">
                            <input type="checkbox" class="own-clip" prop:checked=move || settings.get().ignore_outliers
                                on:change=move |ev| { let on = event_target_checked(&ev); c2(&|o| o.ignore_outliers = Some(on)) } />
                            "Ignore outliers"
                        </label>
                        <label>
                            "Smoothing "
                            <input type="range" class="own-smooth" min="0" max="0.95" step="0.05"
                                prop:value=move || settings.get().smooth.to_string()
                                on:change=move |ev| {
                                    let v = event_target_value(&ev).parse::<f64>().ok();
                                    c3(&|o| o.smooth = v)
                                } />
                        </label>
                        <button class="link own-reset" disabled=move || own.get().is_empty()
                            on:click=move |_| c4(&|o| *o = Override::default())>
                            "As the other panels"
                        </button>
                    </div>
                }
            })
        };
        view! {
            <button class="link panel-settings" title="This panel's own scale and smoothing"
                class:changed=move || !own.get().is_empty() on:click=move |_| set_open.update(|o| *o = !*o)>
                "\u{2699}"
            </button>
            {controls}
        }
    });
    // An overlay's caption is its key: each metric beside its line style.
    let caption = match overlaid {
        false => view! { <span class="mono">{key.clone()}</span> }.into_any(),
        true => keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                view! {
                    <span class="overlay-key" data-key=k.clone()>
                        <svg width="26" height="8" aria-hidden="true">
                            <line x1="0" y1="4" x2="26" y2="4" stroke="currentColor" stroke-width="2"
                                stroke-dasharray=crate::charts::LINE_DASHES[crate::charts::line_style(i)] />
                        </svg>
                        <span class="mono">{k.clone()}</span>
                    </span>
                }
            })
            .collect_view()
            .into_any(),
    };
    let (single, joined) = (keys.len() == 1, keys.join(","));
    // What a sweep panel draws, said under its caption.
    let sweep_note = move || {
        sweeping.get().then(|| {
            let n = runs.with(Vec::len);
            let drawn = series.with(|s| s.as_ref().map_or(0, Vec::len));
            let sampled = swept.with(|s| {
                s.as_ref()
                    .and_then(|s| s.as_ref())
                    .and_then(|s| s.as_ref().ok())
                    .and_then(|all| all.first())
                    .and_then(|s| s.sampled)
            });
            let of = match sampled {
                Some(k) => format!(" (bands of a random {k} of them)"),
                None => String::new(),
            };
            let what = match sweep_groups.with(|g| g.grouped) {
                true => format!("{n} runs by group: each group's line and band, by step{of}"),
                false => {
                    format!("{n} runs: their median, middle half and range by step, and {drawn} of their lines{of}")
                }
            };
            view! { <p class="muted sweep-note">{what}</p> }
        })
    };
    view! {
        <figure class="chart-card" class:overlay=overlaid class:sweep=sweeping data-metric=single.then(|| key.clone())
            data-overlay=(!single).then_some(joined) node_ref=card>
            <figcaption>{caption} {own_controls}</figcaption>
            {sweep_note}
            <Chart id figure on_zoom on_hover=on_hover />
        </figure>
    }
}

/// Several metrics of every run in one chart: each run in its colour,
/// each metric in its line style (`LINE_STYLES`, the first solid), named
/// `run · metric`; grouped, each group's centre line per metric.
fn overlay_figure(
    runs: &[ChartRun],
    all: &[Vec<Series>],
    x_data: &[Series],
    s: &ChartSettings,
    grouping: &Grouping,
    keys: &[String],
) -> Figure {
    // A metric's style wins over a style key's: the metric is what tells lines apart here.
    let grouping = Grouping { style: String::new(), ..grouping.clone() };
    let figures = all.iter().zip(keys).map(|(data, key)| panel_figure(runs, data, x_data, s, &grouping, key)).collect();
    overlay_of(figures, s, keys)
}

/// Each metric's figure in one chart, each metric in its line style.
fn overlay_of(figures: Vec<Figure>, s: &ChartSettings, keys: &[String]) -> Figure {
    let mut traces = Vec::new();
    let mut closest = false;
    for (i, (figure, key)) in figures.into_iter().zip(keys).enumerate() {
        closest |= figure.closest_hover;
        for mut t in figure.traces {
            if !t.dash {
                t.line_style = crate::charts::line_style(i);
            }
            t.name = format!("{} · {key}", t.name);
            t.legend_group = format!("{}{key}", t.legend_group);
            if !t.bar_labels.is_empty() {
                t.bar_labels = t.bar_labels.iter().map(|l| format!("{l} · {key}")).collect();
            }
            traces.push(t);
        }
    }
    // The caption keys the styles; a legend of every run times every
    // metric would crowd the chart out (the other panels name the runs).
    if traces.iter().filter(|t| t.show_legend).count() > 12 {
        traces.iter_mut().for_each(|t| t.show_legend = false);
    }
    Figure { closest_hover: closest || traces.len() > 20, ..s.figure(traces, &keys.join(", ")) }
}

fn panel_figure(
    runs: &[ChartRun],
    data: &[Series],
    x_data: &[Series],
    s: &ChartSettings,
    grouping: &Grouping,
    key: &str,
) -> Figure {
    let run_of = |id: &str| runs.iter().find(|r| r.run_id == id);
    let present: Vec<&Series> = data.iter().filter(|d| !d.steps.is_empty()).collect();
    let mut traces = Vec::new();
    let x_of = |d: &Series| match s.x.metric() {
        Some(_) => x_by_metric(d, x_data),
        None => s.x.values(&d.steps, &d.times, d.times.first().copied().unwrap_or(0)),
    };
    let single = !present.is_empty() && present.iter().all(|d| d.steps.len() == 1);
    let style_of = |run: &ChartRun| {
        (!grouping.style.is_empty())
            .then(|| run.fields.get(&grouping.style).cloned().unwrap_or_else(|| NONE_LABEL.into()))
    };
    // Values logged once: a bar per group at its centre, with its spread.
    if !grouping.field.is_empty() && single {
        let members = runs.iter().map(|run| Grouped {
            label: run.fields.get(&grouping.field).cloned().unwrap_or_else(|| NONE_LABEL.into()),
            style: None,
            line: present.iter().find(|d| d.run_id == run.run_id).map(|d| (vec![0.0], vec![d.values[0]])),
        });
        let groups = build_groups(members, "");
        let traces = group_bars(&grouping.field, &groups, grouping.center, grouping.band);
        return Figure { traces, y_title: key.into(), y_log: s.log_y, ..Default::default() };
    }
    if !grouping.field.is_empty() && !single {
        let members = runs.iter().map(|run| Grouped {
            label: run.fields.get(&grouping.field).cloned().unwrap_or_else(|| NONE_LABEL.into()),
            style: style_of(run),
            line: present.iter().find(|d| d.run_id == run.run_id).map(|d| (x_of(d), smooth(&d.values, s.smooth))),
        });
        let groups = build_groups(members, &grouping.style);
        return s.figure(group_traces(&grouping.field, &groups, grouping.center, grouping.band), key);
    }
    // Line styles by a second key: its values in order, one style each.
    let styles: Vec<String> = {
        let mut v: Vec<String> = runs.iter().filter_map(style_of).collect();
        v.sort_by(|a, b| compare_labels(a, b));
        v.dedup();
        v
    };
    let style_index = |run: &ChartRun| {
        style_of(run).and_then(|l| styles.iter().position(|x| *x == l)).map(crate::charts::line_style).unwrap_or(0)
    };
    if single {
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
        // No x title: the bars' labels are the run names (a title there sat over them).
        return Figure { traces, y_title: key.into(), y_log: s.log_y, ..Default::default() };
    }
    // Smoothed lines keep their raw values faint beneath them.
    if s.smooth > 0.0 {
        for d in &present {
            let Some(run) = run_of(&d.run_id) else { continue };
            traces.push(Trace {
                name: format!("{} (raw)", run.name),
                x: x_of(d),
                y: d.values.clone(),
                color: run.color.clone(),
                opacity: Some(0.25),
                no_hover: true,
                legend_group: run.run_id.clone(),
                width: 1.0,
                ..Default::default()
            });
        }
    }
    for d in &present {
        let Some(run) = run_of(&d.run_id) else { continue };
        traces.push(Trace {
            legend_group: run.run_id.clone(),
            name: run.name.clone(),
            x: x_of(d),
            y: smooth(&d.values, s.smooth),
            color: run.color.clone(),
            dash: run.stopped,
            line_style: style_index(run),
            show_legend: runs.len() <= 20,
            width: 1.6,
            ..Default::default()
        });
    }
    traces.extend(crate::charts::end_marks(&traces));
    let (traces, closest_hover) = crate::charts::merge_lines(traces, crate::charts::MERGE_ABOVE);
    Figure { closest_hover, ..s.figure(traces, key) }
}

/// How a sweep panel's runs are grouped for `sweep_series`: the runs'
/// ids, each one's group, the groups' names and looks, and the runs drawn
/// whatever their rank (the first in the view's order).
#[derive(Debug, Clone, PartialEq, Default)]
struct SweepGroups {
    /// The grouping key (groups are named `params.lr = 0.01 (2500 runs)`).
    field: String,
    run_ids: String,
    group_of: String,
    groups: Vec<(String, usize, usize, usize)>,
    grouped: bool,
    center: crate::aggregate::Center,
    band: crate::aggregate::Band,
    keep: String,
    lines: usize,
}

/// Lines a sweep panel draws over its band when not grouped.
const SWEEP_LINES: usize = 24;
/// Of those, the first runs in the view's order (the table's top).
const SWEEP_TOP: usize = 5;

fn sweep_groups_of(runs: &[ChartRun], grouping: &Grouping) -> SweepGroups {
    let ids: Vec<&str> =
        runs.iter().take(crate::server_fns::sweep::MAX_SWEEP_RUNS).map(|r| r.run_id.as_str()).collect();
    let keep = ids.iter().take(SWEEP_TOP).copied().collect::<Vec<_>>().join(",");
    if grouping.field.is_empty() {
        return SweepGroups {
            run_ids: ids.join(","),
            groups: vec![(String::new(), runs.len(), 0, 0)],
            center: crate::aggregate::Center::Median,
            band: crate::aggregate::Band::Iqr,
            keep,
            lines: SWEEP_LINES,
            ..Default::default()
        };
    }
    let label_of = |run: &ChartRun| {
        let label = run.fields.get(&grouping.field).cloned().unwrap_or_else(|| NONE_LABEL.into());
        let style = (!grouping.style.is_empty())
            .then(|| run.fields.get(&grouping.style).cloned().unwrap_or_else(|| NONE_LABEL.into()));
        (label, style)
    };
    let members = runs.iter().map(|run| {
        let (label, style) = label_of(run);
        Grouped { label, style, line: None }
    });
    let groups = build_groups(members, &grouping.style);
    let index: std::collections::HashMap<&str, usize> =
        groups.iter().enumerate().map(|(i, g)| (g.label.as_str(), i)).collect();
    let group_of: Vec<String> = runs
        .iter()
        .take(ids.len())
        .map(|run| {
            let (label, style) = label_of(run);
            let label = crate::charts::group_label(&label, style.as_deref(), &grouping.style);
            index.get(label.as_str()).copied().unwrap_or(0).to_string()
        })
        .collect();
    SweepGroups {
        run_ids: ids.join(","),
        group_of: group_of.join(","),
        groups: groups.iter().map(|g| (g.label.clone(), g.runs, g.color_index, g.line_style)).collect(),
        grouped: true,
        field: grouping.field.clone(),
        center: grouping.center,
        band: grouping.band,
        keep: String::new(),
        lines: 0,
    }
}

/// The runs `keep` names, and the runs with the lowest and the highest
/// latest value of `key` (the sweep's best and worst, whichever way is
/// better), whether or not the band's sample has them.
fn with_extremes(keep: &str, runs: &[ChartRun], key: &str) -> String {
    let field = format!("metrics.{key}");
    let valued = runs.iter().filter_map(|r| r.latest.get(&field).map(|v| (*v, r.run_id.as_str())));
    let lowest = valued.clone().min_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, id)| id);
    let highest = valued.max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, id)| id);
    let mut ids: Vec<&str> = keep.split(',').filter(|s| !s.is_empty()).collect();
    ids.extend(lowest.into_iter().chain(highest).filter(|id| !keep.split(',').any(|k| k == *id)));
    ids.dedup();
    ids.join(",")
}

/// A sweep panel: each group's band and line (one grey band of the
/// median, the middle half and the range when not grouped) and the lines
/// drawn over it, each in its run's colour.
fn sweep_figure(
    runs: &[ChartRun],
    sweep: &Sweep,
    lines: &[Series],
    groups: &SweepGroups,
    s: &ChartSettings,
    key: &str,
) -> Figure {
    use crate::charts::{band_area, band_traces, color, group_name, BandLine};
    let mut traces = Vec::new();
    for (i, band) in sweep.bands.iter().enumerate() {
        let Some((label, count, color_index, line_style)) = groups.groups.get(i) else { continue };
        let mut a = band.aggregate.clone();
        a.center = smooth(&a.center, s.smooth);
        if groups.grouped {
            let line = BandLine {
                name: group_name(&groups.field, label, band.with_metric, *count),
                color: color(*color_index),
                line_style: *line_style,
                with_metric: band.with_metric,
            };
            traces.extend(band_traces(&line, &a, groups.center, groups.band));
            continue;
        }
        // The whole sweep: its range faint, its middle half darker, its median.
        let name = format!("all {} runs", band.with_metric);
        let range = BandLine {
            name: format!("{name}: range"),
            color: "#9aa0a6".into(),
            line_style: 0,
            with_metric: band.with_metric,
        };
        traces.extend(band_area(&range, &a.min, &a.max, &a, ["26", "26"]));
        let line = BandLine {
            name: format!("{name}: median, middle half"),
            color: "#5f6368".into(),
            line_style: 0,
            with_metric: band.with_metric,
        };
        traces.extend(band_traces(&line, &a, groups.center, groups.band));
    }
    let run_of = |id: &str| runs.iter().find(|r| r.run_id == id);
    for d in lines.iter().filter(|d| !d.steps.is_empty()) {
        let Some(run) = run_of(&d.run_id) else { continue };
        traces.push(Trace {
            legend_group: run.run_id.clone(),
            name: run.name.clone(),
            x: d.steps.iter().map(|s| *s as f64).collect(),
            y: smooth(&d.values, s.smooth),
            color: run.color.clone(),
            dash: run.stopped,
            show_legend: false,
            width: 1.2,
            ..Default::default()
        });
    }
    Figure { closest_hover: true, ..s.figure(traces, key) }
}

/// A run's points placed at its value of another metric at the same step
/// (NaN, a gap, where that metric has no point at that step).
pub fn x_by_metric(d: &Series, x_data: &[Series]) -> Vec<f64> {
    let other: BTreeMap<i64, f64> = x_data
        .iter()
        .find(|o| o.run_id == d.run_id)
        .map(|o| o.steps.iter().zip(&o.values).filter_map(|(st, v)| v.map(|v| (*st, v))).collect())
        .unwrap_or_default();
    d.steps.iter().map(|st| other.get(st).copied().unwrap_or(f64::NAN)).collect()
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
