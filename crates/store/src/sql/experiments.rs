//! Experiments: create, read, search, rename, delete/restore and tags.

use super::compile::{Keyed, Metrics, Select, Table};
use super::db::{already, Db, Param};
use super::{parse_experiment_id, SqlStore};
use crate::page::page_of;
use crate::{search, ExperimentQuery};
use std::collections::HashMap;
use tracking::validation::{validate_experiment_name, validate_experiment_tag};
use tracking::{Error, ErrorCode, Experiment, KeyValue, LifecycleStage, Page, Result};

const COLUMNS: &str = "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

static EXPERIMENTS: Table = Table {
    from: "experiments e",
    attributes: &[
        ("name", "e.name"),
        ("experiment_id", "e.experiment_id"),
        ("creation_time", "e.creation_time"),
        ("last_update_time", "e.last_update_time"),
    ],
    params: None,
    tags: Some(Keyed { table: "experiment_tags", owner: &[("experiment_id", "e.experiment_id")] }),
    metrics: Metrics::None,
    ne_keeps_untagged: &[],
    datasets: None,
};

fn to_experiment(r: &super::db::Row) -> Experiment {
    Experiment {
        experiment_id: r.int(0).to_string(),
        name: r.text(1),
        artifact_location: r.text(2),
        lifecycle_stage: LifecycleStage::parse(&r.text(3)).unwrap_or_default(),
        creation_time: r.int(4),
        last_update_time: r.int(5),
        tags: Vec::new(),
    }
}

fn no_such_experiment(experiment_id: impl std::fmt::Display) -> Error {
    Error::not_found(format!("No Experiment with id={experiment_id} exists"))
}

/// The experiment's lifecycle stage, or RESOURCE_DOES_NOT_EXIST.
pub(super) fn experiment_stage(db: &mut Db, id: i64) -> Result<LifecycleStage> {
    db.row("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?", &[id.into()], |r| r.text(0))?
        .and_then(|s| LifecycleStage::parse(&s))
        .ok_or_else(|| no_such_experiment(id))
}

fn name_taken(name: &str) -> Error {
    Error::already_exists(format!("Experiment(name={name}) already exists."))
}

/// Fills in the tags of `experiments`.
fn load_tags(db: &mut Db, experiments: &mut [Experiment]) -> Result<()> {
    if experiments.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = experiments.iter().filter_map(|e| e.experiment_id.parse().ok()).collect();
    let mut tags: HashMap<i64, Vec<KeyValue>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN ({}) ORDER BY key",
            vec!["?"; chunk.len()].join(",")
        );
        let params: Vec<Param> = chunk.iter().map(|&id| id.into()).collect();
        for (id, tag) in db.rows(&sql, &params, |r| (r.int(0), KeyValue { key: r.text(1), value: r.text(2) }))? {
            tags.entry(id).or_default().push(tag);
        }
    }
    for e in experiments {
        if let Some(t) = e.experiment_id.parse().ok().and_then(|id: i64| tags.remove(&id)) {
            e.tags = t;
        }
    }
    Ok(())
}

fn get_one(db: &mut Db, column: &str, value: Param) -> Result<Option<Experiment>> {
    let sql = format!("SELECT {COLUMNS} FROM experiments WHERE {column} = ?");
    let Some(exp) = db.row(&sql, &[value], to_experiment)? else { return Ok(None) };
    let mut list = [exp];
    load_tags(db, &mut list)?;
    let [exp] = list;
    Ok(Some(exp))
}

