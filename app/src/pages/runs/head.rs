//! What sits over the runs table: the experiment's description and tags,
//! the toolbar, and the table's two header rows (the column groups and the
//! sortable column names, for the columns in view of a windowed table).

use leptos::prelude::*;
use leptos_router::components::A;

/// The run count and what can be done with the runs ticked.
#[component]
pub(super) fn RunsToolbar(
    /// "20 runs", "100+ runs".
    count: Signal<String>,
    /// How many runs are ticked.
    picked: Signal<usize>,
    compare_href: Signal<String>,
    /// Whether the table shows deleted runs (then ticked runs are restored).
    deleted: Signal<bool>,
    on_columns: Callback<()>,
    on_delete: Callback<()>,
    on_show_deleted: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="toolbar">
            <span class="muted" id="run-count">{count}</span>
            <button on:click=move |_| on_columns.run(()) id="columns-button">"Columns"</button>
            <A href=move || compare_href.get() attr:class=move || { if picked.get() >= 2 { "button" } else { "button disabled" } }
                attr:id="compare-button">
                {move || match picked.get() {
                    0 | 1 => "Compare".to_string(),
                    n => format!("Compare {n}"),
                }}
            </A>
            <button on:click=move |_| on_delete.run(()) disabled=move || picked.get() == 0>
                {move || if deleted.get() { "Restore selected" } else { "Delete selected" }}
            </button>
            <label class="pick">
                <input type="checkbox" prop:checked=deleted on:change=move |_| on_show_deleted.run(()) />
                "Deleted runs"
            </label>
        </div>
    }
}

/// "Params", "Metrics", "Lowest", "Highest" over their columns.
#[component]
pub(super) fn ColumnGroups(
    columns: Memo<Vec<String>>,
    column_window: Memo<(usize, usize)>,
    windowed: Memo<bool>,
) -> impl IntoView {
    let cells = move || {
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
    view! { <tr class="column-groups">{cells}</tr> }
}

/// The column names; a click sorts by the column (`on_sort` its key), and
/// the current order's column shows its direction.
#[component]
pub(super) fn ColumnHeads(
    order: Signal<String>,
    on_sort: Callback<String>,
    columns: Memo<Vec<String>>,
    column_window: Memo<(usize, usize)>,
    windowed: Memo<bool>,
) -> impl IntoView {
    move || {
        let order = order.get();
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
            let k = key.clone();
            view! {
                <th class=class data-key=key.clone() on:click=move |_| on_sort.run(k.clone()) title=key>
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
    }
}

/// The experiment's description (Markdown, as MLflow stores it) and its
/// own tags, over its runs.
#[component]
pub(super) fn ExperimentAbout(experiment: tracking::Experiment) -> impl IntoView {
    let description = experiment
        .tags
        .iter()
        .find(|t| t.key == tracking::tags::NOTE)
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
}
