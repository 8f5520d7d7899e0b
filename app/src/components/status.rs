//! How a page says it is loading, and what went wrong, in sentences.

use leptos::prelude::*;

/// What a failed server call says to the user: the server's own sentence
/// (MLflow's error message), or what to do when the server could not be
/// reached or answered something unreadable; never the client library's
/// "error running server function: …" wrapping.
pub fn error_sentence(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) | ServerFnError::Response(_) => {
            "The server could not be reached. Check that mltrack is running, then try again.".into()
        }
        _ => "The server's answer could not be read. Reload the page and try again.".into(),
    }
}

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

pub fn status_class(s: tracking::RunStatus) -> &'static str {
    match s {
        tracking::RunStatus::Running => "status running",
        tracking::RunStatus::Finished => "status finished",
        tracking::RunStatus::Failed => "status failed",
        tracking::RunStatus::Killed => "status killed",
        tracking::RunStatus::Scheduled => "status scheduled",
    }
}

/// A page's data as it loads: the loading line until it is there (the old
/// view stays while it reloads), then `children` with it, or the server's
/// sentence where it would be.
#[component]
pub fn Loaded<T, V, F>(
    /// What is loading, for the loading line: "runs", "model".
    #[prop(into)]
    what: String,
    data: Resource<Result<T, ServerFnError>>,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    let children = std::sync::Arc::new(children);
    view! {
        <Transition fallback=move || view! { <Loading what=what.clone() /> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(value) => children(value).into_any(),
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
