//! Artifact endpoints: MLflow's `mlflow-artifacts` proxy (upload, download,
//! list, delete, multipart), the tracking API's `artifacts/list`, and the
//! UI's `get-artifact`. Every path goes through `ArtifactPath::parse`.

use super::error::{ApiError, ApiResult};
use super::extract::{Gate, Guarded, Mlflow, MlflowQuery, Need, RequestGate};
use super::listed::Listed;
use super::runs::{run_need, run_of};
use super::{required, AppState};
use artifacts::{ArtifactPath, ArtifactStore};
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::Method;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracking::permissions::Capability;
use tracking::{Error, ErrorCode, FileInfo};

/// The proxy routes, mounted under `/api/2.0/mlflow-artifacts` (and `/ajax-api/…`).
pub fn proxy_router() -> Listed<AppState> {
    Listed::new()
        .get("/artifacts", list)
        .delete("/artifacts", delete_root)
        .get("/artifacts/", list)
        .delete("/artifacts/", delete_root)
        .get("/artifacts/{*path}", download)
        .put("/artifacts/{*path}", upload)
        .delete("/artifacts/{*path}", delete)
        .post("/mpu/create/{*path}", mpu_create)
        .post("/mpu/complete/{*path}", mpu_complete)
        .post("/mpu/abort/{*path}", mpu_abort)
        .put("/mpu/part/{upload_id}/{part_number}", mpu_part)
        .get("/presigned/{*path}", presigned)
}

/// Routes of the tracking API that read run artifacts.
pub fn tracking_router() -> Listed<AppState> {
    Listed::new().get("/artifacts/list", list_run_artifacts).post("/upload-artifact", upload_artifact)
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

/// What touching a path of the proxied store (or the local default root,
/// laid out alike) needs: see [`store::access::artifact_need`].
pub(crate) fn path_need(path: &ArtifactPath, cap: Capability) -> Need {
    store::access::artifact_need(path.segments(), cap)
}

/// [`path_need`] of a path as a URI or URL names it (decoded as the proxy
/// decodes it); a path the proxy would refuse is for admins.
pub(crate) fn proxied_need(path: &str, cap: Capability) -> Need {
    ArtifactPath::parse(path).map_or(Need::Admin, |p| path_need(&p, cap))
}

/// Where a run's or model's artifact root is read, and the file `relative`
/// under it, once the viewer may `cap` the folder the bytes are really in
/// (a run's artifact location can be anywhere its experiment's says).
pub(crate) async fn locate_checked<'a>(
    state: &'a AppState,
    gate: &Gate,
    uri: &str,
    relative: &ArtifactPath,
    cap: Capability,
) -> ApiResult<(&'a ArtifactStore, ArtifactPath)> {
    let (store, root) = locate(state, uri)?;
    let path = root.join(relative);
    gate.check(&[path_need(&path, cap)]).await?;
    Ok((store, path))
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

/// The path in a proxy URL (`…/artifacts/{*path}`, `…/mpu/create/{*path}`),
/// parsed once and authorized for what the method does to it: GET reads,
/// PUT and POST write, DELETE needs MANAGE (MLflow's proxy rules).
pub(crate) struct Proxied(pub ArtifactPath);

impl<S: Send + Sync> FromRequestParts<S> for Proxied {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError(Error::invalid(e.body_text())))?;
        let path = parse(&raw)?;
        let cap = match parts.method {
            Method::GET | Method::HEAD => Capability::Read,
            Method::PUT | Method::POST => Capability::Update,
            _ => Capability::Manage,
        };
        super::extract::gate_of(&parts.extensions).check(&[path_need(&path, cap)]).await?;
        Ok(Proxied(path))
    }
}

async fn upload(State(state): State<AppState>, Proxied(path): Proxied, body: Body) -> ApiResult<Json<Value>> {
    served(&state)?.put(&path, body.into_data_stream()).await?;
    Ok(Json(json!({})))
}

