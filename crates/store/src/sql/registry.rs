//! The model registry on SQLite: registered models, versions, stages, tags
//! and aliases, with MLflow's rules and messages.

use super::compile::{Keyed, Metrics, Select, Table};
use super::db::{already, Db, Param, Row};
use super::SqlStore;
use crate::page::page_of;
use crate::registry::{ModelRegistry, NewModelVersion, RegistryQuery};
use crate::search;
use async_trait::async_trait;
use std::collections::HashMap;
use tracking::registry::{
    canonical_stage, validate_alias, validate_model_name, validate_registry_tag, ModelVersion, RegisteredModel,
    RegisteredModelAlias, STAGES, STAGE_DELETED,
};
use tracking::{Error, KeyValue, Page, Result};

const PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

fn model_not_found(name: &str) -> Error {
    Error::not_found(format!("Registered Model with name={name} not found"))
}

fn model_taken(name: &str) -> Error {
    Error::already_exists(format!("Registered Model (name={name}) already exists."))
}

fn version_not_found(name: &str, version: i64) -> Error {
    Error::not_found(format!("Model Version (name={name}, version={version}) not found"))
}

fn require_model(db: &mut Db, name: &str) -> Result<()> {
    db.row("SELECT 1 FROM registered_models WHERE name = ?", &[name.into()], |_| ())?
        .ok_or_else(|| model_not_found(name))
}

/// The version, which must exist and not be deleted.
fn require_version(db: &mut Db, name: &str, version: i64) -> Result<()> {
    db.row(
        "SELECT 1 FROM model_versions WHERE name = ? AND version = ? AND current_stage != ?",
        &[name.into(), version.into(), STAGE_DELETED.into()],
        |_| (),
    )?
    .ok_or_else(|| version_not_found(name, version))
}

fn touch_model(db: &mut Db, name: &str, now: i64) -> Result<()> {
    db.execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", &[now.into(), name.into()])?;
    Ok(())
}

const VERSION_COLUMNS: &str = "v.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, \
    v.current_stage, v.source, v.run_id, v.status, v.status_message, v.run_link, v.model_id";

fn to_version(r: &Row) -> ModelVersion {
    ModelVersion {
        name: r.text(0),
        version: r.int(1).to_string(),
        creation_timestamp: r.int(2),
        last_updated_timestamp: r.int(3),
        description: r.opt_text(4),
        user_id: r.opt_text(5),
        current_stage: r.text(6),
        source: r.opt_text(7),
        run_id: r.opt_text(8),
        status: r.text(9),
        status_message: r.opt_text(10),
        run_link: r.opt_text(11),
        model_id: r.opt_text(12),
        tags: Vec::new(),
        aliases: Vec::new(),
    }
}

/// Versions selected by `where_sql` (over `model_versions v`), with their
/// tags and aliases, in the query's order.
fn load_versions(db: &mut Db, where_sql: &str, params: &[Param]) -> Result<Vec<ModelVersion>> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM model_versions v WHERE {where_sql}");
    let mut versions = db.rows(&sql, params, to_version)?;
    fill_versions(db, &mut versions)?;
    Ok(versions)
}

fn fill_versions(db: &mut Db, versions: &mut [ModelVersion]) -> Result<()> {
    let mut names: Vec<&str> = versions.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let names: Vec<String> = names.into_iter().map(str::to_string).collect();
    let mut tags: HashMap<(String, String), Vec<KeyValue>> = HashMap::new();
    let mut aliases: HashMap<(String, String), Vec<String>> = HashMap::new();
    for chunk in names.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let params: Vec<Param> = chunk.iter().map(|n| n.into()).collect();
        let sql =
            format!("SELECT name, version, key, value FROM model_version_tags WHERE name IN ({marks}) ORDER BY key");
        db.run(&sql, &params, |r| {
            tags.entry((r.text(0), r.int(1).to_string())).or_default().push(KeyValue::new(r.text(2), r.text(3)));
            Ok(())
        })?;
        let sql =
            format!("SELECT name, version, alias FROM registered_model_aliases WHERE name IN ({marks}) ORDER BY alias");
        db.run(&sql, &params, |r| {
            aliases.entry((r.text(0), r.int(1).to_string())).or_default().push(r.text(2));
            Ok(())
        })?;
    }
    for v in versions {
        let key = (v.name.clone(), v.version.clone());
        v.tags = tags.remove(&key).unwrap_or_default();
        v.aliases = aliases.remove(&key).unwrap_or_default();
    }
    Ok(())
}

