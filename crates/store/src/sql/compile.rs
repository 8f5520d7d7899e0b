//! The one filter-to-SQL compiler. A typed search ([`crate::search`]) over
//! one of the searchable tables becomes one `SELECT`: conditions for the
//! filter's clauses, joins and keys for its order, the page's LIMIT and
//! OFFSET. What differs between runs, experiments, logged models and the
//! registry is data (a [`Table`]), not code; the text is the same on SQLite
//! and PostgreSQL (whose layer maps `json_each`).
//!
//! Values are always bound, never spliced into the SQL; only the table and
//! column names of the fixed [`Table`]s are.

use super::db::Param;
use crate::search::{Dataset, OrderKey};
use tracking::filter::{Clause, Entity, Op, Operand};
use tracking::permissions::Visible;
use tracking::{Error, Result, ViewType};

/// Rows of `key`/`value` that belong to a searched row: its params, tags or metrics.
pub(super) struct Keyed {
    pub table: &'static str,
    /// The columns naming the owning row, each with the owner's column.
    pub owner: &'static [(&'static str, &'static str)],
}

impl Keyed {
    /// `<alias>.<column> = <owner's column> AND …`
    fn on(&self, alias: &str) -> String {
        let pairs: Vec<String> = self.owner.iter().map(|(c, o)| format!("{alias}.{c} = {o}")).collect();
        pairs.join(" AND ")
    }
}

/// Where a searched row's metric values are.
pub(super) enum Metrics {
    None,
    /// One row per key holding the latest value, with an `is_nan` flag
    /// (runs' `latest_metrics`): NaN differs from every number and sorts
    /// after them.
    Latest(Keyed),
    /// Every point, with `step` and `timestamp` and datasets (logged
    /// models): the latest point counts; NaN is stored as NULL.
    Points(Keyed),
}

/// One searchable table, as the compiler sees it.
pub(super) struct Table {
    /// The `FROM` item: a table and its alias.
    pub from: &'static str,
    /// Attribute keys (of filters and orders) and their columns.
    pub attributes: &'static [(&'static str, &'static str)],
    pub params: Option<Keyed>,
    pub tags: Option<Keyed>,
    pub metrics: Metrics,
    /// Tag keys whose `!=` also keeps rows without the tag (MLflow's
    /// registry, for `mlflow.prompt.is_prompt`, which its client uses to
    /// hide prompts).
    pub ne_keeps_untagged: &'static [&'static str],
    /// Writes the condition of a `dataset.` clause (`None`: not searchable).
    pub datasets: Option<fn(&mut String, &mut SqlArgs, &Clause)>,
}

impl Table {
    fn attribute(&self, key: &str) -> Result<&'static str> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, column)| *column)
            .ok_or_else(|| Error::invalid(format!("Invalid attribute key '{key}' specified.")))
    }
}

/// A `SELECT` under construction. Its parts keep their own bound values,
/// so they can be written in any order and still bind in the text's order.
pub(super) struct Select {
    table: &'static Table,
    head: String,
    joins: String,
    join_args: SqlArgs,
    conditions: String,
    args: SqlArgs,
    order: Vec<String>,
    order_args: SqlArgs,
}

impl Select {
    /// `SELECT <columns> FROM <table>`.
    pub(super) fn new(table: &'static Table, columns: &str) -> Self {
        Select {
            table,
            head: format!("SELECT {columns} FROM {}", table.from),
            joins: String::new(),
            join_args: SqlArgs::default(),
            conditions: String::new(),
            args: SqlArgs::default(),
            order: Vec::new(),
            order_args: SqlArgs::default(),
        }
    }

    fn next_condition(&mut self) -> (&mut String, &mut SqlArgs) {
        if !self.conditions.is_empty() {
            self.conditions.push_str(" AND ");
        }
        (&mut self.conditions, &mut self.args)
    }

    /// A condition with no values in it.
    pub(super) fn and(&mut self, condition: &str) {
        self.next_condition().0.push_str(condition);
    }

    /// A condition with one text value, bound where `condition` has its `?`.
    pub(super) fn and_text(&mut self, condition: &str, value: &str) {
        let (sql, args) = self.next_condition();
        sql.push_str(condition);
        args.text(value);
    }

    /// The rows of `view_type`'s lifecycle stage (`<alias>.lifecycle_stage`).
    pub(super) fn lifecycle(&mut self, column: &str, view_type: ViewType) {
        match view_type {
            ViewType::ActiveOnly => self.and(&format!("{column} = 'active'")),
            ViewType::DeletedOnly => self.and(&format!("{column} = 'deleted'")),
            ViewType::All => {}
        }
    }

