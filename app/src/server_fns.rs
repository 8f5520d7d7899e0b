//! Server functions: the UI's calls into the store. Each one is a thin
//! wrapper over the same `store` methods the REST API uses.

use leptos::prelude::*;
use tracking::Experiment;

/// Every experiment, active and deleted, newest first.
#[server(prefix = "/_app")]
pub async fn list_experiments() -> Result<Vec<Experiment>, ServerFnError> {
    let store = expect_context::<store::Store>();
    let query =
        store::ExperimentQuery { view_type: tracking::ViewType::All, max_results: 50_000, ..Default::default() };
    let page = store.search_experiments(&query).await.map_err(|e| ServerFnError::new(e.message))?;
    Ok(page.items)
}
