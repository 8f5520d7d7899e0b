//! `mltrack`: run `mltrack ui` to start the tracking server and web UI.

// Leptos view types nest deeply on the larger pages.
#![recursion_limit = "256"]

use anyhow::Context;
use clap::Parser;
use server::config::{Cli, Command, DbCommand, ServeConfig, StorageConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colours only on a terminal: a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    match Cli::parse().command {
        Command::Ui(config) | Command::Server(config) => run(config).await,
        Command::Import(config) => std::process::exit(server::transfer::import(config).await?),
        Command::Export(config) => server::transfer::export(config).await,
        Command::Routes => {
            println!("{}", server::route_list());
            Ok(())
        }
        Command::Db { command: DbCommand::Upgrade { url } } => {
            let place = store::migrate(&url).await.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            println!("Database at {place} is up to date");
            Ok(())
        }
    }
}

async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let storage: &StorageConfig = &config.storage;
    let root = storage.artifact_root();
    let store = storage.open_store().await?;
    // A database from before the store kept summaries of metric histories:
    // its long histories are summarized in the background (charts read
    // them whole until then).
    tokio::spawn({
        let store = store.clone();
        async move {
            match store.backfill_summaries().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(metrics = n, "summarized metric histories stored before summaries were kept"),
                Err(e) => tracing::warn!(error = %e.detail(), "summarizing older metric histories stopped"),
            }
        }
    });
    let proxied = match storage.serves_artifacts() {
        true => Some(storage.open_artifacts()?),
        false => None,
    };
    let artifacts = artifacts::ArtifactRoots::new(proxied)
        .with_default_root(&root)
        .map_err(|e| anyhow::anyhow!("could not open the default artifact root {root}: {}", e.detail()))?;
    let auth = match config.auth.enabled() {
        true => {
            let auth = server::auth::Auth::new(store.clone(), config.auth.default_permission()?);
            let setup = auth
                .bootstrap(server::config::AuthConfig::admin_from_env()?)
                .await
                .map_err(|e| anyhow::anyhow!("could not set up the first admin: {}", e.detail()))?;
            Some((auth, setup))
        }
        false if !server::config::is_loopback(&config.host) && !config.auth.insecure_no_auth => anyhow::bail!(
            "refusing to serve on {} without users and permissions: anyone who can reach it could read and change \
             everything. Start with --app-name basic-auth (and MLTRACK_ADMIN_USERNAME / MLTRACK_ADMIN_PASSWORD for \
             the first admin), or say --insecure-no-auth if a proxy in front does authentication.",
            config.host
        ),
        false => None,
    };
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("could not listen on {addr}"))?;
    tracing::info!(
        backend_store = %storage.backend_store_shown(),
        artifact_root = %root,
        artifacts_destination = artifacts.proxied().map_or("(not served)", |a| a.location()),
        "mltrack is listening on http://{}",
        listener.local_addr()?
    );
    let local = listener.local_addr()?;
    match &auth {
        Some((_, Some(token))) => tracing::warn!(
            "users and permissions are on and no user exists yet: open http://{local}/setup?token={token} to create \
             the first admin (this link works once, until then)"
        ),
        Some((_, None)) => {
            tracing::info!(default_permission = %config.auth.auth_default_permission, "users and permissions are on")
        }
        None if config.auth.insecure_no_auth && !server::config::is_loopback(&config.host) => tracing::warn!(
            "serving on {} with NO users and permissions (--insecure-no-auth): anyone who can reach it may read and \
             change everything",
            config.host
        ),
        None => tracing::info!("users and permissions are off (loopback only); --app-name basic-auth turns them on"),
    }
    let app = server::app(store, artifacts, config.security.policy(), auth.map(|(a, _)| a));
    server::serve(listener, app, server::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
