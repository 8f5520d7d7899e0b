//! Experiments: create, read, search, rename, delete/restore and tags.

use super::{db_error, parse_experiment_id, search::SqlArgs, SqliteStore};
use crate::{decode_offset, encode_offset, ExperimentQuery};
use sqlx::SqliteConnection;
use std::collections::HashMap;
use tracking::filter::{self, Entity, Op};
use tracking::validation::{
    validate_experiment_name, validate_experiment_tag, validate_max_results, MAX_RESULTS_PER_PAGE,
};
use tracking::{Error, Experiment, KeyValue, LifecycleStage, Page, Result, ViewType};

type ExperimentRow = (i64, String, String, String, i64, i64);

const COLUMNS: &str = "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

fn to_experiment(row: ExperimentRow, tags: Vec<KeyValue>) -> Experiment {
    Experiment {
        experiment_id: row.0.to_string(),
        name: row.1,
        artifact_location: row.2,
        lifecycle_stage: LifecycleStage::parse(&row.3).unwrap_or_default(),
        creation_time: row.4,
        last_update_time: row.5,
        tags,
    }
}

fn no_such_experiment(experiment_id: impl std::fmt::Display) -> Error {
    Error::not_found(format!("No Experiment with id={experiment_id} exists"))
}

/// The experiment's lifecycle stage, or RESOURCE_DOES_NOT_EXIST.
pub(super) async fn experiment_stage(conn: &mut SqliteConnection, id: i64) -> Result<LifecycleStage> {
    let stage: Option<String> = sqlx::query_scalar("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    stage.and_then(|s| LifecycleStage::parse(&s)).ok_or_else(|| no_such_experiment(id))
}

fn name_taken(name: &str) -> Error {
    Error::already_exists(format!("Experiment(name={name}) already exists."))
}

impl SqliteStore {
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
            .write(move |conn| {
                Box::pin(async move {
                    let taken: Option<i64> = sqlx::query_scalar("SELECT experiment_id FROM experiments WHERE name = ?")
                        .bind(&name)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    if taken.is_some() {
                        return Err(name_taken(&name));
                    }
                    let now = crate::now_millis();
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) \
                         VALUES (?, '', ?, ?) RETURNING experiment_id",
                    )
                    .bind(&name)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_error)?;
                    let location = location.unwrap_or_else(|| format!("{root}/{id}"));
                    sqlx::query("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?")
                        .bind(&location)
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    for tag in &tags {
                        sqlx::query(
                            "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
                        )
                        .bind(id)
                        .bind(&tag.key)
                        .bind(&tag.value)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    }
                    Ok(id.to_string())
                })
            })
            .await
    }

    async fn load_experiments(&self, rows: Vec<ExperimentRow>) -> Result<Vec<Experiment>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; rows.len()].join(",");
        let sql = format!(
            "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN ({placeholders}) ORDER BY key"
        );
        let mut q = sqlx::query_as::<_, (i64, String, String)>(&sql);
        for row in &rows {
            q = q.bind(row.0);
        }
        let mut tags: HashMap<i64, Vec<KeyValue>> = HashMap::new();
        for (id, key, value) in q.fetch_all(&self.read).await.map_err(db_error)? {
            tags.entry(id).or_default().push(KeyValue { key, value });
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let t = tags.remove(&row.0).unwrap_or_default();
                to_experiment(row, t)
            })
            .collect())
    }

    pub(super) async fn get_experiment_impl(&self, experiment_id: &str) -> Result<Experiment> {
        let id = parse_experiment_id(experiment_id)?;
        let row: Option<ExperimentRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM experiments WHERE experiment_id = ?"))
                .bind(id)
                .fetch_optional(&self.read)
                .await
                .map_err(db_error)?;
        let row = row.ok_or_else(|| no_such_experiment(experiment_id))?;
        Ok(self.load_experiments(vec![row]).await?.remove(0))
    }

    pub(super) async fn get_experiment_by_name_impl(&self, name: &str) -> Result<Experiment> {
        let row: Option<ExperimentRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM experiments WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(db_error)?;
        let row = row.ok_or_else(|| Error::not_found(format!("Could not find experiment with name '{name}'")))?;
        Ok(self.load_experiments(vec![row]).await?.remove(0))
    }

    pub(super) async fn search_experiments_impl(&self, query: &ExperimentQuery) -> Result<Page<Experiment>> {
        validate_max_results(query.max_results, MAX_RESULTS_PER_PAGE)?;
        let clauses = filter::parse_experiment_filter(&query.filter)?;
        let order = filter::parse_experiment_order_by(&query.order_by)?;
        let offset = decode_offset(query.page_token.as_deref())?;

        let mut args = SqlArgs::default();
        let mut sql = format!("SELECT {COLUMNS} FROM experiments e WHERE ");
        sql.push_str(match query.view_type {
            ViewType::ActiveOnly => "e.lifecycle_stage = 'active'",
            ViewType::DeletedOnly => "e.lifecycle_stage = 'deleted'",
            ViewType::All => "1",
        });
        for clause in &clauses {
            sql.push_str(" AND ");
            match clause.entity {
                Entity::Tag => {
                    let exists = match clause.op {
                        Op::IsNull => "NOT EXISTS",
                        _ => "EXISTS",
                    };
                    sql.push_str(&format!(
                        "{exists} (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ?"
                    ));
                    args.text(&clause.key);
                    if !matches!(clause.op, Op::IsNull | Op::IsNotNull) {
                        sql.push_str(" AND ");
                        args.compare(&mut sql, "t.value", clause.op, &clause.value);
                    }
                    sql.push(')');
                }
                _ => {
                    let column = match clause.key.as_str() {
                        "name" => "e.name",
                        "creation_time" => "e.creation_time",
                        _ => "e.last_update_time",
                    };
                    args.compare(&mut sql, column, clause.op, &clause.value);
                }
            }
        }
        sql.push_str(" ORDER BY ");
        let mut saw_id = false;
        for o in &order {
            let column = match o.key.as_str() {
                "name" => "e.name",
                "creation_time" => "e.creation_time",
                "last_update_time" => "e.last_update_time",
                _ => {
                    saw_id = true;
                    "e.experiment_id"
                }
            };
            sql.push_str(&format!("{column} {}, ", if o.ascending { "ASC" } else { "DESC" }));
        }
        if order.is_empty() {
            sql.push_str("e.creation_time DESC, ");
        }
        sql.push_str(if saw_id { "1" } else { "e.experiment_id ASC" });
        sql.push_str(" LIMIT ? OFFSET ?");
        args.int(query.max_results + 1);
        args.int(offset);

        let mut rows: Vec<ExperimentRow> = args.bind_as(&sql).fetch_all(&self.read).await.map_err(db_error)?;
        let next_page_token = if rows.len() as i64 > query.max_results {
            rows.truncate(query.max_results as usize);
            Some(encode_offset(offset + query.max_results))
        } else {
            None
        };
        Ok(Page { items: self.load_experiments(rows).await?, next_page_token })
    }

    pub(super) async fn rename_experiment_impl(&self, experiment_id: &str, new_name: &str) -> Result<()> {
        let id = parse_experiment_id(experiment_id)?;
        validate_experiment_name(new_name)?;
        let new_name = new_name.to_string();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    if experiment_stage(conn, id).await? != LifecycleStage::Active {
                        return Err(Error::new(
                            tracking::ErrorCode::InvalidState,
                            "Cannot rename a non-active experiment.",
                        ));
                    }
                    let taken: Option<i64> = sqlx::query_scalar(
                        "SELECT experiment_id FROM experiments WHERE name = ? AND experiment_id != ?",
                    )
                    .bind(&new_name)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error)?;
                    if taken.is_some() {
                        return Err(name_taken(&new_name));
                    }
                    sqlx::query("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?")
                        .bind(&new_name)
                        .bind(crate::now_millis())
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                    Ok(())
                })
            })
            .await
    }

    /// Deletes or restores an experiment together with its runs. Runs deleted
    /// by the experiment's deletion carry its timestamp, so a restore brings
    /// back exactly those and leaves runs deleted on their own alone.
    pub(super) async fn set_experiment_stage(&self, experiment_id: &str, stage: LifecycleStage) -> Result<()> {
        let id = parse_experiment_id(experiment_id)?;
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let current = experiment_stage(conn, id).await?;
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
                    let previous_update: i64 =
                        sqlx::query_scalar("SELECT last_update_time FROM experiments WHERE experiment_id = ?")
                            .bind(id)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    sqlx::query(
                        "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?",
                    )
                    .bind(stage.as_str())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
                    let runs = if stage == LifecycleStage::Deleted {
                        sqlx::query(
                            "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? \
                             WHERE experiment_id = ? AND lifecycle_stage = 'active'",
                        )
                        .bind(now)
                        .bind(id)
                    } else {
                        sqlx::query(
                            "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL \
                             WHERE experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_time = ?",
                        )
                        .bind(id)
                        .bind(previous_update)
                    };
                    runs.execute(&mut *conn).await.map_err(db_error)?;
                    Ok(())
                })
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
            .write(move |conn| {
                Box::pin(async move {
                    if experiment_stage(conn, id).await? != LifecycleStage::Active {
                        return Err(Error::invalid(format!(
                            "The experiment {id} must be in the 'active' state. Current state is deleted."
                        )));
                    }
                    match value {
                        Some(value) => {
                            sqlx::query(
                                "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
                            )
                            .bind(id)
                            .bind(&key)
                            .bind(&value)
                            .execute(&mut *conn)
                            .await
                            .map_err(db_error)?;
                        }
                        None => {
                            let done = sqlx::query("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?")
                                .bind(id)
                                .bind(&key)
                                .execute(&mut *conn)
                                .await
                                .map_err(db_error)?;
                            if done.rows_affected() == 0 {
                                return Err(Error::not_found(format!(
                                    "No tag with name: {key} in experiment with id {id}"
                                )));
                            }
                        }
                    }
                    Ok(())
                })
            })
            .await
    }
}
