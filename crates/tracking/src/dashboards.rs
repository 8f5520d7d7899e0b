//! Team dashboards: saved views of panels and notes over the runs they
//! select, shared by URL (`/dashboards/{id}`) and written by scripts through
//! `/api/2.0/mltrack/dashboards/*`.
//!
//! The types are the wire format (JSON in MLflow's snake_case style) and
//! what the UI draws; [`DashboardSpec::checked`] holds every rule, so the
//! REST API, the UI's server functions and any backend share one set of
//! messages. A backend stores the checked spec as it is.

use crate::filter::parse_run_filter;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_NAME_LENGTH: usize = 256;
pub const MAX_DESCRIPTION_LENGTH: usize = 16_384;
pub const MAX_PANELS: usize = 200;
pub const MAX_EXPERIMENTS: usize = 20;
/// A pinned run list as long as the chart view draws.
pub const MAX_PINNED_RUNS: usize = 1000;
pub const MAX_NOTE_LENGTH: usize = 16_384;
pub const MAX_METRICS_PER_PANEL: usize = 20;
pub const MAX_PARALLEL_FIELDS: usize = 40;

/// What a dashboard is, without the bookkeeping the server adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DashboardSpec {
    pub name: String,
    pub description: String,
    /// The experiments whose runs it shows (with `filter` and `order_by`).
    pub experiment_ids: Vec<String>,
    /// MLflow's search syntax over those experiments' runs.
    pub filter: String,
    pub order_by: Vec<String>,
    /// A fixed list of runs instead (a snapshot): when not empty, the
    /// dashboard shows exactly these.
    pub run_ids: Vec<String>,
    /// A colour per run id (`#rrggbb`), over each run's own colour.
    pub colors: BTreeMap<String, String>,
    pub panels: Vec<Panel>,
}

/// One panel, in the order the dashboard shows them. A `section` starts a
/// new titled group of the panels after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Panel {
    Section {
        title: String,
    },
    /// Per-step lines of one or more metrics, a line per run (and metric).
    Line {
        metrics: Vec<String>,
        #[serde(default = "step")]
        x: String,
        #[serde(default)]
        smoothing: f64,
        #[serde(default)]
        log_y: bool,
        /// Scale y to the bulk of the values, not to rare spikes.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ignore_outliers: bool,
        /// A logarithmic x axis.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        log_x: bool,
        /// The y axis from `[low, high]` instead of fitting the values.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y_range: Option<[f64; 2]>,
        #[serde(default)]
        title: String,
        /// Runs drawn as groups (a centre line and band per group).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<LineGrouping>,
        /// Drawn across the page's width instead of in a grid cell.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        wide: bool,
        /// The metrics drawn over each other in one chart (a line style
        /// per metric, each run in its colour), not a chart each.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        overlay: bool,
    },
    /// The latest value of a metric, a bar per run, or with `group` a bar
    /// per group at its centre with its spread.
    Bar {
        metric: String,
        #[serde(default)]
        title: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        wide: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<LineGrouping>,
    },
    /// One point per run: `x` and `y` are `metrics.<key>` or `params.<key>`.
    Scatter {
        x: String,
        y: String,
        #[serde(default)]
        title: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        wide: bool,
    },
    /// Parallel coordinates: an axis per field (`params.<key>` or
    /// `metrics.<key>`; none given: every param that varies, then the
    /// metrics), a line per run coloured by `color` (a field) or its group.
    Parallel {
        #[serde(default)]
        fields: Vec<String>,
        #[serde(default)]
        color: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<LineGrouping>,
        #[serde(default)]
        title: String,
    },
    /// The runs as a table of `columns` (`metrics.<key>`, `params.<key>`, `tags.<key>`).
    Table {
        columns: Vec<String>,
        #[serde(default)]
        title: String,
    },
    /// The images runs logged under `key` (`mlflow.log_image(image,
    /// key=..., step=...)`), a column per run, with a step slider.
    Images {
        key: String,
        #[serde(default)]
        title: String,
    },
    /// Markdown text between panels.
    Note {
        text: String,
    },
}

