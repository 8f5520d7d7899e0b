//! Artifact storage for mltrack: the files runs and logged models upload
//! through the server (MLflow's `mlflow-artifacts` proxy), kept in a local
//! folder or in S3-compatible object storage behind one interface.
//!
//! Paths from requests are checked by [`ArtifactPath::parse`] before they
//! reach [`ArtifactStore`]; bodies stream in and out in chunks, so memory
//! stays flat whatever the file size.

mod path;
mod roots;
mod storage;

pub use path::ArtifactPath;
pub use roots::{local_path, ArtifactRoots};
pub use storage::{ArtifactStore, Download};
