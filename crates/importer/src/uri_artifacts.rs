//! Reading artifacts by root URI, whatever the source tracking server
//! stored: through an MLflow server's artifact proxy (`mlflow-artifacts:/`),
//! from a local folder (`file://` or a path), or from S3.

use crate::source::{err, ArtifactFile, ByteStream};
use anyhow::{bail, Context, Result};
use artifacts::{ArtifactPath, ArtifactStore};
use futures::{StreamExt, TryStreamExt};
use std::path::{Path, PathBuf};

/// How `mlflow-artifacts:/…` URIs are reached.
#[derive(Clone, Default)]
pub struct UriArtifacts {
    /// An MLflow server whose proxy serves them.
    pub server: Option<(reqwest::Client, String)>,
    /// Or the storage behind that proxy (the server's `--artifacts-destination`).
    pub proxied_root: Option<String>,
    /// A missing local root folder is an error (the file store makes one
    /// for every run) rather than a run without artifacts.
    pub require_local_roots: bool,
}

enum Location {
    Http { client: reqwest::Client, base: String, path: String },
    Local(PathBuf),
    Object(ArtifactStore),
}

const PROXY: &str = "/api/2.0/mlflow-artifacts/artifacts";

fn join_uri(root: &str, rest: &str) -> String {
    match rest.trim_matches('/') {
        "" => root.to_string(),
        rest => format!("{}/{rest}", root.trim_end_matches('/')),
    }
}

impl UriArtifacts {
    fn resolve(&self, root_uri: &str) -> Result<Location> {
        if let Some(rest) = root_uri.strip_prefix("mlflow-artifacts:") {
            // mlflow-artifacts:/path or mlflow-artifacts://host:port/path
            let path = match rest.strip_prefix("//") {
                Some(authority) => authority.split_once('/').map_or("", |(_, p)| p),
                None => rest,
            };
            let path = path.trim_matches('/').to_string();
            if let Some((client, base)) = &self.server {
                return Ok(Location::Http { client: client.clone(), base: base.clone(), path });
            }
            if let Some(root) = &self.proxied_root {
                return self.resolve(&join_uri(root, &path));
            }
            bail!(
                "artifact URI {root_uri} is served by an MLflow server's artifact proxy: pass --source-artifacts \
                 with that server's --artifacts-destination (a folder or s3:// URI)"
            );
        }
        if root_uri.starts_with("http://") || root_uri.starts_with("https://") {
            if let Some(at) = root_uri.find(PROXY) {
                let base = root_uri[..at].to_string();
                let path = root_uri[at + PROXY.len()..].trim_matches('/').to_string();
                let client = match &self.server {
                    Some((client, _)) => client.clone(),
                    None => crate::rest::client()?,
                };
                return Ok(Location::Http { client, base, path });
            }
            bail!("artifact URI {root_uri} is not an MLflow artifact proxy URI");
        }
        if root_uri.starts_with("s3://") {
            let store = ArtifactStore::open(root_uri).map_err(err)?;
            return Ok(Location::Object(store));
        }
        if let Some(rest) = root_uri.strip_prefix("file://") {
            // file:///abs or file://localhost/abs
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            return Ok(Location::Local(PathBuf::from(percent_decode(path))));
        }
        if let Some((scheme, _)) = root_uri.split_once("://") {
            bail!("artifact URI {root_uri}: the {scheme}:// scheme is not supported (mlflow-artifacts, file, s3 and paths are)");
        }
        Ok(Location::Local(PathBuf::from(root_uri)))
    }

    pub async fn list(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        let mut files = Vec::new();
        match self.resolve(root_uri)? {
            Location::Local(root) => match tokio::fs::metadata(&root).await {
                Ok(_) => walk_local(&root, &root, &mut files).await?,
                Err(_) if self.require_local_roots => bail!("the artifact folder {} is missing", root.display()),
                Err(_) => {}
            },
            Location::Http { client, base, path } => {
                let mut dirs = vec![String::new()];
                while let Some(dir) = dirs.pop() {
                    let full = join_uri(&path, &dir);
                    let listing: serde_json::Value =
                        crate::rest::get_json(&client, &format!("{base}{PROXY}"), &[("path", full.as_str())]).await?;
                    for f in listing["files"].as_array().into_iter().flatten() {
                        let name = f["path"].as_str().unwrap_or_default();
                        let rel = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
                        if f["is_dir"].as_bool().unwrap_or(false) {
                            dirs.push(rel);
                        } else {
                            let size = match &f["file_size"] {
                                serde_json::Value::String(s) => s.parse().unwrap_or(0),
                                v => v.as_u64().unwrap_or(0),
                            };
                            files.push(ArtifactFile { path: rel, size });
                        }
                    }
                }
            }
            Location::Object(store) => {
                let mut dirs = vec![ArtifactPath::root()];
                while let Some(dir) = dirs.pop() {
                    for f in store.list(&dir).await.map_err(err)? {
                        let child = dir.join(&ArtifactPath::parse(&f.path).map_err(err)?);
                        if f.is_dir {
                            dirs.push(child);
                        } else {
                            files.push(ArtifactFile {
                                path: child.as_str().to_string(),
                                size: f.file_size.unwrap_or(0) as u64,
                            });
                        }
                    }
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    pub async fn read(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        match self.resolve(root_uri)? {
            Location::Local(root) => read_local(root.join(path)).await,
            Location::Http { client, base, path: root } => {
                let url = format!("{base}{PROXY}/{}", encode_path(&join_uri(&root, path)));
                let response = client.get(&url).send().await.with_context(|| format!("could not fetch {url}"))?;
                if !response.status().is_success() {
                    bail!("{url} answered {}", response.status());
                }
                Ok(response.bytes_stream().map_err(anyhow::Error::from).boxed())
            }
            Location::Object(store) => {
                let file = ArtifactPath::parse(path).map_err(err)?;
                let download = store.get(&file).await.map_err(err)?;
                Ok(download.stream.map_err(err).boxed())
            }
        }
    }
}

/// Every file under `dir`, by path relative to `root`. Symbolic links are
/// not followed: an import copies what the folder holds, nothing outside it.
async fn walk_local(root: &Path, dir: &Path, files: &mut Vec<ArtifactFile>) -> Result<()> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries =
            tokio::fs::read_dir(&dir).await.with_context(|| format!("could not list {}", dir.display()))?;
        while let Some(entry) = entries.next_entry().await? {
            let kind = entry.file_type().await?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let size = entry.metadata().await?.len();
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                files.push(ArtifactFile { path: rel, size });
            }
        }
    }
    Ok(())
}

/// A local file as a stream of 256 KiB chunks.
pub async fn read_local(path: PathBuf) -> Result<ByteStream> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(&path).await.with_context(|| format!("could not open {}", path.display()))?;
    let stream = futures::stream::try_unfold((file, path), |(mut file, path)| async move {
        let mut buf = vec![0u8; 256 * 1024];
        let n = file.read(&mut buf).await.with_context(|| format!("could not read {}", path.display()))?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((bytes::Bytes::from(buf), (file, path))))
    });
    Ok(stream.boxed())
}

/// Percent-encodes what a URL path cannot carry as is, keeping `/`.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    tracking::validation::percent_decode_fully(text, false)
}
