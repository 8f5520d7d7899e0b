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
    Router::new().route("/artifacts/list", get(list_run_artifacts))
}

/// The proxied store, or MLflow's answer when the server does not proxy.
pub(crate) fn served(state: &AppState) -> ApiResult<&ArtifactStore> {
    state.artifacts.as_ref().ok_or_else(|| {
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

/// A run's or model's artifact root as a store path, or why it cannot be read here.
pub(crate) fn root_of(uri: &str) -> ApiResult<ArtifactPath> {
    proxied_root(uri).ok_or_else(|| {
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
    let disposition = format!("attachment; filename=\"{}\"", path.file_name().replace(['"', '\\'], "_"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, Body::from_stream(download.stream)).into_response())
}

/// The MIME type MLflow's `_guess_mime_type` gives the common artifact kinds.
pub fn mime_type(file_name: &str) -> &'static str {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" | "py" | "md" | "yaml" | "yml" | "toml" | "cfg" | "ini" => "text/plain",
        "json" => "application/json",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
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
    let root = root_of(&run.info.artifact_uri)?;
    let files = served(&state)?.list(&root.join(&relative)).await?;
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
    let root = root_of(&run.info.artifact_uri)?;
    send_file(served(&state)?, &root.join(&path)).await
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