impl Panel {
    /// A line chart of `metrics` by step with every setting at its default.
    pub fn line(metrics: Vec<String>) -> Self {
        Panel::Line {
            metrics,
            x: step(),
            smoothing: 0.0,
            log_y: false,
            ignore_outliers: false,
            log_x: false,
            y_range: None,
            title: String::new(),
            group: None,
            wide: false,
            overlay: false,
        }
    }

    /// `metrics` drawn over each other in one chart.
    pub fn overlay(metrics: Vec<String>) -> Self {
        let mut panel = Panel::line(metrics);
        if let Panel::Line { overlay, .. } = &mut panel {
            *overlay = true;
        }
        panel
    }

    /// Whether the panel can be drawn wide, and is.
    pub fn wide(&self) -> Option<bool> {
        match self {
            Panel::Line { wide, .. } | Panel::Bar { wide, .. } | Panel::Scatter { wide, .. } => Some(*wide),
            _ => None,
        }
    }

    /// The panel drawn wide or not; panels that are always full width stay as they are.
    pub fn set_wide(&mut self, to: bool) {
        if let Panel::Line { wide, .. } | Panel::Bar { wide, .. } | Panel::Scatter { wide, .. } = self {
            *wide = to;
        }
    }
}

fn step() -> String {
    "step".into()
}

/// A line panel's grouping: `{"by": "params.optimizer", "center": "median", "band": "std"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineGrouping {
    /// `params.<key>`, `tags.<key>` or `attributes.status`.
    pub by: String,
    /// `mean` (the default) or `median`.
    #[serde(default = "mean")]
    pub center: String,
    /// `minmax` (the default), `std`, `sem` (standard error) or `none`.
    #[serde(default = "minmax")]
    pub band: String,
    /// A second key (`params.<key>`, …) whose values pick line styles
    /// (solid, dotted, dash-dot…) within each colour; with no `by`, it
    /// styles the runs' own lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
}

impl LineGrouping {
    fn check(&self, field: &str) -> Result<()> {
        if !self.by.is_empty() || self.style.is_empty() {
            check_field(field, &self.by, &["params", "tags", "attributes"])?;
        }
        if !self.style.is_empty() {
            check_field(field, &self.style, &["params", "tags", "attributes"])?;
        }
        if !["mean", "median"].contains(&self.center.as_str()) {
            return Err(invalid(field, format!("'center' is '{}'; it must be mean or median", self.center)));
        }
        if !["minmax", "std", "sem", "iqr", "none"].contains(&self.band.as_str()) {
            return Err(invalid(field, format!("'band' is '{}'; it must be minmax, std, sem, iqr or none", self.band)));
        }
        Ok(())
    }
}

fn mean() -> String {
    "mean".into()
}

fn minmax() -> String {
    "minmax".into()
}

/// A stored dashboard: its spec and the server's bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Dashboard {
    pub dashboard_id: String,
    #[serde(flatten)]
    pub spec: DashboardSpec,
    /// 1 when created; each update adds one. An update names the version
    /// it read and is refused when another came in between.
    pub version: i64,
    pub created_by: String,
    pub creation_time: i64,
    pub last_updated_by: String,
    pub last_update_time: i64,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("Invalid value for '{field}': {why}"))
}

fn check_field(field: &str, key: &str, kinds: &[&str]) -> Result<()> {
    match key.split_once('.') {
        Some((kind, name)) if kinds.contains(&kind) && !name.is_empty() => Ok(()),
        _ => Err(invalid(field, format!("'{key}' must look like {}.<key>", kinds.join(".<key> or ")))),
    }
}

