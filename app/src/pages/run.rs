//! `/experiments/{id}/runs/{run_id}`: the run page. Tabs (overview,
//! charts, artifacts) and chart settings live in the URL; the artifact
//! browser's file is the path after `/artifacts/`.

use super::Loaded;
use crate::charts::{smooth, Chart, Trace};
use crate::components::artifacts::{artifact_resources, ArtifactBrowser, PreviewData, RootListing};
use crate::components::chart_settings::{chart_settings, ChartControls, ChartSettings, XAxis};
use crate::components::markdown::markdown;
use crate::components::status::WriteErrors;
use crate::format::{encode, format_duration, format_time, format_value};
use crate::server_fns::CHART_POINTS;
use crate::server_fns::{delete_run_tag, metric_series, run_page, set_run_tag, RunDetails};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};
use tracking::{tags, MetricSummary, RunStatus};

#[component]
pub fn RunPageView() -> impl IntoView {
    let params = use_params_map();
    let run_id = move || params.read().get("run_id").unwrap_or_default();
    let data = Resource::new(run_id, run_page);
    let location = use_location();
    let on_artifacts = move || location.pathname.with(|p| p.ends_with("/artifacts") || p.contains("/artifacts/"));
    let selected = Signal::derive(move || params.read().get("path").filter(|p| !p.is_empty()));
    let (root, preview) = artifact_resources(run_id, on_artifacts, selected);
    view! {
        <section class="page wide">
            <Loaded what="run" data let:page>
                <RunView page refetch=move || data.refetch() root preview />
            </Loaded>
        </section>
    }
}

#[component]
fn RunView(
    page: RunDetails,
    refetch: impl Fn() + Copy + Send + Sync + 'static,
    root: RootListing,
    preview: PreviewData,
) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let run = page.run.clone();
    let run_id = run.info.run_id.clone();
    let exp_id = run.info.experiment_id.clone();
    let base = format!("/experiments/{exp_id}/runs/{run_id}");
    let artifact_path = Signal::derive(move || params.read().get("path").filter(|p| !p.is_empty()));
    let location = use_location();
    let tab = Memo::new(move |_| {
        let on_artifacts = location.pathname.with(|p| p.ends_with("/artifacts") || p.contains("/artifacts/"));
        if on_artifacts || params.read().get("path").is_some() {
            "artifacts".to_string()
        } else {
            query.read().get("tab").unwrap_or_else(|| "overview".into())
        }
    });
    let tab_link = |name: &'static str, label: &'static str| {
        let href = match name {
            "overview" => base.clone(),
            "artifacts" => format!("{base}/artifacts"),
            other => format!("{base}?tab={other}"),
        };
        view! {
            <A href=href attr:class=move || if tab.get() == name { "tab active" } else { "tab" } attr:id=format!("tab-{name}")>
                {label}
            </A>
        }
    };
    let is_artifacts = Memo::new(move |_| tab.get() == "artifacts");
    let title = run.info.run_name.clone();
    // What moves while the run logs: status, end time, metric summaries.
    // Refetched (at most twice a second) when the run's events arrive;
    // the rest of the page stays as it is (an open editor keeps its text).
    let live_page = RwSignal::new(page.clone());
    let live = crate::live::provide_live(vec![], vec![run_id.clone()]);
    let refresh = crate::live::debounced(500, {
        let rid = run_id.clone();
        move || {
            let rid = rid.clone();
            spawn_local(async move {
                if let Ok(fresh) = run_page(rid).await {
                    live_page.try_set(fresh);
                }
            });
        }
    });
    live.on(move |_| refresh());
    let status = Memo::new(move |_| live_page.with(|p| p.run.info.status));
    let page_for_overview = page.clone();
    let summaries = Signal::derive(move || live_page.with(|p| p.metrics.clone()));
    let rid_charts = run_id.clone();
    let rid_art = run_id.clone();
    let exp_art = exp_id.clone();
    view! {
        <div class="page-head">
            <h1>
                <A href="/">"Experiments"</A>
                " / "
                <A href=format!("/experiments/{exp_id}")>{page.experiment_name.clone()}</A>
                " / "
                <span id="run-name">{title}</span>
            </h1>
            <span id="run-status" class=move || format!("status {}", status.get().as_str().to_lowercase())>
                {move || status.get().as_str().to_lowercase()}
            </span>
            <crate::live::LiveBadge />
        </div>
        <nav class="tabs">
            {tab_link("overview", "Overview")}
            {tab_link("charts", "Charts")}
            {tab_link("artifacts", "Artifacts")}
        </nav>
        <Show when=move || tab.get() == "overview">
            <Overview page=page_for_overview.clone() live_page refetch />
        </Show>
        <Show when=move || tab.get() == "charts">
            <RunCharts run_id=rid_charts.clone() metrics=summaries color=page.color.clone()
                stopped=Signal::derive(move || matches!(status.get(), RunStatus::Failed | RunStatus::Killed)) />
        </Show>
        <Show when=move || is_artifacts.get()>
            <ArtifactBrowser run_id=rid_art.clone() experiment_id=exp_art.clone() selected=artifact_path root preview />
        </Show>
    }
    .into_any()
}

