//! The web UI's login: `/login` (a form, then a session cookie that is
//! HttpOnly and SameSite, Secure behind TLS), `/logout`, and `/setup`,
//! where the first admin is made with the one-time token printed at start.
//! Plain HTML forms with no script, so they work under the strict CSP.

use super::{secrets, Auth, SESSION_COOKIE, SESSION_DAYS};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn router(auth: Auth) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup", get(setup_page).post(setup))
        .with_state(auth)
}

/// A page request without a session goes to the login page, and back after.
pub fn redirect_to_login(uri: &Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let target = format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
    see_other(&target)
}

fn see_other(target: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(target) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Only a path on this server: `//evil.example` and `https://…` are not.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Response {
    let css = crate::ui::stylesheet_path();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · mltrack</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"/favicon.svg\"><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main class=\"login\"><h1>mltrack</h1>{body}</main></body></html>"
    );
    // No script at all: the form posts only to this server.
    let policy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'self'; \
                  base-uri 'none'";
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        html,
    )
        .into_response()
}

fn form(action: &str, next: &str, error: Option<&str>, extra: &str, button: &str) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"{action}\">{extra}\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Username <input name=\"username\" autocomplete=\"username\" required autofocus></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">{button}</button></form>",
        next = escape(next)
    )
}

#[derive(Deserialize, Default)]
struct Next {
    next: Option<String>,
    token: Option<String>,
}

async fn login_page(Query(q): Query<Next>) -> Response {
    let next = safe_next(q.next.as_deref());
    page("Sign in", &form("/login", &next, None, "", "Sign in"))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    token: Option<String>,
}

/// The cookie for a new session: HttpOnly (no script reads it), SameSite
/// (no other site's page sends it), Secure when the request came over TLS.
fn session_cookie(secret: &str, headers: &HeaderMap, max_age: i64) -> HeaderValue {
    let https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p == "https");
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn start_session(auth: &Auth, user: &store::auth::User, headers: &HeaderMap, next: &str) -> Response {
    let secret = match secrets::new_secret("mls_") {
        Ok(s) => s,
        Err(e) => return super::error_response(e),
    };
    let expiry = store::now_millis().saturating_add(SESSION_DAYS * 86_400_000);
    if let Err(e) =
        auth.store().insert_token(user.id, "web session", &secrets::token_hash(&secret), "session", Some(expiry)).await
    {
        return super::error_response(e);
    }
    let mut r = see_other(next);
    r.headers_mut().insert(header::SET_COOKIE, session_cookie(&secret, headers, SESSION_DAYS * 86_400));
    r
}

async fn login(
    State(auth): State<Auth>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match auth.login(&f.username, &f.password, connect.map(|c| c.0 .0.ip())).await {
        Ok(user) => start_session(&auth, &user, &headers, &next).await,
        Err(e) => {
            let message = if e.error_code == tracking::ErrorCode::Unauthenticated {
                "That username and password do not match.".to_string()
            } else {
                e.message.clone()
            };
            let mut r = page("Sign in", &form("/login", &next, Some(&message), "", "Sign in"));
            *r.status_mut() = StatusCode::from_u16(e.error_code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            r
        }
    }
}

async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Response {
    if let Some(secret) = super::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = auth.store().revoke_token_by_hash(&secrets::token_hash(&secret)).await {
            return super::error_response(e);
        }
    }
    let mut r = see_other("/login");
    r.headers_mut().insert(header::SET_COOKIE, session_cookie("", &headers, 0));
    r
}

async fn setup_page(State(auth): State<Auth>, Query(q): Query<Next>) -> Response {
    if !auth.setup_open().await {
        return see_other("/login");
    }
    let token = q.token.unwrap_or_default();
    let extra = format!("<input type=\"hidden\" name=\"token\" value=\"{}\">", escape(&token));
    page(
        "Create the first admin",
        &format!(
            "<p>No user exists yet. Choose the first admin's name and password.</p>{}",
            form("/setup", "/", None, &extra, "Create admin")
        ),
    )
}

async fn setup(State(auth): State<Auth>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let token = f.token.clone().unwrap_or_default();
    let extra = format!("<input type=\"hidden\" name=\"token\" value=\"{}\">", escape(&token));
    let fail = |status: StatusCode, message: &str| {
        let mut r = page("Create the first admin", &form("/setup", "/", Some(message), &extra, "Create admin"));
        *r.status_mut() = status;
        r
    };
    match auth.create_first_admin(&token, &f.username, &f.password).await {
        Ok(user) => start_session(&auth, &user, &headers, "/").await,
        Err(e) => fail(StatusCode::from_u16(e.error_code.http_status()).unwrap_or(StatusCode::BAD_REQUEST), &e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/experiments/1?view=charts")), "/experiments/1?view=charts");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
