//! `search-runs`: one SQL query, compiled from the typed search, picks the
//! page of run ids; the runs are then loaded table by table.

use super::compile::{Keyed, Metrics, Select, SqlArgs, Table};
use super::runs::load_runs;
use super::SqlStore;
use crate::page::page_of;
use crate::{search, RunQuery};
use tracking::filter::{Clause, Entity};
use tracking::{tags, Page, Result, Run};

const OWNER: &[(&str, &str)] = &[("run_id", "r.id")];

static RUNS: Table = Table {
    from: "runs r",
    attributes: &[
        ("run_id", "r.run_uuid"),
        ("run_name", "r.name"),
        ("user_id", "r.user_id"),
        ("status", "r.status"),
        ("start_time", "r.start_time"),
        ("end_time", "r.end_time"),
        ("artifact_uri", "r.artifact_uri"),
    ],
    params: Some(Keyed { table: "params", owner: OWNER }),
    tags: Some(Keyed { table: "tags", owner: OWNER }),
    metrics: Metrics::Latest(Keyed { table: "latest_metrics", owner: OWNER }),
    ne_keeps_untagged: &[],
    datasets: Some(dataset_condition),
};

/// `dataset.name`, `dataset.digest` and `dataset.context` (the context is
/// an input tag of the run's dataset input).
fn dataset_condition(sql: &mut String, args: &mut SqlArgs, clause: &Clause) {
    if clause.key == "context" {
        sql.push_str("EXISTS (SELECT 1 FROM input_tags it WHERE it.run_id = r.id AND it.key = ? AND ");
        args.text(tags::DATASET_CONTEXT);
        args.compare(sql, "it.value", clause.op, &clause.value);
    } else {
        sql.push_str(
            "EXISTS (SELECT 1 FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id WHERE ri.run_id = r.id AND ",
        );
        let column = if clause.key == "digest" { "d.digest" } else { "d.name" };
        args.compare(sql, column, clause.op, &clause.value);
    }
    sql.push(')');
}

impl SqlStore {
    pub(super) async fn search_runs_impl(&self, query: &RunQuery) -> Result<Page<Run>> {
        let parsed = search::runs(query)?;
        if parsed.experiment_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_page_token: None });
        }
        let search = &parsed.search;
        let mut select = Select::new(&RUNS, "r.id");
        select.and_in("r.experiment_id", &parsed.experiment_ids);
        select.lifecycle("r.lifecycle_stage", parsed.view_type);
        select.filter(&search.clauses)?;
        select.order_by(&search.order)?;
        if !search.order.iter().any(|o| o.by.entity == Entity::Attribute && o.by.key == "start_time") {
            select.then_by("r.start_time DESC");
        }
        select.then_by("r.run_uuid");
        let (offset, limit) = (search.offset, search.limit);
        let (sql, args) = select.page(limit, offset);
        self.readers
            .read(move |db| {
                let ids = page_of(db.rows(&sql, &args.params(), |r| r.int(0))?, offset, limit);
                Ok(Page { items: load_runs(db, &ids.items)?, next_page_token: ids.next_page_token })
            })
            .await
    }
}
