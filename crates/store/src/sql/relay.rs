//! Live changes between replicas that share one PostgreSQL database.
//!
//! Every change a replica commits is announced on a PostgreSQL channel
//! (`NOTIFY`, sent after the commit, in batches, from a task of its own so
//! that ingest never waits for it); every replica listens on the channel
//! and publishes what the others announced into its own change feed, so a
//! page connected to any replica sees writes made through any other.
//! PostgreSQL limits a notification to 8,000 bytes: a change with more
//! points than fit is announced by its keys and step ranges, and pages
//! refetch those, as they do for any large batch.

use crate::changes::{Change, ChangeFeed, ChangeKind, MetricRange};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tracking::Metric;

const CHANNEL: &str = "mltrack_changes";
/// Bytes of a payload, under PostgreSQL's 8,000.
const MAX_PAYLOAD: usize = 7_500;
/// Announcements waiting to be sent; past this a burst drops some (pages
/// on other replicas then miss them, as after a reconnect): never a wait.
const QUEUE: usize = 10_000;
/// Most announcements sent in one statement.
const BATCH: usize = 200;

/// A change as it travels between replicas.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Wire {
    /// The announcing feed's epoch: a replica ignores its own announcements.
    origin: String,
    experiment_id: String,
    run_id: String,
    kind: String,
    /// `(key, IEEE-754 bits of the value, timestamp, step)`, exact for NaN
    /// and the infinities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    points: Vec<(String, i64, i64, i64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<MetricRange>,
}

fn kind_name(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::RunCreated => "run_created",
        ChangeKind::RunUpdated => "run_updated",
        ChangeKind::RunDeleted => "run_deleted",
        ChangeKind::RunRestored => "run_restored",
        ChangeKind::Metrics(_) | ChangeKind::MetricsRange(_) => "metrics",
        ChangeKind::ExperimentUpdated => "experiment_updated",
    }
}

fn encode(origin: &str, change: &Change) -> String {
    let mut wire = Wire {
        origin: origin.to_string(),
        experiment_id: change.experiment_id.clone(),
        run_id: change.run_id.clone(),
        kind: kind_name(&change.kind).to_string(),
        points: Vec::new(),
        ranges: Vec::new(),
    };
    match &change.kind {
        ChangeKind::Metrics(metrics) => {
            wire.points =
                metrics.iter().map(|m| (m.key.clone(), m.value.to_bits() as i64, m.timestamp, m.step)).collect()
        }
        ChangeKind::MetricsRange(ranges) => wire.ranges = ranges.clone(),
        _ => {}
    }
    let text = serde_json::to_string(&wire).unwrap_or_default();
    if text.len() <= MAX_PAYLOAD {
        return text;
    }
    if let ChangeKind::Metrics(metrics) = &change.kind {
        wire.points.clear();
        wire.ranges = ChangeKind::ranges(metrics);
    }
    let text = serde_json::to_string(&wire).unwrap_or_default();
    if text.len() <= MAX_PAYLOAD {
        return text;
    }
    // Thousands of keys in one batch: say that the run changed.
    wire.ranges.clear();
    wire.kind = "run_updated".to_string();
    serde_json::to_string(&wire).unwrap_or_default()
}

/// The change a payload announces, unless it is this replica's own or not ours.
fn decode(own: &str, payload: &str) -> Option<(String, String, ChangeKind)> {
    let wire: Wire = serde_json::from_str(payload).ok()?;
    if wire.origin == own {
        return None;
    }
    let kind = match wire.kind.as_str() {
        "run_created" => ChangeKind::RunCreated,
        "run_updated" => ChangeKind::RunUpdated,
        "run_deleted" => ChangeKind::RunDeleted,
        "run_restored" => ChangeKind::RunRestored,
        "experiment_updated" => ChangeKind::ExperimentUpdated,
        "metrics" if !wire.ranges.is_empty() => ChangeKind::MetricsRange(wire.ranges),
        "metrics" => ChangeKind::Metrics(
            wire.points
                .into_iter()
                .map(|(key, bits, timestamp, step)| Metric {
                    key,
                    value: f64::from_bits(bits as u64),
                    timestamp,
                    step,
                    run_id: None,
                })
                .collect(),
        ),
        _ => return None,
    };
    Some((wire.experiment_id, wire.run_id, kind))
}

/// Announces `feed`'s changes to the other replicas and publishes theirs
/// into it, until the feed is dropped.
pub(super) fn start(pool: PgPool, feed: &Arc<ChangeFeed>) {
    let origin = feed.epoch().to_string();
    let (tx, rx) = flume::bounded::<Arc<Change>>(QUEUE);
    feed.set_relay(Box::new(move |change| {
        let _ = tx.try_send(change.clone());
    }));
    tokio::spawn(announce(pool.clone(), rx, origin.clone()));
    tokio::spawn(listen(pool, Arc::downgrade(feed), origin));
}

/// Sends the queued changes, encoded here rather than on the request's path.
async fn announce(pool: PgPool, rx: flume::Receiver<Arc<Change>>, origin: String) {
    while let Ok(first) = rx.recv_async().await {
        let batch: Vec<String> =
            std::iter::once(first).chain(rx.try_iter().take(BATCH - 1)).map(|c| encode(&origin, &c)).collect();
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&batch)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, changes = batch.len(), "could not announce changes to the other replicas");
        }
    }
}

async fn listen(pool: PgPool, feed: Weak<ChangeFeed>, own: String) {
    while feed.strong_count() > 0 {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "could not listen for other replicas' changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "could not listen for other replicas' changes; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            let notification = match listener.recv().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the channel of other replicas' changes; reconnecting");
                    break;
                }
            };
            let Some(feed) = feed.upgrade() else { return };
            if let Some((experiment_id, run_id, kind)) = decode(&own, notification.payload()) {
                feed.publish_relayed(experiment_id, run_id, kind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeKind) -> Change {
        Change { seq: 1, experiment_id: "3".into(), run_id: "r".into(), kind, encoded: Default::default() }
    }

    fn points(n: i64) -> Vec<Metric> {
        (0..n).map(|i| Metric { key: "loss".into(), value: f64::NAN, timestamp: 9, step: i, run_id: None }).collect()
    }

    #[test]
    fn changes_cross_exactly_and_large_ones_as_ranges() {
        let small = encode("a", &change(ChangeKind::Metrics(points(3))));
        let (exp, run, kind) = decode("b", &small).unwrap();
        assert_eq!((exp.as_str(), run.as_str()), ("3", "r"));
        let ChangeKind::Metrics(got) = kind else { panic!("{kind:?}") };
        assert_eq!(got.len(), 3);
        assert!(got[2].value.is_nan() && got[2].step == 2 && got[2].timestamp == 9);
        // A replica does not hear itself.
        assert!(decode("a", &small).is_none());

        let large = encode("a", &change(ChangeKind::Metrics(points(1000))));
        assert!(large.len() <= MAX_PAYLOAD);
        let (_, _, kind) = decode("b", &large).unwrap();
        assert_eq!(
            kind,
            ChangeKind::MetricsRange(vec![MetricRange {
                key: "loss".into(),
                first_step: 0,
                last_step: 999,
                count: 1000
            }])
        );
        let (_, _, kind) = decode("b", &encode("a", &change(ChangeKind::RunDeleted))).unwrap();
        assert_eq!(kind, ChangeKind::RunDeleted);
        assert!(decode("b", "not json").is_none());
    }
}
