//! Things a page lets its user change in place: a Markdown description, a
//! list of tags, a model's aliases. Each writes through an `Action` the
//! page made (the page's data reloads when the action's version moves),
//! and says a refusal or failure in a sentence where it happened.

use super::markdown::markdown;
use leptos::prelude::*;

pub use super::status::Write;

/// The sentence of a failed write, while it is the latest answer.
fn failure<I: Send + Sync + 'static>(action: Write<I>) -> impl IntoView {
    let errors = super::status::WriteErrors::new();
    errors.watch(action);
    errors.view()
}

/// Markdown text with an Edit button: a text box, Save and Cancel.
#[component]
pub fn EditableMarkdown(
    /// The element ids: `{id}`, `{id}-edit`, `{id}-editor`, `{id}-save`.
    #[prop(into)]
    id: String,
    text: String,
    save: Write<String>,
) -> impl IntoView {
    let (editing, set_editing) = signal(false);
    let draft = RwSignal::new(text.clone());
    // Saved: back to reading (the page reloads with the new text).
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            set_editing.set(false);
        }
    });
    let shown = {
        let (id, text) = (id.clone(), text.clone());
        move || {
            let body = if text.trim().is_empty() {
                view! { <p class="muted">"No description."</p> }.into_any()
            } else {
                markdown(&text).into_any()
            };
            view! {
                <div class="markdown" id=id.clone()>{body}</div>
                <button class="link" id=format!("{id}-edit") on:click=move |_| set_editing.set(true)>"Edit"</button>
            }
        }
    };
    view! {
        <Show when=move || editing.get() fallback=shown>
            <textarea id=format!("{id}-editor") rows="6" prop:value=draft
                on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
            <div class="row">
                <button id=format!("{id}-save") disabled=move || save.pending().get()
                    on:click=move |_| { save.dispatch(draft.get_untracked()); }>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                <button class="link" on:click=move |_| set_editing.set(false)>"Cancel"</button>
            </div>
        </Show>
        {failure(save)}
    }
}

/// Tags as a table, each with a remove button, and a form to add one.
#[component]
pub fn TagEditor(
    /// The table's id; the form's is `{id}-add`.
    #[prop(into)]
    id: String,
    tags: Vec<(String, String)>,
    set: Write<(String, String)>,
    delete: Write<String>,
) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = key.get_untracked().trim().to_string();
        if !k.is_empty() {
            set.dispatch((k, value.get_untracked()));
        }
    };
    Effect::new(move |_| {
        if matches!(set.value().get(), Some(Ok(()))) {
            key.set(String::new());
            value.set(String::new());
        }
    });
    let rows = tags
        .into_iter()
        .map(|(k, v)| {
            let gone = k.clone();
            view! {
                <tr data-key=k.clone()>
                    <td class="mono">{k.clone()}</td>
                    <td class="wrap">{v}</td>
                    <td>
                        <button class="link remove" title=format!("Remove the tag {k}")
                            on:click=move |_| { delete.dispatch(gone.clone()); }>"×"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid tags" id=id.clone()><tbody>{rows}</tbody></table>
        <form class="inline-form" id=format!("{id}-add") on:submit=add>
            <input placeholder="key" prop:value=key on:input=move |ev| key.set(event_target_value(&ev)) />
            <input placeholder="value" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
            <button type="submit" disabled=move || set.pending().get()>"Add tag"</button>
        </form>
        {failure(set)}
        {failure(delete)}
    }
}

/// A model's aliases (`@champion → v3`), each removable, and a form that
/// points an alias at one of its versions (moving it if it is taken).
#[component]
pub fn AliasEditor(
    aliases: Vec<(String, String)>,
    /// The model's versions, newest first.
    versions: Vec<String>,
    set: Write<(String, String)>,
    delete: Write<String>,
) -> impl IntoView {
    let alias = RwSignal::new(String::new());
    let version = RwSignal::new(versions.first().cloned().unwrap_or_default());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let a = alias.get_untracked().trim().trim_start_matches('@').to_string();
        if !a.is_empty() {
            set.dispatch((a, version.get_untracked()));
        }
    };
    let chips = aliases
        .into_iter()
        .map(|(a, v)| {
            let gone = a.clone();
            view! {
                <span class="chip alias" data-alias=a.clone()>
                    {format!("@{a} → v{v}")}
                    <button class="link remove" title=format!("Remove the alias @{a}")
                        on:click=move |_| { delete.dispatch(gone.clone()); }>"×"</button>
                </span>
            }
        })
        .collect_view();
    let options = versions.iter().map(|v| view! { <option value=v.clone()>{format!("v{v}")}</option> }).collect_view();
    view! {
        <div class="chips" id="aliases">{chips}</div>
        <form class="inline-form" id="add-alias" on:submit=add>
            <input placeholder="alias, e.g. champion" prop:value=alias on:input=move |ev| alias.set(event_target_value(&ev)) />
            <select prop:value=version on:change=move |ev| version.set(event_target_value(&ev))>{options}</select>
            <button type="submit" disabled=move || set.pending().get()>"Set alias"</button>
        </form>
        {failure(set)}
        {failure(delete)}
    }
}
