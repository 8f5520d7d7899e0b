//! One run's row in the runs table: its name (folded children, parent
//! hint), status, times, user, source, and the metric and param cells in view.

use super::state::tag;
use crate::columns::format_in_column;
use crate::components::status::status_class;
use crate::format::{format_duration, format_time};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::{BTreeSet, HashMap, HashSet};
use tracking::{tags, Run};

/// Each run's lowest and highest value of a metric, by (run id, key).
pub(super) type Ranges = HashMap<(String, String), (Option<f64>, Option<f64>)>;

/// A run's `min` or `max` of metric `key`, when loaded.
pub(super) fn range_value(ranges: &Ranges, run_id: &str, kind: &str, key: &str) -> Option<f64> {
    let (min, max) = ranges.get(&(run_id.to_string(), key.to_string()))?;
    if kind == "min" {
        *min
    } else {
        *max
    }
}

/// The metric/param cells a row shows: its columns (those in view), with
/// spacer cells around them in a windowed table.
pub(super) struct RowCells<'a> {
    pub(super) cols: &'a [String],
    pub(super) gaps: bool,
    pub(super) stats: &'a HashMap<String, Option<crate::columns::ColumnStats>>,
    pub(super) ranges: &'a Ranges,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run_row(
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
