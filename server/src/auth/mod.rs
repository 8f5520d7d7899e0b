//! Users and permissions (`mltrack server --app-name basic-auth`),
//! compatible with MLflow's basic-auth app as `mlflow==3.17.2` speaks it:
//! HTTP Basic for the `mlflow` client's `MLFLOW_TRACKING_USERNAME` and
//! `MLFLOW_TRACKING_PASSWORD`, Bearer for `MLFLOW_TRACKING_TOKEN` (personal
//! tokens, which MLflow lacks), a session cookie for the web UI, and
//! MLflow's users, grants and roles endpoints ([`routes`]).
//!
//! [`guard`] runs on every request: it finds who is asking, then what the
//! endpoint needs ([`rules`]) and whether their grants allow it. Searches
//! are filtered inside the store's query through the [`Viewer`] it leaves
//! on the request, so pages and counts stay right.

pub mod login;
pub mod routes;
pub mod rules;
pub mod secrets;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rules::{Need, Params};
use secrets::Verifier;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::auth::User;
pub use store::auth::Viewer;
use store::Store;
use tracking::permissions::{Capability, Permission, Resolver, EXPERIMENT, REGISTERED_MODEL};
use tracking::{Error, ErrorCode};

/// MLflow's sentence for a request without valid credentials.
pub const UNAUTHENTICATED_MSG: &str = "You are not authenticated. Please see \
     https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.";
pub const PERMISSION_DENIED_MSG: &str = "Permission denied";

/// The UI's session cookie.
pub const SESSION_COOKIE: &str = "mltrack_session";
/// How long a UI login lasts.
pub const SESSION_DAYS: i64 = 7;

/// Failed logins in a row after which a user's logins are refused for
/// [`LOCKOUT`], on every replica (the count is in the database).
const MAX_FAILED_LOGINS: i64 = 5;
const LOCKOUT: Duration = Duration::from_secs(60);
/// Failed logins with unknown usernames allowed from one address a minute.
const MAX_UNKNOWN_PER_MINUTE: u32 = 20;

/// The users-and-permissions state: the store, the default permission and
/// what the guard remembers between requests.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    store: Store,
    default_permission: Permission,
    verifier: Verifier,
    /// Run id → experiment id: a run never moves, so this can be kept.
    run_experiments: Mutex<HashMap<String, String>>,
    /// Failed logins with unknown usernames, by address.
    unknown_failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// The hash of the one-time token that makes the first admin, while
    /// there is no user.
    setup_token: Mutex<Option<String>>,
}

const MAX_REMEMBERED_RUNS: usize = 100_000;

impl Auth {
    pub fn new(store: Store, default_permission: Permission) -> Auth {
        Auth(Arc::new(Inner {
            store,
            default_permission,
            verifier: Verifier::default(),
            run_experiments: Mutex::new(HashMap::new()),
            unknown_failures: Mutex::new(HashMap::new()),
            setup_token: Mutex::new(None),
        }))
    }

    /// Makes sure there is an admin to start with: the one named by
    /// `admin` (username, password) if given and not there yet; else, when
    /// there is no user at all, a one-time setup token, returned so that
    /// the start message can show the link to `/setup`.
    pub async fn bootstrap(&self, admin: Option<(String, String)>) -> Result<Option<String>, Error> {
        let store = &self.0.store;
        if let Some((username, password)) = admin {
            if store.user_by_name(&username).await?.is_none() {
                store::auth::validate_username(&username)?;
                store::auth::validate_password(&password)?;
                let hash = secrets::hash_password_async(&password).await?;
                match store.insert_user(&username, &hash, true).await {
                    Ok(_) => tracing::info!(user = %username, "created the first admin"),
                    // Another replica made it meanwhile.
                    Err(e) if e.error_code == ErrorCode::ResourceAlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(None);
        }
        if store.count_users().await? > 0 {
            return Ok(None);
        }
        let token = secrets::new_secret("setup_")?;
        *self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(secrets::token_hash(&token));
        Ok(Some(token))
    }

    /// Whether `/setup` still makes the first admin.
    pub async fn setup_open(&self) -> bool {
        self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner()).is_some()
            && self.0.store.count_users().await.is_ok_and(|n| n == 0)
    }

    /// `/setup`: the first admin, for the holder of the setup token.
    pub async fn create_first_admin(&self, token: &str, username: &str, password: &str) -> Result<User, Error> {
        let expected = self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let matches = expected.is_some_and(|h| secrets::token_hash(token) == h);
        if !matches || !self.setup_open().await {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "This setup link is not valid (any more): use the one printed when the server started, or sign in.",
            ));
        }
        store::auth::validate_username(username)?;
        store::auth::validate_password(password)?;
        let hash = secrets::hash_password_async(password).await?;
        let user = self.0.store.insert_user(username, &hash, true).await?;
        *self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!(user = %username, "created the first admin through /setup");
        Ok(user)
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn default_permission(&self) -> Permission {
        self.0.default_permission
    }