    /// `<column> IN (ids)`, one statement text whatever the number of ids.
    pub(super) fn and_in(&mut self, column: &str, ids: &[i64]) {
        let (sql, args) = self.next_condition();
        sql.push_str(&format!("{column} IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"));
        args.text(&serde_json::Value::from(ids.to_vec()).to_string());
    }

    /// Only the rows a user may see (`None`: no limit); `int` compares the
    /// ids as numbers.
    pub(super) fn visible(&mut self, column: &str, visible: Option<&Visible>, int: bool) {
        let (not, ids) = match visible {
            None => return,
            Some(Visible::AllBut(ids)) if ids.is_empty() => return,
            Some(Visible::AllBut(ids)) => ("NOT ", ids),
            Some(Visible::Only(ids)) => ("", ids),
        };
        let value = if int { "CAST(value AS BIGINT)" } else { "value" };
        let (sql, args) = self.next_condition();
        sql.push_str(&format!("{column} {not}IN (SELECT {value} FROM json_each(?))"));
        args.text(&serde_json::Value::from(ids.clone()).to_string());
    }

    /// A condition the caller writes (its values bound in `args`' order).
    pub(super) fn and_with(&mut self, write: impl FnOnce(&mut String, &mut SqlArgs)) {
        let (sql, args) = self.next_condition();
        write(sql, args);
    }

    /// Every clause of a parsed filter, joined by AND.
    pub(super) fn filter(&mut self, clauses: &[Clause]) -> Result<()> {
        clauses.iter().try_for_each(|clause| self.clause(clause))
    }

    fn clause(&mut self, clause: &Clause) -> Result<()> {
        let table = self.table;
        let key = clause.key.as_str();
        let not_searchable =
            || Error::invalid(format!("Invalid filter: a {} cannot be searched on here", clause.entity.as_str()));
        match clause.entity {
            Entity::Attribute => {
                let column = table.attribute(key)?;
                let (sql, args) = self.next_condition();
                args.compare(sql, column, clause.op, &clause.value);
            }
            Entity::Param | Entity::Tag => {
                let keyed = if clause.entity == Entity::Param { &table.params } else { &table.tags };
                let keyed = keyed.as_ref().ok_or_else(not_searchable)?;
                let keeps_untagged =
                    clause.entity == Entity::Tag && clause.op == Op::Ne && table.ne_keeps_untagged.contains(&key);
                let (sql, args) = self.next_condition();
                let exists = if clause.op == Op::IsNull || keeps_untagged { "NOT EXISTS" } else { "EXISTS" };
                sql.push_str(&format!(
                    "{exists} (SELECT 1 FROM {} x WHERE {} AND x.key = ?",
                    keyed.table,
                    keyed.on("x")
                ));
                args.text(key);
                if keeps_untagged {
                    sql.push_str(" AND ");
                    args.compare(sql, "x.value", Op::Eq, &clause.value);
                } else if !matches!(clause.op, Op::IsNull | Op::IsNotNull) {
                    sql.push_str(" AND ");
                    args.compare(sql, "x.value", clause.op, &clause.value);
                }
                sql.push(')');
            }
            Entity::Metric => match &table.metrics {
                Metrics::Latest(keyed) => {
                    let (sql, args) = self.next_condition();
                    sql.push_str(&format!(
                        "EXISTS (SELECT 1 FROM {} x WHERE {} AND x.key = ? AND ",
                        keyed.table,
                        keyed.on("x")
                    ));
                    args.text(key);
                    if clause.op == Op::Ne {
                        // NaN differs from every number.
                        sql.push_str("(x.is_nan = 1 OR ");
                        args.compare(sql, "x.value", clause.op, &clause.value);
                        sql.push_str("))");
                    } else {
                        sql.push_str("x.is_nan = 0 AND ");
                        args.compare(sql, "x.value", clause.op, &clause.value);
                        sql.push(')');
                    }
                }
                Metrics::Points(keyed) => {
                    let (sql, args) = self.next_condition();
                    let latest = latest_point(keyed, args, key, None);
                    args.compare(sql, &latest, clause.op, &clause.value);
                }
                Metrics::None => return Err(not_searchable()),
            },
            Entity::Dataset => {
                let write = table.datasets.ok_or_else(not_searchable)?;
                let (sql, args) = self.next_condition();
                write(sql, args, clause);
            }
        }
        Ok(())
    }

