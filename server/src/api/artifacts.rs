//! Artifact endpoints: MLflow's `mlflow-artifacts` proxy (upload, download,
//! list, delete, multipart), the tracking API's `artifacts/list`, and the
//! UI's `get-artifact`. Every path goes through `ArtifactPath::parse`.

use super::error::{ApiError, ApiResult};
use super::extract::Mlflow;
use super::{required, AppState};
use artifacts::{ArtifactPath, ArtifactStore};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tracking::{Error, ErrorCode, FileInfo};

/// The proxy routes, mounted under `/api/2.0/mlflow-artifacts` (and `/ajax-api/…`).
pub fn proxy_router() -> Router<AppState> {
    Router::new()
        .route("/artifacts", get(list).delete(delete_root))
        .route("/artifacts/", get(list).delete(delete_root))
        .route("/artifacts/{*path}", get(download).put(upload).delete(delete))
        .route("/mpu/create/{*path}", post(mpu_create))
        .route("/mpu/complete/{*path}", post(mpu_complete))
        .route("/mpu/abort/{*path}", post(mpu_abort))
        .route("/mpu/part/{upload_id}/{part_number}", put(mpu_part))
        .route("/presigned/{*path}", get(presigned))
}

/// Routes of the tracking API that read run artifacts.
pub fn tracking_router() -> Router<AppState> {
    Router::new().route("/artifacts/list", get(list_run_artifacts)).route("/upload-artifact", post(upload_artifact))
}

/// The proxied store, or MLflow's answer when the server does not proxy.
pub(crate) fn served(state: &AppState) -> ApiResult<&ArtifactStore> {
    state.artifacts.proxied().ok_or_else(|| {
        ApiError(Error::new(
            ErrorCode::TemporarilyUnavailable,
            "Artifact endpoints are disabled: the server runs with --no-serve-artifacts",
        ))
    })
}

/// The store path of a root this server proxies (see `ArtifactPath::from_root_uri`).
pub fn proxied_root(uri: &str) -> Option<ArtifactPath> {
    ArtifactPath::from_root_uri(uri)
}

/// Where a run's or model's artifact root is read, or why it cannot be read here.
pub(crate) fn locate<'a>(state: &'a AppState, uri: &str) -> ApiResult<(&'a ArtifactStore, ArtifactPath)> {
    if proxied_root(uri).is_some() {
        served(state)?;
    }
    state.artifacts.locate(uri).ok_or_else(|| {
        ApiError(Error::invalid(format!(
            "The artifacts at '{uri}' are not served by this server; read them with the MLflow client directly"
        )))
    })
}

fn parse(path: &str) -> ApiResult<ArtifactPath> {
    Ok(ArtifactPath::parse(path)?)
}

async fn upload(State(state): State<AppState>, Path(path): Path<String>, body: Body) -> ApiResult<Json<Value>> {
    let path = parse(&path)?;
    served(&state)?.put(&path, body.into_data_stream()).await?;
    Ok(Json(json!({})))
}

async fn download(State(state): State<AppState>, Path(path): Path<String>) -> ApiResult<Response> {
    let path = parse(&path)?;
    send_file(served(&state)?, &path).await
}

/// Streams a file as an attachment, as MLflow does: a browser never renders
/// an uploaded HTML or SVG file on the server's origin.
pub(crate) async fn send_file(store: &ArtifactStore, path: &ArtifactPath) -> ApiResult<Response> {
    let download = store.get(path).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime_type(path.file_name())));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(value) = attachment(path.file_name()) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, Body::from_stream(download.stream)).into_response())
}

/// Extensions (and, for files without one, whole names) that MLflow's
/// `_guess_mime_type` sends as `text/plain`, whatever their usual type.
const TEXT_EXTENSIONS: [&str; 25] = [
    "txt",
    "log",
    "err",
    "cfg",
    "conf",
    "cnf",
    "cf",
    "ini",
    "properties",
    "prop",
    "hocon",
    "toml",
    "yaml",
    "yml",
    "xml",
    "json",
    "js",
    "py",
    "py3",
    "csv",
    "tsv",
    "md",
    "rst",
    "MLmodel",
    "mlproject",
];

