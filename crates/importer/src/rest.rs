//! Reading a running MLflow tracking server (2.x or 3.x) through its REST
//! API: paged searches, whole metric histories, the artifact proxy.

use crate::source::{sort_points, ArtifactFile, ByteStream, Items, Source, SourceModel, SourceRegisteredModel};
use crate::uri_artifacts::UriArtifacts;
use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{Experiment, LoggedModel, ModelMetric, Point, Run};

/// The credentials the `mlflow` client would send to a server with users
/// (MLflow's basic-auth app, or mltrack's): `MLFLOW_TRACKING_USERNAME` and
/// `MLFLOW_TRACKING_PASSWORD` as HTTP Basic, else `MLFLOW_TRACKING_TOKEN`
/// as a Bearer token.
fn authorization_from_env() -> Option<String> {
    use base64::Engine;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("MLFLOW_TRACKING_USERNAME"), var("MLFLOW_TRACKING_PASSWORD"), var("MLFLOW_TRACKING_TOKEN")) {
        (Some(user), Some(password), _) => {
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))))
        }
        (_, _, Some(token)) => Some(format!("Bearer {token}")),
        _ => None,
    }
}

/// The HTTP client every import request goes through. It sends the
/// credentials of [`authorization_from_env`] on each request; requests go
/// only to the source server (redirects stay on its host).
pub fn client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(value) = authorization_from_env() {
        let mut value = reqwest::header::HeaderValue::from_str(&value).context(
            "MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN has characters a header cannot carry",
        )?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        // Redirects stay on the host first asked: a source server cannot
        // send this machine to fetch from somewhere else.
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same_host = attempt.previous().first().is_some_and(|first| {
                first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default()
            });
            if same_host && attempt.previous().len() < 10 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(300))
        .build()
        .context("could not set up the HTTP client")
}

/// MLflow's `{"error_code", "message"}` as one line, or the raw body.
fn error_text(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) if v.get("message").is_some() => {
            format!("{}: {}", v["error_code"].as_str().unwrap_or("ERROR"), v["message"].as_str().unwrap_or(""))
        }
        _ => body.chars().take(300).collect(),
    }
}

async fn answer(url: &str, response: reqwest::Result<reqwest::Response>) -> Result<Value> {
    let response = response.map_err(|e| anyhow!("could not reach {url}: {}", describe_http_error(&e)))?;
    let status = response.status();
    let body = response.text().await.with_context(|| format!("could not read the answer of {url}"))?;
    if !status.is_success() {
        return Err(HttpStatus {
            status: status.as_u16(),
            message: format!("{url} answered {status}: {}", error_text(&body)),
        }
        .into());
    }
    serde_json::from_str(&body).with_context(|| format!("{url} did not answer JSON"))
}

