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

/// How long a browser keeps a file.
#[derive(Clone, Copy)]
enum Keep {
    /// A year, never asking again: the name carries the content's version,
    /// so changed content comes under another name.
    Forever,
    /// Asking each time (`304 Not Modified` when unchanged), so a new
    /// mltrack's files are never mixed with an old page's.
    Revalidated,
}

/// The UI's file names as pages use them: `mltrack.<version>.js`,
/// `mltrack.<version>_bg.wasm`, `mltrack.<version>.css`, where the version
/// is a hash of this build's UI files. Gives the embedded name and whether
/// the version is this build's; a name from another build (a page rendered
/// by another replica during an upgrade) still gets this build's file, but
/// revalidated, so it is never kept under the other build's name.
fn versioned(file: &str) -> Option<(String, Keep)> {
    let rest = file.strip_prefix("mltrack.")?;
    let (version, tail) = rest.split_at_checked(16)?;
    if !version.bytes().all(|b| b.is_ascii_hexdigit()) || !matches!(tail, ".js" | "_bg.wasm" | ".css") {
        return None;
    }
    let keep = if version == embedded::UI_VERSION { Keep::Forever } else { Keep::Revalidated };
    Some((format!("mltrack{tail}"), keep))
}

/// The stylesheet's path in this build (pages outside the app link it too).
pub fn stylesheet_path() -> String {
    format!("/pkg/mltrack.{}.css", embedded::UI_VERSION)
}

/// plotly.js's path as the charts load it; the server's copy must be the
/// version the UI was written for.
const PLOTLY_PATH: &str = app::charts::PLOTLY_FILE;
const _: () = assert!(
    same(embedded::PLOTLY_VERSION, app::charts::PLOTLY_VERSION),
    "node_modules holds another plotly.js than app::charts::PLOTLY_VERSION"
);

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Serves an embedded site file by its path below the site root: the
/// brotli or gzip bytes to a browser that takes them (every current one
/// takes both; brotli is preferred), the file itself otherwise; `304 Not
/// Modified` when the browser's copy is current.
fn asset(path: &str, headers: &HeaderMap, keep: Keep) -> Response {
    let Some(a) = embedded::ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == a.etag);
    let cache = match keep {
        Keep::Forever => "public, max-age=31536000, immutable",
        Keep::Revalidated => "no-cache",
    };
    let common = [(header::CACHE_CONTROL, cache), (header::ETAG, a.etag), (header::VARY, "accept-encoding")];
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
    // Pages name the UI files with this build's version (`mltrack.<version>.js`).
    let options =
        LeptosOptions::builder().output_name(format!("mltrack.{}", embedded::UI_VERSION)).site_pkg_dir("pkg").build();
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
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                match versioned(&file) {
                    Some((name, keep)) => asset(&format!("pkg/{name}"), &headers, keep),
                    None => asset(&format!("pkg/{file}"), &headers, Keep::Revalidated),
                }
            }),
        )
        .route(
            "/favicon.svg",
            get(|headers: HeaderMap| async move { asset("favicon.svg", &headers, Keep::Revalidated) }),
        )
        // plotly.js from npm (`plotly.js-basic-dist-min`: scatter and bar
        // traces), served by mltrack so that the UI works with no internet;
        // named by its version, and under its plain name for older pages.
        .route(
            PLOTLY_PATH,
            get(|headers: HeaderMap| async move { asset("vendor/plotly.min.js", &headers, Keep::Forever) }),
        )
        .route(
            "/vendor/plotly.min.js",
            get(|headers: HeaderMap| async move { asset("vendor/plotly.min.js", &headers, Keep::Revalidated) }),
        )
        .with_state(options)
        .layer(axum::middleware::from_fn(server_fn_status))
}

/// A server function's failure carries its tracking error code
/// (`app::app_error::AppError`); one the function did not give a status
/// itself (arguments it could not read) gets the code's, as the REST API
/// would send: a 400 for a bad request, not a 500.
async fn server_fn_status(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let server_fn = request.uri().path().starts_with("/_app/");
    let response = next.run(request).await;
    if !server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "The server's answer was too long to send.").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::app_error::AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.error_code.http_status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
