//! The web UI: Leptos pages rendered here and hydrated in the browser, and
//! the static assets (wasm, JS, CSS) embedded in the binary at build time.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/site_assets.rs"));
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Serves an embedded site file by its path below the site root.
fn asset(path: &str) -> Response {
    match embedded::ASSETS.iter().find(|(p, _)| *p == path) {
        Some((_, bytes)) => {
            ([(header::CONTENT_TYPE, content_type(path)), (header::CACHE_CONTROL, "no-cache")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Whether the wasm bundle was built into this binary (else pages render
/// without hydration).
pub fn has_web_assets() -> bool {
    embedded::ASSETS.iter().any(|(p, _)| p.ends_with(".wasm"))
}

/// plotly.js from npm (`plotly.js-dist-min`), served by mltrack so that the
/// UI works with no internet.
static PLOTLY_JS: &[u8] = include_bytes!("../../node_modules/plotly.js-dist-min/plotly.min.js");

pub fn router(store: store::Store, artifacts: Option<artifacts::ArtifactStore>) -> Router {
    let options = LeptosOptions::builder().output_name("mltrack").site_pkg_dir("pkg").build();
    let routes = generate_route_list(app::App);
    let shell_options = options.clone();
    let context = move || {
        provide_context(store.clone());
        provide_context(artifacts.clone());
    };
    let shell = move || app::shell(shell_options.clone());
    // Paths no route matches still get the app, which renders "not found" with a 404.
    let not_found = leptos_axum::render_app_to_stream_with_context(context.clone(), shell.clone());
    Router::new()
        .leptos_routes_with_context(&options, routes, context, shell)
        .fallback(not_found)
        .route("/pkg/{*file}", get(|Path(file): Path<String>| async move { asset(&format!("pkg/{file}")) }))
        .route("/favicon.svg", get(|| async { asset("favicon.svg") }))
        .route(
            "/vendor/plotly.min.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript"), (header::CACHE_CONTROL, "public, max-age=86400")],
                    PLOTLY_JS,
                )
            }),
        )
        .with_state(options)
}
