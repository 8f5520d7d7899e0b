//! What the store committed, in commit order, for the pages that show it
//! live.
//!
//! After a write commits, the store publishes a [`Change`] here (never
//! before: a page must not show what a crash could still take back). The
//! feed keeps the most recent changes in a ring bounded by points and by
//! count, numbered by a sequence; a subscriber reads everything after the
//! number it last saw. A subscriber that fell out of the ring (too slow, or
//! offline too long) is told to resync instead: it refetches what it shows.
//! Publishing never waits for a subscriber; subscribers wait on a `watch`
//! of the newest number, which coalesces wake-ups under heavy ingest.
//!
//! With several replicas on one database, each change is also handed to a
//! relay (see `sql::relay`), which announces it to the other replicas;
//! what they hear is published into their own feeds with [`ChangeFeed::publish_relayed`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::watch;
use tracking::Metric;

/// Most changes the ring keeps.
const MAX_CHANGES: usize = 10_000;
/// Most metric points the ring keeps (about 10 MB): a change with many
/// points pushes out older ones sooner.
const MAX_POINTS: usize = 100_000;

/// Most points a change carries as they are; a larger batch is kept and
/// announced as the steps it covered per key (`ChangeKind::MetricsRange`),
/// which is all a subscriber is told of it: the pages refetch those steps.
/// The ring then holds a few ranges, not a copy of every point ingested.
pub const MAX_INLINE_POINTS: usize = 100;

/// One committed change to a run (or, with an empty `run_id`, to an experiment).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: u64,
    pub experiment_id: String,
    pub run_id: String,
    pub kind: ChangeKind,
    /// The change as a subscriber's transport writes it (the events
    /// endpoint's JSON), made once for all subscribers by the first.
    pub encoded: OnceLock<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    RunCreated,
    /// Status, end time, name, tags or params changed.
    RunUpdated,
    RunDeleted,
    RunRestored,
    /// New metric points (with `log_batch`'s params and tags, if any, also
    /// announced as `RunUpdated`).
    Metrics(Vec<Metric>),
    /// New metric points known only by their keys and steps (a batch too
    /// large to carry, relayed from another replica): refetch them.
    MetricsRange(Vec<MetricRange>),
    /// Renamed, deleted, restored or retagged.
    ExperimentUpdated,
}

/// The steps a batch covered for one key, and how many points it had.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricRange {
    pub key: String,
    pub first_step: i64,
    pub last_step: i64,
    pub count: usize,
}

impl ChangeKind {
    fn points(&self) -> usize {
        match self {
            ChangeKind::Metrics(m) => m.len(),
            _ => 0,
        }
    }

    /// Per key (in key order), the steps these points cover.
    pub fn ranges(metrics: &[Metric]) -> Vec<MetricRange> {
        let mut ranges: std::collections::BTreeMap<&str, MetricRange> = Default::default();
        for m in metrics {
            let r = ranges.entry(&m.key).or_insert_with(|| MetricRange {
                key: m.key.clone(),
                first_step: m.step,
                last_step: m.step,
                count: 0,
            });
            (r.first_step, r.last_step, r.count) = (r.first_step.min(m.step), r.last_step.max(m.step), r.count + 1);
        }
        ranges.into_values().collect()
    }
}

/// Where a published change goes besides this process's ring.
pub type Relay = Box<dyn Fn(&Arc<Change>) + Send + Sync>;

/// What a subscriber gets for "everything after `seq`".
#[derive(Debug)]
pub enum Since {
    /// The changes after it, oldest first (maybe none).
    Changes(Vec<Arc<Change>>),
    /// Changes after it have left the ring (or it is from another epoch):
    /// refetch, then go on from `latest`.
    Resync { latest: u64 },
}

/// The store's feed of committed changes.
pub struct ChangeFeed {
    /// Names this process's numbering: a client that kept a number from
    /// before a restart is told to resync, never given wrong changes.
    epoch: String,
    ring: Mutex<Ring>,
    latest: watch::Sender<u64>,
    relay: OnceLock<Relay>,
}

