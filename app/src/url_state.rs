//! A view's state lives in its URL, so a reload or a shared link shows the
//! same view: how controls change it.

use leptos::prelude::*;

/// How a page changes its own settings in the URL (so a reload or a shared
/// link shows the same view): the page stays where it is scrolled. Leptos's
/// default scrolls to the top on every navigation.
pub fn in_place() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions { scroll: false, ..Default::default() }
}

/// This page's URL with the query parameter `key` set to `value` (left out
/// when empty) and the others kept: how a control puts its state in the
/// URL, so that a reload or a shared link shows the same view.
pub fn url_with_param(query: &leptos_router::params::ParamsMap, key: &str, value: &str) -> String {
    url_with_params(query, &[(key, value)])
}

/// The page's URL with each of `changes` set (an empty value removes it).
pub fn url_with_params(query: &leptos_router::params::ParamsMap, changes: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .clone()
        .into_iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    pairs.extend(changes.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_string(), v.to_string())));
    let qs = pairs.iter().map(|(k, v)| format!("{k}={}", crate::format::encode(v))).collect::<Vec<_>>().join("&");
    let path = window().location().pathname().unwrap_or_default();
    format!("{path}?{qs}")
}
