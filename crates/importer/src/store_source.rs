//! mltrack's own store as a [`Source`]: what `mltrack export` reads.

use crate::source::{err, ArtifactFile, ByteStream, Items, Source, SourceModel, SourceRegisteredModel};
use anyhow::{anyhow, Result};
use artifacts::{ArtifactPath, ArtifactStore};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use store::{DashboardQuery, ExperimentQuery, LoggedModelQuery, RegistryQuery, RunQuery, Store};
use tracking::dashboards::Dashboard;
use tracking::{Experiment, Point, Run, ViewType};

pub struct StoreSource {
    store: Store,
    artifacts: ArtifactStore,
    id: String,
}

impl StoreSource {
    pub fn new(store: Store, artifacts: ArtifactStore, id: String) -> Self {
        StoreSource { store, artifacts, id }
    }

    fn root(uri: &str) -> Result<ArtifactPath> {
        ArtifactPath::from_root_uri(uri)
            .ok_or_else(|| anyhow!("artifact root {uri} is not in mltrack's artifact storage"))
    }
}

/// Every item of a paged store search: `fetch` gets each page's token.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = tracking::Result<tracking::Page<T>>>,
{
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token).await.map_err(err)?;
        all.extend(page.items);
        match page.next_page_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(all),
        }
    }
}

/// Every experiment in mltrack, deleted ones included.
pub(crate) async fn all_experiments(store: &Store) -> Result<Vec<Experiment>> {
    all_pages(|page_token| async move {
        let query = ExperimentQuery { view_type: ViewType::All, max_results: 1000, page_token, ..Default::default() };
        store.search_experiments(&query).await
    })
    .await
}

#[async_trait]
impl Source for StoreSource {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("mltrack store {}", self.id)
    }

    async fn experiments(&self) -> Result<Items<Experiment>> {
        Ok(all_experiments(&self.store).await?.into_iter().map(Ok).collect())
    }

    async fn runs(&self, experiment_id: &str) -> Result<Items<Run>> {
        let runs = all_pages(|page_token| async move {
            let query = RunQuery {
                experiment_ids: vec![experiment_id.to_string()],
                view_type: ViewType::All,
                max_results: 1000,
                page_token,
                ..Default::default()
            };
            self.store.search_runs(&query).await
        })
        .await?;
        Ok(runs.into_iter().map(Ok).collect())
    }

    async fn metric_counts(&self, run: &Run) -> Result<Option<HashMap<String, u64>>> {
        let summaries = self.store.metric_summaries(&run.info.run_id).await.map_err(err)?;
        Ok(Some(summaries.into_iter().map(|s| (s.key, s.count as u64)).collect()))
    }

    async fn metric_history(&self, run: &Run, key: &str) -> Result<Vec<Point>> {
        let page = self.store.get_metric_history(&run.info.run_id, key, None, None).await.map_err(err)?;
        let mut points = page.items;
        crate::source::sort_points(&mut points);
        Ok(points)
    }

    async fn logged_models(&self, experiment_id: &str) -> Result<Items<SourceModel>> {
        let models = all_pages(|page_token| async move {
            let query = LoggedModelQuery {
                experiment_ids: vec![experiment_id.to_string()],
                max_results: 100,
                page_token,
                ..Default::default()
            };
            self.store.search_logged_models(&query).await
        })
        .await?;
        Ok(models
            .into_iter()
            .map(|mut model| {
                let metrics = std::mem::take(&mut model.data.metrics);
                Ok(SourceModel { model, metrics })
            })
            .collect())
    }

    async fn registered_models(&self) -> Result<Items<SourceRegisteredModel>> {
        let models = all_pages(|page_token| async move {
            let query = RegistryQuery { max_results: Some(1000), page_token, ..Default::default() };
            self.store.search_registered_models(&query).await
        })
        .await?;
        let mut out = Vec::with_capacity(models.len());
        for mut model in models {
            model.latest_versions.clear();
            let filter = format!("name = '{}'", model.name.replace('\'', "''"));
            let mut versions = all_pages(|page_token| {
                let query = RegistryQuery {
                    filter: filter.clone(),
                    max_results: Some(10_000),
                    page_token,
                    ..Default::default()
                };
                async move { self.store.search_model_versions(&query).await }
            })
            .await?;
            versions.sort_by_key(|v| v.version.parse::<i64>().unwrap_or(0));
            out.push(Ok(SourceRegisteredModel { model, versions }));
        }
        Ok(out)
    }

    async fn list_artifacts(&self, root_uri: &str) -> Result<Vec<ArtifactFile>> {
        let root = Self::root(root_uri)?;
        let mut files = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for f in self.artifacts.list(&dir).await.map_err(err)? {
                let child = dir.join(&ArtifactPath::parse(&f.path).map_err(err)?);
                if f.is_dir {
                    dirs.push(child);
                } else if let Some(rel) = root.strip_prefix(&child) {
                    files.push(ArtifactFile { path: rel.as_str().to_string(), size: f.file_size.unwrap_or(0) as u64 });
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    async fn read_artifact(&self, root_uri: &str, path: &str) -> Result<ByteStream> {
        let file = Self::root(root_uri)?.join(&ArtifactPath::parse(path).map_err(err)?);
        let download = self.artifacts.get(&file).await.map_err(err)?;
        Ok(download.stream.map_err(err).boxed())
    }

    async fn dashboards(&self) -> Result<Vec<Dashboard>> {
        let mut dashboards = all_pages(|page_token| async move {
            let query = DashboardQuery { max_results: 1000, page_token, ..Default::default() };
            self.store.search_dashboards(&query).await
        })
        .await?;
        dashboards.sort_by(|a, b| a.dashboard_id.cmp(&b.dashboard_id));
        Ok(dashboards)
    }
}
