//! Live updates: `GET /api/2.0/mltrack/events`, a Server-Sent Events
//! stream of what the store committed, filtered to the runs and
//! experiments a page shows.
//!
//! Query: `experiment_id` and `run_id`, each repeatable; a change is sent
//! when it belongs to one of the experiments or is about one of the runs
//! (neither given: every change). Each event's id is `<epoch>.<seq>`; a
//! client that reconnects with `Last-Event-ID` (browsers do by themselves)
//! or `last_event_id` gets what it missed, or a `resync` event when that
//! left the store's ring or the server restarted: it then refetches what it
//! shows. A subscriber that cannot keep up is handled the same way, so it
//! never slows the writer. A comment every 15 s keeps proxies from closing
//! an idle stream.
//!
//! Events (`event:` name, JSON `data:`):
//! - `metrics`: `{run_id, experiment_id, metrics: [{key, value, timestamp, step}]}`
//!   (a value that is not finite is `null`), for a batch of up to 100 points;
//! - `metrics_range`: `{run_id, experiment_id, metrics: [{key, first_step,
//!   last_step, count}]}` for a larger one: refetch those keys;
//! - `run_created`, `run_updated`, `run_deleted`, `run_restored`: `{run_id, experiment_id}`;
//! - `experiment_updated`: `{experiment_id}`;
//! - `ready`: `{}`, first, with the id a reconnect resumes from;
//! - `resync`: `{reason}`.

use super::error::ApiResult;
use super::extract::{wire, Gate, Guarded, Mlflow, Need, RequestGate};
use super::AppStore;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use store::{Change, ChangeKind, Since};
use tracking::permissions::Capability;
use tracking::{Error, ErrorCode};

/// Changes sent to a subscriber in one wake-up at most; a burst larger
/// than this is caught up over the next turns.
const MAX_PER_TURN: usize = 512;
/// Open streams at most (each costs a task and a socket, about 10 KB plus
/// what its socket buffers hold); past it, new ones are refused for now.
const MAX_SUBSCRIBERS: usize = 10_000;
/// Ids one stream may name (a page shows at most 1,000 runs).
const MAX_IDS: usize = 1000;
/// A subscriber takes a turn at most this often: under heavy ingest it
/// sends what came in the meantime together, instead of waking for every
/// commit (200 watchers of a 300-commits-a-second ingest would otherwise
/// wake 60,000 times a second).
const MIN_TURN: Duration = Duration::from_millis(50);
/// Points a `metrics` event carries at most; a larger batch (a bulk upload,
/// an import) is announced as `metrics_range`, and the pages that show it
/// fetch it downsampled, as on their first load. The feed keeps such a
/// batch as its ranges already (`store::changes`); this still holds for a
/// change made some other way.
pub use store::changes::MAX_INLINE_POINTS;

static SUBSCRIBERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts an open stream while it lives.
struct Slot;

