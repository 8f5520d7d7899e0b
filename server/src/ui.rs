//! The web UI: Leptos pages rendered here, hydrated in the browser.

use axum::Router;

pub fn router(_store: store::Store) -> Router {
    Router::new()
}
