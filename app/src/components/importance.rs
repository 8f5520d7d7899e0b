//! Sweep analysis beside the parallel coordinates: for a chosen metric,
//! each param's importance (a random forest's, computed on the server) and
//! its correlation, signed; a param clicked shows its scatter against the
//! metric, one point per run in the run's colour.

use super::status::ServerError;
use crate::charts::{scatter, Chart, Figure, ScatterPoint};
use crate::server_fns::analysis::{param_importance, Importance};
use crate::server_fns::ChartRun;
use leptos::prelude::*;

#[component]
pub fn ImportancePanel(
    experiment_id: String,
    filter: String,
    deleted: bool,
    /// The metrics to choose from (keys, no prefix).
    #[prop(into)]
    metrics: Signal<Vec<String>>,
    /// The metric analysed (a key), and how to choose another.
    #[prop(into)]
    metric: Signal<String>,
    on_metric: Callback<String>,
    /// The param whose scatter is shown (`params.lr`), and how to pick one.
    #[prop(into)]
    picked: Signal<String>,
    on_pick: Callback<String>,
    /// The runs, for the scatter.
    runs: Memo<Vec<ChartRun>>,
) -> impl IntoView {
    let answer = LocalResource::new(move || {
        let (experiment_id, filter, metric) = (experiment_id.clone(), filter.clone(), metric.get());
        async move {
            if metric.is_empty() {
                return Ok(Importance::default());
            }
            param_importance(experiment_id, filter, deleted, metric).await
        }
    });
    let table = move || {
        // Read in the browser only (a browser-only resource read on the
        // server unsettles the page's suspense).
        let got = if cfg!(feature = "ssr") { None } else { answer.get() };
        match got {
            None => view! { <p class="loading">"Weighing the params…"</p> }.into_any(),
            Some(Err(e)) => view! { <ServerError error=e /> }.into_any(),
            Some(Ok(a)) if a.params.is_empty() => view! {
                <p class="muted">{format!(
                    "Too few runs have {} (or no param varies among them) to weigh the params.",
                    if a.metric.is_empty() { "a metric".to_string() } else { a.metric.clone() }
                )}</p>
            }
            .into_any(),
            Some(Ok(a)) => {
                let rows = a
                    .params
                    .iter()
                    .map(|p| {
                        let field = format!("params.{}", p.param);
                        let chosen = {
                            let field = field.clone();
                            move || picked.get() == field
                        };
                        let width = format!("width:{:.1}%", p.importance * 100.0);
                        let corr = match p.correlation {
                            Some(r) => {
                                let side = if r >= 0.0 { "positive" } else { "negative" };
                                let style = format!("width:{:.1}%", r.abs() * 50.0);
                                view! {
                                    <div class=format!("corr-bar {side}")><span style=style></span></div>
                                    <span class="num">{format!("{r:+.2}")}</span>
                                }
                                .into_any()
                            }
                            None => view! { <span class="muted" title="Words have no correlation; see the importance">"–"</span> }.into_any(),
                        };
                        view! {
                            <tr data-param=p.param.clone() class:chosen=chosen>
                                <td>
                                    <button class="link" title="Show this param against the metric"
                                        on:click=move |_| on_pick.run(field.clone())>{p.param.clone()}</button>
                                    {p.categorical.then(|| view! { <span class="muted">" (words)"</span> })}
                                </td>
                                <td><div class="bar-cell">
                                    <div class="importance-bar"><span style=width></span></div>
                                    <span class="num importance">{format!("{:.2}", p.importance)}</span>
                                </div></td>
                                <td><div class="bar-cell">{corr}</div></td>
                            </tr>
                        }
                    })
                    .collect_view();
                let note = format!(
                    "Over {} runs with {}{}.",
                    a.runs,
                    a.metric,
                    if a.truncated { " (the first 10,000 runs the filter keeps)" } else { "" }
                );
                view! {
                    <table class="grid importance" id="importance">
                        <thead><tr><th>"Param"</th><th title="Its share of what a random forest explains">"Importance"</th>
                            <th title="Pearson's r with the metric">"Correlation"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    <p class="muted">{note}</p>
                }
                .into_any()
            }
        }
    };
    let scatter = Signal::derive(move || {
        let (fx, key) = (picked.get(), metric.get());
        (!fx.is_empty() && !key.is_empty()).then(|| runs.with(|runs| scatter_figure(runs, &fx, &key)))
    });
    view! {
        <div class="analysis-grid">
            <figure class="chart-card">
                <figcaption>
                    <span>"Parameter importance for "</span>
                    <select id="importance-metric" prop:value=move || metric.get()
                        on:change=move |ev| on_metric.run(event_target_value(&ev))>
                        {move || {
                            let chosen = metric.get();
                            metrics.get().into_iter().map(|k| view! { <option value=k.clone() selected=k == chosen>{k.clone()}</option> }).collect_view()
                        }}
                    </select>
                </figcaption>
                {table}
            </figure>
            <figure class="chart-card" id="importance-scatter-card">
                <figcaption>{move || match picked.get() {
                    f if f.is_empty() => "Click a param to see it against the metric".to_string(),
                    f => format!("{f} against {}", metric.get()),
                }}</figcaption>
                <Show when=move || !picked.get().is_empty()>
                    <Chart id="importance-scatter" figure=scatter />
                </Show>
            </figure>
        </div>
    }
}

/// One point per run: a param (numbers, or words in their order) against a
/// metric's latest value, in the run's colour, named on hover.
pub fn scatter_figure(runs: &[ChartRun], field: &str, metric: &str) -> Figure {
    let points: Vec<ScatterPoint> = runs
        .iter()
        .filter_map(|r| {
            Some(ScatterPoint {
                run: r.name.clone(),
                x: r.fields.get(field)?.clone(),
                y: *r.latest.get(&format!("metrics.{metric}"))?,
                series: r.name.clone(),
                color: r.color.clone(),
                more: None,
            })
        })
        .collect();
    scatter(&points, field, metric)
}
