//! Users and permissions (`mltrack server --app-name basic-auth`),
//! compatible with MLflow's basic-auth app as `mlflow==3.17.2` speaks it:
//! HTTP Basic for the `mlflow` client's `MLFLOW_TRACKING_USERNAME` and
//! `MLFLOW_TRACKING_PASSWORD`, Bearer for `MLFLOW_TRACKING_TOKEN` (personal
//! tokens, which MLflow lacks), a session cookie for the web UI, and
//! MLflow's users, grants and roles endpoints ([`routes`]).
//!
//! [`guard`] runs on every request and finds who is asking; it leaves a
//! [`Gate`] on the request. Whether they may do what the request does is
//! decided where the request is read, on the very value the handler runs
//! (`api::extract::Guarded`), by [`store::access`]: one decision for REST,
//! the artifact proxy, live events and the UI's server functions. Searches
//! are filtered inside the store's query through the [`Viewer`], so pages
//! and counts stay right.

pub mod login;
pub mod routes;
pub mod secrets;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrets::Verifier;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
pub use store::access::{Access, Credential, Gate};
use store::auth::User;
pub use store::auth::Viewer;
use store::Store;
use tracking::permissions::Permission;
use tracking::{Error, ErrorCode};

/// MLflow's sentence for a request without valid credentials.
pub const UNAUTHENTICATED_MSG: &str = "You are not authenticated. Please see \
     https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.";
pub use store::access::PERMISSION_DENIED_MSG;

/// The UI's session cookie.
pub const SESSION_COOKIE: &str = "mltrack_session";
/// How long a UI login lasts.
pub const SESSION_DAYS: i64 = 7;

/// Failed logins allowed from one address in [`LOCKOUT`]; past them that
/// address is refused for every name, known or not, until the minute is
/// over. Refusing by address rather than by user means a guesser cannot
/// lock a user (an admin) out, and the same answer for known and unknown
/// names tells nobody which names exist. Each replica counts its own.
const MAX_FAILURES_PER_ADDRESS: u32 = 10;
const LOCKOUT: Duration = Duration::from_secs(60);

/// The users-and-permissions state: the store, the default permission and
/// what the guard remembers between requests.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    store: Store,
    access: Access,
    verifier: Verifier,
    /// Failed logins, by address.
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// The hash of the one-time token that makes the first admin, while
    /// there is no user.
    setup_token: Mutex<Option<String>>,
}

