//! The mltrack server: MLflow's REST API and the web UI over one store.

// Leptos view types nest deeply on the larger pages.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod config;
pub mod security;
pub mod transfer;
pub mod ui;

use axum::extract::Request;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use axum::ServiceExt;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The MLflow release whose REST API mltrack speaks; `/version` reports it
/// because clients compare it against their own.
pub const MLFLOW_COMPAT_VERSION: &str = "3.17.2";

/// The whole HTTP application: health checks, the REST API, the artifact
/// proxy and the UI, behind the Host and cross-origin checks of `policy`
/// and, with `auth`, users and permissions.
pub fn app(
    store: store::Store,
    artifacts: artifacts::ArtifactRoots,
    policy: security::Policy,
    auth: Option<auth::Auth>,
) -> Router {
    let (api, _) = api::router(api::AppState { store: store.clone(), artifacts: artifacts.clone() }).into_parts();
    let mut router = Router::new()
        .route("/health", get(health).with_state(store.clone()))
        .route("/version", get(|| async { MLFLOW_COMPAT_VERSION }))
        .merge(api)
        .merge(ui::router(store, artifacts.proxied().cloned()));
    if let Some(auth) = auth {
        router = router
            .merge(auth::routes::router(auth.clone()).into_parts().0)
            .merge(auth::login::router(auth.clone()))
            .layer(axum::middleware::from_fn_with_state(auth, auth::guard));
    }
    router
        // A panic while answering (rendering a page, a bug in a handler)
        // becomes a 500 for that request instead of a connection that never
        // finishes.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(Arc::new(policy), security::guard))
        .layer(TraceLayer::new_for_http())
}

/// Every route the server answers, as `(method, path)`, for the
/// permission tests (`mltrack routes`): the REST API and artifact proxy,
/// users and tokens, the pages and the UI's server functions.
pub fn route_list() -> serde_json::Value {
    let pair = |m: &axum::http::Method, p: &str| serde_json::json!([m.as_str(), p]);
    let rest: Vec<_> =
        api::listed().routes().iter().chain(auth::routes::listed().routes()).map(|(m, p)| pair(m, p)).collect();
    let pages: Vec<String> =
        leptos_axum::generate_route_list(app::App).into_iter().map(|r| r.path().to_string()).collect();
    let server_fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().map(|(p, m)| pair(&m, p)).collect();
    serde_json::json!({ "rest": rest, "pages": pages, "server_fns": server_fns })
}

/// `/health`: OK only when the store answers a read and commits a write
/// within a few seconds, so that a load balancer stops sending requests to
/// a replica whose store is stuck.
async fn health(axum::extract::State(store): axum::extract::State<store::Store>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let unavailable = |message: String| {
        let body = tracking::Error::new(tracking::ErrorCode::TemporarilyUnavailable, message);
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), store.health()).await {
        Ok(Ok(())) => "OK".into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check failed");
            unavailable("The store cannot read or write.".into())
        }
        Err(_) => unavailable("The store did not answer within 5 seconds.".into()),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("a request panicked; answered with INTERNAL_ERROR");
    let body = tracking::Error::internal("The server failed to answer this request; the failure is in its log.");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Serves `app` on `listener` until `shutdown` resolves; requests in flight
/// are finished (and their writes committed) before this returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Without TCP_NODELAY a response written in two parts waits for the
    // client's delayed ACK: 40 ms added to small requests.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = tower::util::MapRequestLayer::new(merge_slashes).layer(app);
    axum::serve(listener, ServiceExt::<Request>::into_make_service_with_connect_info::<std::net::SocketAddr>(app))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Routes a path with repeated slashes (`//model-versions/get-artifact`,
/// what a client joining `http://host/` and `/path` sends) as the path with
/// single ones, as MLflow's server (werkzeug's `merge_slashes`) does.
fn merge_slashes(mut req: Request) -> Request {
    let uri = req.uri();
    if !uri.path().contains("//") {
        return req;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
