//! Cross-origin and Host checks as MLflow 3.5+ makes them (its
//! `security.py`, with its flag names and messages), and the security
//! headers every response carries.
//!
//! - A request whose `Host` is not an allowed host is refused (403) before
//!   anything reads or writes: a DNS-rebinding page on `evil.example` that
//!   resolves to 127.0.0.1 is turned away. Default: localhost, loopback and
//!   private-network addresses, as MLflow's.
//! - A state-changing request (POST, PUT, PATCH, DELETE) that a browser
//!   sends from another origin is refused (403), whatever its path: the
//!   REST API, the artifact proxy and the UI's server functions alike. The
//!   same origin, localhost origins and `--cors-allowed-origins` pass; a
//!   request with no `Origin` (a script, `curl`, the mlflow client) is not a
//!   browser's cross-site request and passes.
//! - Allowed origins get CORS headers (and preflights an answer) so that a
//!   notebook UI on localhost can call the API, as with MLflow.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// MLflow's answers, word for word.
pub const INVALID_HOST_MSG: &str = "Invalid Host header - possible DNS rebinding attack detected";
pub const CORS_BLOCKED_MSG: &str = "Cross-origin request blocked";

/// Paths answered whatever the Host (load balancers probe them by address).
const HEALTH_ENDPOINTS: [&str; 2] = ["/health", "/version"];

/// The policy, from `--allowed-hosts`, `--cors-allowed-origins` and
/// `--x-frame-options` (MLflow's flags).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Host patterns (`*` and `?` wildcards); `None` allows every host.
    hosts: Option<Vec<String>>,
    /// Extra allowed origins (patterns); `*` in the list allows all.
    origins: Vec<String>,
    /// `X-Frame-Options` value; `None` sends none.
    frame_options: Option<HeaderValue>,
}

impl Policy {
    /// `allowed_hosts` and `allowed_origins` are comma-separated lists, as
    /// MLflow reads them; empty means the defaults.
    pub fn new(allowed_hosts: &str, allowed_origins: &str, x_frame_options: &str) -> Self {
        let list = |text: &str| -> Vec<String> {
            text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        };
        let hosts = match list(allowed_hosts) {
            given if given.iter().any(|h| h == "*") => None,
            given if !given.is_empty() => Some(given),
            _ => Some(default_hosts()),
        };
        let frame_options = match x_frame_options.trim().to_ascii_uppercase().as_str() {
            "NONE" | "" => None,
            value => HeaderValue::from_str(value).ok(),
        };
        Policy { hosts, origins: list(allowed_origins), frame_options }
    }

    /// Everything allowed: what `--disable-security-middleware` gives, and
    /// what the router tests use.
    pub fn permissive() -> Self {
        Policy { hosts: None, origins: vec!["*".into()], frame_options: None }
    }

    /// A pattern written as an address (`10.*`, `[fd00:*`) matches only a
    /// host that is an IP address: `10.evil.example` is a name, which
    /// anyone can point anywhere (mltrack is stricter than MLflow here).
    pub fn allows_host(&self, host: &str) -> bool {
        match &self.hosts {
            None => true,
            Some(patterns) => {
                let is_address = ip_of(host).is_some();
                !host.is_empty()
                    && patterns.iter().any(|p| {
                        let head = p.split(':').next().unwrap_or("");
                        let address_pattern = p.starts_with(|c: char| c.is_ascii_digit() || c == '[')
                            || (p.contains(':') && !head.is_empty() && head.bytes().all(|b| b.is_ascii_hexdigit()));
                        (!address_pattern || is_address) && glob(p, host)
                    })
            }
        }
    }

    /// Whether a browser page at `origin` may send state-changing requests
    /// to a server it reached as `host`.
    fn allows_origin(&self, origin: &str, host: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else { return false };
        if !matches!(scheme, "http" | "https") {
            return false;
        }
        authority.eq_ignore_ascii_case(host)
            || is_localhost(authority)
            || self.origins.iter().any(|allowed| allowed == "*" || glob(allowed, origin))
    }
}

/// MLflow's default allowed hosts: localhost and loopback with any port,
/// and the private address ranges (RFC 1918, RFC 4193).
fn default_hosts() -> Vec<String> {
    let mut hosts = Vec::new();
    for host in ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"] {
        hosts.push(host.to_string());
        hosts.push(format!("{host}:*"));
    }
    hosts.extend(["192.168.*", "10.*", "fc00:*", "fd00:*", "[fc00:*", "[fd00:*"].map(String::from));
    hosts.extend((16..32).map(|i| format!("172.{i}.*")));
    hosts
}

/// The IP address a `Host` header names (with or without a port); `None`
/// for a name.
fn ip_of(authority: &str) -> Option<std::net::IpAddr> {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None if authority.matches(':').count() > 1 => authority,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.parse().ok()
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_localhost(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "::1")
}

