//! `/experiments/{id}`: the runs table. Filter (MLflow's search syntax),
//! sort order, visible columns and the deleted-runs view live in the query
//! string, so a link reproduces the view.

mod charts;
mod column_picker;
mod head;
mod row;
mod state;

use column_picker::ColumnPicker;
use head::{ColumnGroups, ColumnHeads, ExperimentAbout, RunsToolbar};
use row::{range_value, run_row, Ranges, RowCells};
use state::{folds_children, merge_runs, order_after_click, tag, Line, View, CHART_PARAMS, MAX_PICKED_IN_LINK};

use super::Loaded;
use crate::columns::value_of;
use crate::components::status::WriteErrors;
use crate::format::encode;
use crate::parallel::{kept_by, parse_brushes};
use crate::server_fns::{chart_runs, experiment_runs, metric_ranges, set_runs_deleted, ChartData, RunsPage};
use crate::table_window::{
    fixed_width, window, COLUMN_WIDTH, DEFAULT_VIEWPORT, FIXED_WIDTHS, ROW_HEIGHT, WINDOWED_CELLS,
};
use charts::ExperimentCharts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::{BTreeSet, HashMap, HashSet};
use tracking::tags;

#[component]
pub fn RunsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let experiment_id = move || params.read().get("id").unwrap_or_default();
    let view_state = Memo::new(move |_| {
        let q = query.read();
        View {
            filter: q.get("filter").unwrap_or_default(),
            order: q.get("order").unwrap_or_default(),
            cols: q
                .get("cols")
                .map(|c| c.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
            deleted: q.get("deleted").is_some_and(|d| d == "1"),
            charts: q.get("view").is_some_and(|v| v == "charts"),
            chart_params: CHART_PARAMS.iter().filter_map(|k| q.get(k).map(|v| (k.to_string(), v))).collect(),
        }
    });
    // Opened on the chart view, the page comes with the runs it draws: the
    // panels ask for their lines as soon as the page is live. (Switched to
    // the charts later, the chart view asks for them itself.)
    let page = Resource::new(
        move || (experiment_id(), view_state.get().filter, view_state.get().order, view_state.get().deleted),
        move |(id, filter, order, deleted)| {
            let charts = view_state.with_untracked(|v| v.charts);
            async move {
                let runs = experiment_runs(id.clone(), filter.clone(), Some(order.clone()), deleted, None);
                if !charts {
                    return runs.await.map(|p| (p, None));
                }
                let (runs, chart) = futures::join!(runs, chart_runs(id, filter, order, deleted));
                runs.map(|p| (p, Some(chart.map_err(|e| e.message))))
            }
        },
    );
    view! {
        <section class="page wide">
            <Loaded what="runs" data=page let:loaded>
                <RunsView page=loaded.0 view=view_state charts=loaded.1 />
            </Loaded>
        </section>
    }
}

