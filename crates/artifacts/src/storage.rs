//! [`ArtifactStore`]: object_store's local file system or S3 client, with
//! the checks and conventions MLflow's artifact repositories have.

use crate::ArtifactPath;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tracking::{Error, FileInfo, Result};

/// Uploads are buffered up to this size and sent in one request; larger
/// ones go as multipart uploads in parts of this size.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one upload in flight at once: bounds memory per upload.
const PARTS_IN_FLIGHT: usize = 2;
/// Where parts of proxied multipart uploads wait for `complete`, inside the
/// store so that any replica behind a load balancer can finish an upload.
const UPLOADS: &str = ".mltrack-uploads";

/// Where artifacts live, and how to reach them.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    /// The folder, for the local backend: symlinks under it are refused.
    local_root: Option<PathBuf>,
    location: String,
}

/// An artifact being read: its size and its bytes as they arrive.
pub struct Download {
    pub size: u64,
    pub stream: BoxStream<'static, Result<Bytes>>,
}

impl ArtifactStore {
    /// Opens `destination`: `s3://bucket[/prefix]` (endpoint and credentials
    /// from `MLFLOW_S3_ENDPOINT_URL` / `AWS_*` as MLflow reads them), or a
    /// local folder (`file://` URI or path), created if missing.
    pub fn open(destination: &str) -> Result<Self> {
        if let Some(rest) = destination.strip_prefix("s3://") {
            return Self::open_s3(rest, destination);
        }
        if let Some((scheme, _)) = destination.split_once("://") {
            if scheme != "file" {
                return Err(Error::invalid(format!(
                    "Unsupported artifacts destination '{destination}': use a local folder or s3://bucket/prefix"
                )));
            }
        }
        let folder = destination.strip_prefix("file://").unwrap_or(destination);
        std::fs::create_dir_all(folder)
            .map_err(|e| Error::internal(format!("could not create the artifact folder {folder}: {e}")))?;
        let root = std::fs::canonicalize(folder)
            .map_err(|e| Error::internal(format!("could not open the artifact folder {folder}: {e}")))?;
        let local = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| Error::internal(format!("could not open the artifact folder {}: {e}", root.display())))?
            .with_automatic_cleanup(true);
        Ok(ArtifactStore { store: Arc::new(local), location: root.display().to_string(), local_root: Some(root) })
    }

    fn open_s3(rest: &str, destination: &str) -> Result<Self> {
        // reqwest's rustls has no provider compiled in; ring is the one we link.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::invalid(format!("No bucket in the artifacts destination '{destination}'")));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let endpoint = std::env::var("MLFLOW_S3_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT_URL")).ok();
        if let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) {
            builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
        }
        if std::env::var("AWS_DEFAULT_REGION").is_err() && std::env::var("AWS_REGION").is_err() {
            builder = builder.with_region("us-east-1");
        }
        if std::env::var("MLFLOW_S3_IGNORE_TLS").is_ok_and(|v| v == "true" || v == "1") {
            builder =
                builder.with_client_options(object_store::ClientOptions::new().with_allow_invalid_certificates(true));
        }
        let s3 = builder.build().map_err(|e| Error::invalid(format!("Could not use '{destination}': {e}")))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            let prefix = ObjectPath::parse(prefix)
                .map_err(|e| Error::invalid(format!("Bad prefix in the artifacts destination '{destination}': {e}")))?;
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(ArtifactStore { store, local_root: None, location: destination.to_string() })
    }

    /// The folder or bucket URI, for logs and error messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores `body` at `path`, replacing what was there. Readers see the old
    /// file or the whole new one, never a part. Returns the size written.
    pub async fn put<S, E>(&self, path: &ArtifactPath, body: S) -> Result<u64>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Display,
    {
        if path.is_root() {
            return Err(Error::invalid("An artifact upload needs a file path"));
        }
        self.check_writable(path)?;
        self.write(path, body).await
    }

    async fn write<S, E>(&self, path: &ArtifactPath, body: S) -> Result<u64>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Display,
    {
        let mut writer = self.writer(path)?;
        let mut body = std::pin::pin!(body);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let step = match chunk {
                Ok(bytes) => {
                    size += bytes.len() as u64;
                    writer.put(bytes).await.map_err(|e| storage_error(path, e))
                }
                Err(e) => Err(Error::new(
                    tracking::ErrorCode::BadRequest,
                    format!("The upload of '{path}' was interrupted after {size} bytes: {e}"),
                )),
            };
            if let Err(e) = step {
                let _ = writer.abort().await;
                return Err(e);
            }
        }
        finish(path, writer).await?;
        Ok(size)
    }

    fn writer(&self, path: &ArtifactPath) -> Result<BufWriter> {
        let location = object_path(path)?;
        Ok(BufWriter::with_capacity(self.store.clone(), location, PART_SIZE).with_max_concurrency(PARTS_IN_FLIGHT))
    }

    /// Streams the file at `path`.
    pub async fn get(&self, path: &ArtifactPath) -> Result<Download> {
        self.check_readable(path)?;
        let got = self.store.get(&object_path(path)?).await.map_err(|e| storage_error(path, e))?;
        let size = got.meta.size;
        let shown = path.to_string();
        let stream = got.into_stream().map_err(move |e| storage_error_text(&shown, e)).boxed();
        Ok(Download { size, stream })
    }

    /// The first `limit` bytes of the file at `path`, and its whole size:
    /// what a preview shows without loading a large file.
    pub async fn read_head(&self, path: &ArtifactPath, limit: u64) -> Result<(u64, Bytes)> {
        self.check_readable(path)?;
        let location = object_path(path)?;
        let meta = self.store.head(&location).await.map_err(|e| storage_error(path, e))?;
        let end = meta.size.min(limit);
        if end == 0 {
            return Ok((meta.size, Bytes::new()));
        }
        let bytes = self.store.get_range(&location, 0..end).await.map_err(|e| storage_error(path, e))?;
        Ok((meta.size, bytes))
    }

    /// The file at `path`, if there is one (folders are `None`).
    pub async fn stat(&self, path: &ArtifactPath) -> Result<Option<u64>> {
        if path.is_root() {
            return Ok(None);
        }
        self.check_readable(path)?;
        match self.store.head(&object_path(path)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            // The local store says "is a directory" in its own words.
            Err(_) if self.local_root.as_ref().is_some_and(|r| r.join(path.as_str()).is_dir()) => Ok(None),
            Err(e) => Err(storage_error(path, e)),
        }
    }

    /// The files and folders directly in `dir`, by name (not full path),
    /// sorted. A missing folder or a file lists as empty, as in MLflow.
    pub async fn list(&self, dir: &ArtifactPath) -> Result<Vec<FileInfo>> {
        self.check_readable(dir)?;
        let prefix = if dir.is_root() { None } else { Some(object_path(dir)?) };
        let listed = match self.store.list_with_delimiter(prefix.as_ref()).await {
            Ok(listed) => listed,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(storage_error(dir, e)),
        };
        let mut files: Vec<FileInfo> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename())
            .filter(|name| !(dir.is_root() && *name == UPLOADS))
            .map(|name| FileInfo { path: name.to_string(), is_dir: true, file_size: None })
            .chain(listed.objects.iter().filter_map(|o| {
                o.location.filename().map(|name| FileInfo {
                    path: name.to_string(),
                    is_dir: false,
                    file_size: Some(o.size as i64),
                })
            }))
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Deletes the file or the whole folder at `path`. Deleting what is not
    /// there succeeds, as MLflow's repositories do.
    pub async fn delete(&self, path: &ArtifactPath) -> Result<()> {
        if path.is_root() {
            return Err(Error::invalid("Refusing to delete the whole artifact store; name a path"));
        }
        self.check_writable(path)?;
        self.delete_tree(path).await
    }

    async fn delete_tree(&self, path: &ArtifactPath) -> Result<()> {
        let location = object_path(path)?;
        let under = self.store.list(Some(&location)).map_ok(|meta| meta.location).boxed();
        let mut deleted = self.store.delete_stream(under);
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(storage_error(path, e)),
            }
        }
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            // A local folder whose files are gone: nothing left to delete.
            Err(_) if self.local_root.as_ref().is_some_and(|r| r.join(path.as_str()).is_dir()) => {
                let dir = self.local_root.as_ref().map(|r| r.join(path.as_str())).unwrap_or_default();
                tokio::fs::remove_dir_all(&dir)
                    .await
                    .map_err(|e| Error::internal_cause(&format!("Deleting the artifact folder '{path}'"), e))
            }
            Err(e) => Err(storage_error(path, e)),
        }
    }

    /// Starts a multipart upload to `path` for `owner` (who alone may add
    /// to it: see [`Self::upload`]); parts are uploaded with
    /// [`Self::put_part`] and joined by [`Self::complete_multipart`].
    pub async fn create_multipart(&self, path: &ArtifactPath, owner: &str) -> Result<String> {
        if path.is_root() {
            return Err(Error::invalid("A multipart upload needs a file path"));
        }
        self.check_writable(path)?;
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let marker = format!("{path}\n{}", owner.replace('\n', " "));
        let target = futures::stream::once(async { Ok::<_, Error>(Bytes::from(marker)) });
        self.write(&upload_file(&upload_id, "target")?, target).await?;
        Ok(upload_id)
    }

    /// Stores one part of an upload; returns its ETag.
    pub async fn put_part<S, E>(&self, upload_id: &str, part_number: u32, body: S) -> Result<String>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Display,
    {
        self.upload_target(upload_id).await?;
        let size = self.write(&upload_file(upload_id, &part_name(part_number))?, body).await?;
        Ok(format!("\"{upload_id}-{part_number}-{size}\""))
    }

    /// Joins the parts (in part-number order) into the file at `path`.
    pub async fn complete_multipart(&self, path: &ArtifactPath, upload_id: &str, parts: &[u32]) -> Result<()> {
        self.check_writable(path)?;
        let target = self.upload_target(upload_id).await?;
        if target != *path {
            return Err(Error::invalid(format!("Upload {upload_id} was started for '{target}', not '{path}'")));
        }
        let mut numbers = parts.to_vec();
        numbers.sort_unstable();
        numbers.dedup();
        if numbers.is_empty() {
            return Err(Error::invalid("A multipart upload needs at least one part"));
        }
        let mut sources = Vec::with_capacity(numbers.len());
        for n in &numbers {
            let part = upload_file(upload_id, &part_name(*n))?;
            if self.stat(&part).await?.is_none() {
                return Err(Error::invalid(format!("Part {n} of upload {upload_id} was never uploaded")));
            }
            sources.push(part);
        }
        let mut writer = self.writer(path)?;
        for part in &sources {
            let copied = async {
                let mut stream = self.get(part).await?.stream;
                while let Some(chunk) = stream.next().await {
                    writer.put(chunk?).await.map_err(|e| storage_error(path, e))?;
                }
                Ok::<_, Error>(())
            };
            if let Err(e) = copied.await {
                let _ = writer.abort().await;
                return Err(e);
            }
        }
        finish(path, writer).await?;
        self.delete_tree(&upload_dir(upload_id)?).await
    }

    /// Drops an upload's parts.
    pub async fn abort_multipart(&self, path: &ArtifactPath, upload_id: &str) -> Result<()> {
        self.check_writable(path)?;
        self.upload_target(upload_id).await?;
        self.delete_tree(&upload_dir(upload_id)?).await
    }

    async fn upload_target(&self, upload_id: &str) -> Result<ArtifactPath> {
        Ok(self.upload(upload_id).await?.0)
    }

    /// An upload in flight: its target and who started it.
    pub async fn upload(&self, upload_id: &str) -> Result<(ArtifactPath, String)> {
        let marker = upload_file(upload_id, "target")?;
        let missing = || Error::not_found(format!("No multipart upload with id '{upload_id}'"));
        let got = match self.store.get(&object_path(&marker)?).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Err(missing()),
            Err(e) => return Err(storage_error(&marker, e)),
        };
        let bytes = got.bytes().await.map_err(|e| storage_error(&marker, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let (target, owner) = text.split_once('\n').unwrap_or((&text, ""));
        Ok((ArtifactPath::parse(target)?, owner.to_string()))
    }

    /// Uploads may not write into the area that holds multipart parts.
    fn check_writable(&self, path: &ArtifactPath) -> Result<()> {
        if path.segments().next() == Some(UPLOADS) {
            return Err(Error::invalid(format!("Invalid path '{path}': {UPLOADS} is reserved")));
        }
        self.check_readable(path)
    }

    /// On the local backend, refuses paths that pass through a symbolic
    /// link: a link planted in the artifact folder must not expose or
    /// overwrite files outside it.
    fn check_readable(&self, path: &ArtifactPath) -> Result<()> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let mut current = root.clone();
        for segment in path.segments() {
            current.push(segment);
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(Error::invalid(format!("Invalid path '{path}': it passes through a symbolic link")));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Ok(())
    }
}