impl SqlStore {
    pub(super) async fn create_experiment_impl(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[KeyValue],
    ) -> Result<String> {
        validate_experiment_name(name)?;
        for tag in tags {
            validate_experiment_tag(&tag.key, &tag.value)?;
        }
        let name = name.to_string();
        let location = artifact_location.filter(|l| !l.is_empty()).map(str::to_string);
        let tags = tags.to_vec();
        let root = self.default_artifact_root.clone();
        self.writer
            .write(move |db| {
                if db.row("SELECT 1 FROM experiments WHERE name = ?", &[(&name).into()], |_| ())?.is_some() {
                    return Err(name_taken(&name));
                }
                let now = crate::now_millis();
                // The check above reads; the name's unique constraint decides
                // a race with another replica creating the same name.
                let id = db
                    .row(
                        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) \
                         VALUES (?, '', ?, ?) RETURNING experiment_id",
                        &[(&name).into(), now.into(), now.into()],
                        |r| r.int(0),
                    )
                    .map_err(already(|| name_taken(&name)))?
                    .ok_or_else(|| Error::internal("no experiment id returned"))?;
                let location = location.unwrap_or_else(|| format!("{root}/{id}"));
                db.execute(
                    "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                    &[(&location).into(), id.into()],
                )?;
                for tag in &tags {
                    db.execute(
                        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                        &[id.into(), (&tag.key).into(), (&tag.value).into()],
                    )?;
                }
                Ok(id.to_string())
            })
            .await
    }

    pub(super) async fn get_experiment_impl(&self, experiment_id: &str) -> Result<Experiment> {
        let id = parse_experiment_id(experiment_id)?;
        self.readers
            .read(move |db| get_one(db, "experiment_id", id.into())?.ok_or_else(|| no_such_experiment(id)))
            .await
    }

    pub(super) async fn get_experiment_by_name_impl(&self, name: &str) -> Result<Experiment> {
        let name = name.to_string();
        self.readers
            .read(move |db| {
                get_one(db, "name", (&name).into())?
                    .ok_or_else(|| Error::not_found(format!("Could not find experiment with name '{name}'")))
            })
            .await
    }

    pub(super) async fn search_experiments_impl(&self, query: &ExperimentQuery) -> Result<Page<Experiment>> {
        let parsed = search::experiments(query)?;
        let search = &parsed.search;
        let mut select = Select::new(&EXPERIMENTS, COLUMNS);
        select.lifecycle("e.lifecycle_stage", parsed.view_type);
        select.visible("e.experiment_id", parsed.visible.as_ref(), true);
        select.filter(&search.clauses)?;
        select.order_by(&search.order)?;
        if search.order.is_empty() {
            select.then_by("e.creation_time DESC");
        }
        if !search.order.iter().any(|o| o.by.key == "experiment_id") {
            select.then_by("e.experiment_id ASC");
        }
        let (offset, limit) = (search.offset, search.limit);
        let (sql, args) = select.page(limit, offset);
        self.readers
            .read(move |db| {
                let mut page = page_of(db.rows(&sql, &args.params(), to_experiment)?, offset, limit);
                load_tags(db, &mut page.items)?;
                Ok(page)
            })
            .await
    }

    pub(super) async fn rename_experiment_impl(&self, experiment_id: &str, new_name: &str) -> Result<()> {
        let id = parse_experiment_id(experiment_id)?;
        validate_experiment_name(new_name)?;
        let new_name = new_name.to_string();
        self.writer
            .write(move |db| {
                if experiment_stage(db, id)? != LifecycleStage::Active {
                    return Err(Error::new(ErrorCode::InvalidState, "Cannot rename a non-active experiment."));
                }
                let taken = db.row(
                    "SELECT 1 FROM experiments WHERE name = ? AND experiment_id != ?",
                    &[(&new_name).into(), id.into()],
                    |_| (),
                )?;
                if taken.is_some() {
                    return Err(name_taken(&new_name));
                }
                db.execute(
                    "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                    &[(&new_name).into(), crate::now_millis().into(), id.into()],
                )
                .map_err(already(|| name_taken(&new_name)))?;
                Ok(())
            })
            .await
    }

    /// Deletes or restores an experiment together with its runs. Runs deleted
    /// by the experiment's deletion carry its timestamp, so a restore brings
    /// back exactly those and leaves runs deleted on their own alone.
    pub(super) async fn set_experiment_stage(&self, experiment_id: &str, stage: LifecycleStage) -> Result<()> {
        let id = parse_experiment_id(experiment_id)?;
        self.writer
            .write(move |db| {
                let current = experiment_stage(db, id)?;
                if stage == LifecycleStage::Deleted && current != LifecycleStage::Active {
                    return Err(no_such_experiment(id));
                }
                if stage == LifecycleStage::Active && current != LifecycleStage::Deleted {
                    return Err(Error::invalid(format!(
                        "Cannot restore an active experiment. Experiment {id} is in the 'active' state."
                    )));
                }
                if stage == LifecycleStage::Deleted && id == 0 {
                    return Err(Error::invalid(
                        "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
                    ));
                }
                let now = crate::now_millis();
                let previous_update = db
                    .row("SELECT last_update_time FROM experiments WHERE experiment_id = ?", &[id.into()], |r| {
                        r.int(0)
                    })?
                    .unwrap_or_default();
                db.execute(
                    "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?",
                    &[stage.as_str().into(), now.into(), id.into()],
                )?;
                if stage == LifecycleStage::Deleted {
                    db.execute(
                        "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? \
                         WHERE experiment_id = ? AND lifecycle_stage = 'active'",
                        &[now.into(), id.into()],
                    )?;
                } else {
                    db.execute(
                        "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL \
                         WHERE experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_time = ?",
                        &[id.into(), previous_update.into()],
                    )?;
                }
                Ok(())
            })
            .await
    }

    pub(super) async fn set_experiment_tag_impl(
        &self,
        experiment_id: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let id = parse_experiment_id(experiment_id)?;
        if let Some(value) = value {
            validate_experiment_tag(key, value)?;
        }
        let key = key.to_string();
        let value = value.map(str::to_string);
        self.writer
            .write(move |db| {
                if experiment_stage(db, id)? != LifecycleStage::Active {
                    return Err(Error::invalid(format!(
                        "The experiment {id} must be in the 'active' state. Current state is deleted."
                    )));
                }
                match value {
                    Some(value) => {
                        db.execute(
                            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                            &[id.into(), (&key).into(), (&value).into()],
                        )?;
                    }
                    None => {
                        let deleted = db.execute(
                            "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?",
                            &[id.into(), (&key).into()],
                        )?;
                        if deleted == 0 {
                            return Err(Error::not_found(format!(
                                "No tag with name: {key} in experiment with id {id}"
                            )));
                        }
                    }
                }
                Ok(())
            })
            .await
    }
}
