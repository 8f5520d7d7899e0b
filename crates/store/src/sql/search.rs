//! `search-runs`: one SQL query, built from the parsed filter and order_by,
//! picks the page of run ids; the runs are then loaded table by table.
//!
//! Values are always bound, never spliced into the SQL; only column and
//! table names chosen from fixed lists are.

use super::db::Param;
use super::runs::load_runs;
use super::SqlStore;
use crate::page::page_of;
use crate::{decode_offset, RunQuery};
use tracking::filter::{self, Clause, Entity, Op, Operand};
use tracking::permissions::Visible;
use tracking::validation::{validate_max_results, MAX_RESULTS_PER_PAGE};
use tracking::{tags, Page, Result, Run, ViewType};

/// Bind values collected while the SQL text is built.
#[derive(Default)]
pub(super) struct SqlArgs(Vec<Arg>);

enum Arg {
    Int(i64),
    Real(f64),
    Text(String),
}

impl SqlArgs {
    pub(super) fn int(&mut self, v: i64) {
        self.0.push(Arg::Int(v));
    }
    pub(super) fn text(&mut self, v: &str) {
        self.0.push(Arg::Text(v.to_string()));
    }

    /// Appends ` AND <column>` limited to what a user may see (`None`: no
    /// limit); `int` compares the ids as numbers.
    pub(super) fn visible(&mut self, sql: &mut String, column: &str, visible: Option<&Visible>, int: bool) {
        let Some(visible) = visible else { return };
        let (not, ids) = match visible {
            Visible::AllBut(ids) if ids.is_empty() => return,
            Visible::AllBut(ids) => ("NOT ", ids),
            Visible::Only(ids) => ("", ids),
        };
        let value = if int { "CAST(value AS BIGINT)" } else { "value" };
        sql.push_str(&format!(" AND {column} {not}IN (SELECT {value} FROM json_each(?))"));
        self.text(&serde_json::Value::from(ids.clone()).to_string());
    }

    /// Appends `<column> <op> <value>` with the value bound.
    pub(super) fn compare(&mut self, sql: &mut String, column: &str, op: Op, value: &Operand) {
        match op {
            Op::Like => sql.push_str(&format!("{column} LIKE ?")),
            Op::ILike => sql.push_str(&format!("lower({column}) LIKE lower(?)")),
            Op::In | Op::NotIn => {
                let items = match value {
                    Operand::List(items) => items.as_slice(),
                    _ => &[],
                };
                // One statement text and one parameter whatever the list's
                // length: the list goes in as a JSON array (no per-length
                // statement in the cache, no limit on SQL variables).
                let not = if op == Op::NotIn { "NOT " } else { "" };
                sql.push_str(&format!("{column} {not}IN (SELECT value FROM json_each(?))"));
                self.text(&serde_json::Value::from(items.to_vec()).to_string());
                return;
            }
            Op::IsNull => {
                sql.push_str(&format!("{column} IS NULL"));
                return;
            }
            Op::IsNotNull => {
                sql.push_str(&format!("{column} IS NOT NULL"));
                return;
            }
            op => sql.push_str(&format!("{column} {} ?", op.as_str())),
        }
        match value {
            Operand::Number(n) => self.0.push(Arg::Real(*n)),
            Operand::Text(t) => self.text(t),
            _ => self.0.push(Arg::Text(String::new())),
        }
    }

    pub(super) fn params(&self) -> Vec<Param<'_>> {
        self.0
            .iter()
            .map(|arg| match arg {
                Arg::Int(v) => Param::Int(*v),
                Arg::Real(v) => Param::Real(*v),
                Arg::Text(v) => Param::Text(v),
            })
            .collect()
    }
}

fn run_column(attribute: &str) -> &'static str {
    match attribute {
        "run_id" => "r.run_uuid",
        "run_name" => "r.name",
        "user_id" => "r.user_id",
        "status" => "r.status",
        "start_time" => "r.start_time",
        "end_time" => "r.end_time",
        _ => "r.artifact_uri",
    }
}

