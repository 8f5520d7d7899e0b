//! The web UI: Leptos pages rendered here and hydrated in the browser, and
//! the static assets (wasm, JS, CSS) embedded in the binary at build time.

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

mod embedded {
    /// A site file as built into the binary: gzip- and brotli-compressed,
    /// with its uncompressed size and its ETag (a hash of the content).
    pub struct Asset {
        pub path: &'static str,
        pub gzip: &'static [u8],
        pub brotli: &'static [u8],
        pub size: usize,
        pub etag: &'static str,
    }
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

/// Whether `Accept-Encoding` takes `wanted` (`br`, `gzip`; or `*`), with
/// a quality above 0.
fn accepts(headers: &HeaderMap, wanted: &str) -> bool {
    let values = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
    values.flat_map(|v| v.split(',')).any(|part| {
        let mut fields = part.split(';');
        let coding = fields.next().unwrap_or_default().trim();
        let quality =
            fields.find_map(|f| f.trim().strip_prefix("q=")).map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        (coding.eq_ignore_ascii_case(wanted) || coding == "*") && quality > 0.0
    })
}

/// Serves an embedded site file by its path below the site root: the
/// brotli or gzip bytes to a browser that takes them (every current one
/// takes both; brotli is preferred), the file itself otherwise; `304 Not Modified` when the browser's copy is
/// current. `no-cache` makes a browser ask each time, so a new mltrack's
/// assets are never mixed with an old page's.
fn asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(a) = embedded::ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == a.etag);
    let common = [(header::CACHE_CONTROL, "no-cache"), (header::ETAG, a.etag), (header::VARY, "accept-encoding")];
    if cached {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    if accepts(headers, "br") {
        return (common, [(header::CONTENT_TYPE, content_type(path)), (header::CONTENT_ENCODING, "br")], a.brotli)
            .into_response();
    }
    if accepts(headers, "gzip") {
        return (common, [(header::CONTENT_TYPE, content_type(path)), (header::CONTENT_ENCODING, "gzip")], a.gzip)
            .into_response();
    }
    let mut bytes = Vec::with_capacity(a.size);
    if let Err(e) = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(a.gzip), &mut bytes) {
        tracing::error!(path, error = %e, "an embedded asset could not be unpacked");
        return (StatusCode::INTERNAL_SERVER_ERROR, "The file could not be read; the cause is in the server's log.")
            .into_response();
    }
    (common, [(header::CONTENT_TYPE, content_type(path))], bytes).into_response()
}

/// Whether the wasm bundle was built into this binary (else pages render
/// without hydration).
pub fn has_web_assets() -> bool {
    embedded::ASSETS.iter().any(|a| a.path.ends_with(".wasm"))
}

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
        .route(
            "/pkg/{*file}",
            get(|Path(file): Path<String>, headers: HeaderMap| async move { asset(&format!("pkg/{file}"), &headers) }),
        )
        .route("/favicon.svg", get(|headers: HeaderMap| async move { asset("favicon.svg", &headers) }))
        // plotly.js from npm (`plotly.js-basic-dist-min`: scatter and bar traces), served by mltrack so that the UI works with no internet.
        .route(
            "/vendor/plotly.min.js",
            get(|headers: HeaderMap| async move { asset("vendor/plotly.min.js", &headers) }),
        )
        .with_state(options)
}
