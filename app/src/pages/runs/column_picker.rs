//! The runs table's column picker: every param and metric, and each
//! metric's lowest and highest value, ticked when shown.

use leptos::prelude::*;

#[component]
pub(super) fn ColumnPicker(
    /// The columns shown, in their order.
    chosen: Memo<Vec<String>>,
    /// Every param and metric column the runs have.
    all: Memo<Vec<String>>,
    on_toggle: Callback<String>,
) -> impl IntoView {
    move || {
        let chosen = chosen.get();
        let all = all.get();
        // Each metric's lowest and highest value are columns to add.
        let ranges: Vec<String> = all
            .iter()
            .filter_map(|c| c.strip_prefix("metrics."))
            .flat_map(|k| [format!("min.{k}"), format!("max.{k}")])
            .collect();
        let items = all
            .into_iter()
            .chain(ranges)
            .map(|c| {
                let on = chosen.contains(&c);
                let c2 = c.clone();
                view! {
                    <label class="pick">
                        <input type="checkbox" prop:checked=on on:change=move |_| on_toggle.run(c2.clone()) />
                        {c}
                    </label>
                }
            })
            .collect_view();
        view! { <div class="column-picker" id="column-picker">{items}</div> }
    }
}
