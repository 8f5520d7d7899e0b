//! `/experiments/{id}`: the runs table. Filter (MLflow's search syntax),
//! sort order, visible columns and the deleted-runs view live in the query
//! string, so a link reproduces the view.

mod charts;

use super::{error_sentence, ErrorNote, Loaded};
use crate::columns::format_in_column;
use crate::columns::value_of;
use crate::components::status::status_class;
use crate::format::{encode, format_duration, format_time};
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
use tracking::{tags, Run};

/// A shown row: its run (an index into the loaded runs), nesting depth,
/// for a top-level run its number of children and whether they show, and
/// in a table ranked by a column, the parent a child run was lifted from.
#[derive(Clone, Copy, PartialEq)]
struct Line {
    index: usize,
    depth: usize,
    kids: Option<(usize, bool)>,
    parent: Option<usize>,
}

/// Whether a table in this order shows nested runs folded under their
/// parents (the default order, newest first), or ranks every run by the
/// column (as MLflow does once a column is sorted: a child run keeps its
/// place in the ranking instead of hiding inside a parent that sorts by
/// its own, often missing, value).
fn folds_children(order: &str) -> bool {
    order.is_empty() || order == "attributes.start_time DESC"
}

/// The order after a click on a column's header: its best values first
/// on the first click (lowest for losses and errors, names from A), then
/// the other way on each click after.
fn order_after_click(current: &str, key: &str) -> String {
    if current == format!("{key} DESC") {
        return format!("{key} ASC");
    }
    if current == format!("{key} ASC") {
        return format!("{key} DESC");
    }
    let name = key.split_once('.').map_or(key, |(_, n)| n).trim_matches('`');
    let ascending_first = match key.split_once('.').map(|(kind, _)| kind) {
        Some("metrics") => crate::columns::lower_is_better(name),
        Some("attributes") => matches!(name, "run_name" | "user_id" | "status"),
        _ => false,
    };
    format!("{key} {}", if ascending_first { "ASC" } else { "DESC" })
}

/// The view state in the URL.
#[derive(Clone, PartialEq, Default)]
struct View {
    filter: String,
    order: String,
    /// Visible metric/param columns (`metrics.loss`, `params.lr`); empty: all.
    cols: Vec<String>,
    deleted: bool,
    /// The chart view (`view=charts`) instead of the table.
    charts: bool,
    /// The chart view's own settings (x axis, log, smoothing, panel
    /// search), kept when the filter or order changes.
    chart_params: Vec<(String, String)>,
}

/// The most runs ticked in the table that the chart view's link names
/// (more make a link too long to share; the charts then show every run).
const MAX_PICKED_IN_LINK: usize = 200;

/// Query parameters that belong to the chart view.
const CHART_PARAMS: [&str; 18] = [
    "x", "log", "logx", "clip", "smooth", "q", "group", "style", "agg", "band", "panel", "brush", "pcolor", "hide",
    "colors", "pc", "imp", "sx",
];