    /// The parsed `order_by` keys, first to last.
    pub(super) fn order_by(&mut self, keys: &[OrderKey]) -> Result<()> {
        let table = self.table;
        for (i, key) in keys.iter().enumerate() {
            let dir = if key.by.ascending { "ASC" } else { "DESC" };
            let alias = format!("o{i}");
            match key.by.entity {
                Entity::Attribute => {
                    let column = table.attribute(&key.by.key)?;
                    self.order.push(format!("({column} IS NULL), {column} {dir}"));
                }
                Entity::Metric => match &table.metrics {
                    Metrics::Latest(keyed) => {
                        self.joins.push_str(&format!(
                            " LEFT JOIN {} {alias} ON {} AND {alias}.key = ?",
                            keyed.table,
                            keyed.on(&alias)
                        ));
                        self.join_args.text(&key.by.key);
                        // Runs with the metric first, then NaN, then runs without it.
                        self.order.push(format!(
                            "CASE WHEN {alias}.key IS NULL THEN 2 WHEN {alias}.is_nan = 1 THEN 1 ELSE 0 END, \
                             {alias}.value {dir}"
                        ));
                    }
                    Metrics::Points(keyed) => {
                        let latest = latest_point(keyed, &mut self.order_args, &key.by.key, key.dataset.as_ref());
                        // Rows without the metric sort last either way, as in MLflow.
                        self.order.push(format!("{latest} {dir} NULLS LAST"));
                    }
                    Metrics::None => return Err(not_orderable(key)),
                },
                Entity::Param | Entity::Tag => {
                    let keyed = if key.by.entity == Entity::Param { &table.params } else { &table.tags };
                    let keyed = keyed.as_ref().ok_or_else(|| not_orderable(key))?;
                    self.joins.push_str(&format!(
                        " LEFT JOIN {} {alias} ON {} AND {alias}.key = ?",
                        keyed.table,
                        keyed.on(&alias)
                    ));
                    self.join_args.text(&key.by.key);
                    if key.numeric {
                        // Numbers by value first, then the other texts.
                        let number = format!("mltrack_number({alias}.value)");
                        self.order.push(format!("({alias}.value IS NULL), ({number} IS NULL), {number} {dir}"));
                    }
                    self.order.push(format!("({alias}.value IS NULL), {alias}.value {dir}"));
                }
                Entity::Dataset => return Err(not_orderable(key)),
            }
        }
        Ok(())
    }

    /// A fixed order key after the requested ones (defaults and tie-breakers).
    pub(super) fn then_by(&mut self, order: &str) {
        self.order.push(order.to_string());
    }

    /// The statement and its values, for `limit` rows (one more is fetched,
    /// to tell whether a next page exists) from `offset` on.
    pub(super) fn page(self, limit: i64, offset: i64) -> (String, SqlArgs) {
        let mut sql = self.head;
        sql.push_str(&self.joins);
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions);
        }
        if !self.order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&self.order.join(", "));
        }
        sql.push_str(" LIMIT ? OFFSET ?");
        let mut args = self.join_args;
        args.0.extend(self.args.0);
        args.0.extend(self.order_args.0);
        args.int(limit.saturating_add(1));
        args.int(offset);
        (sql, args)
    }
}

fn not_orderable(key: &OrderKey) -> Error {
    Error::invalid(format!("Invalid order_by clause: a {} cannot be ordered by here", key.by.entity.as_str()))
}

/// The latest value of metric `key` among a row's points (on one dataset
/// if given), as a scalar subquery; its values go into `args`.
fn latest_point(keyed: &Keyed, args: &mut SqlArgs, key: &str, dataset: Option<&Dataset>) -> String {
    let mut sql = format!("(SELECT x.value FROM {} x WHERE {} AND x.key = ?", keyed.table, keyed.on("x"));
    args.text(key);
    if let Some(dataset) = dataset {
        sql.push_str(" AND x.dataset_name = ?");
        args.text(&dataset.name);
        if let Some(digest) = &dataset.digest {
            sql.push_str(" AND x.dataset_digest = ?");
            args.text(digest);
        }
    }
    sql.push_str(" ORDER BY x.step DESC, x.timestamp DESC LIMIT 1)");
    sql
}

