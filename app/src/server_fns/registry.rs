//! Server functions that change the model registry from its pages:
//! descriptions, tags, aliases and versions. Each asks the same check the
//! REST endpoint it mirrors asks (`api/registry.rs`), then calls the same
//! store method.

use crate::app_error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::backend::{err, gate, require, store, Need};
#[cfg(feature = "ssr")]
use tracking::permissions::Capability;

/// The registered model `name`, with what its versions need on top.
#[cfg(feature = "ssr")]
fn on_model(name: &str, cap: Capability, versions: Option<Capability>) -> Vec<Need> {
    vec![Need::Model(name.to_string(), cap, versions)]
}

#[cfg(feature = "ssr")]
fn version_number(version: &str) -> Result<i64, AppError> {
    tracking::registry::parse_version(version).map_err(err)
}

/// A model's description (Markdown); empty clears it.
#[server(prefix = "/_app")]
pub async fn set_model_description(name: String, description: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Update, None), "change this model").await?;
    store().update_registered_model(&name, Some(description)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/_app")]
pub async fn set_model_tag(name: String, key: String, value: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Update, None), "change this model's tags").await?;
    store().set_registered_model_tag(&name, &key, &value).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn delete_model_tag(name: String, key: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Update, None), "change this model's tags").await?;
    store().delete_registered_model_tag(&name, &key).await.map_err(err)
}

/// Points `@alias` at a version (moving it from another one).
#[server(prefix = "/_app")]
pub async fn set_model_alias(name: String, alias: String, version: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Update, Some(Capability::Read)), "change this model's aliases").await?;
    store().set_registered_model_alias(&name, &alias, version_number(&version)?).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn delete_model_alias(name: String, alias: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Delete, Some(Capability::Read)), "remove this model's aliases").await?;
    store().delete_registered_model_alias(&name, &alias).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn set_version_description(name: String, version: String, description: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Read, Some(Capability::Update)), "change this model version").await?;
    store().update_model_version(&name, version_number(&version)?, Some(description)).await.map_err(err)?;
    Ok(())
}

#[server(prefix = "/_app")]
pub async fn set_version_tag(name: String, version: String, key: String, value: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Read, Some(Capability::Update)), "change this version's tags").await?;
    store().set_model_version_tag(&name, version_number(&version)?, &key, &value).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn delete_version_tag(name: String, version: String, key: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Read, Some(Capability::Delete)), "change this version's tags").await?;
    store().delete_model_version_tag(&name, version_number(&version)?, &key).await.map_err(err)
}

#[server(prefix = "/_app")]
pub async fn delete_version(name: String, version: String) -> Result<(), AppError> {
    let gate = gate();
    require(&gate, &on_model(&name, Capability::Read, Some(Capability::Delete)), "delete this model version").await?;
    store().delete_model_version(&name, version_number(&version)?).await.map_err(err)
}