/// Shell-style matching with `*` (any run) and `?` (any one character),
/// case-insensitive, as `fnmatch` on the patterns MLflow documents.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) =
        (pattern.to_ascii_lowercase().chars().collect(), text.to_ascii_lowercase().chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn forbidden(message: &'static str) -> Response {
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain")], message).into_response()
}

fn is_state_changing(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// The middleware: checks the request, then adds the headers.
pub async fn guard(State(policy): State<Arc<Policy>>, mut req: Request, next: Next) -> Response {
    // Read from a copy: a borrow of the request would live across the await below.
    let request_headers = req.headers().clone();
    let text = |name: HeaderName| request_headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let host = text(header::HOST).or_else(|| req.uri().authority().map(|a| a.to_string())).unwrap_or_default();
    if !HEALTH_ENDPOINTS.contains(&req.uri().path()) && !policy.allows_host(&host) {
        tracing::warn!(host = %host.escape_debug(), "refused a request with a Host that is not allowed");
        return forbidden(INVALID_HOST_MSG);
    }
    let origin = text(header::ORIGIN).filter(|o| o != "null");
    let allowed_origin = origin.as_deref().map(|o| policy.allows_origin(o, &host));
    if is_state_changing(req.method()) {
        // A browser names the origin of every cross-origin write; `null`
        // (sandboxed frames, some redirects) and a cross-site fetch without
        // an Origin are treated as foreign too.
        let cross_site = text(HeaderName::from_static("sec-fetch-site")).is_some_and(|s| s == "cross-site");
        let foreign = match allowed_origin {
            Some(allowed) => !allowed,
            None => cross_site || request_headers.get(header::ORIGIN).is_some_and(|o| o == "null"),
        };
        if foreign && !policy.origins.iter().any(|o| o == "*") {
            tracing::warn!(origin = ?origin, path = %req.uri().path(), "refused a cross-origin write");
            return forbidden(CORS_BLOCKED_MSG);
        }
    }
    // A forwarded host is used to build URLs (multipart part URLs): only an
    // allowed one is passed on.
    if let Some(forwarded) = text(HeaderName::from_static("x-forwarded-host")) {
        let first = forwarded.split(',').next().unwrap_or("").trim().to_string();
        if !policy.allows_host(&first) {
            req.headers_mut().remove("x-forwarded-host");
        }
    }
    let cors_origin = origin.filter(|_| allowed_origin == Some(true));
    let preflight = req.method() == Method::OPTIONS && request_headers.contains_key("access-control-request-method");
    let mut response = if preflight && cors_origin.is_some() {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        if let Some(asked) = request_headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        r
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    if let Some(value) = cors_origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    add_security_headers(headers, policy.frame_options.as_ref());
    response
}

/// Headers on every response. Pages set their own Content-Security-Policy
/// (with the nonce of their inline scripts); everything else (JSON,
/// artifacts, assets) gets one that allows nothing to run or embed.
fn add_security_headers(headers: &mut axum::http::HeaderMap, frame_options: Option<&HeaderValue>) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Some(value) = frame_options {
        headers.insert(header::X_FRAME_OPTIONS, value.clone());
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'; sandbox"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let p = Policy::new("", "", "SAMEORIGIN");
        for ok in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "192.168.1.7:5000",
            "10.0.0.1",
            "172.20.1.1:80",
        ] {
            assert!(p.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:5000",
            "",
            "172.32.0.1",
            "localhost.evil.example",
            "8.8.8.8",
            "10.evil.example",
            "10.evil.example:5000",
            "192.168.evil.example",
            "172.16.evil.example",
            "fd00.evil",
            "fd00:evil.example",
        ] {
            assert!(!p.allows_host(bad), "{bad}");
        }
        assert!(Policy::new("*", "", "").allows_host("evil.example"));
        let p = Policy::new("mltrack.internal, *.corp.example:*", "", "");
        assert!(p.allows_host("mltrack.internal") && p.allows_host("a.corp.example:443"));
        assert!(!p.allows_host("localhost:5000"));
    }

    #[test]
    fn origins() {
        let p = Policy::new("", "https://notebooks.example, https://*.corp.example", "");
        assert!(p.allows_origin("http://localhost:3000", "127.0.0.1:5000"));
        assert!(p.allows_origin("http://10.0.0.5:5000", "10.0.0.5:5000"));
        assert!(p.allows_origin("https://notebooks.example", "127.0.0.1:5000"));
        assert!(p.allows_origin("https://a.corp.example", "127.0.0.1:5000"));
        assert!(!p.allows_origin("http://evil.example", "127.0.0.1:5000"));
        assert!(!p.allows_origin("http://localhost.evil.example", "127.0.0.1:5000"));
        assert!(!p.allows_origin("file://", "127.0.0.1:5000"));
        assert!(Policy::new("", "*", "").allows_origin("http://evil.example", "h"));
    }

    #[test]
    fn globs() {
        assert!(glob("172.1?.*", "172.16.0.1"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acd"));
        assert!(glob("A*", "abc"));
    }
}