impl View {
    fn url(&self, experiment_id: &str) -> String {
        let mut q = Vec::new();
        if !self.filter.is_empty() {
            q.push(format!("filter={}", encode(&self.filter)));
        }
        if !self.order.is_empty() {
            q.push(format!("order={}", encode(&self.order)));
        }
        if !self.cols.is_empty() {
            q.push(format!("cols={}", encode(&self.cols.join(","))));
        }
        if self.deleted {
            q.push("deleted=1".into());
        }
        if self.charts {
            q.push("view=charts".into());
        }
        // Kept in table view too: switching back shows the same charts, and
        // runs picked on the parallel coordinates stay selected in the table.
        q.extend(self.chart_params.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        let qs = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
        format!("/experiments/{experiment_id}{qs}")
    }
}

/// A refetched first page followed by the rows loaded beyond it earlier
/// (in their order): new runs take their sorted place, known rows their
/// new values, and nothing the user paged to disappears.
fn merge_runs(fresh: Vec<Run>, old: Vec<Run>) -> Vec<Run> {
    if old.len() <= fresh.len() {
        return fresh;
    }
    let ids: HashSet<String> = fresh.iter().map(|r| r.info.run_id.clone()).collect();
    let mut rows = fresh;
    rows.extend(old.into_iter().filter(|r| !ids.contains(&r.info.run_id)));
    rows
}

fn tag<'a>(run: &'a Run, key: &str) -> Option<&'a str> {
    run.data.tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

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
                runs.map(|p| (p, Some(chart.map_err(|e| error_sentence(&e)))))
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
    let (action_error, set_action_error) = signal(None::<String>);
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
        move |key: String| {
            let mut v = view.get_untracked();
            v.order = order_after_click(&v.order, &key);
            go(v);
        }
    };
    let toggle_column = {
        let go = go.clone();
        move |col: String| {
            let mut v = view.get_untracked();
            let mut cols = if v.cols.is_empty() { all_columns.get_untracked() } else { v.cols.clone() };
            if let Some(i) = cols.iter().position(|c| *c == col) {
                cols.remove(i);
            } else {
                cols.push(col);
            }
            v.cols = if cols.is_empty() { vec!["-".into()] } else { cols };
            go(v);
        }
    };
    let toggle_deleted = {
        let go = go.clone();
        move |_| {
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
                    Err(e) => set_action_error.set(Some(error_sentence(&e))),
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
    let delete_selected = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if ids.is_empty() {
            return;
        }
        let deleted = view.get_untracked().deleted;
        spawn_local(async move {
            match set_runs_deleted(ids.clone(), !deleted).await {
                Ok(()) => {
                    set_runs.update(|r| r.retain(|run| !ids.contains(&run.info.run_id)));
                    set_selected.set(BTreeSet::new());
                }
                Err(e) => set_action_error.set(Some(error_sentence(&e))),
            }
        });
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
                            set_action_error.set(Some(error_sentence(&e)));
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
    let header = move || {
        let order = view.get().order;
        let sort_by = sort_by.clone();
        let th = move |label: String, key: String| {
            let class = match key.as_str() {
                "attributes.run_name" => "sortable name",
                "attributes.user_id" => "sortable user",
                _ => "sortable",
            };
            let arrow = if order == format!("{key} DESC") {
                " ↓"
            } else if order == format!("{key} ASC") {
                " ↑"
            } else {
                ""
            };
            let sort_by = sort_by.clone();
            let k = key.clone();
            view! {
                <th class=class data-key=key.clone() on:click=move |_| sort_by(k.clone()) title=key>
                    {label}{arrow}
                </th>
            }
        };
        let mut cells = vec![
            th("Run".into(), "attributes.run_name".into()).into_any(),
            th("Status".into(), "attributes.status".into()).into_any(),
            th("Started".into(), "attributes.start_time".into()).into_any(),
            view! { <th>"Duration"</th> }.into_any(),
            th("User".into(), "attributes.user_id".into()).into_any(),
            view! { <th class="source">"Source"</th> }.into_any(),
        ];
        let (c0, c1) = column_window.get();
        let gaps = windowed.get();
        if gaps {
            cells.push(view! { <th class="gap"></th> }.into_any());
        }
        for col in columns.get().into_iter().take(c1).skip(c0) {
            let (kind, name) = col.split_once('.').unwrap_or(("", &col));
            let label = match kind {
                "params" => format!("{name} (param)"),
                // The store keeps these but MLflow's search cannot order by them.
                "min" | "max" => {
                    let title = format!("The {kind} of {name} over its whole history");
                    cells.push(view! { <th class="range" title=title>{format!("{name} ({kind})")}</th> }.into_any());
                    continue;
                }
                _ => name.to_string(),
            };
            let key = format!("{kind}.`{name}`");
            cells.push(th(label, key).into_any());
        }
        if gaps {
            cells.push(view! { <th class="gap"></th> }.into_any());
        }
        cells
    };
    // The experiment's description (Markdown, as MLflow stores it) and
    // its own tags.
    let about = {
        let description = experiment
            .tags
            .iter()
            .find(|t| t.key == tags::NOTE)
            .map(|t| t.value.clone())
            .filter(|d| !d.trim().is_empty());
        let own: Vec<(String, String)> = experiment
            .tags
            .iter()
            .filter(|t| !t.key.starts_with("mlflow."))
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        let chips = (!own.is_empty()).then(|| {
            let items = own
                .into_iter()
                .map(|(k, v)| view! { <span class="tag-chip"><span class="muted">{k}</span> " " {v}</span> })
                .collect_view();
            view! { <div class="tag-chips" id="experiment-tags">{items}</div> }
        });
        let text = description.map(|d| {
            view! { <div class="markdown experiment-description" id="experiment-description">{crate::components::markdown::markdown(&d)}</div> }
        });
        view! { {text} {chips} }
    };
    // Metric and param columns under their group's name.
    let group_row = move || {
        // Over the fixed columns; the user and source ones hide on a narrow screen.
        let mut cells =
            vec![view! { <th colspan="5"></th> <th class="user"></th> <th class="source"></th> }.into_any()];
        let (c0, c1) = column_window.get();
        let gaps = windowed.get();
        let all = columns.get();
        let cols = &all[c0..c1.min(all.len())];
        if gaps {
            cells.push(view! { <th class="gap"></th> }.into_any());
        }
        let mut i = 0;
        while i < cols.len() {
            let kind = cols[i].split_once('.').map_or("", |(k, _)| k).to_string();
            let n = cols[i..].iter().take_while(|c| c.split_once('.').map_or("", |(k, _)| k) == kind).count();
            let label = match kind.as_str() {
                "metrics" => "Metrics",
                "min" => "Lowest",
                "max" => "Highest",
                _ => "Params",
            };
            cells.push(view! { <th colspan=n.to_string() class=format!("group {kind}")>{label}</th> }.into_any());
            i += n;
        }
        if gaps {
            cells.push(view! { <th class="gap"></th> }.into_any());
        }
        cells
    };
    let picker = move || {
        show_picker.get().then(|| {
            let chosen = columns.get();
            let toggle_column = toggle_column.clone();
            // Each metric's lowest and highest value are columns to add.
            let all = all_columns.get();
            let ranges = all
                .iter()
                .filter_map(|c| c.strip_prefix("metrics."))
                .flat_map(|k| [format!("min.{k}"), format!("max.{k}")]);
            let items = all
                .iter()
                .cloned()
                .chain(ranges.collect::<Vec<_>>())
                .map(|c| {
                    let on = chosen.contains(&c);
                    let toggle_column = toggle_column.clone();
                    let c2 = c.clone();
                    view! {
                        <label class="pick">
                            <input type="checkbox" prop:checked=on on:change=move |_| toggle_column(c2.clone()) />
                            {c}
                        </label>
                    }
                })
                .collect_view();
            view! { <div class="column-picker" id="column-picker">{items}</div> }
        })
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
        {about}
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
        {move || action_error.get().map(|e| view! { <ErrorNote message=e /> })}
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
        <div class="toolbar">
            <span class="muted" id="run-count">
                {move || {
                    let n = runs.read().len();
                    let more = if next_token.read().is_some() { "+" } else { "" };
                    format!("{n}{more} runs")
                }}
            </span>
            <button on:click=move |_| set_show_picker.update(|s| *s = !*s) id="columns-button">
                "Columns"
            </button>
            <A href=compare_href attr:class=move || {
                if selected.read().len() >= 2 { "button" } else { "button disabled" }
            } attr:id="compare-button">
                {move || match selected.read().len() {
                    0 | 1 => "Compare".to_string(),
                    n => format!("Compare {n}"),
                }}
            </A>
            <button on:click=delete_selected disabled=move || selected.read().is_empty()>
                {move || if view.get().deleted { "Restore selected" } else { "Delete selected" }}
            </button>
            <label class="pick">
                <input type="checkbox" prop:checked=move || view.get().deleted on:change=toggle_deleted />
                "Deleted runs"
            </label>
        </div>
        {picker}
        <div class="table-scroll" node_ref=scroller on:scroll=move |_| measure()>
            <table class="grid runs" class:windowed=windowed id="runs" style=table_style>
                {column_sizes}
                <thead>
                    <tr class="column-groups">{group_row}</tr>
                    <tr>
                        <th class="check">
                            <input type="checkbox" id="select-all" aria-label="select every run the filter keeps"
                                title="Select every run the filter keeps" prop:checked=all_selected on:click=select_all />
                        </th>
                        {header}
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

/// Each run's lowest and highest value of a metric, by (run id, key).
type Ranges = HashMap<(String, String), (Option<f64>, Option<f64>)>;

/// A run's `min` or `max` of metric `key`, when loaded.
fn range_value(ranges: &Ranges, run_id: &str, kind: &str, key: &str) -> Option<f64> {
    let (min, max) = ranges.get(&(run_id.to_string(), key.to_string()))?;
    if kind == "min" {
        *min
    } else {
        *max
    }
}

/// The metric/param cells a row shows: its columns (those in view), with
/// spacer cells around them in a windowed table.
struct RowCells<'a> {
    cols: &'a [String],
    gaps: bool,
    stats: &'a HashMap<String, Option<crate::columns::ColumnStats>>,
    ranges: &'a Ranges,
}

#[allow(clippy::too_many_arguments)]
fn run_row(
    r: &Run,
    color: String,
    RowCells { cols, gaps, stats, ranges }: RowCells,
    exp_id: &str,
    depth: usize,
    kids: Option<(usize, bool)>,
    // Ranked outside its parent: the parent's name, beside its own.
    parent: Option<String>,
    set_expanded: WriteSignal<HashSet<String>>,
    selected: ReadSignal<BTreeSet<String>>,
    on_check: Callback<(String, bool)>,
) -> AnyView {
    let id = r.info.run_id.clone();
    let href = format!("/experiments/{exp_id}/runs/{id}");
    let duration =
        r.info.end_time.map(|e| format_duration(e.saturating_sub(r.info.start_time))).unwrap_or_else(|| "–".into());
    let source = tag(r, tags::SOURCE_NAME).map(|s| s.rsplit('/').next().unwrap_or(s).to_string()).unwrap_or_default();
    let commit = tag(r, "mlflow.source.git.commit").map(|c| c.chars().take(8).collect::<String>()).unwrap_or_default();
    let cells = cols
        .iter()
        .map(|col| {
            let (kind, name) = col.split_once('.').unwrap_or(("", col));
            match kind {
                // Metrics and params come sorted by key from the store.
                "metrics" => {
                    match r.data.metrics.binary_search_by(|m| m.key.as_str().cmp(name)).ok().map(|i| &r.data.metrics[i])
                    {
                        Some(m) => {
                            let st = stats.get(col).cloned().flatten().unwrap_or_default();
                            let best = st.best == Some(m.value);
                            view! {
                                <td class="num" class:best=best title=if best { format!("{} (best in this column)", m.value) } else { m.value.to_string() }>
                                    {format_in_column(m.value, st.decimals)}
                                </td>
                            }
                            .into_any()
                        }
                        None => view! { <td class="num muted">"–"</td> }.into_any(),
                    }
                }
                "min" | "max" => match range_value(ranges, &r.info.run_id, kind, name) {
                    Some(v) => {
                        let st = stats.get(col).cloned().flatten().unwrap_or_default();
                        let best = st.best == Some(v);
                        view! {
                            <td class="num" class:best=best title=v.to_string()>{format_in_column(v, st.decimals)}</td>
                        }
                        .into_any()
                    }
                    None => view! { <td class="num muted">"–"</td> }.into_any(),
                },
                _ => match r.data.params.binary_search_by(|p| p.key.as_str().cmp(name)).ok().map(|i| &r.data.params[i])
                {
                    Some(p) => match (stats.get(col).cloned().flatten(), p.value.trim().parse::<f64>()) {
                        // A column of numbers: right-aligned, its decimals shared.
                        (Some(st), Ok(v)) => {
                            view! { <td class="num" title=p.value.clone()>{format_in_column(v, st.decimals)}</td> }
                                .into_any()
                        }
                        _ => view! { <td title=p.value.clone()>{p.value.clone()}</td> }.into_any(),
                    },
                    None => view! { <td class="muted">"–"</td> }.into_any(),
                },
            }
        })
        .collect_view();
    let toggle = kids.filter(|(n, _)| *n > 0).map(|(n, open)| {
        let id = id.clone();
        view! {
            <button
                class="expand"
                aria-expanded=open.to_string()
                on:click=move |_| {
                    set_expanded
                        .update(|s| {
                            if !s.remove(&id) {
                                s.insert(id.clone());
                            }
                        })
                }
            >
                {if open { "▾" } else { "▸" }}
                {format!(" {n}")}
            </button>
        }
    });
    let id_check = id.clone();
    let id_checked = id.clone();
    let is_child = depth > 0;
    let run_name = r.info.run_name.clone();
    let status = r.info.status;
    let start_time = r.info.start_time;
    let user_id = r.info.user_id.clone();
    let source_full = tag(r, tags::SOURCE_NAME).unwrap_or_default().to_string();
    view! {
        <tr data-run-id=id.clone() class:child=is_child>
            <td class="check">
                <input
                    type="checkbox"
                    aria-label="select run"
                    prop:checked=move || selected.read().contains(&id_checked)
                    on:click=move |ev: leptos::ev::MouseEvent| on_check.run((id_check.clone(), ev.shift_key()))
                />
            </td>
            <td class="name">
                {toggle}
                <span class="run-dot" style=format!("background:{color}")></span>
                <A href=href>{run_name}</A>
                {parent.map(|p| view! { <span class="muted parent-of" title="A nested run, ranked with every run by the sorted column">{format!(" in {p}")}</span> })}
            </td>
            <td>
                <span class=status_class(status)>{status.as_str().to_lowercase()}</span>
            </td>
            <td>{format_time(start_time)}</td>
            <td class="num">{duration}</td>
            <td class="user">{user_id}</td>
            <td class="source" title=source_full>
                {source}
                {(!commit.is_empty()).then(|| view! { " " <span class="mono muted" title="Git commit">{commit}</span> })}
            </td>
            {gaps.then(|| view! { <td class="gap"></td> })}
            {cells}
            {gaps.then(|| view! { <td class="gap"></td> })}
        </tr>
    }
    .into_any()
}
