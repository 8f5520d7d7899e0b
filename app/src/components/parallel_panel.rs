//! The parallel-coordinates panel, drawn as SVG (plotly's parcoords
//! needs WebGL, which headless and many remote or virtual desktops lack):
//! an axis per param that varies and per metric, a line per run in its
//! group's colour or on a metric's scale. Dragging along an axis brushes
//! runs; a click on an axis clears its brush. The brushes go to
//! `on_brush` (the chart view keeps them in the URL and draws only the
//! runs they keep).

use crate::aggregate::{compare_labels, Grouping, NONE_LABEL};
use crate::charts::color;
use crate::format::format_value;
use crate::parallel::{axes, kept_by, Axis, Brush};
use crate::server_fns::ChartRun;
use leptos::prelude::*;
use std::collections::BTreeSet;

const WIDTH: f64 = 1200.0;
const HEIGHT: f64 = 360.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;

fn axis_x(i: usize, n: usize) -> f64 {
    if n < 2 {
        return WIDTH / 2.0;
    }
    LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / (n - 1) as f64
}

fn to_y(a: &Axis, v: f64) -> f64 {
    let (lo, hi) = a.range;
    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    TOP + (1.0 - t.clamp(0.0, 1.0)) * (HEIGHT - TOP - BOTTOM)
}

fn from_y(a: &Axis, y: f64) -> f64 {
    let (lo, hi) = a.range;
    let t = 1.0 - (y - TOP) / (HEIGHT - TOP - BOTTOM);
    lo + t.clamp(0.0, 1.0) * (hi - lo)
}

/// An axis's ticks: round numbers, categories or decades, and "none".
fn ticks(a: &Axis) -> Vec<(f64, String)> {
    a.tick_values.iter().copied().zip(a.tick_text.iter().cloned()).collect()
}

/// Lines of runs without the colour field are grey, not the scale's low end.
const NO_VALUE_COLOR: &str = "#9ca3af";