/// Completes a write; on failure nothing of it stays visible. (No abort
/// after a failed shutdown: the shutdown already ended the upload, and
/// object_store panics on an abort then.)
async fn finish(path: &ArtifactPath, mut writer: BufWriter) -> Result<()> {
    writer.shutdown().await.map_err(|e| Error::internal_cause(&format!("Storing the artifact '{path}'"), e))
}

fn object_path(path: &ArtifactPath) -> Result<ObjectPath> {
    ObjectPath::parse(path.as_str()).map_err(|_| Error::invalid("Invalid path"))
}

fn upload_dir(upload_id: &str) -> Result<ArtifactPath> {
    if upload_id.is_empty() || upload_id.len() > 64 || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(format!("Invalid upload id '{}'", upload_id.escape_debug())));
    }
    ArtifactPath::parse(&format!("{UPLOADS}/{upload_id}"))
}

fn upload_file(upload_id: &str, name: &str) -> Result<ArtifactPath> {
    Ok(upload_dir(upload_id)?.join(&ArtifactPath::parse(name)?))
}

fn part_name(part_number: u32) -> String {
    format!("part-{part_number:05}")
}

fn storage_error(path: &ArtifactPath, e: object_store::Error) -> Error {
    storage_error_text(path.as_str(), e)
}

fn storage_error_text(path: &str, e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::not_found(format!("No artifact at '{path}'")),
        e => Error::internal_cause(&format!("Reading or writing the artifact '{path}'"), e),
    }
}