/// The MIME type MLflow's `_guess_mime_type` gives a file name: text kinds
/// as `text/plain`, then Python's `mimetypes` table for the common binary
/// kinds, `application/octet-stream` otherwise.
pub fn mime_type(file_name: &str) -> &'static str {
    // Python's splitext: a leading dot starts no extension (".bashrc").
    let ext = match file_name.trim_start_matches('.').rsplit_once('.') {
        Some((_, ext)) => ext,
        None => file_name,
    };
    if TEXT_EXTENSIONS.contains(&ext) {
        return "text/plain";
    }
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "mp4" => "video/mp4",
        "wav" => "audio/x-wav",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// `attachment; filename=…` as Flask writes it: the name bare when it is an
/// HTTP token, quoted otherwise, and as RFC 5987 `filename*` when it is
/// not ASCII.
fn attachment(file_name: &str) -> Option<HeaderValue> {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let value = if !file_name.is_empty() && file_name.chars().all(is_token) {
        format!("attachment; filename={file_name}")
    } else if file_name.is_ascii() && !file_name.chars().any(|c| c.is_ascii_control()) {
        format!("attachment; filename=\"{}\"", file_name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        let encoded: String = file_name
            .bytes()
            .map(|b| {
                if (b as char).is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("attachment; filename*=UTF-8''{encoded}")
    };
    HeaderValue::from_str(&value).ok()
}

#[derive(Deserialize)]
struct ListQuery {
    path: Option<String>,
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let path = match q.path.as_deref() {
        Some(p) => parse(p)?,
        None => ArtifactPath::root(),
    };
    let files = served(&state)?.list(&path).await?;
    Ok(Json(files_json(files)))
}

/// MLflow leaves out an empty `files` list.
fn files_json(files: Vec<FileInfo>) -> Value {
    if files.is_empty() {
        json!({})
    } else {
        json!({ "files": files })
    }
}

async fn delete(State(state): State<AppState>, Path(path): Path<String>) -> ApiResult<Json<Value>> {
    let path = parse(&path)?;
    served(&state)?.delete(&path).await?;
    Ok(Json(json!({})))
}

async fn delete_root(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    served(&state)?.delete(&ArtifactPath::root()).await?;
    Ok(Json(json!({})))
}

/// The multipart calls name the folder in the URL and the client's local
/// file in `path`; the artifact is the folder plus that file's name.
fn mpu_target(dir: &str, local_file: &str) -> ApiResult<ArtifactPath> {
    let dir = parse(dir)?;
    let name = local_file.rsplit(['/', '\\']).next().unwrap_or("");
    if name.is_empty() {
        return Err(ApiError(Error::invalid("'path' must name the file being uploaded")));
    }
    Ok(dir.join(&parse(name)?))
}

#[derive(Deserialize)]
struct CreateMultipart {
    path: Option<String>,
    #[serde(default, deserialize_with = "super::extract::wire::opt_int")]
    num_parts: Option<i64>,
}

/// The largest part count S3 allows; more would never complete.
const MAX_PARTS: i64 = 10_000;

async fn mpu_create(
    State(state): State<AppState>,
    Path(dir): Path<String>,
    headers: HeaderMap,
    Mlflow(req): Mlflow<CreateMultipart>,
) -> ApiResult<Json<Value>> {
    let target = mpu_target(&dir, &required(req.path, "path")?)?;
    let num_parts = req.num_parts.unwrap_or(1);
    if !(1..=MAX_PARTS).contains(&num_parts) {
        return Err(ApiError(Error::invalid(format!("num_parts must be between 1 and {MAX_PARTS}, got {num_parts}"))));
    }
    let upload_id = served(&state)?.create_multipart(&target).await?;
    // Parts come back to this server (any replica): the client PUTs each to its URL.
    let base = format!("{}/api/2.0/mlflow-artifacts/mpu/part/{upload_id}", origin(&headers));
    let credentials: Vec<Value> =
        (1..=num_parts).map(|n| json!({ "url": format!("{base}/{n}"), "part_number": n, "headers": {} })).collect();
    Ok(Json(json!({ "upload_id": upload_id, "credentials": credentials })))
}

/// `scheme://host[:port]` as the client reached us, behind a proxy too.
fn origin(headers: &HeaderMap) -> String {
    let text =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(|s| s.split(',').next().unwrap_or(s).trim());
    let host = text("x-forwarded-host").or_else(|| text("host")).unwrap_or("localhost:5000");
    let scheme = text("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn mpu_part(
    State(state): State<AppState>,
    Path((upload_id, part_number)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let number: u32 = part_number
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PARTS as u32).contains(n))
        .ok_or_else(|| ApiError(Error::invalid(format!("Invalid part number '{part_number}'"))))?;
    let etag = served(&state)?.put_part(&upload_id, number, body.into_data_stream()).await?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Ok((headers, Json(json!({}))).into_response())
}

#[derive(Deserialize)]
struct Part {
    #[serde(default, deserialize_with = "super::extract::wire::opt_int")]
    part_number: Option<i64>,
}

#[derive(Deserialize)]
struct CompleteMultipart {
    path: Option<String>,
    upload_id: Option<String>,
    #[serde(default)]
    parts: Vec<Part>,
}

async fn mpu_complete(
    State(state): State<AppState>,
    Path(dir): Path<String>,
    Mlflow(req): Mlflow<CompleteMultipart>,
) -> ApiResult<Json<Value>> {
    let target = mpu_target(&dir, &required(req.path, "path")?)?;
    let upload_id = required(req.upload_id, "upload_id")?;
    let parts = req
        .parts
        .iter()
        .map(|p| match p.part_number {
            Some(n) if (1..=MAX_PARTS).contains(&n) => Ok(n as u32),
            other => Err(ApiError(Error::invalid(format!("Invalid part number {other:?}")))),
        })
        .collect::<ApiResult<Vec<u32>>>()?;
    served(&state)?.complete_multipart(&target, &upload_id, &parts).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct AbortMultipart {
    path: Option<String>,
    upload_id: Option<String>,
}

async fn mpu_abort(
    State(state): State<AppState>,
    Path(dir): Path<String>,
    Mlflow(req): Mlflow<AbortMultipart>,
) -> ApiResult<Json<Value>> {
    let target = mpu_target(&dir, &required(req.path, "path")?)?;
    let upload_id = required(req.upload_id, "upload_id")?;
    served(&state)?.abort_multipart(&target, &upload_id).await?;
    Ok(Json(json!({})))
}

/// Downloads always stream through the server; MLflow's client falls back
/// to that when presigned URLs are not offered.
async fn presigned(Path(path): Path<String>) -> ApiResult<Json<Value>> {
    parse(&path)?;
    Err(ApiError(Error::new(
        ErrorCode::NotImplemented,
        "Multipart download is not supported for the current artifact repository",
    )))
}

#[derive(Deserialize)]
struct ListRunArtifacts {
    run_id: Option<String>,
    run_uuid: Option<String>,
    path: Option<String>,
}

/// <https://mlflow.org/docs/latest/rest-api.html#list-artifacts>: paths
/// relative to the run's root, and the root URI.
async fn list_run_artifacts(
    State(state): State<AppState>,
    Mlflow(req): Mlflow<ListRunArtifacts>,
) -> ApiResult<Json<Value>> {
    let run_id = required(req.run_id.filter(|s| !s.is_empty()).or(req.run_uuid), "run_id")?;
    let relative = match req.path.as_deref() {
        Some(p) => parse(p)?,
        None => ArtifactPath::root(),
    };
    let run = state.store.get_run(&run_id).await?;
    let (artifacts, root) = locate(&state, &run.info.artifact_uri)?;
    let files = artifacts.list(&root.join(&relative)).await?;
    let files: Vec<FileInfo> =
        files.into_iter().map(|f| FileInfo { path: prefixed(&relative, &f.path), ..f }).collect();
    let mut body = files_json(files);
    body["root_uri"] = Value::String(run.info.artifact_uri);
    Ok(Json(body))
}

fn prefixed(dir: &ArtifactPath, name: &str) -> String {
    if dir.is_root() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[derive(Deserialize)]
pub(crate) struct GetArtifact {
    run_id: Option<String>,
    run_uuid: Option<String>,
    path: Option<String>,
}

/// `/get-artifact?run_uuid=…&path=…`: the file download MLflow's UI uses.
pub(crate) async fn get_artifact(State(state): State<AppState>, Query(req): Query<GetArtifact>) -> ApiResult<Response> {
    let run_id = required(req.run_id.filter(|s| !s.is_empty()).or(req.run_uuid), "run_uuid")?;
    let path = parse(&required(req.path, "path")?)?;
    let run = state.store.get_run(&run_id).await?;
    let (artifacts, root) = locate(&state, &run.info.artifact_uri)?;
    send_file(artifacts, &root.join(&path)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_targets_take_the_file_name() {
        assert_eq!(mpu_target("1/r/artifacts/dir", "/tmp/x/big.bin").unwrap().as_str(), "1/r/artifacts/dir/big.bin");
        assert_eq!(mpu_target("1/r", "C:\\data\\big.bin").unwrap().as_str(), "1/r/big.bin");
        assert!(mpu_target("1/r", "/tmp/").is_err());
        assert!(mpu_target("1/r", "/tmp/..").is_err());
    }
}

/// The largest file `upload-artifact` takes (MLflow's limit): it is the UI's
/// small-file upload; clients upload through the proxy.
const MAX_UI_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Deserialize)]
struct UploadArtifact {
    run_uuid: Option<String>,
    path: Option<String>,
}

/// MLflow's `upload-artifact` (ajax-api): the request body becomes the file
/// `path` under the run's artifact root.
async fn upload_artifact(
    State(state): State<AppState>,
    Query(req): Query<UploadArtifact>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let run_id =
        req.run_uuid.filter(|r| !r.is_empty()).ok_or_else(|| Error::invalid("Request must specify run_uuid."))?;
    let path = req.path.filter(|p| !p.is_empty()).ok_or_else(|| Error::invalid("Request must specify path."))?;
    let path = parse(&path)?;
    let too_large = || Error::invalid("Artifact size is too large. Max size is 10MB.");
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_UI_UPLOAD_BYTES) {
        return Err(too_large().into());
    }
    let data = axum::body::to_bytes(body, MAX_UI_UPLOAD_BYTES).await.map_err(|_| too_large())?;
    if data.is_empty() {
        return Err(Error::invalid("Request must specify data.").into());
    }
    let run = state.store.get_run(&run_id).await?;
    let (artifacts, root) = locate(&state, &run.info.artifact_uri)?;
    artifacts.put(&root.join(&path), Body::from(data).into_data_stream()).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(crate) struct ModelVersionArtifact {
    name: Option<String>,
    version: Option<String>,
    path: Option<String>,
}

/// `/model-versions/get-artifact?name=…&version=…&path=…`: a file of a
/// registered model version, as MLflow's UI downloads it.
pub(crate) async fn get_model_version_artifact(
    State(state): State<AppState>,
    Query(req): Query<ModelVersionArtifact>,
) -> ApiResult<Response> {
    let path = parse(&required(req.path, "path")?)?;
    let name = required(req.name, "name")?;
    let version = tracking::registry::parse_version(&required(req.version, "version")?)?;
    let uri = state.store.get_model_version_download_uri(&name, version).await?;
    let (artifacts, root) = locate(&state, &uri)?;
    send_file(artifacts, &root.join(&path)).await
}