/// Viridis, from five of its stops: dark for low values, yellow for high.
fn viridis(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) * 4.0 } else { 0.0 };
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The y of a mouse event in the SVG's own units.
#[cfg(all(feature = "hydrate", target_family = "wasm"))]
fn svg_y(svg: &leptos::web_sys::SvgElement, client_y: f64) -> Option<f64> {
    use wasm_bindgen::JsCast;
    let rect = js_sys::Reflect::get(svg, &"getBoundingClientRect".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?
        .call0(svg)
        .ok()?;
    let num = |k: &str| js_sys::Reflect::get(&rect, &k.into()).ok().and_then(|v| v.as_f64());
    let (top, height) = (num("top")?, num("height")?);
    (height > 0.0).then(|| (client_y - top) * HEIGHT / height)
}

#[cfg(not(all(feature = "hydrate", target_family = "wasm")))]
fn svg_y(_: &leptos::web_sys::SvgElement, _: f64) -> Option<f64> {
    None
}

#[component]
pub fn ParallelPanel(
    #[prop(into)] id: String,
    runs: Memo<Vec<ChartRun>>,
    #[prop(into)] grouping: Signal<Grouping>,
    #[prop(into)] brushes: Signal<Vec<Brush>>,
    /// The field whose value colours the lines (the first metric by default).
    #[prop(into)]
    color_by: Signal<String>,
    on_color: Callback<String>,
    on_brush: Callback<Vec<Brush>>,
    /// The axes to show (`params.…`, `metrics.…`); empty: every param
    /// that varies, then the metrics.
    #[prop(optional)]
    fields: Vec<String>,
) -> impl IntoView {
    let shown = Memo::new(move |_| {
        runs.with(|runs| {
            let (params, metrics) = if fields.is_empty() {
                let params: BTreeSet<&String> =
                    runs.iter().flat_map(|r| r.fields.keys()).filter(|k| k.starts_with("params.")).collect();
                let metrics: BTreeSet<&String> = runs.iter().flat_map(|r| r.latest.keys()).collect();
                (params.into_iter().cloned().collect::<Vec<_>>(), metrics.into_iter().cloned().collect::<Vec<_>>())
            } else {
                fields.iter().cloned().partition(|f| !f.starts_with("metrics."))
            };
            let mut a = axes(runs.len(), |r, f| runs[r].value(f), &params, &metrics);
            brushes.with(|bs| {
                for axis in &mut a {
                    axis.constraint = bs.iter().find(|b| b.field() == axis.field).and_then(|b| b.constraint(axis));
                }
            });
            a
        })
    });
    // Each run's colour: its group's, or its place on the colour axis.
    let colors = Memo::new(move |_| {
        let g = grouping.get();
        runs.with(|runs| {
            if !g.field.is_empty() {
                let label = |r: &ChartRun| r.fields.get(&g.field).cloned().unwrap_or_else(|| NONE_LABEL.into());
                let mut labels: Vec<String> = runs.iter().map(label).collect();
                labels.sort_by(|a, b| compare_labels(a, b));
                labels.dedup();
                return (
                    runs.iter()
                        .map(|r| color(labels.iter().position(|l| *l == label(r)).unwrap_or(0)))
                        .collect::<Vec<_>>(),
                    None,
                );
            }
            let by = color_by.get();
            shown.with(|axes| {
                let axis = axes
                    .iter()
                    .find(|a| a.field == by)
                    .or_else(|| axes.iter().find(|a| a.field.starts_with("metrics.")))
                    .or(axes.last());
                match axis {
                    Some(a) => {
                        // The scale spans the values runs have, not the "none" slot.
                        let (lo, hi) = a.data_range;
                        let t = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        let paint = |v: &f64| {
                            if v.is_finite() && *v >= lo {
                                viridis(t(*v))
                            } else {
                                NO_VALUE_COLOR.to_string()
                            }
                        };
                        (a.values.iter().map(paint).collect(), Some(a.clone()))
                    }
                    None => (runs.iter().map(|r| r.color.clone()).collect(), None),
                }
            })
        })
    });
    let svg = NodeRef::<leptos::svg::Svg>::new();
    // The drag under way: the axis and where it started and is now.
    let (drag, set_drag) = signal(None::<(usize, f64, f64)>);
    let finish = move |axis: usize, from: f64, to: f64| {
        let axes = shown.get_untracked();
        let Some(a) = axes.get(axis) else { return };
        let mut next: Vec<Brush> = brushes.get_untracked().into_iter().filter(|b| b.field() != a.field).collect();
        if (to - from).abs() >= 3.0 {
            let (v1, v2) = (from_y(a, from), from_y(a, to));
            next.push(Brush::on_axis(a, v1.min(v2), v1.max(v2)));
        }
        on_brush.run(next);
    };
    let lines = move || {
        let axes = shown.get();
        let (colors, _) = colors.get();
        let bs = brushes.get();
        runs.with(|runs| {
            let n = axes.len();
            let mut out: Vec<(bool, AnyView)> = runs
                .iter()
                .enumerate()
                .filter_map(|(r, run)| {
                    let points: Vec<String> = axes
                        .iter()
                        .enumerate()
                        .filter(|(_, a)| a.values[r].is_finite())
                        .map(|(i, a)| format!("{:.1},{:.1}", axis_x(i, n), to_y(a, a.values[r])))
                        .collect();
                    // A run with a value on no axis is not drawn.
                    if points.is_empty() {
                        return None;
                    }
                    let picked = bs.is_empty() || kept_by(&bs, |f| run.value(f));
                    let stroke = if picked { colors[r].clone() } else { "#a1a1aa".to_string() };
                    let line = view! {
                        <polyline class="pc-line" class:faded=!picked data-run-id=run.run_id.clone()
                            points=points.join(" ") stroke=stroke>
                            <title>{run.name.clone()}</title>
                        </polyline>
                    }
                    .into_any();
                    Some((picked, line))
                })
                .collect();
            // Picked runs on top of the faded ones.
            out.sort_by_key(|(picked, _)| *picked);
            out.into_iter().map(|(_, v)| v).collect_view()
        })
    };
    let axes_view = move || {
        let axes = shown.get();
        let n = axes.len();
        axes.iter()
            .enumerate()
            .map(|(i, a)| {
                let x = axis_x(i, n);
                let tick_marks = ticks(a)
                    .into_iter()
                    .map(|(v, text)| {
                        let y = to_y(a, v);
                        view! {
                            <line x1=x - 4.0 x2=x y1=y y2=y class="pc-tick" />
                            <text x=x - 7.0 y=y + 4.0 text-anchor="end" class="pc-tick-text">{text}</text>
                        }
                    })
                    .collect_view();
                let label: String = if a.label.chars().count() > 22 {
                    format!("{}…", a.label.chars().take(21).collect::<String>())
                } else {
                    a.label.clone()
                };
                let brush = a.constraint.map(|(lo, hi)| {
                    let (y1, y2) = (to_y(a, hi), to_y(a, lo));
                    view! { <rect class="pc-brush" x=x - 7.0 width="14" y=y1 height=(y2 - y1).max(2.0) /> }
                });
                let start = move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    if let Some(y) = svg.get_untracked().and_then(|s| svg_y(&s, ev.client_y() as f64)) {
                        set_drag.set(Some((i, y, y)));
                    }
                };
                view! {
                    <g class="pc-axis" data-field=a.field.clone()>
                        <line x1=x x2=x y1=TOP y2=HEIGHT - BOTTOM class="pc-axis-line" />
                        {tick_marks}
                        <text x=x y=TOP - 18.0 text-anchor="middle" class="pc-label">
                            {label}<title>{a.field.clone()}</title>
                        </text>
                        {brush}
                        <rect class="pc-hit" x=x - 12.0 width="24" y=TOP - 6.0 height=HEIGHT - TOP - BOTTOM + 12.0
                            on:mousedown=start />
                    </g>
                }
            })
            .collect_view()
    };
    let drag_view = move || {
        drag.get().map(|(i, from, to)| {
            let x = axis_x(i, shown.with_untracked(Vec::len));
            view! { <rect class="pc-brush dragging" x=x - 7.0 width="14" y=from.min(to) height=(to - from).abs().max(1.0) /> }
        })
    };
    let moving = move |ev: leptos::ev::MouseEvent| {
        if let Some((i, from, _)) = drag.get_untracked() {
            if let Some(y) = svg.get_untracked().and_then(|s| svg_y(&s, ev.client_y() as f64)) {
                set_drag.set(Some((i, from, y.clamp(TOP, HEIGHT - BOTTOM))));
            }
        }
    };
    let release = move |_| {
        if let Some((i, from, to)) = drag.get_untracked() {
            set_drag.set(None);
            finish(i, from, to);
        }
    };
    let scale = move || {
        colors.get().1.map(|a| {
            let (lo, hi) = a.data_range;
            let text = match a.kind {
                crate::parallel::AxisKind::Log => {
                    format!("{}: {} → {}", a.label, format_value(10f64.powf(lo)), format_value(10f64.powf(hi)))
                }
                crate::parallel::AxisKind::Categories(ref c) => format!(
                    "{}: {} → {}",
                    a.label,
                    c.first().cloned().unwrap_or_default(),
                    c.last().cloned().unwrap_or_default()
                ),
                crate::parallel::AxisKind::Linear => {
                    format!("{}: {} → {}", a.label, format_value(lo), format_value(hi))
                }
            };
            view! { <span class="pc-scale"><span class="pc-gradient"></span>{text}</span> }
        })
    };
    let empty = move || shown.with(|a| a.len() < 2);
    let color_options = move || {
        shown.with(|axes| {
            axes.iter().map(|a| view! { <option value=a.field.clone()>{a.field.clone()}</option> }).collect_view()
        })
    };
    view! {
        <figure class="chart-card wide-chart parallel-card" id=id>
            <figcaption>
                <span>"Parallel coordinates"</span>
                <span class="muted">"drag along an axis to pick runs; click an axis to let go"</span>
                {scale}
                <Show when=move || grouping.with(|g| g.field.is_empty())>
                    <label>
                        "Colour by "
                        <select class="parallel-color" prop:value=move || color_by.get()
                            on:change=move |ev| on_color.run(event_target_value(&ev))>
                            <option value="">"first metric"</option>
                            {color_options}
                        </select>
                    </label>
                </Show>
            </figcaption>
            <Show when=move || !empty() fallback=|| view! {
                <p class="empty chart-empty">"No param varies and no metric is logged across these runs."</p>
            }>
                <svg node_ref=svg class="parallel" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                    on:mousemove=moving on:mouseup=release on:mouseleave=release>
                    <g class="pc-lines">{lines}</g>
                    {axes_view}
                    {drag_view}
                </svg>
            </Show>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_colour_scale_runs_from_dark_to_yellow() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
        assert_eq!(viridis(f64::NAN), "#440154");
        let rows = [("0", "0.5"), ("1", "0.61"), ("2", "")];
        let value = |r: usize, f: &str| {
            let (depth, acc) = rows[r];
            Some(if f == "params.depth" { depth } else { acc }.to_string()).filter(|v| !v.is_empty())
        };
        let a = crate::parallel::axes(3, value, &["params.depth".into()], &["metrics.acc".into()]);
        assert_eq!(ticks(&a[0]).into_iter().map(|t| t.1).collect::<Vec<_>>(), ["0", "1", "2"]);
        assert_eq!(ticks(&a[1]).into_iter().map(|t| t.1).collect::<Vec<_>>(), ["none", "0.50", "0.55", "0.60", "0.65"]);
        let a = Axis { range: (0.0, 10.0), ..Default::default() };
        assert_eq!(to_y(&a, 10.0), TOP);
        assert!((from_y(&a, to_y(&a, 2.5)) - 2.5).abs() < 1e-9);
    }
}