impl Auth {
    pub fn new(store: Store, default_permission: Permission) -> Auth {
        store::access::users_on();
        Auth(Arc::new(Inner {
            access: Access::new(store.clone(), default_permission),
            store,
            verifier: Verifier::default(),
            failures: Mutex::new(HashMap::new()),
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
    /// The token is taken (under its lock) before anything is awaited, so
    /// that of parallel requests carrying it exactly one goes on; it is put
    /// back only if that one fails before a user was made.
    pub async fn create_first_admin(&self, token: &str, username: &str, password: &str) -> Result<User, Error> {
        let not_valid = || {
            Error::new(
                ErrorCode::PermissionDenied,
                "This setup link is not valid (any more): use the one printed when the server started, or sign in.",
            )
        };
        let taken = {
            let mut slot = self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(h) if secrets::token_hash(token) == *h => slot.take(),
                _ => None,
            }
        };
        let Some(hash_of_token) = taken else { return Err(not_valid()) };
        let made = async {
            if self.0.store.count_users().await? > 0 {
                return Err(not_valid());
            }
            store::auth::validate_username(username)?;
            store::auth::validate_password(password)?;
            let hash = secrets::hash_password_async(password).await?;
            self.0.store.insert_user(username, &hash, true).await
        }
        .await;
        match made {
            Ok(user) => {
                tracing::info!(user = %username, "created the first admin through /setup");
                Ok(user)
            }
            Err(e) => {
                if self.0.store.count_users().await.is_ok_and(|n| n == 0) {
                    *self.0.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(hash_of_token);
                }
                Err(e)
            }
        }
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn default_permission(&self) -> Permission {
        self.0.access.default_permission()
    }

    pub fn access(&self) -> &Access {
        &self.0.access
    }

    /// The viewer for an authenticated user: admins need no grants.
    pub async fn viewer(&self, user: User) -> Result<Viewer, Error> {
        if user.is_admin {
            return Ok(Viewer { user, resolver: None });
        }
        let resolver = store::auth::resolver(self.0.store.as_ref(), &user, self.default_permission()).await?;
        Ok(Viewer { user, resolver: Some(Arc::new(resolver)) })
    }

    /// Checks a username and password: the user, or why not.
    pub async fn login(&self, username: &str, password: &str, from: Option<IpAddr>) -> Result<User, Error> {
        if from.is_some_and(|ip| self.failures_from(ip) >= MAX_FAILURES_PER_ADDRESS) {
            return Err(too_many_logins());
        }
        let user = self.0.store.user_by_name(username).await?;
        let ok = self.0.verifier.verify(user.as_ref().map(|u| u.password_hash.as_str()), password).await;
        match (user, ok) {
            (Some(u), true) => Ok(u),
            _ => {
                if let Some(ip) = from {
                    self.note_failure(ip);
                }
                Err(unauthenticated())
            }
        }
    }

    fn failures_from(&self, ip: IpAddr) -> u32 {
        let map = self.0.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).filter(|(_, since)| since.elapsed() < LOCKOUT).map_or(0, |(n, _)| *n)
    }

    fn note_failure(&self, ip: IpAddr) {
        let mut map = self.0.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < LOCKOUT);
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Duration::from_secs(60) {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Who sent this request (HTTP Basic, a Bearer token, or the UI's
    /// session cookie) and with what; `Ok(None)` when it carries no
    /// credentials.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        from: Option<IpAddr>,
    ) -> Result<Option<(User, Credential)>, Error> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| unauthenticated())?.trim();
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            let credentials = credentials.trim();
            if scheme.eq_ignore_ascii_case("basic") {
                let (username, password) = decode_basic(credentials).ok_or_else(unauthenticated)?;
                let user = self.login(&username, &password, from).await?;
                let credential = Credential::Password { password_hash: user.password_hash.clone() };
                return Ok(Some((user, credential)));
            }
            if scheme.eq_ignore_ascii_case("bearer") {
                return self.token_user(credentials, "token").await.map(Some);
            }
            return Err(unauthenticated());
        }
        if let Some(session) = cookie(headers, SESSION_COOKIE) {
            return match self.token_user(&session, "session").await {
                Ok(found) => Ok(Some(found)),
                // An expired or revoked session is the same as none: the
                // UI sends its user to the login page.
                Err(e) if e.error_code == ErrorCode::Unauthenticated => Ok(None),
                Err(e) => Err(e),
            };
        }
        Ok(None)
    }

    async fn token_user(&self, token: &str, kind: &str) -> Result<(User, Credential), Error> {
        if token.is_empty() || token.len() > 200 {
            return Err(unauthenticated());
        }
        let hash = secrets::token_hash(token);
        match self.0.store.token_by_hash(&hash, store::now_millis()).await? {
            Some((t, user)) if t.kind == kind => {
                Ok((user, Credential::Token { kind: t.kind, hash, expiry_time: t.expiry_time }))
            }
            _ => Err(unauthenticated()),
        }
    }
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
        format!("Too many failed logins from this address; try again in {} seconds.", LOCKOUT.as_secs()),
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

/// Whether a path is MLflow's REST API (or mltrack's own), as opposed to
/// the web UI.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/ajax-api/")
        || path == "/get-artifact"
        || path == "/model-versions/get-artifact"
}

/// The middleware: authenticate, then let the request through with its
/// [`Viewer`] and [`Gate`], which the request's reader asks before the
/// handler runs. A route that answered without asking is a bug: it is
/// logged, and its answer withheld from a user who is not an admin.
pub async fn guard(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) {
        return next.run(req).await;
    }
    let from = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (user, credential) = match auth.authenticate(req.headers(), from).await {
        Ok(Some(found)) => found,
        Ok(None) if !is_api(&path) && req.method() == Method::GET => return login::redirect_to_login(req.uri()),
        Ok(None) => return error_response(unauthenticated()),
        Err(e) => return error_response(e),
    };
    let viewer = match auth.viewer(user).await {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let gate = Gate::new(auth.access().clone(), viewer.clone(), credential);
    let mut req = req;
    req.extensions_mut().insert(viewer);
    req.extensions_mut().insert(gate.clone());
    let response = next.run(req).await;
    if is_api(&path) && gate.is_restricted() && !gate.decided() && response.status().is_success() {
        tracing::error!(path = %path, "a route answered without a permission decision; refused");
        return error_response(Error::internal("This endpoint has no permission rule."));
    }
    response
}

/// After a create: MANAGE on the new experiment or registered model for
/// its creator (MLflow's after-request hook), when users are on.
pub async fn grant_to_creator(gate: &Gate, resource_type: &'static str, id: &str) -> Result<(), Error> {
    let (Some(access), Some(viewer)) = (gate.access(), gate.viewer()) else { return Ok(()) };
    store::auth::grant(access.store().as_ref(), &viewer.user, resource_type, id, Permission::Manage).await
}