async fn download(State(state): State<AppState>, Proxied(path): Proxied) -> ApiResult<Response> {
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

impl ListQuery {
    fn path(&self) -> ApiResult<ArtifactPath> {
        match self.path.as_deref() {
            Some(p) => parse(p),
            None => Ok(ArtifactPath::root()),
        }
    }
}

/// The root's listing is narrowed to the folders the viewer may read.
impl Guarded for ListQuery {
    fn needs(&self) -> Vec<Need> {
        match self.path() {
            Ok(path) if path.is_root() => vec![Need::SignedIn],
            Ok(path) => vec![path_need(&path, Capability::Read)],
            // The handler says what is wrong with it.
            Err(_) => vec![Need::SignedIn],
        }
    }
}

async fn list(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    Mlflow(q): Mlflow<ListQuery>,
) -> ApiResult<Json<Value>> {
    let path = q.path()?;
    let mut files = served(&state)?.list(&path).await?;
    if path.is_root() && gate.is_restricted() {
        let mut readable = Vec::with_capacity(files.len());
        for f in files {
            if gate.allows(&[proxied_need(&f.path, Capability::Read)]).await? {
                readable.push(f);
            }
        }
        files = readable;
    }
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

async fn delete(State(state): State<AppState>, Proxied(path): Proxied) -> ApiResult<Json<Value>> {
    served(&state)?.delete(&path).await?;
    Ok(Json(json!({})))
}

async fn delete_root(State(state): State<AppState>, RequestGate(gate): RequestGate) -> ApiResult<Json<Value>> {
    gate.check(&[Need::Admin]).await?;
    served(&state)?.delete(&ArtifactPath::root()).await?;
    Ok(Json(json!({})))
}

/// The multipart calls name the folder in the URL and the client's local
/// file in `path`; the artifact is the folder plus that file's name.
fn mpu_target(dir: &ArtifactPath, local_file: &str) -> ApiResult<ArtifactPath> {
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

// The bodies of the multipart calls name only a file name inside the URL's
// folder, which [`Proxied`] authorized.
super::extract::needs_only_a_signed_in_user!(CreateMultipart, CompleteMultipart, AbortMultipart);

/// Who started an upload: only they add its parts, complete or abort it.
fn uploader(gate: &Gate) -> String {
    gate.viewer().map(|v| v.user.username.clone()).unwrap_or_default()
}

async fn mpu_create(
    State(state): State<AppState>,
    Proxied(dir): Proxied,
    RequestGate(gate): RequestGate,
    headers: HeaderMap,
    Mlflow(req): Mlflow<CreateMultipart>,
) -> ApiResult<Json<Value>> {
    let target = mpu_target(&dir, &required(req.path, "path")?)?;
    let num_parts = req.num_parts.unwrap_or(1);
    if !(1..=MAX_PARTS).contains(&num_parts) {
        return Err(ApiError(Error::invalid(format!("num_parts must be between 1 and {MAX_PARTS}, got {num_parts}"))));
    }
    let upload_id = served(&state)?.create_multipart(&target, &uploader(&gate)).await?;
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

#[derive(Deserialize)]
struct PartPath {
    upload_id: String,
    part_number: String,
}

// A part names only its upload: the handler checks the upload's owner and
// target (`own_upload`) before it stores anything.
super::extract::needs_only_a_signed_in_user!(PartPath);

/// Refuses unless the viewer started the upload and may still write its
/// target (an unknown upload and another user's read alike: not found).
async fn own_upload(store: &ArtifactStore, gate: &Gate, upload_id: &str) -> ApiResult<ArtifactPath> {
    let (target, owner) = store.upload(upload_id).await?;
    if gate.viewer().is_some_and(|v| v.user.username != owner) && gate.is_restricted() {
        return Err(ApiError(Error::not_found(format!("No multipart upload with id '{upload_id}'"))));
    }
    gate.check(&[path_need(&target, Capability::Update)]).await?;
    Ok(target)
}

async fn mpu_part(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    super::extract::GuardedPath(PartPath { upload_id, part_number }): super::extract::GuardedPath<PartPath>,
    body: Body,
) -> ApiResult<Response> {
    let number: u32 = part_number
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PARTS as u32).contains(n))
        .ok_or_else(|| ApiError(Error::invalid(format!("Invalid part number '{part_number}'"))))?;
    let store = served(&state)?;
    own_upload(store, &gate, &upload_id).await?;
    let etag = store.put_part(&upload_id, number, body.into_data_stream()).await?;
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
    Proxied(dir): Proxied,
    RequestGate(gate): RequestGate,
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
    let store = served(&state)?;
    own_upload(store, &gate, &upload_id).await?;
    store.complete_multipart(&target, &upload_id, &parts).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct AbortMultipart {
    path: Option<String>,
    upload_id: Option<String>,
}

async fn mpu_abort(
    State(state): State<AppState>,
    Proxied(dir): Proxied,
    RequestGate(gate): RequestGate,
    Mlflow(req): Mlflow<AbortMultipart>,
) -> ApiResult<Json<Value>> {
    let target = mpu_target(&dir, &required(req.path, "path")?)?;
    let upload_id = required(req.upload_id, "upload_id")?;
    let store = served(&state)?;
    own_upload(store, &gate, &upload_id).await?;
    store.abort_multipart(&target, &upload_id).await?;
    Ok(Json(json!({})))
}

/// Downloads always stream through the server; MLflow's client falls back
/// to that when presigned URLs are not offered.
async fn presigned(Proxied(_): Proxied) -> ApiResult<Json<Value>> {
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

impl Guarded for ListRunArtifacts {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Read)]
    }
}

/// <https://mlflow.org/docs/latest/rest-api.html#list-artifacts>: paths
/// relative to the run's root, and the root URI.
async fn list_run_artifacts(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    Mlflow(req): Mlflow<ListRunArtifacts>,
) -> ApiResult<Json<Value>> {
    let run_id = required(run_of(&req.run_id, &req.run_uuid).map(str::to_string), "run_id")?;
    let relative = match req.path.as_deref() {
        Some(p) => parse(p)?,
        None => ArtifactPath::root(),
    };
    let run = state.store.get_run(&run_id).await?;
    let (artifacts, dir) = locate_checked(&state, &gate, &run.info.artifact_uri, &relative, Capability::Read).await?;
    let files = artifacts.list(&dir).await?;
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

impl Guarded for GetArtifact {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Read)]
    }
}

