//! Values at a step, docked: hovering a chart view's panel fills a table
//! beside the panels with every run's value at that x (colour, name,
//! value), highest first and written with one number of decimals, as the
//! runs table writes them. A floating hover box at 19 runs is taller than
//! its panel; this table scrolls, and stays where it is when the pointer
//! leaves the chart, so a row can be clicked: that run alone is shown.

use super::chart_settings::XAxis;
use crate::columns::{decimals, format_in_column};
use crate::server_fns::{ChartRun, Series};
use leptos::prelude::*;

/// Rows drawn at most; the rest are counted (1,000 rows cost a hover
/// 50 ms to lay out, and nobody reads past the first screenful).
const MOST_ROWS: usize = 200;

/// Every run's value of one metric at one x.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValuesAt {
    pub metric: String,
    /// Where: `step 430`, a wall time, `12.5 s since start`.
    pub at: String,
    /// Highest value first.
    pub rows: Vec<ValueRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    pub run_id: String,
    pub name: String,
    pub color: String,
    pub value: f64,
}

/// Each run's point nearest `x`, for the runs whose line spans `x` (a run
/// that stopped earlier, or started later, has no value there). `x_of`
/// gives a series' x values in the chart's units.
pub fn values_at(runs: &[ChartRun], data: &[Series], x_of: impl Fn(&Series) -> Vec<f64>, x: f64) -> Vec<ValueRow> {
    let mut rows: Vec<ValueRow> = data
        .iter()
        .filter_map(|d| {
            let run = runs.iter().find(|r| r.run_id == d.run_id)?;
            let xs = x_of(d);
            let points =
                || xs.iter().zip(&d.values).filter_map(|(x, v)| Some((*x, (*v)?))).filter(|(x, _)| x.is_finite());
            let (lo, hi) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| (lo.min(x), hi.max(x)));
            if !(lo <= x && x <= hi) {
                return None;
            }
            let (_, value) = points().min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))?;
            value.is_finite().then(|| ValueRow {
                run_id: run.run_id.clone(),
                name: run.name.clone(),
                color: run.color.clone(),
                value,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.value.total_cmp(&a.value));
    rows
}

/// Where `x` is, in words, for an x axis of `axis` (`step`, `time`,
/// `relative`, `metric:<key>`).
pub fn describe_x(axis: &XAxis, x: f64) -> String {
    match axis {
        XAxis::WallTime => format!("{} UTC", tracking::time::format_time(x as i64)),
        XAxis::Relative => format!("{x:.1} s since start"),
        XAxis::Metric(key) => format!("{key} = {}", crate::format::format_value(x)),
        XAxis::Step => format!("step {}", x.round() as i64),
    }
}

#[component]
pub fn ValuesDock(
    values: RwSignal<Option<ValuesAt>>,
    /// A clicked row: show that run alone.
    on_isolate: Callback<String>,
) -> impl IntoView {
    let body = move || {
        values.with(|v| match v {
            None => view! {
                <p class="muted values-hint">"Hover a chart to read every run's value at that step here."</p>
            }
            .into_any(),
            Some(v) => {
                let numbers: Vec<f64> = v.rows.iter().map(|r| r.value).collect();
                let places = decimals(&numbers);
                let more = v.rows.len().saturating_sub(MOST_ROWS);
                let rows = v
                    .rows
                    .iter()
                    .take(MOST_ROWS)
                    .map(|r| {
                        let id = r.run_id.clone();
                        view! {
                            <tr data-run-id=r.run_id.clone() title="Show this run alone"
                                on:click=move |_| on_isolate.run(id.clone())>
                                <td class="name">
                                    <span class="run-dot" style=format!("background:{}", r.color)></span>
                                    {r.name.clone()}
                                </td>
                                <td class="num" title=r.value.to_string()>{format_in_column(r.value, places)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let count = match v.rows.len() {
                    1 => "1 run".to_string(),
                    n => format!("{n} runs"),
                };
                view! {
                    <h3>
                        <span class="mono">{v.metric.clone()}</span>
                        <span class="muted">{format!(" at {} · {count}", v.at)}</span>
                    </h3>
                    <table class="grid values-table">
                        <tbody>{rows}</tbody>
                    </table>
                    {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
                }
                .into_any()
            }
        })
    };
    view! { <aside class="values-dock" id="values-dock">{body}</aside> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> ChartRun {
        ChartRun { run_id: id.into(), name: format!("run {id}"), color: "#123456".into(), ..Default::default() }
    }

    fn series(id: &str, steps: &[i64], values: &[f64]) -> Series {
        Series {
            run_id: id.into(),
            steps: steps.to_vec(),
            times: Vec::new(),
            values: values.iter().map(|v| Some(*v)).collect(),
            total: steps.len(),
        }
    }

    #[test]
    fn every_run_spanning_the_step_highest_first() {
        let runs = [run("a"), run("b"), run("c")];
        let data = [
            series("a", &[0, 10, 20, 30], &[4.0, 3.0, 2.0, 1.0]),
            series("b", &[0, 12, 24], &[9.0, 8.0, 7.0]),
            // Stopped at step 5: no value at step 19.
            series("c", &[0, 5], &[0.5, 0.25]),
        ];
        let steps = |d: &Series| d.steps.iter().map(|s| *s as f64).collect();
        let rows = values_at(&runs, &data, steps, 19.0);
        let got: Vec<(&str, f64)> = rows.iter().map(|r| (r.run_id.as_str(), r.value)).collect();
        assert_eq!(got, [("b", 7.0), ("a", 2.0)]);
        assert!(values_at(&runs, &data, steps, 31.0).is_empty());
        assert_eq!(describe_x(&XAxis::Step, 430.2), "step 430");
        assert_eq!(describe_x(&XAxis::Relative, 12.25), "12.2 s since start");
        assert_eq!(describe_x(&XAxis::Metric("epoch".into()), 3.0), "epoch = 3");
    }
}
