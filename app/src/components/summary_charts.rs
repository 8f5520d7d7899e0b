//! Charts of one value per run (a metric's latest value, a param): bars
//! and scatters, in the chart view's added panels and on dashboards.
//! Where a value comes from is the caller's (`value`: a run's id and a
//! field, `metrics.<key>`, `params.<key>` or `tags.<key>`).

use crate::aggregate::{Grouping, NONE_LABEL};
use crate::charts::{build_groups, group_bars, scatter, Chart, Figure, Grouped, ScatterPoint, Trace};
use crate::server_fns::ChartRun;
use leptos::prelude::*;

/// A run's value of a field, as text, or none.
pub type ValueOf = Callback<(String, String), Option<String>>;

/// The latest value of `metric`: a bar per run in its colour, or with a
/// grouping a bar per group at its centre with its spread as error bars.
#[component]
pub fn BarChart(
    id: String,
    metric: String,
    caption: String,
    runs: Memo<Vec<ChartRun>>,
    value: ValueOf,
    #[prop(optional, into)] grouping: Option<Signal<Grouping>>,
) -> impl IntoView {
    let key = metric.clone();
    let figure = Signal::derive(move || {
        let field = format!("metrics.{key}");
        let grouping = grouping.map(|g| g.get()).unwrap_or_default();
        let number = |r: &ChartRun| value.run((r.run_id.clone(), field.clone()))?.parse::<f64>().ok();
        let traces = runs.with(|runs| match grouping.field.is_empty() {
            true => runs
                .iter()
                .filter_map(|r| {
                    Some(Trace {
                        name: r.name.clone(),
                        bar_labels: vec![r.name.clone()],
                        y: vec![Some(number(r)?)],
                        color: r.color.clone(),
                        ..Default::default()
                    })
                })
                .collect(),
            false => {
                let members = runs.iter().map(|r| Grouped {
                    label: r.fields.get(&grouping.field).cloned().unwrap_or_else(|| NONE_LABEL.into()),
                    style: None,
                    line: number(r).map(|v| (vec![0.0], vec![Some(v)])),
                });
                group_bars(&grouping.field, &build_groups(members, ""), grouping.center, grouping.band)
            }
        });
        Some(Figure { traces, y_title: key.clone(), ..Default::default() })
    });
    view! {
        <figure class="chart-card bar-panel" data-bar=metric>
            <figcaption><span class="mono">{caption}</span></figcaption>
            <Chart id figure />
        </figure>
    }
}

/// One point per run at its values of `x` and `y` (`charts::scatter`: a
/// param's words in their order on the axis), each in its run's colour.
#[component]
pub fn ScatterChart(
    id: String,
    x: String,
    y: String,
    caption: String,
    runs: Memo<Vec<ChartRun>>,
    value: ValueOf,
) -> impl IntoView {
    let (fx, fy) = (x.clone(), y.clone());
    let figure = Signal::derive(move || {
        let points: Vec<ScatterPoint> = runs.with(|runs| {
            runs.iter()
                .filter_map(|r| {
                    Some(ScatterPoint {
                        run: r.name.clone(),
                        x: value.run((r.run_id.clone(), fx.clone()))?,
                        y: value.run((r.run_id.clone(), fy.clone()))?.parse::<f64>().ok()?,
                        series: r.name.clone(),
                        color: r.color.clone(),
                        more: None,
                    })
                })
                .collect()
        });
        Some(scatter(&points, &fx, &fy))
    });
    view! {
        <figure class="chart-card scatter-panel" data-scatter=format!("{y} vs {x}")>
            <figcaption><span class="mono">{caption}</span></figcaption>
            <Chart id figure />
        </figure>
    }
}