    /// The viewer for an authenticated user: admins need no grants.
    pub async fn viewer(&self, user: User) -> Result<Viewer, Error> {
        if user.is_admin {
            return Ok(Viewer { user, resolver: None });
        }
        let resolver = store::auth::resolver(self.0.store.as_ref(), &user, self.0.default_permission).await?;
        Ok(Viewer { user, resolver: Some(Arc::new(resolver)) })
    }

    /// Checks a username and password: the user, or why not.
    pub async fn login(&self, username: &str, password: &str, from: Option<IpAddr>) -> Result<User, Error> {
        let store = &self.0.store;
        let user = store.user_by_name(username).await?;
        let now = store::now_millis();
        if let Some(u) = &user {
            if u.failed_logins >= MAX_FAILED_LOGINS && now - u.last_failed_login < LOCKOUT.as_millis() as i64 {
                return Err(too_many_logins());
            }
        } else if let Some(ip) = from {
            if self.unknown_failures_from(ip) >= MAX_UNKNOWN_PER_MINUTE {
                return Err(too_many_logins());
            }
        }
        let ok = self.0.verifier.verify(user.as_ref().map(|u| u.password_hash.as_str()), password).await;
        match (user, ok) {
            (Some(u), true) => {
                if u.failed_logins > 0 {
                    store.note_login(u.id, None).await?;
                }
                Ok(u)
            }
            (Some(u), false) => {
                store.note_login(u.id, Some(now)).await?;
                Err(unauthenticated())
            }
            (None, _) => {
                if let Some(ip) = from {
                    self.note_unknown_failure(ip);
                }
                Err(unauthenticated())
            }
        }
    }

