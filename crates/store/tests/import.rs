//! The import writes (`ImportTarget`) on a real database (SQLite, or
//! PostgreSQL with `MLTRACK_TEST_POSTGRES`): ids kept,
//! deleted runs writable, repeated points stored and counted once.

mod common;

use store::RunQuery;
use tracking::{
    Experiment, KeyValue, LifecycleStage, Metric, Point, Run, RunData, RunInfo, RunInputs, RunOutputs, RunStatus,
    ViewType,
};

use common::open;

fn experiment(id: &str, name: &str) -> Experiment {
    Experiment {
        experiment_id: id.into(),
        name: name.into(),
        artifact_location: format!("mlflow-artifacts:/{id}"),
        lifecycle_stage: LifecycleStage::Active,
        last_update_time: 20,
        creation_time: 10,
        tags: vec![KeyValue::new("team", "vision")],
    }
}

fn run(id: &str, experiment_id: &str, stage: LifecycleStage) -> Run {
    Run {
        info: RunInfo {
            run_id: id.into(),
            run_uuid: id.into(),
            run_name: "old-run".into(),
            experiment_id: experiment_id.into(),
            user_id: "ana".into(),
            status: RunStatus::Finished,
            start_time: 100,
            end_time: Some(200),
            artifact_uri: format!("mlflow-artifacts:/{experiment_id}/{id}/artifacts"),
            lifecycle_stage: stage,
        },
        data: RunData {
            metrics: vec![],
            params: vec![KeyValue::new("lr", "0.1")],
            tags: vec![KeyValue::new("mlflow.runName", "old-run")],
        },
        inputs: RunInputs::default(),
        outputs: RunOutputs::default(),
    }
}

fn points(range: std::ops::Range<i64>) -> Vec<Point> {
    range.map(|s| Point { step: s, timestamp: 1000 + s, value: if s == 3 { f64::NAN } else { s as f64 } }).collect()
}

#[tokio::test]
async fn imported_objects_keep_their_ids_and_stages() {
    let (_dir, store) = open().await;
    store.import_experiment(&experiment("42", "imported")).await.unwrap();
    let got = store.get_experiment("42").await.unwrap();
    assert_eq!((got.name.as_str(), got.creation_time, got.tags.len()), ("imported", 10, 1));
    // A name used by another id is refused, not merged silently.
    let clash = store.import_experiment(&experiment("43", "imported")).await.unwrap_err();
    assert!(clash.message.contains("already exists"), "{}", clash.message);

    let deleted = "0123456789abcdef0123456789abcdef";
    store.import_run(&run(deleted, "42", LifecycleStage::Deleted)).await.unwrap();
    // Deleted runs still take their history.
    assert_eq!(store.import_metric_points(deleted, "loss", &points(0..10)).await.unwrap(), 10);
    let stored = store.get_run(deleted).await.unwrap();
    assert_eq!(stored.info.lifecycle_stage, LifecycleStage::Deleted);
    assert_eq!((stored.info.start_time, stored.info.end_time, stored.info.user_id.as_str()), (100, Some(200), "ana"));
    let query = RunQuery {
        experiment_ids: vec!["42".into()],
        view_type: ViewType::DeletedOnly,
        max_results: 10,
        ..Default::default()
    };
    assert_eq!(store.search_runs(&query).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn repeated_points_are_stored_and_counted_once() {
    let (_dir, store) = open().await;
    store.import_experiment(&experiment("1", "e")).await.unwrap();
    let id = "fedcba9876543210fedcba9876543210";
    store.import_run(&run(id, "1", LifecycleStage::Active)).await.unwrap();
    // An import cut short after the first half, then run again whole.
    assert_eq!(store.import_metric_points(id, "loss", &points(0..500)).await.unwrap(), 500);
    assert_eq!(store.import_metric_points(id, "loss", &points(0..1000)).await.unwrap(), 500);
    assert_eq!(store.import_metric_points(id, "loss", &points(0..1000)).await.unwrap(), 0);
    let summary = store.metric_summaries(id).await.unwrap();
    assert_eq!((summary[0].count, summary[0].step, summary[0].latest), (1000, 999, 999.0));
    assert_eq!((summary[0].min, summary[0].max), (Some(0.0), Some(999.0)));
    let history = store.get_metric_history(id, "loss", None, None).await.unwrap().items;
    assert_eq!(history.len(), 1000);
    assert!(history[3].value.is_nan());

    // The same holds for points sent again through log-batch.
    let again: Vec<Metric> = points(995..1002).into_iter().map(|p| p.to_metric("loss")).collect();
    store.log_batch(id, again, vec![], vec![]).await.unwrap();
    assert_eq!(store.metric_summaries(id).await.unwrap()[0].count, 1002);

    // Markers record what was imported from where.
    assert_eq!(store.import_marker("http://old:5000", "run:x").await.unwrap(), None);
    store.set_import_marker("http://old:5000", "run:x", "abc").await.unwrap();
    store.set_import_marker("http://old:5000", "run:x", "def").await.unwrap();
    assert_eq!(store.import_marker("http://old:5000", "run:x").await.unwrap().as_deref(), Some("def"));
    assert_eq!(store.import_marker("./mlruns", "run:x").await.unwrap(), None);
}