/// Bound values collected while SQL text is written, in the text's order.
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracking::filter::OrderBy;

    static THINGS: Table = Table {
        from: "things t",
        attributes: &[("name", "t.name"), ("created", "t.created")],
        params: None,
        tags: Some(Keyed { table: "thing_tags", owner: &[("thing_id", "t.id")] }),
        metrics: Metrics::Points(Keyed { table: "thing_metrics", owner: &[("thing_id", "t.id")] }),
        ne_keeps_untagged: &["hidden"],
        datasets: None,
    };

    fn texts(args: &SqlArgs) -> Vec<String> {
        args.0
            .iter()
            .map(|a| match a {
                Arg::Int(v) => format!("int {v}"),
                Arg::Real(v) => format!("real {v}"),
                Arg::Text(v) => format!("text {v}"),
            })
            .collect()
    }

    fn clause(entity: Entity, key: &str, op: Op, value: Operand) -> Clause {
        Clause { entity, key: key.into(), op, value }
    }

    #[test]
    fn values_bind_in_the_order_of_the_text() {
        let mut select = Select::new(&THINGS, "t.id");
        select.and("t.active = 1");
        select
            .filter(&[
                clause(Entity::Tag, "team", Op::Eq, Operand::Text("bob's".into())),
                clause(Entity::Metric, "loss", Op::Lt, Operand::Number(0.5)),
            ])
            .unwrap();
        let by = |entity, key: &str| OrderKey {
            by: OrderBy { entity, key: key.into(), ascending: false },
            dataset: Some(Dataset { name: "val".into(), digest: None }),
            numeric: false,
        };
        select.order_by(&[by(Entity::Tag, "owner"), by(Entity::Metric, "acc")]).unwrap();
        select.then_by("t.id");
        let (sql, args) = select.page(10, 20);
        assert_eq!(
            sql,
            "SELECT t.id FROM things t LEFT JOIN thing_tags o0 ON o0.thing_id = t.id AND o0.key = ? \
             WHERE t.active = 1 AND EXISTS (SELECT 1 FROM thing_tags x WHERE x.thing_id = t.id AND x.key = ? \
             AND x.value = ?) AND (SELECT x.value FROM thing_metrics x WHERE x.thing_id = t.id AND x.key = ? \
             ORDER BY x.step DESC, x.timestamp DESC LIMIT 1) < ? ORDER BY (o0.value IS NULL), o0.value DESC, \
             (SELECT x.value FROM thing_metrics x WHERE x.thing_id = t.id AND x.key = ? AND x.dataset_name = ? \
             ORDER BY x.step DESC, x.timestamp DESC LIMIT 1) DESC NULLS LAST, t.id LIMIT ? OFFSET ?"
        );
        assert_eq!(
            texts(&args),
            [
                "text owner",
                "text team",
                "text bob's",
                "text loss",
                "real 0.5",
                "text acc",
                "text val",
                "int 11",
                "int 20"
            ]
        );
    }

    #[test]
    fn lists_are_one_json_value_and_null_checks_bind_nothing() {
        let mut select = Select::new(&THINGS, "t.id");
        select.and_in("t.group_id", &[3, 1]);
        select
            .filter(&[
                clause(Entity::Attribute, "name", Op::NotIn, Operand::List(vec!["a".into(), "b\"c".into()])),
                clause(Entity::Tag, "owner", Op::IsNull, Operand::None),
                clause(Entity::Tag, "hidden", Op::Ne, Operand::Text("true".into())),
            ])
            .unwrap();
        let (sql, args) = select.page(i64::MAX, 0);
        assert!(sql.contains("t.group_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"), "{sql}");
        assert!(sql.contains("t.name NOT IN (SELECT value FROM json_each(?))"), "{sql}");
        assert!(sql.contains("NOT EXISTS (SELECT 1 FROM thing_tags x WHERE x.thing_id = t.id AND x.key = ?)"), "{sql}");
        // `!=` on a tag that hides rows keeps the rows without it.
        assert!(sql.ends_with("NOT EXISTS (SELECT 1 FROM thing_tags x WHERE x.thing_id = t.id AND x.key = ? AND x.value = ?) LIMIT ? OFFSET ?"), "{sql}");
        assert_eq!(
            texts(&args),
            [
                "text [3,1]",
                "text [\"a\",\"b\\\"c\"]",
                "text owner",
                "text hidden",
                "text true",
                &format!("int {}", i64::MAX),
                "int 0"
            ]
        );
    }

    #[test]
    fn what_a_table_lacks_is_refused_as_a_sentence() {
        let mut select = Select::new(&THINGS, "t.id");
        let err = select.filter(&[clause(Entity::Param, "lr", Op::Eq, Operand::Text("1".into()))]).unwrap_err();
        assert_eq!(err.message, "Invalid filter: a parameter cannot be searched on here");
        let err = select.filter(&[clause(Entity::Attribute, "size", Op::Eq, Operand::Number(1.0))]).unwrap_err();
        assert_eq!(err.message, "Invalid attribute key 'size' specified.");
        let key = OrderKey {
            by: OrderBy { entity: Entity::Param, key: "lr".into(), ascending: true },
            dataset: None,
            numeric: false,
        };
        assert!(select.order_by(&[key]).unwrap_err().message.contains("cannot be ordered by"));
    }
}
