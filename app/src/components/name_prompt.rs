//! A button that asks for a name in place (a text box with Save and
//! Cancel beside it), instead of the browser's `prompt()`, which blocks the
//! page, cannot be styled and is switched off in some embedded browsers.

use leptos::prelude::*;

#[component]
pub fn NamePrompt(
    /// The button's id; the form's is `{id}-form`, the text box's `{id}-name`.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    #[prop(into)] placeholder: String,
    #[prop(optional, into)] title: String,
    on_name: Callback<String>,
) -> impl IntoView {
    let (asking, set_asking) = signal(false);
    let name = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if asking.get() {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked().trim().to_string();
        if !text.is_empty() {
            set_asking.set(false);
            on_name.run(text);
        }
    };
    let (button_id, form_id, input_id) = (id.clone(), format!("{id}-form"), format!("{id}-name"));
    view! {
        <Show when=move || asking.get() fallback=move || view! {
            <button id=button_id.clone() title=title.clone() on:click=move |_| set_asking.set(true)>{label.clone()}</button>
        }>
            <form class="inline-form name-form" id=form_id.clone() on:submit=submit>
                <input id=input_id.clone() node_ref=input placeholder=placeholder.clone() prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Escape" { set_asking.set(false) } />
                <button type="submit" disabled=move || name.get().trim().is_empty()>"Save"</button>
                <button type="button" class="link" on:click=move |_| set_asking.set(false)>"Cancel"</button>
            </form>
        </Show>
    }
}
