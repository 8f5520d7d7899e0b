//! Routers that also say which routes they have: axum cannot list a
//! router's routes, and the permission tests must reach every one, so that
//! a route added without a permission rule fails them (`mltrack routes`
//! prints the list they read).

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;

/// A [`Router`] and the `(method, path)` of each route added through it.
pub struct Listed<S> {
    router: Router<S>,
    routes: Vec<(Method, String)>,
}

impl<S: Clone + Send + Sync + 'static> Default for Listed<S> {
    fn default() -> Self {
        Listed { router: Router::new(), routes: Vec::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> Listed<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for `method` at `path` (several methods on one path
    /// merge, as axum's own `route` does).
    pub fn on<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push((method, path.to_string()));
        self
    }

    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::GET, path, handler)
    }

    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::POST, path, handler)
    }

    pub fn put<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::PUT, path, handler)
    }

    pub fn patch<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::PATCH, path, handler)
    }

    pub fn delete<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on(Method::DELETE, path, handler)
    }

    pub fn merge(mut self, other: Listed<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }

    /// `other`'s routes under `prefix`.
    pub fn nest(mut self, prefix: &str, other: Listed<S>) -> Self {
        self.routes.extend(other.routes.into_iter().map(|(m, p)| (m, format!("{prefix}{p}"))));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// Maps the router (a fallback, its state), keeping the list.
    pub fn map<S2>(self, f: impl FnOnce(Router<S>) -> Router<S2>) -> Listed<S2> {
        Listed { router: f(self.router), routes: self.routes }
    }

    pub fn routes(&self) -> &[(Method, String)] {
        &self.routes
    }

    pub fn into_parts(self) -> (Router<S>, Vec<(Method, String)>) {
        (self.router, self.routes)
    }
}

impl<S> Clone for Listed<S> {
    fn clone(&self) -> Self {
        Listed { router: self.router.clone(), routes: self.routes.clone() }
    }
}
