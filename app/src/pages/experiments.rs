//! `/`: the experiments list.

use crate::server_fns::list_experiments;
use leptos::prelude::*;
use tracking::{Experiment, LifecycleStage};

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM` (UTC), the same on
/// server and client so that hydration matches.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let experiments = Resource::new(|| (), |_| list_experiments());
    let (query, set_query) = signal(String::new());
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
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading experiments…"</p> }>
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <p class="error">
                            {move || {
                                errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")
                            }}
                        </p>
                    }
                }>
                    {move || Suspend::new(async move {
                        experiments.await.map(|list| view! { <ExperimentTable list query /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn ExperimentTable(list: Vec<Experiment>, query: ReadSignal<String>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No experiments yet. Log a run with the mlflow client to create one."</p> }
            .into_any();
    }
    let rows = move || {
        let q = query.get().to_lowercase();
        list.iter()
            .filter(|e| q.is_empty() || e.name.to_lowercase().contains(&q))
            .map(|e| {
                let deleted = e.lifecycle_stage == LifecycleStage::Deleted;
                view! {
                    <tr class:deleted=deleted>
                        <td class="name">{e.name.clone()}</td>
                        <td class="num">{e.experiment_id.clone()}</td>
                        <td>{format_time(e.creation_time)}</td>
                        <td>{format_time(e.last_update_time)}</td>
                        <td>{if deleted { "deleted" } else { "active" }}</td>
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
                    <th>"Created"</th>
                    <th>"Last update"</th>
                    <th>"State"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00");
        assert_eq!(super::format_time(1_795_441_234_555), "2026-11-23 13:40");
    }
}