impl Slot {
    fn take() -> Option<Slot> {
        use std::sync::atomic::Ordering;
        let n = SUBSCRIBERS.fetch_add(1, Ordering::Relaxed);
        if n >= MAX_SUBSCRIBERS {
            SUBSCRIBERS.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        SUBSCRIBERS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Deserialize)]
pub(crate) struct EventsQuery {
    #[serde(default, deserialize_with = "wire::strings")]
    experiment_id: Vec<String>,
    #[serde(default, deserialize_with = "wire::strings")]
    run_id: Vec<String>,
    last_event_id: Option<String>,
}

/// A stream of every change on the server is for admins; else READ on
/// each experiment and run it follows (at most [`MAX_IDS`] are read).
impl Guarded for EventsQuery {
    fn needs(&self) -> Vec<Need> {
        if self.experiment_id.is_empty() && self.run_id.is_empty() {
            return vec![Need::Admin];
        }
        let mut needs = Vec::new();
        if !self.experiment_id.is_empty() {
            needs.push(Need::Experiments(
                self.experiment_id.iter().take(MAX_IDS + 1).cloned().collect(),
                Capability::Read,
            ));
        }
        if !self.run_id.is_empty() {
            needs.push(Need::Runs(self.run_id.iter().take(MAX_IDS + 1).cloned().collect(), Capability::Read));
        }
        needs
    }
}

/// Which changes a subscriber asked for.
struct Scope {
    experiments: Vec<String>,
    runs: Vec<String>,
}

impl Scope {
    fn wants(&self, c: &Change) -> bool {
        (self.experiments.is_empty() && self.runs.is_empty())
            || self.experiments.contains(&c.experiment_id)
            || (!c.run_id.is_empty() && self.runs.contains(&c.run_id))
    }
}

/// Where a reconnecting client left off: `Some(seq)` when its id is of
/// this process's epoch, `None` when it must resync.
fn resume_point(id: &str, epoch: &str) -> Option<u64> {
    let (e, seq) = id.split_once('.')?;
    (e == epoch).then(|| seq.parse().ok()).flatten()
}

pub(crate) async fn events(
    State(store): State<AppStore>,
    RequestGate(gate): RequestGate,
    headers: HeaderMap,
    Mlflow(q): Mlflow<EventsQuery>,
) -> ApiResult<Response> {
    if q.experiment_id.len() + q.run_id.len() > MAX_IDS {
        return Err(Error::invalid(format!(
            "A stream follows at most {MAX_IDS} experiments and runs; this one names {}.",
            q.experiment_id.len() + q.run_id.len()
        ))
        .into());
    }
    let Some(slot) = Slot::take() else {
        return Err(Error::new(
            ErrorCode::TemporarilyUnavailable,
            format!("The server has {MAX_SUBSCRIBERS} live streams open; try again later."),
        )
        .into());
    };
    let feed_epoch = store.changes().epoch().to_string();
    let scope = Scope { experiments: q.experiment_id, runs: q.run_id };
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_string).or(q.last_event_id);
    // A fresh subscriber starts at the present; a reconnecting one where it was.
    let (cursor, first_resync) = match last.as_deref().filter(|s| !s.is_empty()) {
        None => (store.changes().latest(), false),
        Some(id) => match resume_point(id, &feed_epoch) {
            Some(seq) => (seq, false),
            None => (store.changes().latest(), true),
        },
    };
    let watch = store.changes().watch();
    let state = Subscriber {
        store,
        gate,
        checked_at: std::time::Instant::now(),
        scope,
        epoch: feed_epoch,
        cursor,
        pending: Vec::new(),
        greet: !first_resync,
        first_resync,
        watch,
        last_turn: std::time::Instant::now() - MIN_TURN,
        _slot: slot,
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        let event = s.next_event().await?;
        Some((Ok::<Event, Infallible>(event), s))
    });
    let mut response = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    // Proxies (nginx) must pass events on as they come.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// How often an open stream asks again whether what it signed in with
/// still holds (a revoked token, a changed password end it).
const RECHECK: Duration = Duration::from_secs(2);

struct Subscriber {
    store: AppStore,
    gate: Gate,
    checked_at: std::time::Instant,
    scope: Scope,
    epoch: String,
    cursor: u64,
    /// Changes read from the ring and not yet sent, newest last.
    pending: Vec<Arc<Change>>,
    first_resync: bool,
    watch: tokio::sync::watch::Receiver<u64>,
    last_turn: std::time::Instant,
    greet: bool,
    _slot: Slot,
}

