pub mod artifacts;
pub mod compare;
pub mod experiments;
pub mod models;
pub mod run;
pub mod runs;

use leptos::prelude::*;

/// A server error, shown where the data would be.
#[component]
pub fn ErrorNote(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="error" role="alert">{message}</p> }
}

/// The standard loading line.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="loading">"Loading " {what} "…"</p> }
}
