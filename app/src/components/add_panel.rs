//! A new panel of a kind and what the user types (metric keys, fields or
//! Markdown): the dashboard's edit mode and the chart view's "Add panel".

use crate::dashboard_draft::{new_panel, PANEL_KINDS};
use leptos::prelude::*;
use tracking::dashboards::Panel;

#[component]
pub fn AddPanel(
    /// The form's element id.
    id: &'static str,
    /// The kinds offered (`PANEL_KINDS`' ids), in their order there.
    kinds: Vec<&'static str>,
    /// Keys offered as the user types.
    metric_keys: Memo<Vec<String>>,
    on_add: Callback<Panel>,
) -> impl IntoView {
    let kinds: Vec<(&'static str, &'static str, &'static str)> =
        PANEL_KINDS.iter().copied().filter(|(k, ..)| kinds.contains(k)).collect();
    let (kind, set_kind) = signal(kinds.first().map(|k| k.0).unwrap_or("line").to_string());
    let (text, set_text) = signal(String::new());
    let (why, set_why) = signal(None::<String>);
    let placeholder = move || {
        let k = kind.get();
        PANEL_KINDS.iter().find(|(id, ..)| *id == k).map(|(.., what)| what.to_string()).unwrap_or_default()
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match new_panel(&kind.get_untracked(), &text.get_untracked()) {
            Ok(panel) => {
                set_why.set(None);
                set_text.set(String::new());
                on_add.run(panel);
            }
            Err(e) => set_why.set(Some(e)),
        }
    };
    let options = kinds.iter().map(|(id, label, _)| view! { <option value=*id>{*label}</option> }).collect_view();
    let list = format!("{id}-keys");
    view! {
        <form class="filter-bar add-panel" id=id on:submit=add>
            <select class="add-kind" prop:value=kind on:change=move |ev| set_kind.set(event_target_value(&ev))>{options}</select>
            <input class="mono add-text" list=list.clone() placeholder=placeholder
                prop:value=text on:input=move |ev| set_text.set(event_target_value(&ev)) />
            <datalist id=list>
                {move || metric_keys.get().into_iter().map(|k| view! { <option value=k></option> }).collect_view()}
            </datalist>
            <button type="submit">"Add panel"</button>
        </form>
        {move || why.get().map(|w| view! { <super::status::ErrorNote message=w /> })}
    }
}