impl Subscriber {
    /// The next event for this subscriber, waiting for a commit when there
    /// is none; `None` when the store is gone (the stream ends).
    async fn next_event(&mut self) -> Option<Event> {
        if std::mem::take(&mut self.first_resync) {
            return Some(self.resync("The server restarted or the changes since your last event are gone."));
        }
        if std::mem::take(&mut self.greet) {
            // Gives the client an id from the start: a reconnect (after a
            // drop or a restart) then says where it was, even if nothing
            // had happened yet, and learns what it missed.
            return Some(Event::default().event("ready").id(self.id()).data("{}"));
        }
        loop {
            if let Some(change) = self.pending.pop() {
                self.cursor = change.seq;
                return Some(self.event(&change));
            }
            let since_turn = self.last_turn.elapsed();
            if since_turn < MIN_TURN {
                tokio::time::sleep(MIN_TURN - since_turn).await;
            }
            self.last_turn = std::time::Instant::now();
            if self.checked_at.elapsed() >= RECHECK {
                self.checked_at = std::time::Instant::now();
                if !self.gate.still_valid().await.unwrap_or(false) {
                    tracing::info!("a live stream ended: its sign-in no longer holds");
                    return None;
                }
            }
            match self.store.changes().since(self.cursor) {
                Since::Resync { latest } => {
                    self.cursor = latest;
                    return Some(self.resync("Changes came faster than this page read them."));
                }
                Since::Changes(changes) => {
                    let read_to = changes.last().map(|c| c.seq);
                    let mut wanted: Vec<Arc<Change>> =
                        changes.into_iter().filter(|c| self.scope.wants(c)).take(MAX_PER_TURN).collect();
                    if !wanted.is_empty() {
                        wanted.reverse();
                        self.pending = wanted;
                        continue;
                    }
                    // Nothing for this page: skip what was read, wait for more.
                    if let Some(seq) = read_to {
                        self.cursor = seq;
                    }
                    self.watch.borrow_and_update();
                    if self.store.changes().latest() <= self.cursor {
                        let wait = RECHECK.saturating_sub(self.checked_at.elapsed());
                        if let Ok(changed) = tokio::time::timeout(wait, self.watch.changed()).await {
                            changed.ok()?;
                        }
                    }
                }
            }
        }
    }

    fn resync(&self, reason: &str) -> Event {
        Event::default().event("resync").id(self.id()).data(json!({ "reason": reason }).to_string())
    }

    fn id(&self) -> String {
        format!("{}.{}", self.epoch, self.cursor)
    }

    fn event(&self, c: &Change) -> Event {
        let data = c.encoded.get_or_init(|| encode(c).to_string().into());
        Event::default().event(event_name(&c.kind)).id(self.id()).data(&**data)
    }
}

fn event_name(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Metrics(m) if m.len() > MAX_INLINE_POINTS => "metrics_range",
        ChangeKind::Metrics(_) => "metrics",
        ChangeKind::MetricsRange(_) => "metrics_range",
        ChangeKind::RunCreated => "run_created",
        ChangeKind::RunUpdated => "run_updated",
        ChangeKind::RunDeleted => "run_deleted",
        ChangeKind::RunRestored => "run_restored",
        ChangeKind::ExperimentUpdated => "experiment_updated",
    }
}

fn ranges_json(c: &Change, ranges: &[store::MetricRange]) -> serde_json::Value {
    json!({ "run_id": c.run_id, "experiment_id": c.experiment_id, "metrics": ranges })
}

/// An event's JSON data.
fn encode(c: &Change) -> serde_json::Value {
    match &c.kind {
        ChangeKind::Metrics(metrics) if metrics.len() > MAX_INLINE_POINTS => {
            // Per key: the steps the batch covered and how many points.
            ranges_json(c, &ChangeKind::ranges(metrics))
        }
        ChangeKind::MetricsRange(ranges) => ranges_json(c, ranges),
        ChangeKind::Metrics(metrics) => json!({
            "run_id": c.run_id,
            "experiment_id": c.experiment_id,
            "metrics": metrics.iter().map(|m| json!({
                "key": m.key,
                "value": m.value.is_finite().then_some(m.value),
                "timestamp": m.timestamp,
                "step": m.step,
            })).collect::<Vec<_>>(),
        }),
        ChangeKind::ExperimentUpdated => json!({ "experiment_id": c.experiment_id }),
        _ => json!({ "run_id": c.run_id, "experiment_id": c.experiment_id }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resume_only_within_their_epoch() {
        assert_eq!(resume_point("ab12cd34.17", "ab12cd34"), Some(17));
        assert_eq!(resume_point("ffffffff.17", "ab12cd34"), None);
        assert_eq!(resume_point("17", "ab12cd34"), None);
        assert_eq!(resume_point("ab12cd34.x", "ab12cd34"), None);
    }
}
