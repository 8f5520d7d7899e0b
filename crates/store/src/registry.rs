//! The model registry's part of the store interface.

use async_trait::async_trait;
use tracking::registry::{ModelVersion, RegisteredModel};
use tracking::{KeyValue, Page, Result};

/// The request to create a model version, after the API checked its source.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    pub name: String,
    pub source: String,
    /// Where the files are, when the source names something else (a
    /// logged model's `models:/m-…` URI resolves to its artifact location).
    pub storage_location: Option<String>,
    pub run_id: Option<String>,
    pub run_link: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<KeyValue>,
    pub model_id: Option<String>,
}

/// `registered-models/search` and `model-versions/search` arguments.
#[derive(Debug, Clone, Default)]
pub struct RegistryQuery {
    /// Only the registered models (and their versions) a user may read,
    /// by name (`None`: all).
    pub visible: Option<tracking::permissions::Visible>,
    pub filter: String,
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

/// Registered models and their versions, tags, aliases and stages.
#[async_trait]
pub trait ModelRegistry: Send + Sync {
    async fn create_registered_model(
        &self,
        name: &str,
        tags: Vec<KeyValue>,
        description: Option<String>,
    ) -> Result<RegisteredModel>;
    async fn get_registered_model(&self, name: &str) -> Result<RegisteredModel>;
    async fn rename_registered_model(&self, name: &str, new_name: &str) -> Result<RegisteredModel>;
    async fn update_registered_model(&self, name: &str, description: Option<String>) -> Result<RegisteredModel>;
    /// Deletes the model with its versions, tags and aliases.
    async fn delete_registered_model(&self, name: &str) -> Result<()>;
    async fn search_registered_models(&self, query: &RegistryQuery) -> Result<Page<RegisteredModel>>;
    /// The newest version in each of `stages` (all stages when empty).
    async fn get_latest_versions(&self, name: &str, stages: Vec<String>) -> Result<Vec<ModelVersion>>;
    async fn set_registered_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()>;
    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<()>;
    async fn set_registered_model_alias(&self, name: &str, alias: &str, version: i64) -> Result<()>;
    async fn delete_registered_model_alias(&self, name: &str, alias: &str) -> Result<()>;
    async fn get_model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion>;

    async fn create_model_version(&self, version: NewModelVersion) -> Result<ModelVersion>;
    async fn get_model_version(&self, name: &str, version: i64) -> Result<ModelVersion>;
    async fn update_model_version(&self, name: &str, version: i64, description: Option<String>)
        -> Result<ModelVersion>;
    async fn delete_model_version(&self, name: &str, version: i64) -> Result<()>;
    async fn search_model_versions(&self, query: &RegistryQuery) -> Result<Page<ModelVersion>>;
    async fn transition_model_version_stage(
        &self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing_versions: bool,
    ) -> Result<ModelVersion>;
    /// Where the version's files are (its storage location, else its source).
    async fn get_model_version_download_uri(&self, name: &str, version: i64) -> Result<String>;
    async fn set_model_version_tag(&self, name: &str, version: i64, key: &str, value: &str) -> Result<()>;
    async fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> Result<()>;
}