#[component]
fn RunsView(page: RunsPage, view: Memo<View>, charts: Option<Result<ChartData, String>>) -> impl IntoView {
    // The chart view's runs, when they came with the page: for its first
    // showing only (the server renders it, the browser hydrates it); an
    // effect, which runs in the browser once the page is live, lets them go
    // so that the charts shown again later ask for fresh ones.
    let charts = StoredValue::new(charts);
    Effect::new(move |_| charts.set_value(None));
    let navigate = use_navigate();
    let experiment = page.experiment.clone();
    let exp_id = experiment.experiment_id.clone();
    let (runs, set_runs) = signal(page.runs.clone());
    let (colors, set_colors) = signal(page.colors.iter().cloned().collect::<HashMap<String, String>>());
    let (next_token, set_next_token) = signal(page.next_page_token.clone());
    // Runs a chart-view link was showing (`?sel=`, set when the view was
    // switched with runs ticked) start ticked.
    let (selected, set_selected) = signal(
        use_query_map()
            .with_untracked(|q| q.get("sel"))
            .map(|s| s.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<BTreeSet<String>>())
            .unwrap_or_default(),
    );
    // Runs picked on the chart view's parallel coordinates (`brush`) are
    // the table's selection too.
    let brush = Memo::new(move |_| {
        view.with(|v| v.chart_params.iter().find(|(k, _)| k == "brush").map(|(_, b)| b.clone()).unwrap_or_default())
    });
    Effect::new(move |_| {
        let (brushes, _) = parse_brushes(&brush.get());
        if !brushes.is_empty() {
            let picked = runs.with_untracked(|runs| {
                runs.iter()
                    .filter(|r| kept_by(&brushes, |f| value_of(r, f)))
                    .map(|r| r.info.run_id.clone())
                    .collect::<BTreeSet<_>>()
            });
            set_selected.set(picked);
        }
    });
    let (expanded, set_expanded) = signal(HashSet::<String>::new());
    let (show_picker, set_show_picker) = signal(false);
    let errors = WriteErrors::new();
    let (filter_text, set_filter_text) = signal(view.get_untracked().filter);

    // Every metric and param key in the loaded runs.
    let all_columns = Memo::new(move |_| {
        let runs = runs.read();
        let metrics: BTreeSet<String> =
            runs.iter().flat_map(|r| r.data.metrics.iter().map(|m| m.key.clone())).collect();
        let params: BTreeSet<String> = runs.iter().flat_map(|r| r.data.params.iter().map(|p| p.key.clone())).collect();
        metrics
            .into_iter()
            .map(|k| format!("metrics.{k}"))
            .chain(params.into_iter().map(|k| format!("params.{k}")))
            .collect::<Vec<_>>()
    });
    let columns = Memo::new(move |_| {
        let chosen = view.get().cols;
        if chosen.is_empty() {
            all_columns.get()
        } else {
            chosen
        }
    });

    // Min and max columns (`min.<key>`, `max.<key>`, chosen in the column
    // picker) show what the store keeps of each history; loaded in the browser.
    let range_keys = Memo::new(move |_| {
        let keys: BTreeSet<String> = columns
            .read()
            .iter()
            .filter_map(|c| c.strip_prefix("min.").or_else(|| c.strip_prefix("max.")))
            .map(String::from)
            .collect();
        keys.into_iter().collect::<Vec<_>>().join(",")
    });
    let run_ids = Memo::new(move |_| runs.read().iter().map(|r| r.info.run_id.clone()).collect::<Vec<_>>());
    // Asked for once per run and key: "Load more" asks for its own runs
    // only, and a live refresh for the runs it brought.
    let (ranges, set_ranges) = signal(Ranges::new());
    let asked = StoredValue::new(HashSet::<(String, String)>::new());
    let fetch_ranges = move |ids: Vec<String>, keys: String| {
        spawn_local(async move {
            if let Ok(found) = metric_ranges(ids.join(","), keys).await {
                set_ranges.update(|r| r.extend(found.into_iter().map(|(id, key, min, max)| ((id, key), (min, max)))));
            }
        })
    };
    Effect::new(move |_| {
        let keys = range_keys.get();
        if keys.is_empty() {
            return;
        }
        let missing: Vec<String> = asked.with_value(|asked| {
            run_ids.with(|ids| {
                ids.iter()
                    .filter(|id| keys.split(',').any(|k| !asked.contains(&(id.to_string(), k.to_string()))))
                    .cloned()
                    .collect()
            })
        });
        if missing.is_empty() {
            return;
        }
        asked.update_value(|asked| {
            asked.extend(missing.iter().flat_map(|id| keys.split(',').map(|k| (id.clone(), k.to_string()))))
        });
        fetch_ranges(missing, keys);
    });

    // Each shown column's decimals and best value, over the loaded runs.
    let col_stats = Memo::new(move |_| {
        let ranges = ranges.read();
        let runs = runs.read();
        columns
            .get()
            .into_iter()
            .map(|col| {
                let (kind, name) = col.split_once('.').unwrap_or(("", &col));
                let values: Vec<f64> = match kind {
                    "metrics" => runs
                        .iter()
                        .filter_map(|r| r.data.metrics.iter().find(|m| m.key == name).map(|m| m.value))
                        .collect(),
                    "min" | "max" => {
                        runs.iter().filter_map(|r| range_value(&ranges, &r.info.run_id, kind, name)).collect()
                    }
                    _ => {
                        let texts: Vec<&str> = runs
                            .iter()
                            .filter_map(|r| r.data.params.iter().find(|p| p.key == name).map(|p| p.value.as_str()))
                            .collect();
                        let numbers: Vec<f64> = texts.iter().filter_map(|t| t.trim().parse::<f64>().ok()).collect();
                        if numbers.len() == texts.len() {
                            numbers
                        } else {
                            Vec::new()
                        }
                    }
                };
                let stats = (!values.is_empty()).then(|| crate::columns::stats(name, &values, kind != "params"));
                (col, stats)
            })
            .collect::<HashMap<String, Option<crate::columns::ColumnStats>>>()
    });

    // The Table | Charts toggle keeps the filter, order and columns.
    let view_href = {
        let exp_id = exp_id.clone();
        move |charts: bool| {
            let exp_id = exp_id.clone();
            move || {
                let url = View { charts, ..view.get() }.url(&exp_id);
                // The charts draw the runs ticked in the table: some of
                // them, named in the link (all of them need no list, and
                // runs ticked by a brush on the parallel coordinates are
                // that brush's, already in the link).
                let picked = selected.get();
                let all = runs.with(|r| r.len() <= picked.len() && next_token.read().is_none());
                let brushed = view.with(|v| v.chart_params.iter().any(|(k, b)| k == "brush" && !b.is_empty()));
                if !charts || picked.is_empty() || all || brushed || picked.len() > MAX_PICKED_IN_LINK {
                    return url;
                }
                let ids: Vec<String> = picked.into_iter().collect();
                format!("{url}&sel={}", encode(&ids.join(",")))
            }
        }
    };
    let go = {
        let navigate = navigate.clone();
        let exp_id = exp_id.clone();
        move |v: View| navigate(&v.url(&exp_id), super::in_place())
    };
    // A filter is checked here first, by the same parser the server uses:
    // a bad one is explained above the table and the table stays as it was.
    let (typed_error, set_typed_error) = signal(None::<String>);
    let apply_filter = {
        let go = go.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let mut v = view.get_untracked();
            v.filter = filter_text.get_untracked().trim().to_string();
            match tracking::filter::parse_run_filter(&v.filter) {
                Err(e) => set_typed_error.set(Some(e.message)),
                Ok(_) => {
                    set_typed_error.set(None);
                    go(v);
                }
            }
        }
    };
    let sort_by = {
        let go = go.clone();
        Callback::new(move |key: String| {
            let mut v = view.get_untracked();
            v.order = order_after_click(&v.order, &key);
            go(v);
        })
    };
    let toggle_column = {
        let go = go.clone();
        Callback::new(move |col: String| {
            let mut v = view.get_untracked();
            let mut cols = if v.cols.is_empty() { all_columns.get_untracked() } else { v.cols.clone() };
            if let Some(i) = cols.iter().position(|c| *c == col) {
                cols.remove(i);
            } else {
                cols.push(col);
            }
            v.cols = if cols.is_empty() { vec!["-".into()] } else { cols };
            go(v);
        })
    };
    let toggle_deleted = {
        let go = go.clone();
        move |()| {
            let mut v = view.get_untracked();
            v.deleted = !v.deleted;
            go(v);
        }
    };
    let load_more = {
        let exp_id = exp_id.clone();
        move |_| {
            let Some(token) = next_token.get_untracked() else { return };
            let v = view.get_untracked();
            let exp_id = exp_id.clone();
            spawn_local(async move {
                match experiment_runs(exp_id, v.filter, Some(v.order), v.deleted, Some(token)).await {
                    Ok(p) => {
                        set_runs.update(|r| r.extend(p.runs));
                        set_colors.update(|c| c.extend(p.colors));
                        set_next_token.set(p.next_page_token);
                    }
                    Err(e) => errors.say(e),
                }
            });
        }
    };
    // Live: runs that start appear where the order puts them, and the
    // shown rows' status and values follow what the runs log. The first
    // page is refetched (at most twice a second); rows loaded beyond it
    // stay, and selection, expansion and scroll are untouched.
    let live = crate::live::provide_live(vec![exp_id.clone()], vec![]);
    let refresh = crate::live::debounced(500, {
        let exp_id = exp_id.clone();
        move || {
            let v = view.get_untracked();
            let exp_id = exp_id.clone();
            spawn_local(async move {
                if let Ok(p) = experiment_runs(exp_id, v.filter, Some(v.order), v.deleted, None).await {
                    // The min and max of the page's runs move as they log.
                    let keys = range_keys.get_untracked();
                    if !keys.is_empty() {
                        fetch_ranges(p.runs.iter().map(|r| r.info.run_id.clone()).collect(), keys);
                    }
                    set_colors.update(|c| c.extend(p.colors));
                    let more = set_runs.try_update(|r| {
                        let loaded_beyond = r.len() > p.runs.len();
                        *r = merge_runs(p.runs, std::mem::take(r));
                        loaded_beyond
                    });
                    if more == Some(false) {
                        set_next_token.set(p.next_page_token);
                    }
                }
            });
        }
    });
    live.on(move |_| refresh());
    // Deleted (or restored) runs leave the table once the server took it.
    let delete_runs = errors.watch(Action::new(move |(ids, deleted): &(Vec<String>, bool)| {
        let (ids, deleted) = (ids.clone(), *deleted);
        async move {
            set_runs_deleted(ids.clone(), deleted).await?;
            set_runs.update(|r| r.retain(|run| !ids.contains(&run.info.run_id)));
            set_selected.set(BTreeSet::new());
            Ok(())
        }
    }));
    let delete_selected = move |()| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if ids.is_empty() {
            return;
        }
        delete_runs.dispatch((ids, !view.get_untracked().deleted));
    };
    // Compare shows the runs in the table's order.
    let compare_href = move || {
        let ids: Vec<String> = selected.with(|s| {
            runs.with(|r| r.iter().filter(|r| s.contains(&r.info.run_id)).map(|r| r.info.run_id.clone()).collect())
        });
        format!("/compare?runs={}", ids.join(","))
    };

    // Rows in the order shown: parents first, their children below them
    // when expanded (by index into `runs`, with depth and children).
    let folded = Memo::new(move |_| folds_children(&view.read().order));
    let lines = Memo::new(move |_| {
        runs.with(|runs| {
            if !folded.get() {
                let index: HashMap<&str, usize> =
                    runs.iter().enumerate().map(|(i, r)| (r.info.run_id.as_str(), i)).collect();
                return (0..runs.len())
                    .map(|i| {
                        let parent = tag(&runs[i], tags::PARENT_RUN_ID).and_then(|p| index.get(p).copied());
                        Line { index: i, depth: 0, kids: None, parent }
                    })
                    .collect();
            }
            let ids: HashSet<&str> = runs.iter().map(|r| r.info.run_id.as_str()).collect();
            let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
            let mut top = Vec::new();
            for (i, r) in runs.iter().enumerate() {
                match tag(r, tags::PARENT_RUN_ID).filter(|p| ids.contains(p)) {
                    Some(p) => children.entry(p).or_default().push(i),
                    None => top.push(i),
                }
            }
            let open = expanded.read();
            let mut out = Vec::new();
            for i in top {
                let kids = children.remove(runs[i].info.run_id.as_str()).unwrap_or_default();
                let is_open = open.contains(&runs[i].info.run_id);
                out.push(Line { index: i, depth: 0, kids: Some((kids.len(), is_open)), parent: None });
                if is_open {
                    out.extend(kids.into_iter().map(|k| Line { index: k, depth: 1, kids: None, parent: None }));
                }
            }
            out
        })
    });
    // Selecting: a click toggles a run; a shift-click selects every row
    // from the last clicked one to this one, as shown.
    let (anchor, set_anchor) = signal(None::<String>);
    let shown_order = Memo::new(move |_| {
        runs.with(|runs| lines.read().iter().map(|l| runs[l.index].info.run_id.clone()).collect::<Vec<_>>())
    });
    let on_check = Callback::new(move |(id, shift): (String, bool)| {
        let range = shift.then(|| anchor.get_untracked()).flatten().and_then(|from| {
            shown_order.with_untracked(|order| {
                let a = order.iter().position(|x| *x == from)?;
                let b = order.iter().position(|x| *x == id)?;
                Some(order[a.min(b)..=a.max(b)].to_vec())
            })
        });
        set_selected.update(|s| match range {
            Some(ids) => s.extend(ids),
            None => {
                if !s.remove(&id) {
                    s.insert(id.clone());
                }
            }
        });
        set_anchor.set(Some(id));
    });
    // Select all: every run the filter keeps (children too), loading the
    // pages not yet shown; again: none.
    let all_selected =
        move || runs.with(|r| !r.is_empty() && selected.with(|s| r.iter().all(|r| s.contains(&r.info.run_id))));
    let select_all = {
        let exp_id = exp_id.clone();
        move |_| {
            if all_selected() && next_token.get_untracked().is_none() {
                set_selected.set(BTreeSet::new());
                return;
            }
            let v = view.get_untracked();
            let exp_id = exp_id.clone();
            spawn_local(async move {
                while let Some(token) = next_token.get_untracked() {
                    match experiment_runs(
                        exp_id.clone(),
                        v.filter.clone(),
                        Some(v.order.clone()),
                        v.deleted,
                        Some(token),
                    )
                    .await
                    {
                        Ok(p) => {
                            set_runs.update(|r| r.extend(p.runs));
                            set_colors.update(|c| c.extend(p.colors));
                            set_next_token.set(p.next_page_token);
                        }
                        Err(e) => {
                            errors.say(e);
                            return;
                        }
                    }
                }
                set_selected.set(runs.with_untracked(|r| r.iter().map(|r| r.info.run_id.clone()).collect()));
            });
        }
    };

    // A big table renders only the rows and columns in view (plus a few
    // around them) between spacers; the server renders its top left.
    let scroller = NodeRef::<leptos::html::Div>::new();
    let (scroll, set_scroll) = signal((0.0f64, 0.0f64));
    let (viewport, set_viewport) = signal(DEFAULT_VIEWPORT);
    let (row_height, set_row_height) = signal(ROW_HEIGHT);
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            let (w, h) = (f64::from(el.client_width()), f64::from(el.client_height()));
            if w > 0.0 && h > 0.0 {
                set_viewport.set((w, h));
            }
            set_scroll.set((f64::from(el.scroll_left()), f64::from(el.scroll_top())));
            if let Ok(Some(row)) = el.query_selector("tbody tr[data-run-id]") {
                let h = f64::from(row.client_height());
                if h > 0.0 && (h - row_height.get_untracked()).abs() >= 1.0 {
                    set_row_height.set(h);
                }
            }
        }
    };
    Effect::new(move |_| {
        // Again when the table comes back from the chart view.
        if !view.read().charts {
            request_animation_frame(measure);
        }
    });
    let on_resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || on_resize.remove());
    let windowed = Memo::new(move |_| lines.read().len() * (columns.read().len() + 8) > WINDOWED_CELLS);
    let row_window = Memo::new(move |_| {
        let len = lines.read().len();
        if !windowed.get() {
            return (0, len);
        }
        let (_, top) = scroll.get();
        window(top, viewport.get().1, row_height.get(), len, 8)
    });
    let column_window = Memo::new(move |_| {
        let n = columns.read().len();
        if !windowed.get() {
            return (0, n);
        }
        let (left, _) = scroll.get();
        window(left - fixed_width(), viewport.get().0, COLUMN_WIDTH, n, 3)
    });
    // Rows are kept while they stay in view; anything else a row shows
    // (columns, their statistics, colours, the column window) renders
    // them all again.
    let generation = Memo::new(move |last: Option<&u64>| {
        runs.track();
        columns.track();
        col_stats.track();
        ranges.track();
        colors.track();
        column_window.track();
        last.map_or(0, |g| g + 1)
    });
    let shown_rows = Memo::new(move |_| {
        let (first, end) = row_window.get();
        let g = generation.get();
        runs.with_untracked(|runs| {
            lines.with(|lines| {
                lines[first.min(lines.len())..end.min(lines.len())]
                    .iter()
                    .map(|l| {
                        let open = l.kids.is_some_and(|(_, open)| open);
                        (format!("{}|{g}|{open}", runs[l.index].info.run_id), *l)
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let row = {
        let exp_id = exp_id.clone();
        move |(_, line): (String, Line)| {
            let (c0, c1) = column_window.get_untracked();
            let windowed = windowed.get_untracked();
            runs.with_untracked(|runs| {
                let r = &runs[line.index];
                let parent = line.parent.map(|p| runs[p].info.run_name.clone());
                let color = colors.with_untracked(|c| c.get(&r.info.run_id).cloned().unwrap_or_default());
                columns.with_untracked(|cols| {
                    col_stats.with_untracked(|stats| {
                        ranges.with_untracked(|ranges| {
                            run_row(
                                r,
                                color,
                                RowCells { cols: &cols[c0..c1.min(cols.len())], gaps: windowed, stats, ranges },
                                &exp_id,
                                line.depth,
                                line.kids,
                                parent,
                                set_expanded,
                                selected,
                                on_check,
                            )
                        })
                    })
                })
            })
        }
    };
    let spacer = move |rows: usize| {
        let height = rows as f64 * row_height.get();
        // The fixed columns and the two gaps.
        let span = (column_window.get().1 - column_window.get().0 + FIXED_WIDTHS.len() + 2).to_string();
        (rows > 0).then(|| view! { <tr class="spacer" style=format!("height:{height}px")><td colspan=span></td></tr> })
    };
    let top_spacer = move || spacer(row_window.get().0);
    let bottom_spacer = move || spacer(lines.read().len().saturating_sub(row_window.get().1));
    // The column widths a windowed table keeps, whatever is rendered.
    let column_sizes = move || {
        windowed.get().then(|| {
            let (c0, c1) = column_window.get();
            let n = columns.read().len();
            let fixed = FIXED_WIDTHS.iter().map(|w| view! { <col style=format!("width:{w}px") /> }).collect_view();
            let shown = (c0..c1).map(|_| view! { <col style=format!("width:{COLUMN_WIDTH}px") /> }).collect_view();
            view! {
                <colgroup>
                    {fixed}
                    <col style=format!("width:{}px", c0 as f64 * COLUMN_WIDTH) />
                    {shown}
                    <col style=format!("width:{}px", (n - c1) as f64 * COLUMN_WIDTH) />
                </colgroup>
            }
        })
    };
    let table_style = move || {
        windowed.get().then(|| format!("width:{}px", fixed_width() + columns.read().len() as f64 * COLUMN_WIDTH))
    };
    view! {
        <div class="page-head">
            <h1>
                <A href="/">"Experiments"</A>
                " / "
                {experiment.name.clone()}
            </h1>
            <span class="muted">"ID " {exp_id.clone()}</span>
            <A href=format!("/dashboards?experiment={exp_id}") attr:id="experiment-dashboards"
                attr:title="The dashboards that show this experiment">"Dashboards"</A>
            <crate::live::LiveBadge />
        </div>
        <ExperimentAbout experiment=experiment.clone() />
        <form class="filter-bar" on:submit=apply_filter>
            <input
                id="run-filter"
                class="mono"
                placeholder="metrics.val_loss < 0.5 AND params.optimizer = 'adam'"
                prop:value=filter_text
                on:input=move |ev| set_filter_text.set(event_target_value(&ev))
            />
            <button type="submit">"Search"</button>
        </form>
        {
            let from_url = page.filter_error.clone().map(|e| format!("{e} Showing all runs."));
            move || {
                typed_error
                    .get()
                    .or_else(|| from_url.clone())
                    .map(|e| view! { <p class="error" id="filter-error" role="alert">{e}</p> })
            }
        }
        {errors.view()}
        <nav class="tabs view-toggle">
            <A href=view_href(false) attr:class=move || if view.get().charts { "tab" } else { "tab active" } attr:id="view-table">
                "Table"
            </A>
            <A href=view_href(true) attr:class=move || if view.get().charts { "tab active" } else { "tab" } attr:id="view-charts">
                "Charts"
            </A>
        </nav>
        <Show when=move || view.get().charts>
            {
                let v = view.get_untracked();
                let initial = charts.get_value();
                view! { <ExperimentCharts experiment_id=exp_id.clone() filter=v.filter order=v.order deleted=v.deleted initial /> }
            }
        </Show>
        <div class="table-view" class:hidden=move || view.get().charts>
        <RunsToolbar
            count=Signal::derive(move || {
                let more = if next_token.read().is_some() { "+" } else { "" };
                format!("{}{more} runs", runs.read().len())
            })
            picked=Signal::derive(move || selected.read().len())
            compare_href=Signal::derive(compare_href)
            deleted=Signal::derive(move || view.read().deleted)
            on_columns=Callback::new(move |()| set_show_picker.update(|s| *s = !*s))
            on_delete=Callback::new(delete_selected)
            on_show_deleted=Callback::new(toggle_deleted)
        />
        <Show when=move || show_picker.get()>
            <ColumnPicker chosen=columns all=all_columns on_toggle=toggle_column />
        </Show>
        <div class="table-scroll" node_ref=scroller on:scroll=move |_| measure()>
            <table class="grid runs" class:windowed=windowed id="runs" style=table_style>
                {column_sizes}
                <thead>
                    <ColumnGroups columns column_window windowed />
                    <tr>
                        <th class="check">
                            <input type="checkbox" id="select-all" aria-label="select every run the filter keeps"
                                title="Select every run the filter keeps" prop:checked=all_selected on:click=select_all />
                        </th>
                        <ColumnHeads order=Signal::derive(move || view.read().order.clone()) on_sort=sort_by columns column_window windowed />
                    </tr>
                </thead>
                <tbody>
                    {top_spacer}
                    <For each=move || shown_rows.get() key=|(key, _)| key.clone() children=row />
                    {bottom_spacer}
                </tbody>
            </table>
        </div>
        {move || {
            if runs.read().is_empty() {
                Some(view! { <p class="empty">"No runs match."</p> })
            } else {
                None
            }
        }}
        <Show when=move || next_token.read().is_some()>
            <button class="load-more" on:click=load_more.clone()>"Load more runs"</button>
        </Show>
        </div>
    }
    .into_any()
}
