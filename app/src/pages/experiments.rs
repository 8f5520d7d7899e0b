//! `/`: the experiments list: search by name, run counts, last activity;
//! create, rename, delete and restore.

use super::Loaded;
use crate::components::status::{Write, WriteErrors};
use crate::format::format_time;
use crate::server_fns::{
    create_experiment, list_experiments, rename_experiment, set_experiment_deleted, ExperimentRow,
};
use leptos::prelude::*;
use leptos_router::components::A;
use tracking::LifecycleStage;

#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let (new_name, set_new_name) = signal(String::new());
    // Writes: the list reloads whenever one lands.
    let errors = WriteErrors::new();
    let create = errors.watch(Action::new(move |name: &String| create_experiment(name.clone())));
    let rename =
        errors.watch(Action::new(move |(id, name): &(String, String)| rename_experiment(id.clone(), name.clone())));
    let delete =
        errors.watch(Action::new(move |(id, deleted): &(String, bool)| set_experiment_deleted(id.clone(), *deleted)));
    let experiments = Resource::new(
        move || (create.version().get(), rename.version().get(), delete.version().get()),
        |_| list_experiments(),
    );
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            set_new_name.set(String::new());
        }
    });
    let on_create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked();
        if !name.trim().is_empty() {
            create.dispatch(name);
        }
    };
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Experiments"</h1>
                <input
                    id="experiment-search"
                    type="search"
                    placeholder="Search experiments by name"
                    prop:value=query
                    on:input=move |ev| set_query.set(event_target_value(&ev))
                />
                <form class="inline-form" on:submit=on_create>
                    <input
                        id="new-experiment"
                        placeholder="New experiment name"
                        prop:value=new_name
                        on:input=move |ev| set_new_name.set(event_target_value(&ev))
                    />
                    <button type="submit">"Create"</button>
                </form>
            </div>
            {errors.view()}
            <Loaded what="experiments" data=experiments let:list>
                {
                            view! {
                                <ExperimentTable
                                    list
                                    query
                                    rename
                                    delete
                                />
                            }
                                .into_any()
                }
            </Loaded>
        </section>
    }
}

#[component]
fn ExperimentTable(
    list: Vec<ExperimentRow>,
    query: ReadSignal<String>,
    rename: Write<(String, String)>,
    delete: Write<(String, bool)>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No experiments yet. Log a run with the mlflow client to create one."</p> }
            .into_any();
    }
    let rows = move || {
        let q = query.get().to_lowercase();
        list.iter()
            .filter(|r| {
                let e = &r.experiment;
                q.is_empty()
                    || e.name.to_lowercase().contains(&q)
                    || e.tags.iter().any(|t| !t.key.starts_with("mlflow.") && t.value.to_lowercase().contains(&q))
            })
            .map(|r| {
                let e = r.experiment.clone();
                let deleted = e.lifecycle_stage == LifecycleStage::Deleted;
                let id = e.experiment_id.clone();
                let (id_rename, id_delete) = (id.clone(), id.clone());
                let current = e.name.clone();
                let rename = move |_| {
                    let Some(name) = window().prompt_with_message_and_default("New name", &current).ok().flatten()
                    else {
                        return;
                    };
                    rename.dispatch((id_rename.clone(), name));
                };
                let toggle = move |_| {
                    delete.dispatch((id_delete.clone(), !deleted));
                };
                let name = e.name.clone();
                let about = summary(&e).map(|text| view! { <div class="muted experiment-summary">{text}</div> });
                let tag_chips = chips(&e);
                view! {
                    <tr class:deleted=deleted data-experiment-id=id.clone()>
                        <td class="name">
                            <A href=format!("/experiments/{id}")>{name}</A>
                            {about}
                            {tag_chips}
                        </td>
                        <td class="num">{id.clone()}</td>
                        <td class="num">{r.runs}</td>
                        <td>{r.last_run_start.map(format_time).unwrap_or_else(|| "–".into())}</td>
                        <td>{format_time(e.creation_time)}</td>
                        <td>{if deleted { "deleted" } else { "active" }}</td>
                        <td class="actions">
                            {r.may_update.then(|| view! { <button class="link" on:click=rename>"Rename"</button> })}
                            // The Default experiment (id 0) cannot be deleted: no button offers it.
                            {(id != "0" && r.may_delete)
                                .then(|| {
                                    view! {
                                        <button class="link" on:click=toggle>
                                            {if deleted { "Restore" } else { "Delete" }}
                                        </button>
                                    }
                                })}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <table class="grid" id="experiments">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"ID"</th>
                    <th>"Runs"</th>
                    <th>"Last run"</th>
                    <th>"Created"</th>
                    <th>"State"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The first line of an experiment's description (Markdown marks left
/// out), cut to a line's length.
fn summary(e: &tracking::Experiment) -> Option<String> {
    let note = e.tags.iter().find(|t| t.key == tracking::tags::NOTE)?;
    let line = note.value.lines().map(|l| l.trim().trim_start_matches('#').trim()).find(|l| !l.is_empty())?;
    let plain: String = line.chars().filter(|c| !matches!(c, '*' | '`' | '_')).collect();
    Some(if plain.chars().count() > 120 {
        format!("{}…", plain.chars().take(119).collect::<String>())
    } else {
        plain
    })
}

/// An experiment's own tags (not MLflow's) as chips.
fn chips(e: &tracking::Experiment) -> Option<impl IntoView> {
    let own: Vec<_> = e.tags.iter().filter(|t| !t.key.starts_with("mlflow.")).collect();
    (!own.is_empty()).then(|| {
        let items = own
            .into_iter()
            .map(|t| view! { <span class="tag-chip"><span class="muted">{t.key.clone()}</span> " " {t.value.clone()}</span> })
            .collect_view();
        view! { <div class="tag-chips">{items}</div> }
    })
}
