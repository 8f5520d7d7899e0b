//! A dashboard's unsaved edits. Edit mode changes a draft of the spec that
//! lives in the page's URL (`?draft=<json>&base=<version>`), so a
//! half-edited view reloads as it was and can be sent to a teammate; Save
//! stores it as the version after `base`, or is refused when someone saved
//! in between (the draft stays in the URL, nothing is lost).

use serde::{Deserialize, Serialize};
use tracking::dashboards::{DashboardSpec, Panel};

/// The draft as the URL carries it.
pub fn encode(spec: &DashboardSpec) -> String {
    serde_json::to_string(spec).unwrap_or_default()
}

/// The draft from the URL, or a sentence saying why it cannot be read.
pub fn decode(text: &str) -> Result<DashboardSpec, String> {
    serde_json::from_str::<DashboardSpec>(text)
        .map_err(|e| format!("The unsaved edits in this link cannot be read ({e}); the saved dashboard is shown."))
}

/// Which runs a spec shows; a draft whose selection differs from the
/// saved one has its runs fetched by this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Selection {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    pub order_by: Vec<String>,
    pub run_ids: Vec<String>,
}

impl Selection {
    pub fn of(spec: &DashboardSpec) -> Self {
        Selection {
            experiment_ids: spec.experiment_ids.clone(),
            filter: spec.filter.clone(),
            order_by: spec.order_by.clone(),
            run_ids: spec.run_ids.clone(),
        }
    }

    /// Plain text, as server functions take it (their form encoding has no
    /// empty lists).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_text(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("The run selection cannot be read: {e}."))
    }
}

/// What the edit mode does to one panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PanelMove {
    Up,
    Down,
    Remove,
    /// Across the page's width, or back into the grid.
    Resize,
}

/// The panels after `action` on panel `index` (`None` when it cannot apply).
pub fn arranged(mut panels: Vec<Panel>, index: usize, action: PanelMove) -> Option<Vec<Panel>> {
    match action {
        PanelMove::Up if index > 0 && index < panels.len() => panels.swap(index - 1, index),
        PanelMove::Down if index + 1 < panels.len() => panels.swap(index, index + 1),
        PanelMove::Remove if index < panels.len() => {
            panels.remove(index);
        }
        PanelMove::Resize => {
            let panel = panels.get_mut(index)?;
            let wide = panel.wide()?;
            panel.set_wide(!wide);
        }
        _ => return None,
    }
    Some(panels)
}

/// The kinds of panel the edit mode adds: (kind, label, what its text is).
pub const PANEL_KINDS: [(&str, &str, &str); 9] = [
    ("line", "Line charts", "metric keys, comma-separated, a chart each: val_loss, train_loss"),
    ("overlay", "Metrics in one chart", "metric keys, comma-separated: train_loss, val_loss"),
    ("bar", "Bars of a value", "a metric key: test_accuracy"),
    ("scatter", "Scatter", "x, y: params.lr, metrics.val_loss"),
    ("parallel", "Parallel coordinates", "fields, comma-separated (empty: every param that varies, then metrics)"),
    ("table", "Run table", "columns: params.lr, metrics.val_loss"),
    ("images", "Image grid", "a logged image key (mlflow.log_image(..., key=...))"),
    ("section", "Section title", "a title: Validation"),
    ("note", "Note", "Markdown text"),
];

/// The kinds of panel the chart view adds over its panel per metric.
pub const CHART_VIEW_KINDS: [&str; 4] = ["overlay", "bar", "scatter", "note"];

/// Most panels a chart view's link adds.
pub const MAX_ADDED_PANELS: usize = 20;

