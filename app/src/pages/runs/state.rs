//! The runs view's state: what the URL says (filter, order, columns, the
//! chart view's settings), the rows it shows, and how a header click or a
//! live refresh changes them.

use crate::format::encode;
use std::collections::HashSet;
use tracking::Run;

/// A shown row: its run (an index into the loaded runs), nesting depth,
/// for a top-level run its number of children and whether they show, and
/// in a table ranked by a column, the parent a child run was lifted from.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Line {
    pub(super) index: usize,
    pub(super) depth: usize,
    pub(super) kids: Option<(usize, bool)>,
    pub(super) parent: Option<usize>,
}

/// Whether a table in this order shows nested runs folded under their
/// parents (the default order, newest first), or ranks every run by the
/// column (as MLflow does once a column is sorted: a child run keeps its
/// place in the ranking instead of hiding inside a parent that sorts by
/// its own, often missing, value).
pub(super) fn folds_children(order: &str) -> bool {
    order.is_empty() || order == "attributes.start_time DESC"
}

/// The order after a click on a column's header: its best values first
/// on the first click (lowest for losses and errors, names from A), then
/// the other way on each click after.
pub(super) fn order_after_click(current: &str, key: &str) -> String {
    if current == format!("{key} DESC") {
        return format!("{key} ASC");
    }
    if current == format!("{key} ASC") {
        return format!("{key} DESC");
    }
    let name = key.split_once('.').map_or(key, |(_, n)| n).trim_matches('`');
    let ascending_first = match key.split_once('.').map(|(kind, _)| kind) {
        Some("metrics") => crate::columns::lower_is_better(name),
        Some("attributes") => matches!(name, "run_name" | "user_id" | "status"),
        _ => false,
    };
    format!("{key} {}", if ascending_first { "ASC" } else { "DESC" })
}

/// The view state in the URL.
#[derive(Clone, PartialEq, Default)]
pub(super) struct View {
    pub(super) filter: String,
    pub(super) order: String,
    /// Visible metric/param columns (`metrics.loss`, `params.lr`); empty: all.
    pub(super) cols: Vec<String>,
    pub(super) deleted: bool,
    /// The chart view (`view=charts`) instead of the table.
    pub(super) charts: bool,
    /// The chart view's own settings (x axis, log, smoothing, panel
    /// search), kept when the filter or order changes.
    pub(super) chart_params: Vec<(String, String)>,
}

/// The most runs ticked in the table that the chart view's link names
/// (more make a link too long to share; the charts then show every run).
pub(super) const MAX_PICKED_IN_LINK: usize = 200;

/// Query parameters that belong to the chart view.
pub(super) const CHART_PARAMS: [&str; 19] = [
    "x", "log", "logx", "clip", "smooth", "q", "group", "style", "agg", "band", "panel", "brush", "pcolor", "hide",
    "colors", "pc", "imp", "sx", "add",
];

impl View {
    pub(super) fn url(&self, experiment_id: &str) -> String {
        let mut q = Vec::new();
        if !self.filter.is_empty() {
            q.push(format!("filter={}", encode(&self.filter)));
        }
        if !self.order.is_empty() {
            q.push(format!("order={}", encode(&self.order)));
        }
        if !self.cols.is_empty() {
            q.push(format!("cols={}", encode(&self.cols.join(","))));
        }
        if self.deleted {
            q.push("deleted=1".into());
        }
        if self.charts {
            q.push("view=charts".into());
        }
        // Kept in table view too: switching back shows the same charts, and
        // runs picked on the parallel coordinates stay selected in the table.
        q.extend(self.chart_params.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        let qs = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
        format!("/experiments/{experiment_id}{qs}")
    }
}

/// A refetched first page followed by the rows loaded beyond it earlier
/// (in their order): new runs take their sorted place, known rows their
/// new values, and nothing the user paged to disappears.
pub(super) fn merge_runs(fresh: Vec<Run>, old: Vec<Run>) -> Vec<Run> {
    if old.len() <= fresh.len() {
        return fresh;
    }
    let ids: HashSet<String> = fresh.iter().map(|r| r.info.run_id.clone()).collect();
    let mut rows = fresh;
    rows.extend(old.into_iter().filter(|r| !ids.contains(&r.info.run_id)));
    rows
}

pub(super) fn tag<'a>(run: &'a Run, key: &str) -> Option<&'a str> {
    run.data.tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_click_puts_the_best_values_first_and_the_next_reverses() {
        assert_eq!(order_after_click("", "metrics.`val_loss`"), "metrics.`val_loss` ASC");
        assert_eq!(order_after_click("", "metrics.`accuracy`"), "metrics.`accuracy` DESC");
        assert_eq!(order_after_click("metrics.`accuracy` DESC", "metrics.`accuracy`"), "metrics.`accuracy` ASC");
        assert_eq!(order_after_click("", "attributes.run_name"), "attributes.run_name ASC");
        assert!(folds_children("") && folds_children("attributes.start_time DESC"));
        assert!(!folds_children("metrics.`val_loss` ASC"));
    }

    #[test]
    fn the_chart_views_settings_stay_in_the_link() {
        let v = View { charts: true, chart_params: vec![("add".into(), "[]".into())], ..Default::default() };
        assert_eq!(v.url("3"), "/experiments/3?view=charts&add=%5B%5D");
        assert!(CHART_PARAMS.contains(&"add"));
    }
}