fn describe_http_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// A non-2xx answer, kept apart so callers can treat 404 as "not supported here".
#[derive(Debug)]
pub struct HttpStatus {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HttpStatus {}

pub async fn get_json(client: &reqwest::Client, url: &str, query: &[(&str, &str)]) -> Result<Value> {
    answer(url, client.get(url).query(query).send().await).await
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Result<Value> {
    answer(url, client.post(url).json(body).send().await).await
}

/// Fills the fields protobuf's JSON leaves out when unset, then reads `T`.
pub fn lenient<T: DeserializeOwned>(mut value: Value, defaults: &Value) -> Result<T> {
    if let (Some(object), Some(defaults)) = (value.as_object_mut(), defaults.as_object()) {
        for (key, default) in defaults {
            if object.get(key).is_none_or(Value::is_null) {
                object.insert(key.clone(), default.clone());
            }
        }
    }
    Ok(serde_json::from_value(value)?)
}

pub fn experiment_from_json(v: Value) -> Result<Experiment> {
    lenient(
        v,
        &json!({"artifact_location": "", "lifecycle_stage": "active", "creation_time": 0, "last_update_time": 0}),
    )
}

pub fn run_from_json(mut v: Value) -> Result<Run> {
    let info = v["info"].take();
    let run_id = info["run_id"].as_str().or(info["run_uuid"].as_str()).unwrap_or_default().to_string();
    let info = lenient(
        info,
        &json!({"run_id": run_id, "run_uuid": run_id, "run_name": "", "user_id": "", "status": "RUNNING",
                "start_time": 0, "artifact_uri": "", "lifecycle_stage": "active"}),
    )?;
    let mut data = v["data"].take();
    if let Some(metrics) = data.get_mut("metrics").and_then(Value::as_array_mut) {
        for m in metrics.iter_mut() {
            *m = lenient::<Value>(m.take(), &json!({"step": 0, "timestamp": 0}))?;
        }
    }
    Ok(Run {
        info,
        data: serde_json::from_value(if data.is_null() { json!({}) } else { data })?,
        inputs: serde_json::from_value(if v["inputs"].is_null() { json!({}) } else { v["inputs"].take() })?,
        outputs: serde_json::from_value(if v["outputs"].is_null() { json!({}) } else { v["outputs"].take() })?,
    })
}

fn model_from_json(mut v: Value) -> Result<SourceModel> {
    let info = v["info"].take();
    let model_id = info["model_id"].as_str().unwrap_or_default().to_string();
    let info = lenient(
        info,
        &json!({"name": "", "creation_timestamp_ms": 0, "last_updated_timestamp_ms": 0, "artifact_uri": "",
                "status": "LOGGED_MODEL_STATUS_UNSPECIFIED"}),
    )?;
    let mut metrics = Vec::new();
    for m in v["data"]["metrics"].as_array().cloned().unwrap_or_default() {
        metrics.push(lenient::<ModelMetric>(m, &json!({"step": 0, "timestamp": 0, "model_id": model_id}))?);
    }
    let params = serde_json::from_value(v["data"]["params"].take()).unwrap_or_default();
    Ok(SourceModel {
        model: LoggedModel { info, data: tracking::LoggedModelData { params, metrics: Vec::new() } },
        metrics,
    })
}

pub fn version_from_json(v: Value) -> Result<ModelVersion> {
    lenient(
        v,
        &json!({"creation_timestamp": 0, "last_updated_timestamp": 0, "current_stage": "None", "status": "READY"}),
    )
}

pub fn registered_model_from_json(mut v: Value) -> Result<RegisteredModel> {
    v["latest_versions"] = json!([]);
    lenient(v, &json!({"creation_timestamp": 0, "last_updated_timestamp": 0}))
}

pub struct RestSource {
    base: String,
    client: reqwest::Client,
    version: String,
    artifacts: UriArtifacts,
}

impl RestSource {
    /// Connects to the server at `base` and checks that it answers as MLflow.
    /// `allowed_roots`: folders and buckets (named on the command line)
    /// whose artifact URIs may be read besides this server's own proxy.
    pub async fn open(base: &str, allowed_roots: Vec<String>) -> Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        let client = client()?;
        let probe = format!("{base}/api/2.0/mlflow/experiments/search");
        post_json(&client, &probe, &json!({"max_results": 1}))
            .await
            .with_context(|| format!("{base} does not answer as an MLflow tracking server"))?;
        let version = match client.get(format!("{base}/version")).send().await {
            Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default().trim().to_string(),
            _ => String::new(),
        };
        let artifacts =
            UriArtifacts { server: Some((client.clone(), base.clone())), allowed_roots, ..Default::default() };
        Ok(RestSource { base, client, version, artifacts })
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/api/2.0/mlflow/{endpoint}", self.base)
    }

    /// Every page of a POST search, items under `field`.
    async fn search_all(&self, endpoint: &str, mut body: Value, field: &str) -> Result<Vec<Value>> {
        let asked = body["max_results"].as_u64().unwrap_or(0) as usize;
        let mut pages = Pages::new(endpoint, asked, MAX_LISTED_ITEMS / 10);
        loop {
            let mut page = post_json(&self.client, &self.url(endpoint), &body).await?;
            match pages.take(&mut page, field)? {
                Some(token) => body["page_token"] = json!(token),
                None => return Ok(pages.items),
            }
        }
    }

    /// Every page of a GET search, items under `field`.
    async fn get_all(&self, endpoint: &str, query: &[(&str, &str)], field: &str) -> Result<Vec<Value>> {
        let asked = query.iter().find(|(k, _)| *k == "max_results").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        let mut pages = Pages::new(endpoint, asked, MAX_LISTED_ITEMS);
        let mut token = String::new();
        loop {
            let mut args: Vec<(&str, &str)> = query.to_vec();
            if !token.is_empty() {
                args.push(("page_token", &token));
            }
            let mut page = get_json(&self.client, &self.url(endpoint), &args).await?;
            match pages.take(&mut page, field)? {
                Some(next) => token = next,
                None => return Ok(pages.items),
            }
        }
    }
}

/// The most points one metric history may hold (a listing of runs,
/// experiments or models a tenth of it): past it the source is taken to
/// be broken, not read on until memory runs out.
const MAX_LISTED_ITEMS: usize = 10_000_000;

/// The most JSON one listing may bring (it is held in memory, about three
/// times this once parsed).
const MAX_LISTED_BYTES: usize = 1 << 30;

/// A page that says more follow holds at least this many items (or as
/// many as were asked for): MLflow's stores give a next-page token only
/// with a full page.
const MIN_FULL_PAGE: usize = 50;

/// The pages of one listing as they come, with the checks that stop a
/// source that pages forever: a token seen before, a page with a token but
/// hardly any items, a page the same as an earlier one, a listing past its
/// limit.
struct Pages<'a> {
    endpoint: &'a str,
    asked: usize,
    limit: usize,
    items: Vec<Value>,
    bytes: usize,
    tokens: std::collections::HashSet<String>,
    pages: std::collections::HashSet<u64>,
}