fn get_version(db: &mut Db, name: &str, version: i64) -> Result<ModelVersion> {
    load_versions(
        db,
        "v.name = ? AND v.version = ? AND v.current_stage != ?",
        &[name.into(), version.into(), STAGE_DELETED.into()],
    )?
    .pop()
    .ok_or_else(|| version_not_found(name, version))
}

/// Whole registered models (tags, aliases, the newest version per stage) in the order of `names`.
fn load_models(db: &mut Db, names: &[String]) -> Result<Vec<RegisteredModel>> {
    let mut models: HashMap<String, RegisteredModel> = HashMap::with_capacity(names.len());
    for chunk in names.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let params: Vec<Param> = chunk.iter().map(|n| n.into()).collect();
        let sql = format!(
            "SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE name IN ({marks})"
        );
        db.run(&sql, &params, |r| {
            models.insert(
                r.text(0),
                RegisteredModel {
                    name: r.text(0),
                    creation_timestamp: r.int(1),
                    last_updated_timestamp: r.int(2),
                    description: r.opt_text(3),
                    latest_versions: Vec::new(),
                    tags: Vec::new(),
                    aliases: Vec::new(),
                },
            );
            Ok(())
        })?;
        let sql = format!("SELECT name, key, value FROM registered_model_tags WHERE name IN ({marks}) ORDER BY key");
        db.run(&sql, &params, |r| {
            if let Some(m) = models.get_mut(&r.text(0)) {
                m.tags.push(KeyValue::new(r.text(1), r.text(2)));
            }
            Ok(())
        })?;
        let sql =
            format!("SELECT name, alias, version FROM registered_model_aliases WHERE name IN ({marks}) ORDER BY alias");
        db.run(&sql, &params, |r| {
            if let Some(m) = models.get_mut(&r.text(0)) {
                m.aliases.push(RegisteredModelAlias { alias: r.text(1), version: r.int(2).to_string() });
            }
            Ok(())
        })?;
        // The newest version in each stage.
        let latest = load_versions(
            db,
            &format!(
                "v.name IN ({marks}) AND v.current_stage != '{STAGE_DELETED}' AND v.version = \
                 (SELECT MAX(w.version) FROM model_versions w WHERE w.name = v.name AND w.current_stage = v.current_stage) \
                 ORDER BY v.name, v.version"
            ),
            &params,
        )?;
        for v in latest {
            if let Some(m) = models.get_mut(&v.name) {
                m.latest_versions.push(v);
            }
        }
    }
    Ok(names.iter().filter_map(|n| models.remove(n)).collect())
}

fn get_model(db: &mut Db, name: &str) -> Result<RegisteredModel> {
    load_models(db, &[name.to_string()])?.pop().ok_or_else(|| model_not_found(name))
}

const MODEL_TAGS: Keyed = Keyed { table: "registered_model_tags", owner: &[("name", "m.name")] };

static REGISTERED_MODELS: Table = Table {
    from: "registered_models m",
    attributes: &[
        ("name", "m.name"),
        ("creation_timestamp", "m.creation_time"),
        ("last_updated_timestamp", "m.last_updated_time"),
    ],
    params: None,
    tags: Some(MODEL_TAGS),
    metrics: Metrics::None,
    ne_keeps_untagged: &[PROMPT_TAG],
    datasets: None,
};

static MODEL_VERSIONS: Table = Table {
    from: "model_versions v",
    attributes: &[
        ("name", "v.name"),
        ("version_number", "v.version"),
        ("run_id", "v.run_id"),
        ("source_path", "v.source"),
        ("model_id", "v.model_id"),
        ("creation_timestamp", "v.creation_time"),
        ("last_updated_timestamp", "v.last_updated_time"),
    ],
    params: None,
    tags: Some(Keyed { table: "model_version_tags", owner: &[("name", "v.name"), ("version", "v.version")] }),
    metrics: Metrics::None,
    ne_keeps_untagged: &[PROMPT_TAG],
    datasets: None,
};

