//! The mltrack server: MLflow's REST API and the web UI over one store.

// Leptos view types nest deeply on the larger pages.
#![recursion_limit = "256"]

pub mod api;
pub mod config;
pub mod transfer;
pub mod ui;

use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// The MLflow release whose REST API mltrack speaks; `/version` reports it
/// because clients compare it against their own.
pub const MLFLOW_COMPAT_VERSION: &str = "3.17.2";

/// The whole HTTP application: health checks, the REST API, the artifact
/// proxy (when `artifacts` is given) and the UI.
pub fn app(store: store::Store, artifacts: Option<artifacts::ArtifactStore>) -> Router {
    Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/version", get(|| async { MLFLOW_COMPAT_VERSION }))
        .merge(api::router(api::AppState { store: store.clone(), artifacts: artifacts.clone() }))
        .merge(ui::router(store, artifacts))
        .layer(TraceLayer::new_for_http())
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
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
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