impl<'a> Pages<'a> {
    fn new(endpoint: &'a str, asked: usize, limit: usize) -> Self {
        Pages {
            endpoint,
            asked,
            limit,
            items: Vec::new(),
            bytes: 0,
            tokens: Default::default(),
            pages: Default::default(),
        }
    }

    /// Takes a page's items; the next page's token, if there is one.
    fn take(&mut self, page: &mut Value, field: &str) -> Result<Option<String>> {
        use std::hash::{Hash, Hasher};
        let mut list = page[field].as_array_mut().map(std::mem::take).unwrap_or_default();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let text = serde_json::to_string(&list).unwrap_or_default();
        self.bytes += text.len();
        text.hash(&mut h);
        let repeated = !self.pages.insert(h.finish());
        let new = list.len();
        self.items.append(&mut list);
        let Some(token) = page["next_page_token"].as_str().filter(|t| !t.is_empty()).map(str::to_string) else {
            return Ok(None);
        };
        let endpoint = self.endpoint;
        let broken = |why: &str| anyhow::anyhow!("The source's {endpoint} answers page after page: {why}; stopped.");
        if new == 0 || repeated {
            return Err(broken("a page with a next-page token brought nothing new"));
        }
        if new < MIN_FULL_PAGE.min(self.asked.max(1)) {
            return Err(broken(&format!("a page of {new} items (of {} asked for) said more follow", self.asked)));
        }
        if !self.tokens.insert(token.clone()) {
            return Err(broken("a next-page token came back that was already used"));
        }
        if self.bytes > MAX_LISTED_BYTES {
            return Err(broken(&format!("more than {} MB in one listing", MAX_LISTED_BYTES >> 20)));
        }
        if self.items.len() > self.limit {
            return Err(broken(&format!("more than {} items in one listing", self.limit)));
        }
        Ok(Some(token))
    }
}

impl RestSource {
    async fn registered_model(&self, json: Value) -> Result<SourceRegisteredModel> {
        let model = registered_model_from_json(json).context("a registered model in the server's answer")?;
        let quote = if model.name.contains('\'') { '"' } else { '\'' };
        let filter = format!("name={quote}{}{quote}", model.name);
        let versions = self
            .get_all(
                "model-versions/search",
                &[("filter", filter.as_str()), ("max_results", "10000")],
                "model_versions",
            )
            .await
            .with_context(|| format!("the versions of registered model '{}'", model.name))?
            .into_iter()
            .map(version_from_json)
            .collect::<Result<Vec<_>>>()?;
        Ok(SourceRegisteredModel { model, versions })
    }
}

fn not_served(e: &anyhow::Error) -> bool {
    e.downcast_ref::<HttpStatus>().is_some_and(|s| s.status == 404)
}

#[async_trait]
impl Source for RestSource {
    fn id(&self) -> &str {
        &self.base
    }

    fn describe(&self) -> String {
        match self.version.as_str() {
            "" => format!("MLflow server at {}", self.base),
            v => format!("MLflow {v} server at {}", self.base),
        }
    }

    async fn experiments(&self) -> Result<Items<Experiment>> {
        let body = json!({"max_results": 1000, "view_type": "ALL"});
        let items = self.search_all("experiments/search", body, "experiments").await?;
        Ok(items.into_iter().map(|v| experiment_from_json(v).context("an experiment in the server's answer")).collect())
    }

    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>> {
        let body = json!({"experiment_ids": [experiment_id], "run_view_type": "ALL", "max_results": 1000});
        let items = self.search_all("runs/search", body, "runs").await?;
        Ok(items.into_iter().map(|v| run_from_json(v).context("a run in the server's answer")).collect())
    }

    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>> {
        let query = [("run_id", run.info.run_id.as_str()), ("metric_key", key), ("max_results", "25000")];
        let mut points: Vec<Point> = self
            .get_all("metrics/get-history", &query, "metrics")
            .await?
            .into_iter()
            .map(|m| lenient::<tracking::Metric>(m, &json!({"step": 0, "timestamp": 0})))
            .map(|m| m.map(|m| Point { step: m.step, timestamp: m.timestamp, value: m.value }))
            .collect::<Result<_>>()?;
        sort_points(&mut points);
        Ok(points)
    }

    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>> {
        let body = json!({"experiment_ids": [experiment_id], "max_results": 100});
        match self.search_all("logged-models/search", body, "models").await {
            Ok(models) => Ok(models.into_iter().map(model_from_json).collect()),
            // MLflow 2.x has no logged models.
            Err(e) if not_served(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>> {
        let models =
            match self.get_all("registered-models/search", &[("max_results", "1000")], "registered_models").await {
                Ok(models) => models,
                Err(e) if not_served(&e) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
        let mut out = Vec::with_capacity(models.len());
        for m in models {
            out.push(self.registered_model(m).await);
        }
        Ok(out)
    }

    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        self.artifacts.list(root_uri).await
    }

    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        self.artifacts.read(root_uri, path).await
    }
}

/// Refuses anything but http(s) URLs.
pub fn check_url(url: &str) -> Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{url} is not an http(s) URL");
    }
    Ok(())
}
