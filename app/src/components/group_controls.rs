//! Group runs by a param, tag or status, and style lines by another.

use crate::aggregate::{Band, Center, Grouping};
use crate::charts::LINE_STYLES;
use leptos::prelude::*;

/// Group by a param, tag or status, with the group's centre (mean or
/// median) and band; each choice goes into the URL.
#[component]
pub fn GroupControls(
    #[prop(into)] keys: Signal<Vec<String>>,
    #[prop(into)] grouping: Signal<Grouping>,
    on_set: Callback<(&'static str, String)>,
) -> impl IntoView {
    let grouped = move || !grouping.get().field.is_empty();
    view! {
        <div class="toolbar chart-controls">
            <label>
                "Group by "
                <select id="group-by" prop:value=move || grouping.get().field
                    on:change=move |ev| on_set.run(("group", event_target_value(&ev)))>
                    <option value="">"No grouping"</option>
                    {move || key_options(keys.get(), &grouping.get().field)}
                </select>
            </label>
            <label title=format!("Each value of this key draws its lines in its own style: {}", LINE_STYLES.join(", "))>
                "Line style by "
                <select id="style-by" prop:value=move || grouping.get().style
                    on:change=move |ev| on_set.run(("style", event_target_value(&ev)))>
                    <option value="">"None"</option>
                    {move || key_options(keys.get(), &grouping.get().style)}
                </select>
            </label>
            <Show when=grouped>
                <label>
                    "Line "
                    <select id="group-center" prop:value=move || grouping.get().center.name()
                        on:change=move |ev| on_set.run(("agg", event_target_value(&ev)))>
                        <option value=Center::Mean.name()>"Mean"</option>
                        <option value=Center::Median.name()>"Median"</option>
                    </select>
                </label>
                <label>
                    "Band "
                    <select id="group-band" prop:value=move || grouping.get().band.name()
                        on:change=move |ev| on_set.run(("band", event_target_value(&ev)))>
                        <option value=Band::MinMax.name()>"Min–max"</option>
                        <option value=Band::Std.name()>"± std"</option>
                        <option value=Band::Sem.name()>"± std. error"</option>
                        <option value=Band::Iqr.name()>"Middle half (25–75%)"</option>
                        <option value=Band::None.name()>"None"</option>
                    </select>
                </label>
            </Show>
        </div>
    }
}

/// A select's options, one per key, the chosen one selected (the keys
/// arrive after the select, so its `value` alone would not pick it).
fn key_options(keys: Vec<String>, chosen: &str) -> impl IntoView {
    keys.into_iter().map(|k| view! { <option value=k.clone() selected=k == chosen>{k.clone()}</option> }).collect_view()
}