#[component]
fn Overview(
    page: RunDetails,
    live_page: RwSignal<RunDetails>,
    refetch: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let run = page.run.clone();
    let info = run.info.clone();
    let tag = |k: &str| run.data.tags.iter().find(|t| t.key == k).map(|t| t.value.clone());
    let note = tag(tags::NOTE).unwrap_or_default();
    let (editing, set_editing) = signal(false);
    let (draft, set_draft) = signal(note.clone());
    let (param_query, set_param_query) = signal(String::new());
    let (metric_query, set_metric_query) = signal(String::new());
    let (new_key, set_new_key) = signal(String::new());
    let (new_value, set_new_value) = signal(String::new());
    // Writes; the page reloads once one lands, and says a failure in a sentence.
    let errors = WriteErrors::new();
    let rid = info.run_id.clone();
    let (r1, r2, r3) = (rid.clone(), rid.clone(), rid);
    let note_write =
        errors.watch(Action::new(move |text: &String| set_run_tag(r1.clone(), tags::NOTE.into(), text.clone())));
    let tag_write =
        errors.watch(Action::new(move |(k, v): &(String, String)| set_run_tag(r2.clone(), k.clone(), v.clone())));
    let untag_write = errors.watch(Action::new(move |k: &String| delete_run_tag(r3.clone(), k.clone())));
    Effect::new(move |_| {
        if matches!(note_write.value().get(), Some(Ok(()))) {
            set_editing.set(false);
        }
    });
    // Any write that lands reloads the page's data.
    Effect::new(move |seen: Option<[usize; 3]>| {
        let landed = [note_write.version().get(), tag_write.version().get(), untag_write.version().get()];
        if seen.is_some_and(|s| s != landed) {
            refetch();
        }
        landed
    });
    let save_note = move |_| {
        note_write.dispatch(draft.get_untracked());
    };
    let add_tag = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (k, v) = (new_key.get_untracked(), new_value.get_untracked());
        if !k.trim().is_empty() {
            tag_write.dispatch((k.trim().to_string(), v));
        }
    };
    let user_tags: Vec<_> = run.data.tags.iter().filter(|t| !t.key.starts_with("mlflow.")).cloned().collect();
    let tag_rows = user_tags
        .into_iter()
        .map(|t| {
            let key = t.key.clone();
            let remove = move |_| {
                untag_write.dispatch(key.clone());
            };
            view! {
                <tr>
                    <td class="mono">{t.key.clone()}</td>
                    <td>{t.value.clone()}</td>
                    <td><button class="link" on:click=remove>"Remove"</button></td>
                </tr>
            }
        })
        .collect_view();
    let params = run.data.params.clone();
    let param_rows = move || {
        let q = param_query.get().to_lowercase();
        params
            .iter()
            .filter(|p| q.is_empty() || p.key.to_lowercase().contains(&q) || p.value.to_lowercase().contains(&q))
            .map(|p| view! { <tr><td class="mono">{p.key.clone()}</td><td>{p.value.clone()}</td></tr> })
            .collect_view()
    };
    // A metric's name opens its chart on the Charts tab.
    let charts_href = format!("/experiments/{}/runs/{}?tab=charts", info.experiment_id, info.run_id);
    let metric_rows = move || {
        let q = metric_query.get().to_lowercase();
        live_page.with(|p| {
            p.metrics
                .iter()
                .filter(|m| q.is_empty() || m.key.to_lowercase().contains(&q))
                .map(|m| metric_row(m, &charts_href))
                .collect_view()
        })
    };
    let live_info = move || live_page.with(|p| p.run.info.clone());
    let duration = move || {
        let info = live_info();
        info.end_time.map(|e| format_duration(e.saturating_sub(info.start_time))).unwrap_or_else(|| "–".into())
    };
    let parent = page.parent.clone().map(|p| {
        view! { <A href=format!("/experiments/{}/runs/{}", p.experiment_id, p.run_id)>{p.name}</A> }
    });
    let children = page
        .children
        .clone()
        .into_iter()
        .map(|c| view! { <li><A href=format!("/experiments/{}/runs/{}", c.experiment_id, c.run_id)>{c.name.clone()}</A></li> })
        .collect_view();
    let datasets = run
        .inputs
        .dataset_inputs
        .iter()
        .map(|d| {
            let context =
                d.tags.iter().find(|t| t.key == tags::DATASET_CONTEXT).map(|t| t.value.clone()).unwrap_or_default();
            view! {
                <tr>
                    <td>{d.dataset.name.clone()}</td>
                    <td class="mono">{d.dataset.digest.clone()}</td>
                    <td>{context}</td>
                    <td class="wrap" title=d.dataset.source.clone()>
                        <span class="muted">{d.dataset.source_type.clone()} " "</span>
                        <span class="mono">{dataset_source(&d.dataset.source)}</span>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let models = page
        .logged_models
        .clone()
        .into_iter()
        .map(|m| {
            view! {
                <li>
                    <A href=format!("/logged-models/{}", m.info.model_id)>{m.info.name.clone()}</A>
                    <span class="muted">" " {m.info.model_id.clone()} " · " {m.info.status.label()}</span>
                </li>
            }
        })
        .collect_view();
    let registered = page
        .registered
        .clone()
        .into_iter()
        .map(|v| {
            view! {
                <li>
                    <A href=format!("/models/{}/versions/{}", encode(&v.name), v.version)>
                        {format!("{} v{}", v.name, v.version)}
                    </A>
                </li>
            }
        })
        .collect_view();
    let status = move || live_info().status;
    view! {
        {errors.view()}
        <div class="overview">
            <div class="main-col">
                <h2>"Description"</h2>
                <Show
                    when=move || editing.get()
                    fallback={
                        let note = note.clone();
                        move || {
                            let note = note.clone();
                            view! {
                                <div class="markdown" id="description">
                                    {if note.is_empty() {
                                        view! { <p class="muted">"No description."</p> }.into_any()
                                    } else {
                                        markdown(&note).into_any()
                                    }}
                                </div>
                                <button class="link" id="edit-description" on:click=move |_| set_editing.set(true)>"Edit"</button>
                            }
                        }
                    }
                >
                    <textarea
                        id="description-editor"
                        rows="6"
                        prop:value=draft
                        on:input=move |ev| set_draft.set(event_target_value(&ev))
                    ></textarea>
                    <div class="row">
                        <button on:click=save_note id="save-description">"Save"</button>
                        <button class="link" on:click=move |_| set_editing.set(false)>"Cancel"</button>
                    </div>
                </Show>
                <h2>"Metrics"</h2>
                <input type="search" placeholder="Search metrics" prop:value=metric_query
                    on:input=move |ev| set_metric_query.set(event_target_value(&ev)) />
                <table class="grid" id="metrics-table">
                    <thead><tr><th>"Metric"</th><th>"Latest"</th><th>"Min"</th><th>"Max"</th><th>"Steps"</th></tr></thead>
                    <tbody>{metric_rows}</tbody>
                </table>
                <h2>"Parameters"</h2>
                <input type="search" id="param-search" placeholder="Search parameters" prop:value=param_query
                    on:input=move |ev| set_param_query.set(event_target_value(&ev)) />
                <table class="grid" id="params-table">
                    <thead><tr><th>"Parameter"</th><th>"Value"</th></tr></thead>
                    <tbody>{param_rows}</tbody>
                </table>
                <h2>"Datasets"</h2>
                {if run.inputs.dataset_inputs.is_empty() {
                    view! { <p class="muted">"No dataset inputs."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid" id="datasets">
                            <thead><tr><th>"Name"</th><th>"Digest"</th><th>"Context"</th><th>"Source"</th></tr></thead>
                            <tbody>{datasets}</tbody>
                        </table>
                    }.into_any()
                }}
            </div>
            <aside class="side-col">
                <table class="kv" id="run-info"><tbody>
                    <tr><th>"Run ID"</th><td class="mono">{info.run_id.clone()}</td></tr>
                    <tr><th>"Status"</th><td>{move || status().as_str().to_lowercase()}{move || (status() == RunStatus::Running).then_some(" (still logging)")}</td></tr>
                    <tr><th>"Started"</th><td>{format_time(info.start_time)}</td></tr>
                    <tr><th>"Ended"</th><td>{move || live_info().end_time.map(format_time).unwrap_or_else(|| "–".into())}</td></tr>
                    <tr><th>"Duration"</th><td>{duration}</td></tr>
                    <tr><th>"User"</th><td>{info.user_id.clone()}</td></tr>
                    // Rows with nothing to say are left out.
                    {tag(tags::SOURCE_NAME).map(|s| view! { <tr><th>"Source"</th><td class="mono wrap">{s}</td></tr> })}
                    {tag(tags::GIT_COMMIT).map(|c| view! { <tr><th>"Git commit"</th><td class="mono">{c}</td></tr> })}
                    <tr><th>"Artifacts"</th><td class="mono wrap">{info.artifact_uri.clone()}</td></tr>
                    {parent.map(|p| view! { <tr><th>"Parent run"</th><td>{p}</td></tr> })}
                </tbody></table>
                {(!page.children.is_empty()).then(|| view! { <h3>"Child runs"</h3> <ul id="child-runs">{children}</ul> })}
                {(!page.logged_models.is_empty()).then(|| view! { <h3>"Logged models"</h3> <ul id="logged-models">{models}</ul> })}
                {(!page.registered.is_empty()).then(|| view! { <h3>"Registered as"</h3> <ul id="registered-versions">{registered}</ul> })}
                <h3>"Tags"</h3>
                <table class="grid" id="tags-table"><tbody>{tag_rows}</tbody></table>
                <form class="inline-form" on:submit=add_tag id="add-tag">
                    <input placeholder="key" prop:value=new_key on:input=move |ev| set_new_key.set(event_target_value(&ev)) />
                    <input placeholder="value" prop:value=new_value on:input=move |ev| set_new_value.set(event_target_value(&ev)) />
                    <button type="submit">"Add tag"</button>
                </form>
            </aside>
        </div>
    }
    .into_any()
}

fn metric_row(m: &MetricSummary, charts_href: &str) -> impl IntoView {
    let opt = |v: Option<f64>| v.map(format_value).unwrap_or_else(|| "–".into());
    // Metrics logged once have no chart (a value tile there instead).
    let key = if m.count > 1 {
        let (href, name) = (format!("{charts_href}&metric={}", encode(&m.key)), m.key.clone());
        view! { <A href=href>{name}</A> }.into_any()
    } else {
        m.key.clone().into_any()
    };
    view! {
        <tr data-metric=m.key.clone()>
            <td class="mono">{key}</td>
            <td class="num" title=m.latest.to_string()>{format_value(m.latest)}</td>
            <td class="num">{opt(m.min)}</td>
            <td class="num">{opt(m.max)}</td>
            <td class="num">{m.count}</td>
        </tr>
    }
}

/// The run's metrics: one chart per metric with a history, in the run's
/// own colour, and a value tile for each metric logged once (a chart of
/// one point would be empty axes). Live: a metric's second point turns its
/// tile into a chart, and a new metric adds its chart, without redrawing
/// the charts already there.
#[component]
fn RunCharts(
    run_id: String,
    metrics: Signal<Vec<MetricSummary>>,
    color: String,
    /// Failed or killed: lines dashed, with an × where they end.
    stopped: Signal<bool>,
) -> impl IntoView {
    let settings = chart_settings();
    let (run_id, color) = (StoredValue::new(run_id), StoredValue::new(color));
    let single = Memo::new(move |_| metrics.with(|m| m.iter().filter(|m| m.count <= 1).cloned().collect::<Vec<_>>()));
    let series = Memo::new(move |_| {
        metrics.with(|m| m.iter().filter(|m| m.count > 1).map(|m| m.key.clone()).collect::<Vec<_>>())
    });
    let tiles = move || {
        let single = single.get();
        (!single.is_empty()).then(|| {
            let tiles = single
                .into_iter()
                .map(|m| {
                    view! {
                        <div class="value-tile" data-metric=m.key.clone()>
                            <span class="mono">{m.key.clone()}</span>
                            <strong title=m.latest.to_string()>{crate::format::format_value(m.latest)}</strong>
                            <span class="muted">{format!("step {}", m.step)}</span>
                        </div>
                    }
                })
                .collect_view();
            view! { <div class="value-tiles" id="value-tiles">{tiles}</div> }
        })
    };
    view! {
        <Show when=move || metrics.with(|m| !m.is_empty()) fallback=|| view! { <p class="empty">"This run has no metrics."</p> }>
            {tiles}
            <ChartControls settings />
            <div class="chart-grid">
                <For
                    each=move || series.get().into_iter().enumerate()
                    key=|(_, k)| k.clone()
                    children=move |(i, key)| {
                        view! { <MetricChart run_id=run_id.get_value() key index=i color=color.get_value() settings stopped /> }
                    }
                />
            </div>
        </Show>
    }
}

#[component]
fn MetricChart(
    run_id: String,
    key: String,
    index: usize,
    color: String,
    settings: Memo<ChartSettings>,
    stopped: Signal<bool>,
) -> impl IntoView {
    let (rid, k) = (run_id.clone(), key.clone());
    // Opened from the overview's metric name (`?metric=`): this chart is
    // scrolled to and marked.
    let card = NodeRef::<leptos::html::Figure>::new();
    let wanted = use_query_map().read_untracked().get("metric").is_some_and(|m| m == key);
    Effect::new(move |_| {
        if let (true, Some(el)) = (wanted, card.get()) {
            el.scroll_into_view();
        }
    });
    // Chart data loads in the browser only: charts are drawn there, and the
    // server's render does not wait for it.
    // Zooming in on steps fetches that range again at full detail.
    let (zoom, set_zoom) = signal(None::<(i64, i64)>);
    let loaded = LocalResource::new(move || {
        let range = zoom.get();
        let request =
            metric_series(vec![rid.clone()], k.clone(), range.map(|r| r.0), range.map(|r| r.1), CHART_POINTS, true);
        crate::fetch_slots::in_turn(request)
    });
    let on_zoom = Callback::new(move |range: Option<(f64, f64)>| {
        if settings.get_untracked().x == XAxis::Step {
            set_zoom.set(range.map(|(a, b)| (a.floor() as i64, b.ceil() as i64)));
        }
    });
    // Points logged while the page is open are appended in place.
    let rid = run_id.clone();
    let series = crate::live::live_series(
        Signal::stored(key.clone()),
        Signal::derive(move || loaded.get().and_then(|r| r.ok())),
        move |r| r == rid,
        CHART_POINTS / 2,
        move || loaded.refetch(),
    );
    let k = key.clone();
    let figure = Signal::derive(move || {
        let s = settings.get();
        let data = series.get()?;
        let one = data.into_iter().next()?;
        let start = one.times.first().copied().unwrap_or(0);
        let mut traces = Vec::new();
        let x = s.x.values(&one.steps, &one.times, start);
        if s.smooth > 0.0 {
            traces.push(Trace {
                name: "raw".into(),
                x: x.clone(),
                y: one.values.clone(),
                color: format!("{color}55"),
                ..Default::default()
            });
        }
        traces.push(Trace {
            name: k.clone(),
            x,
            y: smooth(&one.values, s.smooth),
            color: color.clone(),
            width: 2.0,
            dash: stopped.get(),
            ..Default::default()
        });
        traces.extend(crate::charts::end_marks(&traces));
        Some(s.figure(traces, &k))
    });
    let total = move || series.get().and_then(|d| d.first().map(|s| (s.total, s.steps.len())));
    let id = format!("chart-{index}");
    view! {
        <figure class="chart-card" class:focused=wanted data-metric=key.clone() node_ref=card>
            <figcaption>
                <span class="mono">{key.clone()}</span>
                <span class="muted">
                    {move || total().map(|(t, shown)| if t > shown { format!("{t} points, {shown} drawn") } else { format!("{t} points") })}
                </span>
            </figcaption>
            <Chart id figure on_zoom />
        </figure>
    }
}

/// Where a dataset's source points, as MLflow keeps it (JSON).
#[derive(serde::Deserialize)]
struct SourcePlace {
    uri: Option<String>,
    url: Option<String>,
    path: Option<String>,
    table_name: Option<String>,
    location: Option<String>,
}

/// A dataset's source as people read it: MLflow keeps it as JSON
/// (`{"url": "s3://…"}`, `{"uri": …}`, `{"path": …}`); the place it names,
/// else the text as it is.
pub fn dataset_source(source: &str) -> String {
    serde_json::from_str::<SourcePlace>(source)
        .ok()
        .and_then(|p| p.uri.or(p.url).or(p.path).or(p.table_name).or(p.location))
        .unwrap_or_else(|| source.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_dataset_source_reads_as_the_place_it_names() {
        use super::dataset_source;
        assert_eq!(dataset_source(r#"{"url": "s3://bucket/train.parquet"}"#), "s3://bucket/train.parquet");
        assert_eq!(dataset_source(r#"{"path": "/data/x.csv", "tags": {"a": 1}}"#), "/data/x.csv");
        assert_eq!(dataset_source(r#"{"name": "x"}"#), r#"{"name": "x"}"#);
        assert_eq!(dataset_source("plain text"), "plain text");
    }
}
