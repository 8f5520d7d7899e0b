//! `mltrack import` and `mltrack export`.
//!
//! A [`Source`] reads a tracking server's data: a running MLflow server
//! ([`rest`]), an `mlruns` folder ([`mlruns`]), MLflow's database ([`sql`]),
//! an mltrack export file ([`archive`]) or mltrack's own store
//! ([`store_source`], for export). The [`engine`] copies any source into
//! mltrack, idempotently.

pub mod archive;
pub mod engine;
pub mod mlruns;
pub mod progress;
pub mod rest;
mod revisions;
pub mod source;
pub mod sql;
mod sqlite_reader;
pub mod store_source;
mod uri_artifacts;

pub use engine::{Importer, OnConflict, Options, Report};
pub use source::Source;

use anyhow::{bail, Result};
use std::path::Path;
use std::sync::Arc;

/// Opens the source named on the command line: `http(s)://…` (an MLflow
/// server), `sqlite:///…` or `postgresql://…` (MLflow's database), a folder
/// (`mlruns`, also as `file://…`) or an export file.
///
/// `proxied_root` (`--source-artifacts`) is where `mlflow-artifacts:/` URIs
/// live when the source is a database rather than the server (that
/// server's `--artifacts-destination`); it is also a root whose artifact
/// URIs any source may lead to. Artifact URIs anywhere else are not read.
pub async fn open_source(uri: &str, proxied_root: Option<String>) -> Result<Arc<dyn Source>> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Ok(Arc::new(rest::RestSource::open(uri, proxied_root.into_iter().collect()).await?));
    }
    if uri.starts_with("sqlite:") || uri.starts_with("postgresql") || uri.starts_with("postgres:") {
        return Ok(Arc::new(sql::SqlSource::open(uri, proxied_root).await?));
    }
    let path = match uri.strip_prefix("file://") {
        Some(rest) => rest,
        None if uri.contains("://") => {
            bail!(
                "unsupported source '{uri}': use http(s)://host:port (an MLflow server), sqlite:///path or \
                 postgresql://… (MLflow's database), an mlruns folder, or an mltrack export file"
            )
        }
        None => uri,
    };
    let path = Path::new(path);
    if path.is_dir() {
        Ok(Arc::new(mlruns::MlrunsSource::open(path, proxied_root.into_iter().collect())?))
    } else if path.is_file() {
        Ok(Arc::new(archive::ArchiveSource::open(path)?))
    } else {
        bail!("source '{uri}' does not exist (expected an mlruns folder or an export file there)")
    }
}
