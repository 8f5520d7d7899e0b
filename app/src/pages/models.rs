//! Model pages: `/models` (registered models), `/models/{name}` (versions,
//! aliases, stages, tags, description), `/models/{name}/versions/{v}` (the
//! version, its source run and its MLmodel), and `/logged-models/{id}`
//! (a logged model's info from its MLmodel file).

use super::artifacts::MlModel;
use super::{error_sentence, ErrorNote, Loading};
use crate::format::{encode, format_size, format_time};
use crate::server_fns::{list_registered_models, logged_model_page, model_page, version_page, ModelFiles, RunLink};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ModelsPage() -> impl IntoView {
    let models = Resource::new(|| (), |_| list_registered_models());
    view! {
        <section class="page">
            <div class="page-head"><h1>"Registered models"</h1></div>
            <Transition fallback=|| view! { <Loading what="models" /> }>
                {move || Suspend::new(async move {
                    match models.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">
                                "No registered models yet. Register one with mlflow.register_model(\"runs:/<run_id>/model\", \"name\")."
                            </p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="grid" id="models">
                                <thead><tr><th>"Name"</th><th>"Latest version"</th><th>"Aliases"</th><th>"Updated"</th><th>"Description"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| {
                                        let latest = m.latest_versions.iter().map(|v| v.version.parse::<i64>().unwrap_or(0)).max();
                                        let aliases = m.aliases.iter().map(|a| format!("@{} → v{}", a.alias, a.version)).collect::<Vec<_>>().join(", ");
                                        view! {
                                            <tr>
                                                <td class="name"><A href=format!("/models/{}", encode(&m.name))>{m.name.clone()}</A></td>
                                                <td class="num">{latest.map(|v| format!("v{v}")).unwrap_or_else(|| "–".into())}</td>
                                                <td>{aliases}</td>
                                                <td>{format_time(m.last_updated_timestamp)}</td>
                                                <td>{m.description.clone().unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, model_page);
    view! {
        <section class="page">
            <Transition fallback=|| view! { <Loading what="model" /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) => {
                            let m = p.model;
                            let name = m.name.clone();
                            view! {
                                <div class="page-head">
                                    <h1><A href="/models">"Models"</A> " / " <span id="model-name">{m.name.clone()}</span></h1>
                                </div>
                                <p class="description">{m.description.clone().unwrap_or_else(|| "No description.".into())}</p>
                                <div class="chips">
                                    {m.aliases.iter().map(|a| view! { <span class="chip alias">{format!("@{} → v{}", a.alias, a.version)}</span> }).collect_view()}
                                    {m.tags.iter().map(|t| view! { <span class="chip">{format!("{}: {}", t.key, t.value)}</span> }).collect_view()}
                                </div>
                                <h2>"Versions"</h2>
                                <table class="grid" id="versions">
                                    <thead><tr><th>"Version"</th><th>"Registered"</th><th>"Stage"</th><th>"Aliases"</th><th>"Source run"</th><th>"Tags"</th><th>"Description"</th></tr></thead>
                                    <tbody>
                                        {p.versions.into_iter().map(|(v, run)| {
                                            let href = format!("/models/{}/versions/{}", encode(&name), v.version);
                                            view! {
                                                <tr>
                                                    <td><A href=href>{format!("v{}", v.version)}</A></td>
                                                    <td>{format_time(v.creation_timestamp)}</td>
                                                    <td>{v.current_stage.clone()}</td>
                                                    <td>{v.aliases.iter().map(|a| format!("@{a}")).collect::<Vec<_>>().join(" ")}</td>
                                                    <td class="source-run">{run_cell(run, v.run_id.clone())}</td>
                                                    <td>{v.tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect::<Vec<_>>().join(", ")}</td>
                                                    <td>{v.description.clone().unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn VersionPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || (params.read().get("name").unwrap_or_default(), params.read().get("version").unwrap_or_default());
    let data = Resource::new(key, |(n, v)| version_page(n, v));
    view! {
        <section class="page">
            <Transition fallback=|| view! { <Loading what="model version" /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) => {
                            let v = p.version;
                            let run = run_cell(p.source_run, v.run_id.clone());
                            view! {
                                <div class="page-head">
                                    <h1>
                                        <A href="/models">"Models"</A> " / "
                                        <A href=format!("/models/{}", encode(&v.name))>{v.name.clone()}</A>
                                        " / " <span id="version-title">{format!("v{}", v.version)}</span>
                                    </h1>
                                </div>
                                <table class="kv" id="version-info"><tbody>
                                    <tr><th>"Registered"</th><td>{format_time(v.creation_timestamp)}</td></tr>
                                    <tr><th>"Stage"</th><td>{v.current_stage.clone()}</td></tr>
                                    <tr><th>"Status"</th><td>{v.status.clone()}</td></tr>
                                    <tr><th>"Aliases"</th><td>{v.aliases.iter().map(|a| format!("@{a}")).collect::<Vec<_>>().join(" ")}</td></tr>
                                    <tr><th>"Source run"</th><td id="source-run">{run}</td></tr>
                                    <tr><th>"Logged model"</th><td>{v.model_id.clone().map(|id| view! { <A href=format!("/logged-models/{id}")>{id.clone()}</A> })}</td></tr>
                                    <tr><th>"Source"</th><td class="mono wrap">{v.source.clone().unwrap_or_default()}</td></tr>
                                    <tr><th>"Description"</th><td>{v.description.clone().unwrap_or_default()}</td></tr>
                                    <tr><th>"Tags"</th><td>{v.tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect::<Vec<_>>().join(", ")}</td></tr>
                                </tbody></table>
                                <ModelInfo files=p.files />
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn LoggedModelView() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("model_id").unwrap_or_default();
    let data = Resource::new(id, logged_model_page);
    view! {
        <section class="page">
            <Transition fallback=|| view! { <Loading what="model" /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) => {
                            let i = p.model.info;
                            let run = run_cell(p.source_run, i.source_run_id.clone());
                            view! {
                                <div class="page-head">
                                    <h1><span id="logged-model-name">{i.name.clone()}</span></h1>
                                    <span class="muted">"Logged model"</span>
                                </div>
                                <table class="kv" id="logged-model-info"><tbody>
                                    <tr><th>"Model ID"</th><td class="mono">{i.model_id.clone()}</td></tr>
                                    <tr><th>"Status"</th><td>{i.status.label()}</td></tr>
                                    <tr><th>"Created"</th><td>{format_time(i.creation_timestamp_ms)}</td></tr>
                                    <tr><th>"Source run"</th><td>{run}</td></tr>
                                    <tr><th>"Type"</th><td>{i.model_type.clone().unwrap_or_default()}</td></tr>
                                    <tr><th>"Params"</th><td>{p.model.data.params.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect::<Vec<_>>().join(", ")}</td></tr>
                                    <tr><th>"Metrics"</th><td>{p.model.data.metrics.iter().map(|m| format!("{}={}", m.key, crate::format::format_value(m.value))).collect::<Vec<_>>().join(", ")}</td></tr>
                                </tbody></table>
                                <ModelInfo files=p.files />
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNote message=error_sentence(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A model's MLmodel summary, requirements and files.
#[component]
fn ModelInfo(files: ModelFiles) -> impl IntoView {
    view! {
        <h2>"Model"</h2>
        <p class="muted mono wrap">{files.artifact_uri.clone()}</p>
        {match files.mlmodel.clone() {
            Some(text) => view! { <MlModel text /> }.into_any(),
            None => view! { <p class="muted">"No MLmodel file is stored for this model on this server."</p> }.into_any(),
        }}
        {files.requirements.clone().map(|r| view! { <h3>"Requirements"</h3> <pre class="code" id="requirements">{r}</pre> })}
        {(!files.files.is_empty()).then(|| view! {
            <h3>"Files"</h3>
            <ul class="files">
                {files.files.iter().map(|f| view! {
                    <li>{f.path.clone()}{if f.is_dir { "/".to_string() } else { format!(" ({})", f.file_size.map(format_size).unwrap_or_default()) }}</li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// A source run as a link by its name, or its id when the run is not in
/// this store (a version registered from another server's run).
fn run_cell(run: Option<RunLink>, run_id: Option<String>) -> impl IntoView {
    match run {
        Some(r) => view! {
            <A href=format!("/experiments/{}/runs/{}", r.experiment_id, r.run_id)>{r.name}</A>
        }
        .into_any(),
        None => view! { <span class="mono">{run_id.unwrap_or_default()}</span> }.into_any(),
    }
}