/// Appends the SQL condition for one filter clause.
fn push_clause(sql: &mut String, args: &mut SqlArgs, clause: &Clause) {
    let key = clause.key.as_str();
    match clause.entity {
        Entity::Attribute => args.compare(sql, run_column(key), clause.op, &clause.value),
        Entity::Metric => {
            sql.push_str("EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ? AND ");
            args.text(key);
            if clause.op == Op::Ne {
                // NaN differs from every number.
                sql.push_str("(m.is_nan = 1 OR ");
                args.compare(sql, "m.value", clause.op, &clause.value);
                sql.push_str("))");
            } else {
                sql.push_str("m.is_nan = 0 AND ");
                args.compare(sql, "m.value", clause.op, &clause.value);
                sql.push(')');
            }
        }
        Entity::Param | Entity::Tag => {
            let table = if clause.entity == Entity::Param { "params" } else { "tags" };
            let exists = if clause.op == Op::IsNull { "NOT EXISTS" } else { "EXISTS" };
            sql.push_str(&format!("{exists} (SELECT 1 FROM {table} x WHERE x.run_id = r.id AND x.key = ?"));
            args.text(key);
            if !matches!(clause.op, Op::IsNull | Op::IsNotNull) {
                sql.push_str(" AND ");
                args.compare(sql, "x.value", clause.op, &clause.value);
            }
            sql.push(')');
        }
        Entity::Dataset if key == "context" => {
            sql.push_str("EXISTS (SELECT 1 FROM input_tags it WHERE it.run_id = r.id AND it.key = ? AND ");
            args.text(tags::DATASET_CONTEXT);
            args.compare(sql, "it.value", clause.op, &clause.value);
            sql.push(')');
        }
        Entity::Dataset => {
            sql.push_str(
                "EXISTS (SELECT 1 FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id WHERE ri.run_id = r.id AND ",
            );
            let column = if key == "digest" { "d.digest" } else { "d.name" };
            args.compare(sql, column, clause.op, &clause.value);
            sql.push(')');
        }
    }
}

impl SqlStore {
    pub(super) async fn search_runs_impl(&self, query: &RunQuery) -> Result<Page<Run>> {
        validate_max_results(query.max_results, MAX_RESULTS_PER_PAGE)?;
        let clauses = filter::parse_run_filter(&query.filter)?;
        let order = filter::parse_run_order_by(&query.order_by)?;
        let offset = decode_offset(query.page_token.as_deref())?;
        let experiment_ids: Vec<i64> = query.experiment_ids.iter().filter_map(|e| e.parse().ok()).collect();
        if experiment_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_page_token: None });
        }

        let mut joins = String::new();
        let mut join_args = SqlArgs::default();
        let mut order_sql = Vec::new();
        for (i, o) in order.iter().enumerate() {
            let dir = if o.ascending { "ASC" } else { "DESC" };
            match o.entity {
                Entity::Attribute => {
                    let c = run_column(&o.key);
                    order_sql.push(format!("({c} IS NULL), {c} {dir}"));
                }
                Entity::Metric => {
                    joins.push_str(&format!(" LEFT JOIN latest_metrics o{i} ON o{i}.run_id = r.id AND o{i}.key = ?"));
                    join_args.text(&o.key);
                    order_sql.push(format!(
                        "CASE WHEN o{i}.run_id IS NULL THEN 2 WHEN o{i}.is_nan = 1 THEN 1 ELSE 0 END, o{i}.value {dir}"
                    ));
                }
                Entity::Param | Entity::Tag | Entity::Dataset => {
                    let table = if o.entity == Entity::Param { "params" } else { "tags" };
                    joins.push_str(&format!(" LEFT JOIN {table} o{i} ON o{i}.run_id = r.id AND o{i}.key = ?"));
                    join_args.text(&o.key);
                    order_sql.push(format!("(o{i}.value IS NULL), o{i}.value {dir}"));
                }
            }
        }
        if !order.iter().any(|o| o.entity == Entity::Attribute && o.key == "start_time") {
            order_sql.push("r.start_time DESC".into());
        }
        order_sql.push("r.run_uuid".into());

        let mut args = join_args;
        let mut sql = format!("SELECT r.id FROM runs r{joins} WHERE r.experiment_id IN (");
        sql.push_str(&vec!["?"; experiment_ids.len()].join(","));
        sql.push(')');
        for id in &experiment_ids {
            args.int(*id);
        }
        sql.push_str(match query.view_type {
            ViewType::ActiveOnly => " AND r.lifecycle_stage = 'active'",
            ViewType::DeletedOnly => " AND r.lifecycle_stage = 'deleted'",
            ViewType::All => "",
        });
        for clause in &clauses {
            sql.push_str(" AND ");
            push_clause(&mut sql, &mut args, clause);
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT ? OFFSET ?", order_sql.join(", ")));
        args.int(query.max_results.saturating_add(1));
        args.int(offset);

        let max_results = query.max_results;
        self.readers
            .read(move |db| {
                let ids = page_of(db.rows(&sql, &args.params(), |r| r.int(0))?, offset, max_results);
                Ok(Page { items: load_runs(db, &ids.items)?, next_page_token: ids.next_page_token })
            })
            .await
    }
}
