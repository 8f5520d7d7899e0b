//! Reading artifacts by root URI, whatever the source tracking server
//! stored: through an MLflow server's artifact proxy (`mlflow-artifacts:/`),
//! from a local folder (`file://` or a path), or from S3.
//!
//! Artifact URIs are data the source hands over, so they are followed only
//! where the person importing pointed: the source server itself, the
//! folder or database being imported, and the roots named on the command
//! line (`--source-artifacts`). A run whose `artifact_uri` is
//! `file:///etc` or `http://internal-host/…` is reported and skipped, never
//! read.

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
    /// Local folders and object-store prefixes (`s3://bucket/prefix`)
    /// whose artifact URIs may be read, besides the source server's own.
    pub allowed_roots: Vec<String>,
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

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved and the symbolic links of its longest existing part followed,
/// so that two spellings of one place compare equal.
fn normalized(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut lexical = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::ParentDir => {
                lexical.pop();
            }
            std::path::Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

/// `scheme://host[:port]` of an http(s) URL, lower-cased, for comparing origins.
fn http_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

impl UriArtifacts {
    /// Refuses a root outside what this import may read.
    fn check_local(&self, root_uri: &str, path: &Path) -> Result<()> {
        let path = normalized(path);
        let inside = self.allowed_roots.iter().filter(|r| !r.contains("://") || r.starts_with("file://")).any(|root| {
            let root = root.strip_prefix("file://").unwrap_or(root);
            path.starts_with(normalized(Path::new(root)))
        });
        if !inside {
            bail!(
                "artifact URI {root_uri} names a local folder outside the source being imported; it was not read \
                 (name the folder with --source-artifacts to import it)"
            );
        }
        Ok(())
    }

    fn resolve(&self, root_uri: &str) -> Result<Location> {
        let decoded = percent_decode(root_uri);
        if decoded.split(['/', '\\']).any(|segment| segment == "..") {
            bail!("artifact URI {root_uri} contains '..'; it was not read");
        }
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
            // Only the source server's own proxy: a URI naming another host
            // would make this machine fetch from wherever the source says.
            let Some((client, server)) = &self.server else {
                bail!("artifact URI {root_uri} names an HTTP server other than the source; it was not read");
            };
            if http_origin(root_uri) != http_origin(server) {
                bail!("artifact URI {root_uri} names an HTTP server other than the source {server}; it was not read");
            }
            if let Some(at) = root_uri.find(PROXY) {
                let base = root_uri[..at].to_string();
                let path = root_uri[at + PROXY.len()..].trim_matches('/').to_string();
                return Ok(Location::Http { client: client.clone(), base, path });
            }
            bail!("artifact URI {root_uri} is not an MLflow artifact proxy URI");
        }
        if root_uri.starts_with("s3://") {
            let named = self.allowed_roots.iter().filter(|r| r.starts_with("s3://")).any(|prefix| {
                let prefix = prefix.trim_end_matches('/');
                root_uri == prefix || root_uri.starts_with(&format!("{prefix}/"))
            });
            if !named {
                bail!(
                    "artifact URI {root_uri} is in a bucket not named on the command line; it was not read (name it \
                     with --source-artifacts to import it)"
                );
            }
            let store = ArtifactStore::open(root_uri).map_err(err)?;
            return Ok(Location::Object(store));
        }
        if let Some(rest) = root_uri.strip_prefix("file://") {
            // file:///abs or file://localhost/abs; another host is not this machine's file.
            let Some(path) = rest.strip_prefix("localhost").or_else(|| rest.starts_with('/').then_some(rest)) else {
                bail!("artifact URI {root_uri} names a file on another host; it was not read");
            };
            let path = PathBuf::from(percent_decode(path));
            self.check_local(root_uri, &path)?;
            return Ok(Location::Local(path));
        }
        if let Some((scheme, _)) = root_uri.split_once("://") {
            bail!("artifact URI {root_uri}: the {scheme}:// scheme is not supported (mlflow-artifacts, file, s3 and paths are)");
        }
        let path = PathBuf::from(root_uri);
        self.check_local(root_uri, &path)?;
        Ok(Location::Local(path))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(artifacts: &UriArtifacts, uri: &str) -> String {
        match artifacts.resolve(uri) {
            Ok(_) => panic!("{uri} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn artifact_uris_are_followed_only_inside_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mlartifacts");
        std::fs::create_dir_all(root.join("1/abc/artifacts")).unwrap();
        let artifacts = UriArtifacts {
            server: Some((crate::rest::client().unwrap(), "http://mlflow.example:5000".into())),
            proxied_root: Some(root.display().to_string()),
            allowed_roots: vec![root.display().to_string(), "s3://bucket/mlflow".into()],
            ..Default::default()
        };
        for ok in [
            format!("file://{}/1/abc/artifacts", root.display()),
            format!("{}/1/abc/artifacts", root.display()),
            "s3://bucket/mlflow/1/abc/artifacts".to_string(),
            "mlflow-artifacts:/1/abc/artifacts".to_string(),
            "http://mlflow.example:5000/api/2.0/mlflow-artifacts/artifacts/1/abc".to_string(),
        ] {
            artifacts.resolve(&ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(refused(&artifacts, "file:///etc").contains("outside the source"));
        assert!(refused(&artifacts, "/etc/passwd").contains("outside the source"));
        assert!(refused(&artifacts, &format!("{}/../secrets", root.display())).contains("'..'"));
        assert!(refused(&artifacts, "mlflow-artifacts:/%2e%2e/%2e%2e/etc").contains("'..'"));
        assert!(
            refused(&artifacts, "http://169.254.169.254/api/2.0/mlflow-artifacts/artifacts/x").contains("other than")
        );
        assert!(refused(&artifacts, "https://mlflow.example:5000.evil.example/x").contains("other than"));
        assert!(refused(&artifacts, "s3://bucket/other/1").contains("not named"));
        assert!(refused(&artifacts, "s3://bucket/mlflow-evil/1").contains("not named"));
        assert!(refused(&artifacts, "file://fileserver/share/x").contains("another host"));
        // A symbolic link inside the root that leads out of it is outside too.
        std::os::unix::fs::symlink("/etc", root.join("1/abc/escape")).unwrap();
        assert!(refused(&artifacts, &format!("{}/1/abc/escape", root.display())).contains("outside the source"));
    }
}