#[async_trait]
impl ModelRegistry for SqlStore {
    async fn create_registered_model(
        &self,
        name: &str,
        tags: Vec<KeyValue>,
        description: Option<String>,
    ) -> Result<RegisteredModel> {
        validate_model_name(name)?;
        for t in &tags {
            validate_registry_tag(&t.key, &t.value)?;
        }
        let name = name.to_string();
        self.writer
            .write(move |db| {
                if db.row("SELECT 1 FROM registered_models WHERE name = ?", &[(&name).into()], |_| ())?.is_some() {
                    return Err(model_taken(&name));
                }
                let now = crate::now_millis();
                db.execute(
                    "INSERT INTO registered_models (name, creation_time, last_updated_time, description) \
                     VALUES (?, ?, ?, ?)",
                    &[(&name).into(), now.into(), now.into(), description.as_deref().into()],
                )
                .map_err(already(|| model_taken(&name)))?;
                for t in &tags {
                    db.execute(
                        "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
                        &[(&name).into(), (&t.key).into(), (&t.value).into()],
                    )?;
                }
                get_model(db, &name)
            })
            .await
    }

    async fn get_registered_model(&self, name: &str) -> Result<RegisteredModel> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.readers.read(move |db| get_model(db, &name)).await
    }

    async fn rename_registered_model(&self, name: &str, new_name: &str) -> Result<RegisteredModel> {
        validate_model_name(name)?;
        validate_model_name(new_name)?;
        let (name, new_name) = (name.to_string(), new_name.to_string());
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                if name != new_name
                    && db
                        .row("SELECT 1 FROM registered_models WHERE name = ?", &[(&new_name).into()], |_| ())?
                        .is_some()
                {
                    return Err(model_taken(&new_name));
                }
                let now = crate::now_millis();
                db.execute(
                    "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?",
                    &[(&new_name).into(), now.into(), (&name).into()],
                )
                .map_err(already(|| model_taken(&new_name)))?;
                for table in
                    ["registered_model_tags", "registered_model_aliases", "model_versions", "model_version_tags"]
                {
                    db.execute(
                        &format!("UPDATE {table} SET name = ? WHERE name = ?"),
                        &[(&new_name).into(), (&name).into()],
                    )?;
                }
                db.execute(
                    "UPDATE model_versions SET last_updated_time = ? WHERE name = ?",
                    &[now.into(), (&new_name).into()],
                )?;
                get_model(db, &new_name)
            })
            .await
    }

    async fn update_registered_model(&self, name: &str, description: Option<String>) -> Result<RegisteredModel> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                db.execute(
                    "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?",
                    &[description.as_deref().into(), crate::now_millis().into(), (&name).into()],
                )?;
                get_model(db, &name)
            })
            .await
    }

    async fn delete_registered_model(&self, name: &str) -> Result<()> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                for table in [
                    "model_version_tags",
                    "model_versions",
                    "registered_model_aliases",
                    "registered_model_tags",
                    "registered_models",
                ] {
                    db.execute(&format!("DELETE FROM {table} WHERE name = ?"), &[(&name).into()])?;
                }
                Ok(())
            })
            .await
    }

    async fn search_registered_models(&self, query: &RegistryQuery) -> Result<Page<RegisteredModel>> {
        let parsed = search::registered_models(query)?;
        let search = &parsed.search;
        let mut select = Select::new(&REGISTERED_MODELS, "m.name");
        select.visible("m.name", parsed.visible.as_ref(), false);
        select.filter(&search.clauses)?;
        select.order_by(&search.order)?;
        select.then_by("m.name ASC");
        let (offset, limit) = (search.offset, search.limit);
        let (sql, args) = select.page(limit, offset);
        self.readers
            .read(move |db| {
                let names = db.rows(&sql, &args.params(), |r| r.text(0))?;
                let page = page_of(names, offset, limit);
                Ok(Page { items: load_models(db, &page.items)?, next_page_token: page.next_page_token })
            })
            .await
    }

    async fn get_latest_versions(&self, name: &str, stages: Vec<String>) -> Result<Vec<ModelVersion>> {
        validate_model_name(name)?;
        let wanted: Vec<&'static str> = if stages.is_empty() {
            STAGES.to_vec()
        } else {
            stages.iter().map(|s| canonical_stage(s)).collect::<Result<_>>()?
        };
        let name = name.to_string();
        self.readers
            .read(move |db| {
                require_model(db, &name)?;
                let model = get_model(db, &name)?;
                Ok(model.latest_versions.into_iter().filter(|v| wanted.contains(&v.current_stage.as_str())).collect())
            })
            .await
    }

    async fn set_registered_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()> {
        validate_model_name(name)?;
        validate_registry_tag(key, value)?;
        let (name, key, value) = (name.to_string(), key.to_string(), value.to_string());
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                db.execute(
                    "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
                    &[(&name).into(), (&key).into(), (&value).into()],
                )?;
                touch_model(db, &name, crate::now_millis())
            })
            .await
    }

    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<()> {
        validate_model_name(name)?;
        tracking::validation::validate_key("key", key)?;
        let (name, key) = (name.to_string(), key.to_string());
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                db.execute(
                    "DELETE FROM registered_model_tags WHERE name = ? AND key = ?",
                    &[(&name).into(), (&key).into()],
                )?;
                Ok(())
            })
            .await
    }

    async fn set_registered_model_alias(&self, name: &str, alias: &str, version: i64) -> Result<()> {
        validate_model_name(name)?;
        validate_alias(alias)?;
        let (name, alias) = (name.to_string(), alias.to_string());
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                require_version(db, &name, version)?;
                db.execute(
                    "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
                    &[(&name).into(), (&alias).into(), version.into()],
                )?;
                touch_model(db, &name, crate::now_millis())
            })
            .await
    }

    async fn delete_registered_model_alias(&self, name: &str, alias: &str) -> Result<()> {
        validate_model_name(name)?;
        validate_alias(alias)?;
        let (name, alias) = (name.to_string(), alias.to_string());
        self.writer
            .write(move |db| {
                require_model(db, &name)?;
                db.execute(
                    "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?",
                    &[(&name).into(), (&alias).into()],
                )?;
                touch_model(db, &name, crate::now_millis())
            })
            .await
    }

    async fn get_model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let (name, alias) = (name.to_string(), alias.to_string());
        self.readers
            .read(move |db| {
                require_model(db, &name)?;
                let version = db
                    .row(
                        "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                        &[(&name).into(), (&alias).into()],
                        |r| r.int(0),
                    )?
                    .ok_or_else(|| Error::invalid(format!("Registered model alias {alias} not found.")))?;
                get_version(db, &name, version)
            })
            .await
    }

    async fn create_model_version(&self, new: NewModelVersion) -> Result<ModelVersion> {
        validate_model_name(&new.name)?;
        for t in &new.tags {
            validate_registry_tag(&t.key, &t.value)?;
        }
        self.writer
            .write(move |db| {
                require_model(db, &new.name)?;
                let now = crate::now_millis();
                let version = db
                    .row(
                        "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?",
                        &[(&new.name).into()],
                        |r| r.int(0),
                    )?
                    .unwrap_or(1);
                db.execute(
                    "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, source, \
                     storage_location, run_id, run_link, model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    &[
                        (&new.name).into(),
                        version.into(),
                        now.into(),
                        now.into(),
                        // As MLflow's REST API does, a version created without a description has "".
                        new.description.as_deref().unwrap_or("").into(),
                        (&new.source).into(),
                        new.storage_location.as_deref().into(),
                        new.run_id.as_deref().filter(|r| !r.is_empty()).into(),
                        new.run_link.as_deref().filter(|r| !r.is_empty()).into(),
                        new.model_id.as_deref().filter(|m| !m.is_empty()).into(),
                    ],
                )?;
                for t in &new.tags {
                    db.execute(
                        "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
                        &[(&new.name).into(), version.into(), (&t.key).into(), (&t.value).into()],
                    )?;
                }
                touch_model(db, &new.name, now)?;
                get_version(db, &new.name, version)
            })
            .await
    }

    async fn get_model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.readers.read(move |db| get_version(db, &name, version)).await
    }

    async fn update_model_version(
        &self,
        name: &str,
        version: i64,
        description: Option<String>,
    ) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.writer
            .write(move |db| {
                require_version(db, &name, version)?;
                let now = crate::now_millis();
                db.execute(
                    "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
                    &[description.as_deref().into(), now.into(), (&name).into(), version.into()],
                )?;
                get_version(db, &name, version)
            })
            .await
    }

    async fn delete_model_version(&self, name: &str, version: i64) -> Result<()> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.writer
            .write(move |db| {
                require_version(db, &name, version)?;
                let now = crate::now_millis();
                db.execute(
                    "DELETE FROM registered_model_aliases WHERE name = ? AND version = ?",
                    &[(&name).into(), version.into()],
                )?;
                db.execute(
                    "UPDATE model_versions SET current_stage = ?, last_updated_time = ?, description = NULL, \
                     user_id = NULL, source = 'REDACTED-SOURCE-PATH', storage_location = NULL, \
                     run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL, model_id = NULL \
                     WHERE name = ? AND version = ?",
                    &[STAGE_DELETED.into(), now.into(), (&name).into(), version.into()],
                )?;
                touch_model(db, &name, now)
            })
            .await
    }

    async fn search_model_versions(&self, query: &RegistryQuery) -> Result<Page<ModelVersion>> {
        let parsed = search::model_versions(query)?;
        let search = &parsed.search;
        let mut select = Select::new(&MODEL_VERSIONS, VERSION_COLUMNS);
        select.and_text("v.current_stage != ?", STAGE_DELETED);
        select.visible("v.name", parsed.visible.as_ref(), false);
        select.filter(&search.clauses)?;
        select.order_by(&search.order)?;
        // MLflow's default: most recently updated first, then name, then newest version.
        if search.order.is_empty() {
            select.then_by("v.last_updated_time DESC");
        }
        select.then_by("v.name ASC");
        select.then_by("v.version DESC");
        let (offset, limit) = (search.offset, search.limit);
        let (sql, args) = select.page(limit, offset);
        self.readers
            .read(move |db| {
                let mut versions = db.rows(&sql, &args.params(), to_version)?;
                fill_versions(db, &mut versions)?;
                Ok(page_of(versions, offset, limit))
            })
            .await
    }

    async fn transition_model_version_stage(
        &self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing_versions: bool,
    ) -> Result<ModelVersion> {
        validate_model_name(name)?;
        let stage = canonical_stage(stage)?;
        if archive_existing_versions && !matches!(stage, "Staging" | "Production") {
            return Err(Error::invalid(format!(
                "Model version transition cannot archive existing model versions because '{stage}' is not an \
                 Active stage. Valid stages are ['Staging', 'Production']"
            )));
        }
        let name = name.to_string();
        self.writer
            .write(move |db| {
                require_version(db, &name, version)?;
                let now = crate::now_millis();
                if archive_existing_versions {
                    db.execute(
                        "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? \
                         WHERE name = ? AND version != ? AND current_stage = ?",
                        &[now.into(), (&name).into(), version.into(), stage.into()],
                    )?;
                }
                db.execute(
                    "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?",
                    &[stage.into(), now.into(), (&name).into(), version.into()],
                )?;
                touch_model(db, &name, now)?;
                get_version(db, &name, version)
            })
            .await
    }

    async fn get_model_version_download_uri(&self, name: &str, version: i64) -> Result<String> {
        validate_model_name(name)?;
        let name = name.to_string();
        self.readers
            .read(move |db| {
                require_version(db, &name, version)?;
                db.row(
                    "SELECT COALESCE(storage_location, source) FROM model_versions WHERE name = ? AND version = ?",
                    &[(&name).into(), version.into()],
                    |r| r.text(0),
                )?
                .ok_or_else(|| version_not_found(&name, version))
            })
            .await
    }

    async fn set_model_version_tag(&self, name: &str, version: i64, key: &str, value: &str) -> Result<()> {
        validate_model_name(name)?;
        validate_registry_tag(key, value)?;
        let (name, key, value) = (name.to_string(), key.to_string(), value.to_string());
        self.writer
            .write(move |db| {
                require_version(db, &name, version)?;
                db.execute(
                    "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
                    &[(&name).into(), version.into(), (&key).into(), (&value).into()],
                )?;
                Ok(())
            })
            .await
    }

    async fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> Result<()> {
        validate_model_name(name)?;
        tracking::validation::validate_key("key", key)?;
        let (name, key) = (name.to_string(), key.to_string());
        self.writer
            .write(move |db| {
                require_version(db, &name, version)?;
                db.execute(
                    "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                    &[(&name).into(), version.into(), (&key).into()],
                )?;
                Ok(())
            })
            .await
    }
}