/// `/get-artifact?run_uuid=…&path=…`: the file download MLflow's UI uses.
pub(crate) async fn get_artifact(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    MlflowQuery(req): MlflowQuery<GetArtifact>,
) -> ApiResult<Response> {
    let run_id = required(run_of(&req.run_id, &req.run_uuid).map(str::to_string), "run_uuid")?;
    let path = parse(&required(req.path, "path")?)?;
    let run = state.store.get_run(&run_id).await?;
    let (artifacts, file) = locate_checked(&state, &gate, &run.info.artifact_uri, &path, Capability::Read).await?;
    send_file(artifacts, &file).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_targets_take_the_file_name() {
        let dir = |d: &str| ArtifactPath::parse(d).unwrap();
        assert_eq!(
            mpu_target(&dir("1/r/artifacts/dir"), "/tmp/x/big.bin").unwrap().as_str(),
            "1/r/artifacts/dir/big.bin"
        );
        assert_eq!(mpu_target(&dir("1/r"), "C:\\data\\big.bin").unwrap().as_str(), "1/r/big.bin");
        assert!(mpu_target(&dir("1/r"), "/tmp/").is_err());
        assert!(mpu_target(&dir("1/r"), "/tmp/..").is_err());
    }
}

/// The largest file `upload-artifact` takes (MLflow's limit): it is the UI's
/// small-file upload; clients upload through the proxy.
const MAX_UI_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Deserialize)]
struct UploadArtifact {
    run_id: Option<String>,
    run_uuid: Option<String>,
    path: Option<String>,
}

impl Guarded for UploadArtifact {
    fn needs(&self) -> Vec<Need> {
        vec![run_need(run_of(&self.run_id, &self.run_uuid), Capability::Update)]
    }
}

/// MLflow's `upload-artifact` (ajax-api): the request body becomes the file
/// `path` under the run's artifact root. The run is read from the query
/// string alone, where the check read it.
async fn upload_artifact(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    MlflowQuery(req): MlflowQuery<UploadArtifact>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let run_id = run_of(&req.run_id, &req.run_uuid)
        .map(str::to_string)
        .ok_or_else(|| Error::invalid("Request must specify run_uuid."))?;
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
    let (artifacts, file) = locate_checked(&state, &gate, &run.info.artifact_uri, &path, Capability::Update).await?;
    artifacts.put(&file, Body::from(data).into_data_stream()).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(crate) struct ModelVersionArtifact {
    name: Option<String>,
    version: Option<String>,
    path: Option<String>,
}

impl Guarded for ModelVersionArtifact {
    fn needs(&self) -> Vec<Need> {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => vec![Need::Model(name.to_string(), Capability::Read, Some(Capability::Read))],
            None => vec![Need::Missing("name")],
        }
    }
}

/// `/model-versions/get-artifact?name=…&version=…&path=…`: a file of a
/// registered model version, as MLflow's UI downloads it: READ on the
/// model, and on the folder the version's files are in.
pub(crate) async fn get_model_version_artifact(
    State(state): State<AppState>,
    RequestGate(gate): RequestGate,
    MlflowQuery(req): MlflowQuery<ModelVersionArtifact>,
) -> ApiResult<Response> {
    let path = parse(&required(req.path, "path")?)?;
    let name = required(req.name, "name")?;
    let version = tracking::registry::parse_version(&required(req.version, "version")?)?;
    let uri = state.store.get_model_version_download_uri(&name, version).await?;
    let (artifacts, file) = locate_checked(&state, &gate, &uri, &path, Capability::Read).await?;
    send_file(artifacts, &file).await
}