/// The panels a chart view's link adds (`?add=`, JSON as a dashboard's
/// panels), and whether some of it could not be read or was not a kind the
/// chart view adds (those are left out).
pub fn parse_added(text: &str) -> (Vec<Panel>, bool) {
    if text.trim().is_empty() {
        return (Vec::new(), false);
    }
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(text) else { return (Vec::new(), true) };
    let mut bad = items.len() > MAX_ADDED_PANELS;
    let mut panels = Vec::new();
    for item in items.into_iter().take(MAX_ADDED_PANELS) {
        let kept = serde_json::from_value::<Panel>(item).ok().filter(|p| {
            let kind_ok = matches!(
                p,
                Panel::Line { overlay: true, .. } | Panel::Bar { .. } | Panel::Scatter { .. } | Panel::Note { .. }
            );
            // The rules a dashboard's panel keeps (lengths, field names).
            let spec = DashboardSpec {
                name: "added".into(),
                experiment_ids: vec!["1".into()],
                panels: vec![p.clone()],
                ..Default::default()
            };
            kind_ok && spec.checked().is_ok()
        });
        match kept {
            Some(p) => panels.push(p),
            None => bad = true,
        }
    }
    (panels, bad)
}

/// `panels` as a chart view's `?add=` (empty for none).
pub fn format_added(panels: &[Panel]) -> String {
    match panels.is_empty() {
        true => String::new(),
        false => serde_json::to_string(panels).unwrap_or_default(),
    }
}

/// A new panel of `kind` from what the user typed, or why it cannot be one.
/// Bare keys name metrics (`val_loss` is `metrics.val_loss`).
pub fn new_panel(kind: &str, text: &str) -> Result<Panel, String> {
    let items: Vec<String> = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let field = |k: &String| {
        if ["metrics.", "params.", "tags."].iter().any(|p| k.starts_with(p)) {
            k.clone()
        } else {
            format!("metrics.{k}")
        }
    };
    let text = text.trim().to_string();
    let need = |what: &str| Err(format!("A {what} panel needs {}.", what_of(kind)));
    Ok(match kind {
        "line" if items.is_empty() => return need("line chart"),
        "line" => Panel::line(items.iter().map(|m| m.strip_prefix("metrics.").unwrap_or(m).to_string()).collect()),
        "overlay" if items.len() < 2 => return Err("Metrics in one chart need two metric keys or more.".into()),
        "overlay" => {
            Panel::overlay(items.iter().map(|m| m.strip_prefix("metrics.").unwrap_or(m).to_string()).collect())
        }
        "bar" if text.is_empty() => return need("bar"),
        "bar" => Panel::Bar {
            metric: text.strip_prefix("metrics.").unwrap_or(&text).to_string(),
            title: String::new(),
            wide: false,
            group: None,
        },
        "scatter" if items.len() != 2 => return need("scatter"),
        "scatter" => Panel::Scatter { x: field(&items[0]), y: field(&items[1]), title: String::new(), wide: false },
        "parallel" => Panel::Parallel {
            fields: items.iter().map(field).collect(),
            color: String::new(),
            group: None,
            title: String::new(),
        },
        "table" if items.is_empty() => return need("table"),
        "table" => Panel::Table { columns: items.iter().map(field).collect(), title: String::new() },
        "images" if text.is_empty() => return need("image grid"),
        "images" => Panel::Images { key: text, title: String::new() },
        "section" if text.is_empty() => return need("section"),
        "section" => Panel::Section { title: text },
        "note" if text.is_empty() => return need("note"),
        "note" => Panel::Note { text },
        other => return Err(format!("There is no panel of kind '{other}'.")),
    })
}

