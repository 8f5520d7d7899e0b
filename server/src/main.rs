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
    let proxied = match storage.serves_artifacts() {
        true => Some(storage.open_artifacts()?),
        false => None,
    };
    let artifacts = artifacts::ArtifactRoots::new(proxied)
        .with_default_root(&root)
        .map_err(|e| anyhow::anyhow!("could not open the default artifact root {root}: {}", e.detail()))?;
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("could not listen on {addr}"))?;
    tracing::info!(
        backend_store = %storage.backend_store_shown(),
        artifact_root = %root,
        artifacts_destination = artifacts.proxied().map_or("(not served)", |a| a.location()),
        "mltrack is listening on http://{}",
        listener.local_addr()?
    );
    server::serve(listener, server::app(store, artifacts, config.security.policy()), server::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