#[derive(Default)]
struct Ring {
    changes: VecDeque<Arc<Change>>,
    points: usize,
    next: u64,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        ChangeFeed {
            epoch: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
            // Numbers start at 1: 0 means "nothing seen yet".
            ring: Mutex::new(Ring { next: 1, ..Default::default() }),
            latest: watch::channel(0).0,
            relay: OnceLock::new(),
        }
    }

    /// Sends every change published from now on to `relay` too (once).
    pub fn set_relay(&self, relay: Relay) {
        let _ = self.relay.set(relay);
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Records a change this process committed, wakes the subscribers and
    /// hands it to the relay.
    pub fn publish(&self, experiment_id: impl ToString, run_id: impl ToString, kind: ChangeKind) {
        let change = self.record(experiment_id, run_id, kind);
        if let Some(relay) = self.relay.get() {
            relay(&change);
        }
    }

    /// Records a change another replica committed (not relayed again).
    pub fn publish_relayed(&self, experiment_id: impl ToString, run_id: impl ToString, kind: ChangeKind) {
        self.record(experiment_id, run_id, kind);
    }

    fn record(&self, experiment_id: impl ToString, run_id: impl ToString, kind: ChangeKind) -> Arc<Change> {
        let kind = match kind {
            ChangeKind::Metrics(metrics) if metrics.len() > MAX_INLINE_POINTS => {
                ChangeKind::MetricsRange(ChangeKind::ranges(&metrics))
            }
            kind => kind,
        };
        let (seq, change) = {
            let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            let seq = ring.next;
            ring.next += 1;
            ring.points += kind.points();
            let change = Change {
                seq,
                experiment_id: experiment_id.to_string(),
                run_id: run_id.to_string(),
                kind,
                encoded: OnceLock::new(),
            };
            let change = Arc::new(change);
            ring.changes.push_back(change.clone());
            while ring.changes.len() > MAX_CHANGES || (ring.points > MAX_POINTS && ring.changes.len() > 1) {
                if let Some(old) = ring.changes.pop_front() {
                    ring.points -= old.kind.points();
                }
            }
            (seq, change)
        };
        self.latest.send_replace(seq);
        change
    }

    /// The newest number published (0 before the first change).
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }

    /// A receiver that wakes when something newer than what it saw is published.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// The changes after `seq`, or [`Since::Resync`] when some of them are gone.
    pub fn since(&self, seq: u64) -> Since {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let latest = ring.next - 1;
        if seq > latest {
            return Since::Resync { latest };
        }
        let oldest = ring.changes.front().map_or(ring.next, |c| c.seq);
        if seq + 1 < oldest {
            return Since::Resync { latest };
        }
        let skip = (seq + 1 - oldest) as usize;
        Since::Changes(ring.changes.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(n: usize) -> ChangeKind {
        ChangeKind::Metrics(
            (0..n)
                .map(|i| Metric { key: "loss".into(), value: 1.0, timestamp: 0, step: i as i64, run_id: None })
                .collect(),
        )
    }

    fn seqs(since: Since) -> Vec<u64> {
        match since {
            Since::Changes(c) => c.iter().map(|c| c.seq).collect(),
            Since::Resync { latest } => panic!("resync at {latest}"),
        }
    }

    #[test]
    fn subscribers_read_what_follows_their_number() {
        let feed = ChangeFeed::new();
        assert_eq!(seqs(feed.since(0)), Vec::<u64>::new());
        feed.publish("1", "a", ChangeKind::RunCreated);
        feed.publish("1", "a", metrics(3));
        feed.publish("2", "b", ChangeKind::RunUpdated);
        assert_eq!(feed.latest(), 3);
        assert_eq!(seqs(feed.since(0)), vec![1, 2, 3]);
        assert_eq!(seqs(feed.since(2)), vec![3]);
        assert_eq!(seqs(feed.since(3)), Vec::<u64>::new());
        // A number from the future (another process's) cannot be trusted.
        assert!(matches!(feed.since(9), Since::Resync { latest: 3 }));
    }

    #[test]
    fn the_ring_is_bounded_by_points_and_old_numbers_resync() {
        let feed = ChangeFeed::new();
        for _ in 0..(MAX_POINTS / MAX_INLINE_POINTS + 5) {
            feed.publish("1", "a", metrics(MAX_INLINE_POINTS));
        }
        let ring = feed.ring.lock().unwrap();
        assert!(ring.points <= MAX_POINTS, "{}", ring.points);
        let oldest = ring.changes.front().unwrap().seq;
        drop(ring);
        assert!(oldest > 1);
        assert!(matches!(feed.since(0), Since::Resync { .. }));
        assert_eq!(seqs(feed.since(oldest - 1)).first(), Some(&oldest));
        for _ in 0..MAX_CHANGES + 10 {
            feed.publish("1", "a", ChangeKind::RunUpdated);
        }
        assert_eq!(feed.ring.lock().unwrap().changes.len(), MAX_CHANGES);
    }

    #[test]
    fn a_large_batch_is_kept_as_the_steps_it_covered_not_its_points() {
        let feed = ChangeFeed::new();
        feed.publish("1", "a", metrics(MAX_INLINE_POINTS));
        feed.publish("1", "a", metrics(10_000));
        let ring = feed.ring.lock().unwrap();
        assert_eq!(ring.points, MAX_INLINE_POINTS, "only the small batch's points are kept");
        assert!(matches!(&ring.changes[0].kind, ChangeKind::Metrics(m) if m.len() == MAX_INLINE_POINTS));
        let ChangeKind::MetricsRange(ranges) = &ring.changes[1].kind else { panic!("{:?}", ring.changes[1].kind) };
        assert_eq!(ranges, &vec![MetricRange { key: "loss".into(), first_step: 0, last_step: 9_999, count: 10_000 }]);
    }

    #[tokio::test]
    async fn watchers_wake_on_publish() {
        let feed = ChangeFeed::new();
        let mut rx = feed.watch();
        feed.publish("1", "a", ChangeKind::RunDeleted);
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
    }
}
