//! mltrack's web UI. The same components render on the server (feature
//! `ssr`) and hydrate in the browser (feature `hydrate`).

pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="mltrack-css" href="/pkg/mltrack.css" />
        <Title text="mltrack" />
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    "mltrack"
                </A>
                <nav>
                    <A href="/">"Experiments"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=pages::experiments::ExperimentsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The page for paths no route matches; the server answers it with a 404.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! { <p class="empty">"Page not found."</p> }
}