fn what_of(kind: &str) -> &'static str {
    PANEL_KINDS.iter().find(|(k, ..)| *k == kind).map(|(.., what)| *what).unwrap_or("its text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(texts: &[&str]) -> Vec<Panel> {
        texts.iter().map(|t| Panel::Note { text: t.to_string() }).collect()
    }

    #[test]
    fn panels_move_within_bounds_and_are_removed() {
        let p = notes(&["a", "b", "c"]);
        assert_eq!(arranged(p.clone(), 1, PanelMove::Up), Some(notes(&["b", "a", "c"])));
        assert_eq!(arranged(p.clone(), 1, PanelMove::Down), Some(notes(&["a", "c", "b"])));
        assert_eq!(arranged(p.clone(), 2, PanelMove::Remove), Some(notes(&["a", "b"])));
        assert_eq!(arranged(p.clone(), 0, PanelMove::Up), None);
        assert_eq!(arranged(p.clone(), 2, PanelMove::Down), None);
        assert_eq!(arranged(p.clone(), 3, PanelMove::Remove), None);
        // Charts toggle between a grid cell and the page's width; notes have no size.
        assert_eq!(arranged(p, 0, PanelMove::Resize), None);
        let bar = Panel::Bar { metric: "acc".into(), title: String::new(), wide: false, group: None };
        let wide = arranged(vec![bar.clone()], 0, PanelMove::Resize).unwrap();
        assert_eq!(wide[0].wide(), Some(true));
        assert_eq!(arranged(wide, 0, PanelMove::Resize), Some(vec![bar]));
    }

    #[test]
    fn new_panels_read_what_was_typed() {
        assert!(matches!(new_panel("line", " val_loss, metrics.train_loss "),
            Ok(Panel::Line { metrics, .. }) if metrics == ["val_loss", "train_loss"]));
        assert!(matches!(new_panel("scatter", "params.lr, val_loss"),
            Ok(Panel::Scatter { x, y, .. }) if x == "params.lr" && y == "metrics.val_loss"));
        assert!(matches!(new_panel("table", "params.lr,acc"),
            Ok(Panel::Table { columns, .. }) if columns == ["params.lr", "metrics.acc"]));
        assert!(matches!(new_panel("parallel", ""), Ok(Panel::Parallel { fields, .. }) if fields.is_empty()));
        assert!(matches!(new_panel("images", "samples"), Ok(Panel::Images { key, .. }) if key == "samples"));
        assert!(new_panel("scatter", "lr").unwrap_err().contains("x, y"));
        assert!(new_panel("line", " , ").unwrap_err().starts_with("A line chart panel needs metric keys"));
        assert!(new_panel("pie", "x").unwrap_err().contains("'pie'"));
        assert!(matches!(new_panel("overlay", "train_loss, metrics.val_loss"),
            Ok(Panel::Line { metrics, overlay: true, .. }) if metrics == ["train_loss", "val_loss"]));
        assert!(new_panel("overlay", "train_loss").unwrap_err().contains("two metric keys"));
    }

    #[test]
    fn added_panels_round_trip_and_leave_out_what_is_not_theirs() {
        let panels = vec![
            new_panel("overlay", "train_loss, val_loss").unwrap(),
            new_panel("bar", "test_accuracy").unwrap(),
            new_panel("scatter", "params.lr, val_loss").unwrap(),
            new_panel("note", "# why").unwrap(),
        ];
        assert_eq!(parse_added(&format_added(&panels)), (panels.clone(), false));
        assert_eq!(parse_added(""), (Vec::new(), false));
        assert_eq!(parse_added("{oops"), (Vec::new(), true));
        // A table is a dashboard's panel, not the chart view's; a scatter of
        // a bare key breaks a dashboard's rule: both are left out, and said.
        let text = r#"[{"type":"table","columns":["params.lr"]},{"type":"scatter","x":"lr","y":"metrics.a"},
            {"type":"bar","metric":"acc"}]"#;
        let (kept, bad) = parse_added(text);
        assert!(bad);
        assert!(matches!(&kept[..], [Panel::Bar { metric, .. }] if metric == "acc"));
        let many = format_added(&vec![panels[3].clone(); MAX_ADDED_PANELS + 1]);
        assert_eq!(parse_added(&many).0.len(), MAX_ADDED_PANELS);
        assert!(parse_added(&many).1);
    }

    #[test]
    fn drafts_round_trip_through_the_url_text() {
        let spec = DashboardSpec {
            name: "bob's \"sweep\" & co".into(),
            experiment_ids: vec!["1".into(), "2".into()],
            filter: "params.optimizer = 'adam'".into(),
            panels: notes(&["# why\n<b>x</b>"]),
            ..Default::default()
        };
        assert_eq!(decode(&encode(&spec)), Ok(spec.clone()));
        assert!(decode("{not json").unwrap_err().contains("saved dashboard is shown"));
        let s = Selection::of(&spec);
        assert_eq!(Selection::from_text(&s.to_text()), Ok(s));
    }
}
