//! Model pages: `/models` (registered models), `/models/{name}` (its
//! description, aliases and tags, all editable, and its versions beside
//! their source runs' metrics), `/models/{name}/versions/{v}` (the version,
//! editable, its source run and its MLmodel), and `/logged-models/{id}`
//! (a logged model's info from its MLmodel file).

use super::{Loaded, ServerError};
use crate::columns::{format_in_column, ColumnStats};
use crate::components::editable::{AliasEditor, EditableMarkdown, TagEditor, Write};
use crate::components::mlmodel::MlModel;
use crate::format::{encode, format_size, format_time};
use crate::server_fns::registry::{
    delete_model_alias, delete_model_tag, delete_version, delete_version_tag, set_model_alias, set_model_description,
    set_model_tag, set_version_description, set_version_tag,
};
use crate::server_fns::{
    list_registered_models, logged_model_page, model_page, version_page, ModelDetails, ModelFiles, RunLink,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::collections::BTreeMap;

#[component]
pub fn ModelsPage() -> impl IntoView {
    let models = Resource::new(|| (), |_| list_registered_models());
    view! {
        <section class="page">
            <div class="page-head"><h1>"Registered models"</h1></div>
            <Loaded what="models" data=models let:loaded>
                {match loaded {
                        list if list.is_empty() => view! {
                            <p class="empty">
                                "No registered models yet. Register one with mlflow.register_model(\"runs:/<run_id>/model\", \"name\")."
                            </p>
                        }.into_any(),
                        list => view! {
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
                }}
            </Loaded>
        </section>
    }
}

/// The model page's writes, made once; the page reloads when one lands.
#[derive(Clone, Copy)]
struct ModelWrites {
    describe: Write<String>,
    set_tag: Write<(String, String)>,
    delete_tag: Write<String>,
    set_alias: Write<(String, String)>,
    delete_alias: Write<String>,
    delete_version: Write<String>,
}

impl ModelWrites {
    fn new(name: impl Fn() -> String + Copy + Send + Sync + 'static) -> Self {
        ModelWrites {
            describe: Action::new(move |text: &String| set_model_description(name(), text.clone())),
            set_tag: Action::new(move |(k, v): &(String, String)| set_model_tag(name(), k.clone(), v.clone())),
            delete_tag: Action::new(move |k: &String| delete_model_tag(name(), k.clone())),
            set_alias: Action::new(move |(a, v): &(String, String)| set_model_alias(name(), a.clone(), v.clone())),
            delete_alias: Action::new(move |a: &String| delete_model_alias(name(), a.clone())),
            delete_version: Action::new(move |v: &String| delete_version(name(), v.clone())),
        }
    }

    /// Moves whenever a write has landed: what the page's data hangs on.
    fn landed(&self) -> [usize; 6] {
        [
            self.describe.version().get(),
            self.set_tag.version().get(),
            self.delete_tag.version().get(),
            self.set_alias.version().get(),
            self.delete_alias.version().get(),
            self.delete_version.version().get(),
        ]
    }
}

/// Source-run metrics shown beside the versions: those most versions'
/// runs have, at most this many.
const VERSION_METRICS: usize = 4;

#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let name_now = move || params.read_untracked().get("name").unwrap_or_default();
    let writes = ModelWrites::new(name_now);
    let data = Resource::new(move || (name(), writes.landed()), |(name, _)| model_page(name));
    // The version whose delete button was pressed: asked to confirm in its row.
    let confirming = RwSignal::new(None::<String>);
    view! {
        <section class="page">
            <Loaded what="model" data let:p>
                {model_view(p, writes, confirming)}
            </Loaded>
        </section>
    }
}

fn model_view(p: ModelDetails, writes: ModelWrites, confirming: RwSignal<Option<String>>) -> impl IntoView {
    let m = p.model;
    let name = m.name.clone();
    let tags: Vec<(String, String)> = m.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    let aliases: Vec<(String, String)> = m.aliases.iter().map(|a| (a.alias.clone(), a.version.clone())).collect();
    let numbers: Vec<String> = p.versions.iter().map(|(v, _, _)| v.version.clone()).collect();
    // The metrics most source runs have, in key order among equals.
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for (_, _, metrics) in &p.versions {
        for k in metrics.keys() {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut keys: Vec<(&String, usize)> = counts.into_iter().collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.1));
    let keys: Vec<String> = keys.into_iter().take(VERSION_METRICS).map(|(k, _)| k.clone()).collect();
    let stats: Vec<ColumnStats> = keys
        .iter()
        .map(|k| {
            let values: Vec<f64> = p.versions.iter().filter_map(|(_, _, m)| m.get(k).copied()).collect();
            crate::columns::stats(k, &values, true)
        })
        .collect();
    let metric_heads = keys
        .iter()
        .map(|k| view! { <th class="num" title="The source run's latest value">{k.clone()}</th> })
        .collect_view();
    let rows = p
        .versions
        .into_iter()
        .map(|(v, run, metrics)| {
            let href = format!("/models/{}/versions/{}", encode(&name), v.version);
            let cells = keys
                .iter()
                .zip(&stats)
                .map(|(k, st)| match metrics.get(k) {
                    Some(x) => {
                        let best = st.best == Some(*x);
                        view! { <td class="num" class:best=best title=x.to_string()>{format_in_column(*x, st.decimals)}</td> }.into_any()
                    }
                    None => view! { <td class="num muted">"–"</td> }.into_any(),
                })
                .collect_view();
            let number = v.version.clone();
            let (ask, yes) = (number.clone(), number.clone());
            let asking = move || confirming.get().as_deref() == Some(number.as_str());
            view! {
                <tr data-version=v.version.clone()>
                    <td><A href=href>{format!("v{}", v.version)}</A></td>
                    <td>{format_time(v.creation_timestamp)}</td>
                    <td>{v.aliases.iter().map(|a| format!("@{a}")).collect::<Vec<_>>().join(" ")}</td>
                    <td class="source-run">{run_cell(run, v.run_id.clone())}</td>
                    {cells}
                    <td>{v.description.clone().unwrap_or_default()}</td>
                    <td class="actions">
                        <Show when=asking.clone() fallback=move || {
                            let ask = ask.clone();
                            view! { <button class="link delete-version" on:click=move |_| confirming.set(Some(ask.clone()))>"Delete"</button> }
                        }>
                            {
                                let yes = yes.clone();
                                view! {
                                    <span class="confirm">
                                        {format!("Delete v{yes}? ")}
                                        <button class="danger confirm-delete" on:click={
                                            let yes = yes.clone();
                                            move |_| { confirming.set(None); writes.delete_version.dispatch(yes.clone()); }
                                        }>"Delete"</button>
                                        " "
                                        <button class="link" on:click=move |_| confirming.set(None)>"Keep"</button>
                                    </span>
                                }
                            }
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let failed_delete = move || match writes.delete_version.value().get() {
        Some(Err(e)) => Some(view! { <ServerError error=e /> }),
        _ => None,
    };
    view! {
        <div class="page-head">
            <h1><A href="/models">"Models"</A> " / " <span id="model-name">{m.name.clone()}</span></h1>
        </div>
        <div class="overview">
            <div class="main-col">
                <h2>"Description"</h2>
                <EditableMarkdown id="model-description" text=m.description.clone().unwrap_or_default() save=writes.describe />
                <h2>"Versions"</h2>
                {failed_delete}
                <table class="grid" id="versions">
                    <thead><tr>
                        <th>"Version"</th><th>"Registered"</th><th>"Aliases"</th><th>"Source run"</th>
                        {metric_heads}
                        <th>"Description"</th><th></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <aside class="side-col">
                <h3>"Aliases"</h3>
                <AliasEditor aliases versions=numbers set=writes.set_alias delete=writes.delete_alias />
                <h3>"Tags"</h3>
                <TagEditor id="model-tags" tags set=writes.set_tag delete=writes.delete_tag />
            </aside>
        </div>
    }
}

/// A version page's writes; the page reloads when one lands.
#[derive(Clone, Copy)]
struct VersionWrites {
    describe: Write<String>,
    set_tag: Write<(String, String)>,
    delete_tag: Write<String>,
}

#[component]
pub fn VersionPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || (params.read().get("name").unwrap_or_default(), params.read().get("version").unwrap_or_default());
    let now = move || {
        let p = params.read_untracked();
        (p.get("name").unwrap_or_default(), p.get("version").unwrap_or_default())
    };
    let writes = VersionWrites {
        describe: Action::new(move |text: &String| {
            let (n, v) = now();
            set_version_description(n, v, text.clone())
        }),
        set_tag: Action::new(move |(k, value): &(String, String)| {
            let (n, v) = now();
            set_version_tag(n, v, k.clone(), value.clone())
        }),
        delete_tag: Action::new(move |k: &String| {
            let (n, v) = now();
            delete_version_tag(n, v, k.clone())
        }),
    };
    let landed =
        move || [writes.describe.version().get(), writes.set_tag.version().get(), writes.delete_tag.version().get()];
    let data = Resource::new(move || (key(), landed()), |((n, v), _)| version_page(n, v));
    view! {
        <section class="page">
            <Loaded what="model version" data=data let:p>
                {
                            let v = p.version;
                            let run = run_cell(p.source_run, v.run_id.clone());
                            let tags: Vec<(String, String)> = v.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                            let files_base = format!(
                                "/model-versions/get-artifact?name={}&version={}&path=",
                                encode(&v.name),
                                encode(&v.version)
                            );
                            // Stages are deprecated in MLflow: shown only when one was set.
                            let stage = (v.current_stage != "None" && !v.current_stage.is_empty())
                                .then(|| view! { <tr><th>"Stage (deprecated)"</th><td>{v.current_stage.clone()}</td></tr> });
                            view! {
                                <div class="page-head">
                                    <h1>
                                        <A href="/models">"Models"</A> " / "
                                        <A href=format!("/models/{}", encode(&v.name))>{v.name.clone()}</A>
                                        " / " <span id="version-title">{format!("v{}", v.version)}</span>
                                    </h1>
                                </div>
                                <div class="overview">
                                    <div class="main-col">
                                        <h2>"Description"</h2>
                                        <EditableMarkdown id="version-description" text=v.description.clone().unwrap_or_default() save=writes.describe />
                                        <ModelInfo files=p.files files_base />
                                    </div>
                                    <aside class="side-col">
                                        <table class="kv" id="version-info"><tbody>
                                            <tr><th>"Registered"</th><td>{format_time(v.creation_timestamp)}</td></tr>
                                            {stage}
                                            <tr><th>"Status"</th><td>{v.status.clone()}</td></tr>
                                            <tr><th>"Aliases"</th><td>{v.aliases.iter().map(|a| format!("@{a}")).collect::<Vec<_>>().join(" ")}</td></tr>
                                            <tr><th>"Source run"</th><td id="source-run">{run}</td></tr>
                                            <tr><th>"Logged model"</th><td>{v.model_id.clone().map(|id| view! { <A href=format!("/logged-models/{id}")>{id.clone()}</A> })}</td></tr>
                                            <tr><th>"Source"</th><td class="mono wrap">{v.source.clone().unwrap_or_default()}</td></tr>
                                        </tbody></table>
                                        <h3>"Tags"</h3>
                                        <TagEditor id="version-tags" tags set=writes.set_tag delete=writes.delete_tag />
                                    </aside>
                                </div>
                            }.into_any()
                }
            </Loaded>
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
            <Loaded what="model" data=data let:p>
                {
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
                                <ModelInfo files=p.files files_base=format!("/ajax-api/2.0/mlflow/logged-models/{}/artifacts/files?artifact_file_path=", encode(&i.model_id)) />
                            }.into_any()
                }
            </Loaded>
        </section>
    }
}

/// A model's MLmodel summary, requirements and files; each file is a
/// link to `{files_base}{path}`.
#[component]
fn ModelInfo(files: ModelFiles, #[prop(into)] files_base: String) -> impl IntoView {
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
            <ul class="files" id="model-files">
                {files.files.iter().map(|f| if f.is_dir {
                    view! { <li class="muted">{format!("{}/", f.path)}</li> }.into_any()
                } else {
                    let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
                    view! {
                        <li>
                            <a href=format!("{files_base}{}", encode(&f.path)) download=name>{f.path.clone()}</a>
                            {format!(" ({})", f.file_size.map(format_size).unwrap_or_default())}
                        </li>
                    }.into_any()
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
