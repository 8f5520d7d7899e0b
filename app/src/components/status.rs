//! How a page says it is loading, and what went wrong, in sentences.

use crate::app_error::{AppError, Remedy};
use leptos::prelude::*;

/// A server error, shown where the data would be.
#[component]
pub fn ErrorNote(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="error" role="alert">{message}</p> }
}

/// A failed server call where its data would be: the sentence, and what
/// the user can do by the error's code: sign in again (a link back here),
/// try again (`retry`), or ask for access. A missing thing offers nothing.
#[component]
pub fn ServerError(error: AppError, #[prop(optional)] retry: Option<Callback<()>>) -> impl IntoView {
    let action = match error.remedy() {
        Remedy::SignIn => {
            let here = leptos_router::hooks::use_location();
            let (path, query) = (here.pathname.get_untracked(), here.search.get_untracked());
            let next = if query.is_empty() { path } else { format!("{path}?{query}") };
            let href = format!("/login?next={}", crate::format::encode(&next));
            Some(view! { <a class="remedy sign-in" href=href>"Sign in"</a> }.into_any())
        }
        Remedy::TryAgain => retry.map(|retry| {
            view! { <button class="remedy try-again" on:click=move |_| retry.run(())>"Try again"</button> }.into_any()
        }),
        Remedy::AskForAccess => Some(
            view! { <span class="remedy muted">"An administrator can give you access on the users page."</span> }
                .into_any(),
        ),
        Remedy::None => None,
    };
    view! {
        <p class="error" role="alert" data-error-code=error.error_code.as_str()>
            {error.message} " " {action}
        </p>
    }
}

/// A page's write: its input, and the server's answer.
pub type Write<I, T = ()> = Action<I, Result<T, AppError>>;

/// Where a page says its writes' failures: the latest answer of any write
/// it watches, a sentence while it is a failure, gone once one lands.
#[derive(Clone, Copy)]
pub struct WriteErrors(RwSignal<Option<AppError>>);

impl WriteErrors {
    pub fn new() -> Self {
        WriteErrors(RwSignal::new(None))
    }

    /// `write`, its answers heard here.
    pub fn watch<I, T>(self, write: Write<I, T>) -> Write<I, T>
    where
        I: Send + Sync + 'static,
        T: Clone + Send + Sync + 'static,
    {
        Effect::new(move |_| {
            if let Some(answer) = write.value().get() {
                self.0.set(answer.err());
            }
        });
        write
    }

    /// A failure that is no write's (a read, an edit the rules refuse).
    pub fn say(self, error: AppError) {
        self.0.set(Some(error));
    }

    /// Nothing to say any more (the edit that was refused was mended).
    pub fn clear(self) {
        self.0.set(None);
    }

    pub fn view(self) -> impl IntoView {
        move || self.0.get().map(|error| view! { <ServerError error /> })
    }
}

/// A write that makes something (a dashboard, a copy) and opens its page:
/// `make`'s answer is the new thing's id, `at` the URL of its page.
pub fn write_and_open<I, F, Fut>(
    errors: WriteErrors,
    make: F,
    at: impl Fn(&str) -> String + Send + Sync + 'static,
) -> Write<I, String>
where
    I: Send + Sync + 'static,
    F: Fn(&I) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, AppError>> + Send + 'static,
{
    let navigate = leptos_router::hooks::use_navigate();
    let write = errors.watch(Action::new(make));
    Effect::new(move |_| {
        if let Some(Ok(made)) = write.value().get() {
            navigate(&at(&made), Default::default());
        }
    });
    write
}

impl Default for WriteErrors {
    fn default() -> Self {
        Self::new()
    }
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
    data: Resource<Result<T, AppError>>,
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
                        Err(error) => {
                            view! { <ServerError error retry=Callback::new(move |()| data.refetch()) /> }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}