impl DashboardSpec {
    /// The spec with names trimmed, or the first rule it breaks, in a
    /// sentence that names the field.
    pub fn checked(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(Error::invalid("A dashboard needs a name: 'name' is missing or empty."));
        }
        if self.name.chars().count() > MAX_NAME_LENGTH {
            return Err(invalid("name", format!("at most {MAX_NAME_LENGTH} characters")));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_LENGTH {
            return Err(invalid("description", format!("at most {MAX_DESCRIPTION_LENGTH} characters")));
        }
        if self.experiment_ids.is_empty() && self.run_ids.is_empty() {
            return Err(Error::invalid(
                "A dashboard shows runs: give 'experiment_ids' (with an optional 'filter') or 'run_ids'.",
            ));
        }
        if self.experiment_ids.len() > MAX_EXPERIMENTS {
            return Err(invalid("experiment_ids", format!("at most {MAX_EXPERIMENTS} experiments")));
        }
        // The decimal spelling only: `01` would be another id to a check.
        if let Some(bad) = self.experiment_ids.iter().find(|e| e.parse::<i64>().map_or(true, |n| n.to_string() != **e))
        {
            return Err(invalid("experiment_ids", format!("'{bad}' is not an experiment id")));
        }
        if self.run_ids.len() > MAX_PINNED_RUNS {
            return Err(invalid("run_ids", format!("at most {MAX_PINNED_RUNS} runs")));
        }
        if let Some(bad) = self.run_ids.iter().find(|r| crate::validation::validate_run_id("run_ids", r).is_err()) {
            return Err(invalid("run_ids", format!("'{bad}' is not a run id")));
        }
        parse_run_filter(&self.filter).map_err(|e| invalid("filter", e.message))?;
        for (run, color) in &self.colors {
            let hex = color.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid("colors", format!("'{color}' for run {run} is not a colour like #1f77b4")));
            }
        }
        if self.panels.len() > MAX_PANELS {
            return Err(invalid("panels", format!("at most {MAX_PANELS} panels")));
        }
        for (i, panel) in self.panels.iter().enumerate() {
            let field = format!("panels[{i}]");
            match panel {
                Panel::Parallel { fields, color, group, .. } => {
                    if fields.len() > MAX_PARALLEL_FIELDS {
                        return Err(invalid(&field, format!("at most {MAX_PARALLEL_FIELDS} fields")));
                    }
                    for f in fields.iter().chain((!color.is_empty()).then_some(color)) {
                        check_field(&field, f, &["params", "metrics"])?;
                    }
                    if let Some(g) = group {
                        g.check(&field)?;
                    }
                }
                Panel::Line { metrics, x, smoothing, group, y_range, log_y, .. } => {
                    if let Some([low, high]) = y_range {
                        if !(low.is_finite() && high.is_finite() && low < high) {
                            return Err(invalid(&field, "'y_range' must be two finite numbers, the low one first"));
                        }
                        if *log_y && *low <= 0.0 {
                            return Err(invalid(&field, "'y_range' of a log axis must be above 0"));
                        }
                    }
                    if let Some(g) = group {
                        g.check(&field)?;
                    }
                    if metrics.is_empty() || metrics.iter().any(|m| m.trim().is_empty()) {
                        return Err(invalid(&field, "a line panel needs 'metrics', a list of metric keys"));
                    }
                    if metrics.len() > MAX_METRICS_PER_PANEL {
                        return Err(invalid(&field, format!("at most {MAX_METRICS_PER_PANEL} metrics")));
                    }
                    let by_metric = x.strip_prefix("metric:").is_some_and(|k| !k.trim().is_empty());
                    if !by_metric && !["step", "time", "relative"].contains(&x.as_str()) {
                        return Err(invalid(
                            &field,
                            format!("'x' is '{x}'; it must be step, time, relative or metric:<key>"),
                        ));
                    }
                    if !(0.0..1.0).contains(smoothing) {
                        return Err(invalid(&field, "'smoothing' must be at least 0 and below 1"));
                    }
                }
                Panel::Bar { metric, .. } if metric.trim().is_empty() => {
                    return Err(invalid(&field, "a bar panel needs 'metric'"));
                }
                Panel::Bar { group: Some(g), .. } => g.check(&field)?,
                Panel::Scatter { x, y, .. } => {
                    check_field(&field, x, &["metrics", "params"])?;
                    check_field(&field, y, &["metrics", "params"])?;
                }
                Panel::Table { columns, .. } => {
                    for c in columns {
                        check_field(&field, c, &["metrics", "params", "tags"])?;
                    }
                }
                Panel::Images { key, .. } => {
                    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-./ ".contains(c);
                    if key.trim().is_empty() || key.len() > 250 || !key.chars().all(allowed) {
                        return Err(invalid(
                            &field,
                            format!(
                                "'{key}' is not an image key: MLflow's image keys are letters, digits, \
                                 underscores, dashes, periods, spaces and slashes"
                            ),
                        ));
                    }
                }
                Panel::Note { text } if text.chars().count() > MAX_NOTE_LENGTH => {
                    return Err(invalid(&field, format!("a note has at most {MAX_NOTE_LENGTH} characters")));
                }
                _ => {}
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> DashboardSpec {
        serde_json::from_str(
            r#"{"name": " sweep ", "experiment_ids": ["1"], "panels": [{"type": "line", "metrics": ["loss"]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_minimal_body_reads_with_defaults() {
        let spec = minimal().checked().unwrap();
        assert_eq!(spec.name, "sweep");
        assert_eq!(
            spec.panels,
            vec![Panel::Line {
                metrics: vec!["loss".into()],
                x: "step".into(),
                smoothing: 0.0,
                log_y: false,
                ignore_outliers: false,
                log_x: false,
                y_range: None,
                title: "".into(),
                group: None,
                wide: false,
                overlay: false,
            }]
        );
    }

    #[test]
    fn broken_rules_name_their_field() {
        let with = |f: &dyn Fn(&mut DashboardSpec)| {
            let mut s = minimal();
            f(&mut s);
            s.checked().unwrap_err().message
        };
        assert!(with(&|s| s.name = "  ".into()).contains("'name'"));
        assert!(with(&|s| s.experiment_ids.clear()).contains("'experiment_ids'"));
        assert!(with(&|s| s.experiment_ids = vec!["x".into()]).contains("'x' is not an experiment id"));
        assert!(with(&|s| s.filter = "metrics.loss <<< 1".into()).contains("'filter'"));
        assert!(with(&|s| {
            s.colors.insert("r".into(), "red".into());
        })
        .contains("#1f77b4"));
        assert!(with(&|s| s.panels =
            vec![Panel::Scatter { x: "loss".into(), y: "metrics.acc".into(), title: "".into(), wide: false }])
        .contains("panels[0]"));
        assert!(with(&|s| s.panels = vec![Panel::line(vec![])]).contains("'metrics'"));
        let bad_bar_group =
            LineGrouping { by: "optimizer".into(), center: "mean".into(), band: "std".into(), style: "".into() };
        assert!(with(&|s| s.panels = vec![Panel::Bar {
            metric: "acc".into(),
            title: "".into(),
            wide: false,
            group: Some(bad_bar_group.clone())
        }])
        .contains("panels[0]"));
        let grouped = |by: &str, center: &str| {
            let g = LineGrouping { by: by.into(), center: center.into(), band: "std".into(), style: String::new() };
            vec![Panel::Line {
                metrics: vec!["loss".into()],
                x: "step".into(),
                smoothing: 0.0,
                log_y: false,
                ignore_outliers: false,
                log_x: false,
                y_range: None,
                title: "".into(),
                group: Some(g),
                wide: false,
                overlay: false,
            }]
        };
        assert!(with(&|s| s.panels = grouped("optimizer", "mean")).contains("params.<key>"));
        assert!(with(&|s| s.panels = grouped("params.optimizer", "mode")).contains("mean or median"));
        let mut ok = minimal();
        ok.panels = grouped("params.optimizer", "median");
        assert!(ok.checked().is_ok());
    }

    #[test]
    fn unknown_panel_types_are_refused_when_read() {
        let r: std::result::Result<DashboardSpec, _> =
            serde_json::from_str(r#"{"name": "d", "experiment_ids": ["1"], "panels": [{"type": "pie"}]}"#);
        assert!(r.unwrap_err().to_string().contains("unknown variant `pie`"));
    }
}
