//! mltrack's web UI. The same components render on the server (feature
//! `ssr`) and hydrate in the browser (feature `hydrate`).

// Leptos view types nest deeply on the larger pages.
#![recursion_limit = "256"]

pub mod aggregate;
pub mod app_error;
pub mod chart_link;
pub mod charts;
pub mod columns;
pub mod components;
pub mod dashboard_draft;
pub mod fetch_slots;
pub mod format;
pub mod live;
pub mod logged_images;
pub mod pages;
pub mod panel_overrides;
pub mod parallel;
pub mod run_marks;
pub mod server_fns;
pub mod table_window;
pub mod url_state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;
use leptos_router::SsrMode;

/// MLflow's UI uses hash routes (`/#/experiments/1/runs/<id>`), and the
/// client prints such links after each run. The fragment never reaches the
/// server, so this turns it into the matching path before anything renders.
/// It only ever goes to a path of this server: the target is written out
/// as an absolute URL on this origin with one leading slash, so neither
/// `/#//evil.example/x` nor `/#/.//evil.example/x` (a path that becomes
/// protocol-relative once its dot segment is resolved) can leave the site.
const HASH_ROUTES: &str = r#"(function(){var h=location.hash;if(h.indexOf('#/')!==0)return;var p=h.slice(1);
if(!/^\/(?![\/\\])/.test(p))return;
var m=p.match(/^\/compare-runs\?(.*)$/);if(m){var q=new URLSearchParams(m[1]);var r=q.get('runs')||'[]';
try{r=JSON.parse(r).join(',')}catch(e){}p='/compare?runs='+encodeURIComponent(r).replace(/%2C/g,',')}
else if(p==='/experiments'||p==='/')p='/';
var u=new URL(p,location.origin);if(u.origin!==location.origin)return;
location.replace(location.origin+'/'+u.pathname.replace(/^[\/\\]+/,'')+u.search)})();"#;

/// The HTML document around every page. On the server it also sets the
/// page's Content-Security-Policy, which lets only this response's inline
/// scripts (they carry its nonce) and mltrack's own files run.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    if let (Some(response), Some(nonce)) = (use_context::<leptos_axum::ResponseOptions>(), nonce.as_ref()) {
        if let Ok(value) = http::HeaderValue::from_str(&page_security_policy(nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <script nonce=nonce>{HASH_ROUTES}</script>
                // Named with the build's version, as the scripts are.
                <link rel="stylesheet" id="mltrack-css" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name) />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The policy of the UI's pages: mltrack's own scripts (the wasm bundle,
/// its glue and plotly.js, all served from this origin) and inline scripts
/// carrying this response's nonce; inline styles (plotly sets them); images
/// from this origin and data/blob URLs (chart exports); no framing by
/// other sites.
pub fn page_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'self'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="mltrack" />
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    "mltrack"
                </A>
                <nav>
                    <A href="/">"Experiments"</A>
                    <A href="/dashboards">"Dashboards"</A>
                    <A href="/models">"Models"</A>
                </nav>
                <SignedIn />
            </header>
            <main>
                // Each page is sent whole, once its data is read: hydration
                // never races a chunk still streaming in (out-of-order
                // streaming failed to hydrate now and then under load).
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=pages::experiments::ExperimentsPage ssr=SsrMode::Async />
                    <Route path=path!("/experiments/:id") view=pages::runs::RunsPage ssr=SsrMode::Async />
                    <Route path=path!("/experiments/:id/runs/:run_id") view=pages::run::RunPageView ssr=SsrMode::Async />
                    <Route path=path!("/experiments/:id/runs/:run_id/artifacts") view=pages::run::RunPageView ssr=SsrMode::Async />
                    <Route path=path!("/experiments/:id/runs/:run_id/artifacts/*path") view=pages::run::RunPageView ssr=SsrMode::Async />
                    <Route path=path!("/compare") view=pages::compare::ComparePage ssr=SsrMode::Async />
                    <Route path=path!("/dashboards") view=pages::dashboards::DashboardsPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboards/:id") view=pages::dashboards::DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/models") view=pages::models::ModelsPage ssr=SsrMode::Async />
                    <Route path=path!("/models/:name") view=pages::models::ModelPage ssr=SsrMode::Async />
                    <Route path=path!("/models/:name/versions/:version") view=pages::models::VersionPage ssr=SsrMode::Async />
                    <Route path=path!("/logged-models/:model_id") view=pages::models::LoggedModelView ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Who is signed in, with a way out; nothing when there are no users.
#[component]
fn SignedIn() -> impl IntoView {
    let user = Resource::new(|| (), |_| server_fns::signed_in_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                user.await.ok().flatten().map(|name| view! {
                    <form class="signed-in" method="post" action="/logout">
                        <span class="user" title="Signed in">{name}</span>
                        <button type="submit">"Sign out"</button>
                    </form>
                })
            })}
        </Suspense>
    }
}

/// The page for paths no route matches; the server answers it with a 404.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! { <p class="empty">"Page not found."</p> }
}