    fn unknown_failures_from(&self, ip: IpAddr) -> u32 {
        let map = self.0.unknown_failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).filter(|(_, since)| since.elapsed() < Duration::from_secs(60)).map_or(0, |(n, _)| *n)
    }

    fn note_unknown_failure(&self, ip: IpAddr) {
        let mut map = self.0.unknown_failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < Duration::from_secs(60));
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Duration::from_secs(60) {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Who sent this request: HTTP Basic, a Bearer token, or the UI's
    /// session cookie; `Ok(None)` when it carries no credentials.
    pub async fn authenticate(&self, headers: &HeaderMap, from: Option<IpAddr>) -> Result<Option<User>, Error> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| unauthenticated())?.trim();
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            let credentials = credentials.trim();
            if scheme.eq_ignore_ascii_case("basic") {
                let (username, password) = decode_basic(credentials).ok_or_else(unauthenticated)?;
                return self.login(&username, &password, from).await.map(Some);
            }
            if scheme.eq_ignore_ascii_case("bearer") {
                return self.token_user(credentials, "token").await.map(Some);
            }
            return Err(unauthenticated());
        }
        if let Some(session) = cookie(headers, SESSION_COOKIE) {
            return match self.token_user(&session, "session").await {
                Ok(user) => Ok(Some(user)),
                // An expired or revoked session is the same as none: the
                // UI sends its user to the login page.
                Err(e) if e.error_code == ErrorCode::Unauthenticated => Ok(None),
                Err(e) => Err(e),
            };
        }
        Ok(None)
    }

    async fn token_user(&self, token: &str, kind: &str) -> Result<User, Error> {
        if token.is_empty() || token.len() > 200 {
            return Err(unauthenticated());
        }
        match self.0.store.token_by_hash(&secrets::token_hash(token), store::now_millis()).await? {
            Some((t, user)) if t.kind == kind => Ok(user),
            _ => Err(unauthenticated()),
        }
    }

    async fn run_experiment(&self, run_id: &str) -> Result<Option<String>, Error> {
        if let Some(e) = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner()).get(run_id) {
            return Ok(Some(e.clone()));
        }
        let found = match self.0.store.get_run(run_id).await {
            Ok(run) => run.info.experiment_id,
            Err(e)
                if e.error_code == ErrorCode::ResourceDoesNotExist
                    || e.error_code == ErrorCode::InvalidParameterValue =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let mut map = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_REMEMBERED_RUNS {
            map.clear();
        }
        map.insert(run_id.to_string(), found.clone());
        Ok(Some(found))
    }

    /// Whether `resolver` meets `need`; lookups that find nothing deny (as
    /// MLflow does, so that ids cannot be probed), except where the
    /// default permission would let the endpoint answer "not found".
    async fn allows(&self, resolver: &Resolver, need: &Need) -> Result<bool, Error> {
        use Capability::*;
        Ok(match need {
            Need::SignedIn | Need::ItsOwn | Need::Filtered => true,
            Need::Missing(_) => false,
            Need::Admin => false,
            Need::Experiment(id, cap) => {
                let p = resolver.on(EXPERIMENT, id);
                p.allows(*cap) && tiers_allow(resolver, id, *cap)
            }
            Need::ExperimentNamed(name, cap) => match self.0.store.get_experiment_by_name(name).await {
                Ok(e) => resolver.on(EXPERIMENT, &e.experiment_id).allows(*cap),
                Err(e) if e.error_code == ErrorCode::ResourceDoesNotExist => true,
                Err(e) => return Err(e),
            },
            Need::CreateIn(experiment, tier) => {
                resolver.on(EXPERIMENT, experiment).allows(Update) && !resolver.tier_denied(tier)
            }
            Need::Create(resource_type, name) => {
                let p = match name {
                    Some(n) => resolver.on(resource_type, n),
                    None => resolver.on(resource_type, "*"),
                };
                // Anyone may create, unless denied outright (MLflow's rule
                // with workspaces off): a default of NO_PERMISSIONS still
                // lets users make, and so manage, their own.
                p != Permission::Deny
            }
            Need::Run(run_id, cap) => match self.run_experiment(run_id).await? {
                Some(e) => {
                    resolver.on(EXPERIMENT, &e).allows(Read) && resolver.on_tier("run", EXPERIMENT, &e).allows(*cap)
                }
                None => false,
            },
            Need::Runs(run_ids, cap) => {
                for run_id in run_ids {
                    if !Box::pin(self.allows(resolver, &Need::Run(run_id.clone(), *cap))).await? {
                        return Ok(false);
                    }
                }
                true
            }
            Need::Experiments(ids, cap) => ids.iter().all(|id| resolver.on(EXPERIMENT, id).allows(*cap)),
            Need::LoggedModel(model_id, cap) => match self.0.store.get_logged_model(model_id, true).await {
                Ok(m) => {
                    let e = &m.info.experiment_id;
                    resolver.on(EXPERIMENT, e).allows(Read)
                        && resolver.on_tier("logged_model", EXPERIMENT, e).allows(*cap)
                }
                Err(e) if e.error_code == ErrorCode::ResourceDoesNotExist => false,
                Err(e) => return Err(e),
            },
            Need::Model(name, cap, versions) => {
                resolver.on(REGISTERED_MODEL, name).allows(*cap)
                    && versions
                        .is_none_or(|v| resolver.on_tier("registered_model_version", REGISTERED_MODEL, name).allows(v))
            }
            Need::ArtifactPath(path, cap) => match rules::artifact_owner(path) {
                (Some(e), Some(_run)) => {
                    resolver.on(EXPERIMENT, &e).allows(Read) && resolver.on_tier("run", EXPERIMENT, &e).allows(*cap)
                }
                (Some(e), None) => resolver.on(EXPERIMENT, &e).allows(*cap),
                (None, _) => self.0.default_permission.allows(*cap),
            },
        })
    }
}

/// Deleting an experiment also deletes its runs and logged models: a tier
/// grant narrower than that (`run` `*` EDIT) stops it, as in MLflow.
fn tiers_allow(resolver: &Resolver, experiment: &str, cap: Capability) -> bool {
    cap != Capability::Delete
        || ["run", "logged_model"].iter().all(|tier| resolver.on_tier(tier, EXPERIMENT, experiment).allows(cap))
}

fn decode_basic(credentials: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(credentials).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

pub fn unauthenticated() -> Error {
    Error::new(ErrorCode::Unauthenticated, UNAUTHENTICATED_MSG)
}

fn too_many_logins() -> Error {
    Error::new(
        ErrorCode::RequestLimitExceeded,
        format!("Too many failed logins for this user; try again in {} seconds.", LOCKOUT.as_secs()),
    )
}

/// An error as a response, with `WWW-Authenticate` on a 401 so that
/// browsers and tools know to send Basic credentials.
pub fn error_response(e: Error) -> Response {
    let status = StatusCode::from_u16(e.error_code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(&e)).into_response();
    if e.error_code == ErrorCode::Unauthenticated {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"mlflow\""));
    }
    if e.error_code == ErrorCode::InternalError {
        tracing::error!(error = %e.detail(), "authentication failed on the server");
    }
    response
}

fn denied() -> Response {
    error_response(Error::new(ErrorCode::PermissionDenied, PERMISSION_DENIED_MSG))
}

