//! Live pages: one Server-Sent Events stream per page
//! (`/ajax-api/2.0/mltrack/events`, filtered on the server to the page's
//! runs or experiments), whose events the page's parts apply in place:
//! charts append the new points ([`live_series`]), tables and headers
//! refetch what they show, at most a few times a second ([`debounced`]).
//!
//! The browser reconnects by itself and the server resumes from the last
//! event id; when the server says `resync` (it restarted, or the page fell
//! too far behind) every part refetches. A badge shows the stream's state.

use crate::server_fns::Series;
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LivePoint {
    pub key: String,
    /// `None`: NaN or an infinity (a gap in the line).
    pub value: Option<f64>,
    pub timestamp: i64,
    pub step: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunChange {
    Created,
    Updated,
    Deleted,
    Restored,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Metrics {
        run_id: String,
        experiment_id: String,
        points: Vec<LivePoint>,
    },
    /// A large batch, announced by key only: refetch these keys of the run.
    MetricsRange {
        run_id: String,
        experiment_id: String,
        keys: Vec<String>,
    },
    Run {
        run_id: String,
        experiment_id: String,
        change: RunChange,
    },
    Experiment {
        experiment_id: String,
    },
    /// Refetch everything shown: some changes were missed.
    Resync,
}

impl LiveEvent {
    /// The event named `name` with JSON `data`, as the server sends it.
    pub fn parse(name: &str, data: &str) -> Option<LiveEvent> {
        #[derive(Deserialize)]
        struct Wire<M> {
            #[serde(default)]
            run_id: String,
            #[serde(default)]
            experiment_id: String,
            #[serde(default = "Vec::new")]
            metrics: Vec<M>,
        }
        #[derive(Deserialize)]
        struct Range {
            key: String,
        }
        if name == "resync" {
            return Some(LiveEvent::Resync);
        }
        if name == "metrics_range" {
            let w: Wire<Range> = serde_json::from_str(data).ok()?;
            let keys = w.metrics.into_iter().map(|r| r.key).collect();
            return Some(LiveEvent::MetricsRange { run_id: w.run_id, experiment_id: w.experiment_id, keys });
        }
        let w: Wire<LivePoint> = serde_json::from_str(data).ok()?;
        let run =
            |change| Some(LiveEvent::Run { run_id: w.run_id.clone(), experiment_id: w.experiment_id.clone(), change });
        match name {
            "metrics" => {
                Some(LiveEvent::Metrics { run_id: w.run_id, experiment_id: w.experiment_id, points: w.metrics })
            }
            "run_created" => run(RunChange::Created),
            "run_updated" => run(RunChange::Updated),
            "run_deleted" => run(RunChange::Deleted),
            "run_restored" => run(RunChange::Restored),
            "experiment_updated" => Some(LiveEvent::Experiment { experiment_id: w.experiment_id }),
            _ => None,
        }
    }
}

/// The names of the events the server sends.
pub const EVENT_NAMES: [&str; 9] = [
    "ready",
    "metrics",
    "metrics_range",
    "run_created",
    "run_updated",
    "run_deleted",
    "run_restored",
    "experiment_updated",
    "resync",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    Reconnecting,
}

type Handlers = Vec<(u64, Callback<LiveEvent>)>;

/// A page's live stream: its state and the handlers its parts registered.
#[derive(Clone, Copy)]
pub struct Live {
    pub state: ReadSignal<LiveState>,
    handlers: StoredValue<Handlers>,
    next: StoredValue<u64>,
}

impl Live {
    /// Calls `f` with every event while the calling component lives.
    pub fn on(&self, f: impl Fn(LiveEvent) + Send + Sync + 'static) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.handlers.update_value(|h| h.push((id, Callback::new(f))));
        let handlers = self.handlers;
        on_cleanup(move || {
            handlers.try_update_value(|h| h.retain(|(i, _)| *i != id));
        });
    }

    #[cfg_attr(not(all(feature = "hydrate", target_family = "wasm")), allow(dead_code))]
    fn dispatch(handlers: StoredValue<Handlers>, event: LiveEvent) {
        let callbacks: Vec<Callback<LiveEvent>> =
            handlers.try_with_value(|h| h.iter().map(|(_, c)| *c).collect()).unwrap_or_default();
        for c in callbacks {
            c.run(event.clone());
        }
    }
}

/// Opens the page's stream (in the browser; on the server it only makes
/// the state the first render shows) for the changes to these experiments
/// and runs, and provides it to the page's parts as context.
pub fn provide_live(experiment_ids: Vec<String>, run_ids: Vec<String>) -> Live {
    let (state, set_state) = signal(LiveState::Connecting);
    let live = Live { state, handlers: StoredValue::new(Vec::new()), next: StoredValue::new(0) };
    let mut query: Vec<String> =
        experiment_ids.iter().map(|e| format!("experiment_id={}", crate::format::encode(e))).collect();
    query.extend(run_ids.iter().map(|r| format!("run_id={}", crate::format::encode(r))));
    let url = format!("/ajax-api/2.0/mltrack/events?{}", query.join("&"));
    #[cfg(all(feature = "hydrate", target_family = "wasm"))]
    {
        let source = StoredValue::new_local(None::<wasm_bindgen::JsValue>);
        let handlers = live.handlers;
        Effect::new(move |_| stream::open(url.clone(), String::new(), set_state, handlers, source));
        on_cleanup(move || stream::close(source));
    }
    #[cfg(not(all(feature = "hydrate", target_family = "wasm")))]
    let _ = (url, set_state);
    provide_context(live);
    live
}

/// The page's stream, when it has one.
pub fn use_live() -> Option<Live> {
    use_context::<Live>()
}

#[cfg(all(feature = "hydrate", target_family = "wasm"))]
mod stream {
    use super::{Handlers, Live, LiveEvent, LiveState, EVENT_NAMES};
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        js_sys::Reflect::get(target, &key.into()).ok()
    }

    fn listen(target: &JsValue, name: &str, f: impl FnMut(JsValue) + 'static) {
        let Some(add) = get(target, "addEventListener").and_then(|f| f.dyn_into::<js_sys::Function>().ok()) else {
            return;
        };
        let handler = Closure::<dyn FnMut(JsValue)>::new(f);
        let _ = add.call2(target, &name.into(), handler.as_ref().unchecked_ref());
        // Lives as long as its EventSource, which outlives this call.
        handler.forget();
    }

    /// An `EventSource` on `url` (resuming after `last_id` when the browser
    /// gave up and this reopens it) whose events go to `handlers`.
    pub fn open(
        url: String,
        last_id: String,
        set_state: WriteSignal<LiveState>,
        handlers: StoredValue<Handlers>,
        source: StoredValue<Option<JsValue>, LocalStorage>,
    ) {
        let window: JsValue = window().into();
        let Some(ctor) = get(&window, "EventSource").and_then(|c| c.dyn_into::<js_sys::Function>().ok()) else {
            return;
        };
        let full = if last_id.is_empty() { url.clone() } else { format!("{url}&last_event_id={last_id}") };
        let Ok(es) = js_sys::Reflect::construct(&ctor, &js_sys::Array::of1(&full.into())) else { return };
        let last = std::rc::Rc::new(std::cell::RefCell::new(last_id));
        for name in EVENT_NAMES {
            let last = last.clone();
            listen(&es, name, move |ev| {
                if let Some(id) = get(&ev, "lastEventId").and_then(|v| v.as_string()).filter(|s| !s.is_empty()) {
                    *last.borrow_mut() = id;
                }
                let data = get(&ev, "data").and_then(|d| d.as_string()).unwrap_or_default();
                if let Some(event) = LiveEvent::parse(name, &data) {
                    Live::dispatch(handlers, event);
                }
            });
        }
        listen(&es, "open", move |_| set_state.set(LiveState::Live));
        let (es_for_error, url_again) = (es.clone(), url);
        listen(&es, "error", move |_| {
            set_state.set(LiveState::Reconnecting);
            // readyState 2: the browser gave up (the server answered an
            // error, say while restarting); reopen it a little later.
            if get(&es_for_error, "readyState").and_then(|s| s.as_f64()) == Some(2.0) {
                let (url, last) = (url_again.clone(), last.borrow().clone());
                set_timeout(
                    move || {
                        if source.try_with_value(|s| s.is_some()).unwrap_or(false) {
                            open(url, last, set_state, handlers, source);
                        }
                    },
                    std::time::Duration::from_secs(2),
                );
            }
        });
        close(source);
        source.set_value(Some(es));
    }

    pub fn close(source: StoredValue<Option<JsValue>, LocalStorage>) {
        if let Some(Some(es)) = source.try_with_value(|s| s.clone()) {
            if let Some(f) = get(&es, "close").and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
                let _ = f.call0(&es);
            }
        }
    }
}

