//! Dashboards on SQLite: a row per dashboard with its spec as JSON, and
//! the experiments it shows for searching by experiment.

use super::db::{Db, Param, Row};
use super::SqlStore;
use crate::dashboards::{conflict, not_found, DashboardQuery, DashboardStore};
use crate::page::page_of;
use async_trait::async_trait;
use tracking::dashboards::Dashboard;
use tracking::validation::{validate_max_results, MAX_RESULTS_PER_PAGE};
use tracking::{Error, Page, Result};

const COLUMNS: &str = "dashboard_id, spec, version, created_by, creation_time, last_updated_by, last_update_time";

fn to_dashboard(r: &Row) -> Result<Dashboard> {
    Ok(Dashboard {
        dashboard_id: r.text(0),
        spec: serde_json::from_str(&r.text(1)).map_err(|e| Error::internal_cause("Reading a dashboard", e))?,
        version: r.int(2),
        created_by: r.text(3),
        creation_time: r.int(4),
        last_updated_by: r.text(5),
        last_update_time: r.int(6),
    })
}

fn find(db: &mut Db, dashboard_id: &str) -> Result<Dashboard> {
    db.row(&format!("SELECT {COLUMNS} FROM dashboards WHERE dashboard_id = ?"), &[dashboard_id.into()], to_dashboard)?
        .ok_or_else(|| not_found(dashboard_id))?
}

fn spec_json(d: &Dashboard) -> Result<String> {
    serde_json::to_string(&d.spec).map_err(|e| Error::internal_cause("Writing a dashboard", e))
}

fn link_experiments(db: &mut Db, d: &Dashboard) -> Result<()> {
    db.execute("DELETE FROM dashboard_experiments WHERE dashboard_id = ?", &[(&d.dashboard_id).into()])?;
    for id in &d.spec.experiment_ids {
        let id: i64 = id.parse().map_err(|_| Error::invalid(format!("'{id}' is not an experiment id")))?;
        db.execute(
            "INSERT INTO dashboard_experiments (dashboard_id, experiment_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            &[(&d.dashboard_id).into(), id.into()],
        )?;
    }
    Ok(())
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn insert_dashboard(&self, dashboard: &Dashboard) -> Result<()> {
        let d = dashboard.clone();
        let spec = spec_json(&d)?;
        self.writer
            .write(move |db| {
                db.execute(
                    &format!("INSERT INTO dashboards (name, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                    &[
                        (&d.spec.name).into(),
                        (&d.dashboard_id).into(),
                        (&spec).into(),
                        d.version.into(),
                        (&d.created_by).into(),
                        d.creation_time.into(),
                        (&d.last_updated_by).into(),
                        d.last_update_time.into(),
                    ],
                )?;
                link_experiments(db, &d)
            })
            .await
    }

    async fn get_dashboard(&self, dashboard_id: &str) -> Result<Dashboard> {
        let id = dashboard_id.to_string();
        self.readers.read(move |db| find(db, &id)).await
    }

    async fn search_dashboards(&self, query: &DashboardQuery) -> Result<Page<Dashboard>> {
        let limit = if query.max_results == 0 { MAX_RESULTS_PER_PAGE } else { query.max_results };
        validate_max_results(limit, MAX_RESULTS_PER_PAGE)?;
        let offset = crate::decode_offset(query.page_token.as_deref())?;
        let (name, experiment) = (query.name_contains.to_lowercase(), query.experiment_id);
        self.readers
            .read(move |db| {
                let mut sql = format!("SELECT {COLUMNS} FROM dashboards WHERE instr(lower(name), ?) > 0");
                let mut params: Vec<Param> = vec![(&name).into()];
                if let Some(e) = experiment {
                    sql.push_str(
                        " AND dashboard_id IN (SELECT dashboard_id FROM dashboard_experiments WHERE experiment_id = ?)",
                    );
                    params.push(e.into());
                }
                sql.push_str(" ORDER BY last_update_time DESC, dashboard_id LIMIT ? OFFSET ?");
                params.push((limit.saturating_add(1)).into());
                params.push(offset.into());
                let rows = db.rows(&sql, &params, to_dashboard)?.into_iter().collect::<Result<Vec<_>>>()?;
                Ok(page_of(rows, offset, limit))
            })
            .await
    }

    async fn replace_dashboard(&self, dashboard: &Dashboard, read_version: i64) -> Result<()> {
        let d = dashboard.clone();
        let spec = spec_json(&d)?;
        self.writer
            .write(move |db| {
                // The version check and the write are one statement in the
                // writer's transaction: two updates of the same version
                // cannot both pass.
                let changed = db.execute(
                    "UPDATE dashboards SET name = ?, spec = ?, version = ?, last_updated_by = ?, \
                     last_update_time = ? WHERE dashboard_id = ? AND version = ?",
                    &[
                        (&d.spec.name).into(),
                        (&spec).into(),
                        d.version.into(),
                        (&d.last_updated_by).into(),
                        d.last_update_time.into(),
                        (&d.dashboard_id).into(),
                        read_version.into(),
                    ],
                )?;
                if changed == 0 {
                    return Err(conflict(&find(db, &d.dashboard_id)?, read_version));
                }
                link_experiments(db, &d)
            })
            .await
    }

    async fn delete_dashboard(&self, dashboard_id: &str) -> Result<()> {
        let id = dashboard_id.to_string();
        self.writer
            .write(move |db| {
                if db.execute("DELETE FROM dashboards WHERE dashboard_id = ?", &[(&id).into()])? == 0 {
                    return Err(not_found(&id));
                }
                db.execute("DELETE FROM dashboard_experiments WHERE dashboard_id = ?", &[(&id).into()])?;
                Ok(())
            })
            .await
    }
}