/// Paths anyone may fetch: health checks, the UI's static files, the login
/// and first-admin pages.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/health"
            | "/favicon.svg"
            | "/favicon.ico"
            | "/login"
            | "/setup"
            | "/api/3.0/mlflow/server-info"
            | "/ajax-api/3.0/mlflow/server-info"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

/// The largest JSON body the guard reads to find the resource named
/// (log-batch's limits keep real ones far below).
const MAX_INSPECTED_BODY: usize = crate::api::extract::MAX_BODY_BYTES;

/// The middleware: authenticate, authorize, then let the request through
/// with its [`Viewer`]; after a create, the creator gets MANAGE.
pub async fn guard(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) {
        return next.run(req).await;
    }
    let from = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let user = match auth.authenticate(req.headers(), from).await {
        Ok(Some(user)) => user,
        Ok(None) if !rules::is_api(&path) && req.method() == Method::GET => return login::redirect_to_login(req.uri()),
        Ok(None) => return error_response(unauthenticated()),
        Err(e) => return error_response(e),
    };
    let viewer = match auth.viewer(user).await {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    if !rules::is_api(&path) {
        // The web UI: pages and server functions check what they show.
        let mut req = req;
        req.extensions_mut().insert(viewer);
        return next.run(req).await;
    }
    let (req, params) = match read_params(req, &path).await {
        Ok(x) => x,
        Err(response) => return response,
    };
    let method = req.method().clone();
    let needs = rules::needs(&method, &path, &params);
    if let Some(resolver) = &viewer.resolver {
        for need in &needs {
            match auth.allows(resolver, need).await {
                Ok(true) => {}
                Ok(false) => {
                    if let Need::Missing(param) = need {
                        return error_response(tracking::validation::missing_value(param));
                    }
                    tracing::info!(user = %viewer.user.username, path = %path, need = ?need, "permission denied");
                    return denied();
                }
                Err(e) => return error_response(e),
            }
        }
    }
    let creates = needs.iter().find_map(|n| match n {
        Need::Create(t, _) => Some(*t),
        _ => None,
    });
    let user = viewer.user.clone();
    let mut req = req;
    req.extensions_mut().insert(viewer);
    let response = next.run(req).await;
    if !response.status().is_success() {
        return response;
    }
    match creates {
        Some(resource_type) => grant_creator(&auth, &user, resource_type, response).await,
        None => {
            if let Some(name) = params.name() {
                if path.ends_with("/registered-models/delete") {
                    moved_model_grants(&auth, &name, None).await;
                } else if path.ends_with("/registered-models/rename") {
                    moved_model_grants(&auth, &name, params.new_name().as_deref()).await;
                }
            }
            response
        }
    }
}

/// The request's parameters, reading (and putting back) a JSON body.
async fn read_params(req: Request, path: &str) -> Result<(Request, Params), Response> {
    let query = req.uri().query().unwrap_or("").to_string();
    let by_query = matches!(*req.method(), Method::GET | Method::HEAD)
        || path.contains("/mlflow-artifacts/")
        || path.ends_with("/upload-artifact")
        || (req.method() == Method::DELETE && !is_json(req.headers()));
    if by_query {
        return Ok((req, Params::from_query(&query)));
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, MAX_INSPECTED_BODY).await.map_err(|_| {
        error_response(Error::invalid(format!(
            "The request body is larger than {} MB.",
            MAX_INSPECTED_BODY / 1024 / 1024
        )))
    })?;
    let params = Params::from_body(&bytes, &query);
    Ok((Request::from_parts(parts, Body::from(bytes)), params))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"))
}

/// After a successful create: MANAGE on the new experiment or registered
/// model for its creator (MLflow's after-request hook).
async fn grant_creator(auth: &Auth, user: &User, resource_type: &'static str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return error_response(Error::internal("reading the answer to a create failed"));
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let id = if resource_type == EXPERIMENT {
        json["experiment_id"].as_str().map(str::to_string)
    } else {
        json["registered_model"]["name"].as_str().map(str::to_string)
    };
    if let Some(id) = id {
        if let Err(e) = store::auth::grant(auth.store().as_ref(), user, resource_type, &id, Permission::Manage).await {
            tracing::error!(error = %e.detail(), "granting MANAGE to a creator failed");
            return error_response(e);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// After a registered model is deleted or renamed: the grants on its name
/// go, or follow it to the new name (MLflow's after-request hooks).
async fn moved_model_grants(auth: &Auth, name: &str, new_name: Option<&str>) {
    let result = match new_name {
        Some(new_name) => auth.store().rename_grants_on(REGISTERED_MODEL, name, new_name).await,
        None => auth.store().delete_grants_on(REGISTERED_MODEL, name).await,
    };
    if let Err(e) = result {
        tracing::error!(error = %e.detail(), "updating the grants of a deleted or renamed model failed");
    }
}