/// `f` run once, `ms` after the first of a burst of calls: how a part
/// refetches on events without refetching for every one of them.
pub fn debounced(ms: u64, f: impl Fn() + Send + Sync + 'static) -> impl Fn() + Clone + Send + Sync + 'static {
    let pending = StoredValue::new(false);
    let f = Callback::new(move |()| f());
    move || {
        if pending.try_get_value().unwrap_or(true) {
            return;
        }
        pending.set_value(true);
        set_timeout(
            move || {
                if pending.try_set_value(false).is_none() {
                    f.run(());
                }
            },
            std::time::Duration::from_millis(ms),
        );
    }
}

/// A chart's series with the points that arrived live since it loaded:
/// each point of metric `key` (the one the chart shows now) for a run that `accepts` is appended (after the
/// last point the load had, in step order). Once more than `refetch_after`
/// points were appended, `reload` runs, so that a long series is again
/// downsampled by the server as on its first load; a resync reloads too.
pub fn live_series(
    key: Signal<String>,
    base: Signal<Option<Vec<Series>>>,
    accepts: impl Fn(&str) -> bool + Send + Sync + 'static,
    refetch_after: usize,
    reload: impl Fn() + Send + Sync + 'static,
) -> Signal<Option<Vec<Series>>> {
    let arrived = RwSignal::new(Vec::<(String, LivePoint)>::new());
    // What the last load had: only later points are appended, and the
    // points a reload brought are dropped from `arrived`.
    Effect::new(move |_| {
        if let Some(data) = base.get() {
            let key = key.get_untracked();
            arrived.update(|a| a.retain(|(run, p)| p.key == key && is_after_load(&data, run, p)));
        }
    });
    if let Some(live) = use_live() {
        let reload = Callback::new(move |()| reload());
        let reload_soon = debounced(300, move || reload.run(()));
        live.on(move |event| match event {
            LiveEvent::MetricsRange { run_id, keys, .. } if accepts(&run_id) && keys.contains(&key.get_untracked()) => {
                reload_soon();
            }
            LiveEvent::Metrics { run_id, points, .. } if accepts(&run_id) => {
                let key = key.get_untracked();
                let new: Vec<(String, LivePoint)> =
                    points.into_iter().filter(|p| p.key == key).map(|p| (run_id.clone(), p)).collect();
                if new.is_empty() {
                    return;
                }
                let count = arrived.try_update(|a| {
                    a.extend(new);
                    a.len()
                });
                if count.is_some_and(|n| n > refetch_after) {
                    reload.run(());
                }
            }
            LiveEvent::Resync => reload.run(()),
            _ => {}
        });
    }
    Signal::derive(move || {
        let mut data = base.get()?;
        let key = key.get();
        arrived.with(|a| {
            let same: Vec<(String, LivePoint)> = a.iter().filter(|(_, p)| p.key == key).cloned().collect();
            append_points(&mut data, &same)
        });
        Some(data)
    })
}

fn is_after_load(data: &[Series], run: &str, p: &LivePoint) -> bool {
    match data.iter().find(|s| s.run_id == run) {
        Some(s) => match (s.steps.last(), s.times.last()) {
            (Some(step), Some(time)) => (p.step, p.timestamp) > (*step, *time),
            // Loaded without wall times (a chart by step).
            (Some(step), None) => p.step > *step,
            _ => true,
        },
        None => true,
    }
}

/// Adds the points after each series' last one, in (step, time) order;
/// a run without a series yet gets one.
pub fn append_points(data: &mut Vec<Series>, arrived: &[(String, LivePoint)]) {
    let mut sorted: Vec<&(String, LivePoint)> = arrived.iter().collect();
    sorted.sort_by_key(|(_, p)| (p.step, p.timestamp));
    for (run, p) in sorted {
        if !is_after_load(data, run, p) {
            continue;
        }
        let i = match data.iter().position(|s| &s.run_id == run) {
            Some(i) => i,
            None => {
                data.push(Series { run_id: run.clone(), steps: vec![], times: vec![], values: vec![], total: 0 });
                data.len() - 1
            }
        };
        let s = &mut data[i];
        if s.times.len() == s.steps.len() {
            s.times.push(p.timestamp);
        }
        s.steps.push(p.step);
        s.values.push(p.value);
        s.total += 1;
    }
}

/// "live", "connecting" or "reconnecting…": whether the page moves by itself.
#[component]
pub fn LiveBadge() -> impl IntoView {
    let state = use_live().map(|l| l.state);
    let label = move || match state.map(|s| s.get()) {
        Some(LiveState::Live) => "live",
        Some(LiveState::Reconnecting) => "reconnecting…",
        _ => "connecting…",
    };
    let attr = move || match state.map(|s| s.get()) {
        Some(LiveState::Live) => "live",
        Some(LiveState::Reconnecting) => "reconnecting",
        _ => "connecting",
    };
    view! {
        <span class="live-badge" id="live-badge" data-live=attr title="This page updates by itself as runs log.">
            <span class="dot"></span>
            {label}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(run: &str, steps: &[i64]) -> Series {
        Series {
            run_id: run.into(),
            steps: steps.to_vec(),
            times: steps.to_vec(),
            values: steps.iter().map(|s| Some(*s as f64)).collect(),
            total: steps.len(),
        }
    }

    fn point(step: i64) -> LivePoint {
        LivePoint { key: "loss".into(), value: Some(step as f64), timestamp: step, step }
    }

    #[test]
    fn events_parse_as_the_server_writes_them() {
        let m = LiveEvent::parse(
            "metrics",
            r#"{"run_id":"r","experiment_id":"1","metrics":[{"key":"loss","value":null,"timestamp":5,"step":2}]}"#,
        );
        assert_eq!(
            m,
            Some(LiveEvent::Metrics {
                run_id: "r".into(),
                experiment_id: "1".into(),
                points: vec![LivePoint { key: "loss".into(), value: None, timestamp: 5, step: 2 }],
            })
        );
        assert_eq!(
            LiveEvent::parse("run_created", r#"{"run_id":"r","experiment_id":"1"}"#),
            Some(LiveEvent::Run { run_id: "r".into(), experiment_id: "1".into(), change: RunChange::Created })
        );
        assert_eq!(LiveEvent::parse("resync", r#"{"reason":"x"}"#), Some(LiveEvent::Resync));
        assert_eq!(
            LiveEvent::parse(
                "metrics_range",
                r#"{"run_id":"r","experiment_id":"1","metrics":[{"key":"loss","first_step":0,"last_step":99,"count":100}]}"#
            ),
            Some(LiveEvent::MetricsRange { run_id: "r".into(), experiment_id: "1".into(), keys: vec!["loss".into()] })
        );
        assert_eq!(LiveEvent::parse("nonsense", "{}"), None);
    }

    #[test]
    fn arrived_points_follow_the_loaded_ones_in_step_order() {
        let mut data = vec![series("a", &[0, 1, 2])];
        let arrived = vec![
            ("a".to_string(), point(4)),
            ("a".to_string(), point(1)),
            ("a".to_string(), point(3)),
            ("b".into(), point(0)),
        ];
        append_points(&mut data, &arrived);
        assert_eq!(data[0].steps, vec![0, 1, 2, 3, 4]);
        assert_eq!(data[0].total, 5);
        assert_eq!(data[1].run_id, "b");
        assert_eq!(data[1].steps, vec![0]);
    }

    #[test]
    fn a_series_loaded_without_wall_times_stays_without() {
        let mut data = vec![Series { times: vec![], ..series("a", &[0, 1, 2]) }];
        append_points(&mut data, &[("a".to_string(), point(2)), ("a".to_string(), point(3))]);
        assert_eq!(data[0].steps, vec![0, 1, 2, 3], "step 2 was loaded already");
        assert!(data[0].times.is_empty());
        assert_eq!(data[0].values.len(), 4);
    }
}
