//! The store's behaviour on a real database (SQLite, or PostgreSQL with
//! `MLTRACK_TEST_POSTGRES`), as the API layers rely on it.

mod common;

use store::{ExperimentQuery, HistoryInterval, NewRun, RunQuery, RunUpdate, Store};
use tracking::{ErrorCode, KeyValue, Metric, RunStatus, ViewType};

use common::open;

fn metric(key: &str, value: f64, timestamp: i64, step: i64) -> Metric {
    Metric { key: key.into(), value, timestamp, step, run_id: None }
}

async fn new_run(store: &Store, experiment_id: &str, name: &str, start_time: i64) -> String {
    let run = store
        .create_run(NewRun {
            experiment_id: experiment_id.into(),
            user_id: "ana".into(),
            run_name: Some(name.into()),
            start_time,
            tags: vec![],
        })
        .await
        .unwrap();
    run.info.run_id
}

#[tokio::test]
async fn experiments_lifecycle() {
    let (_dir, store) = open().await;
    assert_eq!(store.get_experiment("0").await.unwrap().name, "Default");
    let id = store.create_experiment("vision", None, &[KeyValue::new("team", "cv")]).await.unwrap();
    let exp = store.get_experiment(&id).await.unwrap();
    assert_eq!(exp.artifact_location, format!("mlflow-artifacts:/{id}"));
    assert_eq!(exp.tags, vec![KeyValue::new("team", "cv")]);
    let dup = store.create_experiment("vision", None, &[]).await.unwrap_err();
    assert_eq!(dup.error_code, ErrorCode::ResourceAlreadyExists);

    store.delete_experiment(&id).await.unwrap();
    let q = ExperimentQuery { max_results: 10, ..Default::default() };
    assert_eq!(store.search_experiments(&q).await.unwrap().items.len(), 1);
    let q = ExperimentQuery { max_results: 10, view_type: ViewType::All, ..Default::default() };
    assert_eq!(store.search_experiments(&q).await.unwrap().items.len(), 2);
    store.restore_experiment(&id).await.unwrap();
    assert_eq!(store.get_experiment_by_name("vision").await.unwrap().experiment_id, id);
}

#[tokio::test]
async fn metrics_summary_and_history() {
    let (_dir, store) = open().await;
    let run = new_run(&store, "0", "r", 1).await;
    let points: Vec<Metric> = (0..1000).map(|i| metric("loss", 1.0 / (i + 1) as f64, 10 + i, i)).collect();
    store.log_batch(&run, points.clone(), vec![], vec![]).await.unwrap();
    // Re-sending identical points does not duplicate them.
    store.log_batch(&run, points[..10].to_vec(), vec![], vec![]).await.unwrap();
    store.log_batch(&run, vec![metric("loss", f64::NAN, 5, 3)], vec![], vec![]).await.unwrap();

    let got = store.get_run(&run).await.unwrap();
    assert_eq!(got.data.metrics, vec![metric("loss", 1.0 / 1000.0, 1009, 999)]);
    let history = store.get_metric_history(&run, "loss", None, None).await.unwrap();
    assert_eq!(history.items.len(), 1001);
    assert!(history.items.iter().any(|m| m.value.is_nan()));

    let page = store.get_metric_history(&run, "loss", Some(600), None).await.unwrap();
    let rest = store.get_metric_history(&run, "loss", Some(600), page.next_page_token.as_deref()).await.unwrap();
    assert_eq!(page.items.len() + rest.items.len(), 1001);
    assert!(rest.next_page_token.is_none());

    let sampled = store
        .get_metric_history_bulk_interval(&HistoryInterval {
            run_ids: vec![run.clone()],
            metric_key: "loss".into(),
            start_step: None,
            end_step: None,
            max_results: 100,
        })
        .await
        .unwrap();
    let steps: std::collections::BTreeSet<i64> = sampled.iter().map(|m| m.step).collect();
    assert!(steps.len() <= 101 && steps.contains(&0) && steps.contains(&999));

    // A step range reads just that range, in step order (the NaN at step 3 included).
    let (range, count) = store.metric_overview(&run, "loss", Some(2), Some(11), 1000).await.unwrap();
    assert_eq!((range.len(), count), (11, 11));
    assert!(range.windows(2).all(|w| w[0].step <= w[1].step));
    assert_eq!((range[0].step, range[10].step), (2, 11));
    assert_eq!(store.metric_overview(&run, "loss", None, None, 1000).await.unwrap().1, 1001);
    assert_eq!(store.metric_overview(&run, "loss", Some(990), None, 1000).await.unwrap().0.len(), 10);
    assert!(store.metric_overview(&run, "nope", None, None, 1000).await.unwrap().0.is_empty());
    assert!(store.metric_overview("0000", "loss", None, None, 1000).await.is_err());
    // Several runs at once, in the order asked; a run that does not exist adds nothing.
    let other = new_run(&store, "0", "r2", 2).await;
    store.log_batch(&other, vec![metric("loss", 0.5, 1, 0)], vec![], vec![]).await.unwrap();
    let asked = vec![other.clone(), "0000".to_string(), run.clone()];
    let many = store.metric_overviews(&asked, "loss", None, None, 1000).await.unwrap();
    assert_eq!(
        many.iter().map(|(id, _, n)| (id.clone(), *n)).collect::<Vec<_>>(),
        vec![(other.clone(), 1), (run.clone(), 1001)]
    );
    // Min and max of several runs' metrics, as ingest keeps them (the NaN is
    // no extreme); unknown runs and keys add nothing.
    store.log_batch(&other, vec![metric("acc", 0.9, 1, 0)], vec![], vec![]).await.unwrap();
    let ids = vec![run.clone(), other.clone(), "0000".to_string()];
    let keys = vec!["loss".to_string(), "acc".to_string(), "nope".to_string()];
    let mut got: Vec<(String, String, Option<f64>, Option<f64>)> = store
        .metric_summaries_of(&ids, &keys)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, m)| (id, m.key, m.min, m.max))
        .collect();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut want = vec![
        (run.clone(), "loss".to_string(), Some(1.0 / 1000.0), Some(1.0)),
        (other.clone(), "acc".to_string(), Some(0.9), Some(0.9)),
        (other.clone(), "loss".to_string(), Some(0.5), Some(0.5)),
    ];
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(got, want);
}

#[tokio::test]
async fn long_histories_are_read_from_their_tiles_with_spikes_kept() {
    let (_dir, store) = open().await;
    let run = new_run(&store, "0", "long", 1).await;
    let n = 200_000i64;
    for start in (0..n).step_by(1000) {
        let batch: Vec<Metric> = (start..start + 1000)
            .map(|s| {
                let v = if s == 123_457 {
                    50.0
                } else if s == 7_001 {
                    -50.0
                } else {
                    (s % 10) as f64
                };
                metric("long", v, s, s)
            })
            .collect();
        store.log_batch(&run, batch, vec![], vec![]).await.unwrap();
    }
    let (points, count) = store.metric_overview(&run, "long", None, None, 1000).await.unwrap();
    assert_eq!(count, n as u64);
    // Tiles of 256 steps (781 of them, two points each), not 200,000 rows.
    assert!((1000..=2 * 782).contains(&points.len()), "{} points for a 1,000-point chart", points.len());
    assert!(points.iter().any(|p| p.value == 50.0 && p.step == 123_457), "the spike survives");
    assert!(points.iter().any(|p| p.value == -50.0 && p.step == 7_001), "the dip survives");
    assert!(points.windows(2).all(|w| w[0].step <= w[1].step));
    // A chart of many runs gives each a small budget: 100 points of
    // 10,000 steps come from their 39 tiles, not from 10,000 rows.
    let (mid, count) = store.metric_overview(&run, "long", Some(0), Some(9_999), 100).await.unwrap();
    assert_eq!(count, 40 * 256, "what the 40 tiles the range touches hold");
    assert!((40..=80).contains(&mid.len()), "{} points", mid.len());
    assert!(mid.iter().any(|p| p.value == -50.0), "the dip survives");
    // A zoomed range small enough is read whole.
    let (zoom, count) = store.metric_overview(&run, "long", Some(1000), Some(1999), 1000).await.unwrap();
    assert_eq!((zoom.len(), count), (1000, 1000));
    // Re-sent points (a client's retry) keep the tiles exact.
    store
        .log_batch(&run, (5000..5010).map(|s| metric("long", (s % 10) as f64, s, s)).collect(), vec![], vec![])
        .await
        .unwrap();
    store.log_batch(&run, vec![metric("long", 99.0, 150_000, 150_000)], vec![], vec![]).await.unwrap();
    let (points, count) = store.metric_overview(&run, "long", None, None, 1000).await.unwrap();
    assert_eq!(count, n as u64 + 1);
    assert!(points.len() <= 2 * 782 && points.iter().any(|p| p.value == 99.0));
}

#[tokio::test]
async fn points_logged_one_at_a_time_are_read_from_the_tiles_and_the_points_past_them() {
    let (_dir, store, uri) = common::open_with_uri().await;
    let run = new_run(&store, "0", "steps", 1).await;
    // A training loop's steps, one request each, then a late point far
    // back, a point before zero, and a retry of a stored one.
    let n = 3_000i64;
    for s in 0..n {
        let v = if s == 1_234 { 77.0 } else { (s % 7) as f64 };
        store.log_batch(&run, vec![metric("loss", v, s, s)], vec![], vec![]).await.unwrap();
    }
    store.log_batch(&run, vec![metric("loss", -9.0, 5, 100)], vec![], vec![]).await.unwrap();
    store.log_batch(&run, vec![metric("loss", 3.0, 0, -300)], vec![], vec![]).await.unwrap();
    let retry = metric("loss", (2_999 % 7) as f64, 2_999, 2_999);
    store.log_batch(&run, vec![retry], vec![], vec![]).await.unwrap();
    let total = n as u64 + 2;
    let (points, count) = store.metric_overview(&run, "loss", None, None, 50).await.unwrap();
    assert_eq!(count, total, "tiles and the points past them hold every point once");
    assert!(points.len() <= 2 * 14, "{} points: read from the tiles", points.len());
    assert!(points.iter().any(|p| p.value == 77.0 && p.step == 1_234), "the spike survives");
    assert!(points.iter().any(|p| p.value == -9.0 && p.step == 100), "the late dip survives");
    assert!(points.iter().any(|p| p.step == -300), "the step before zero is there");
    assert!(points.iter().any(|p| p.step >= 2_816), "the steps past the watermark are there");
    assert!(points.windows(2).all(|w| w[0].step <= w[1].step));
    // The watermark stands at the start of the highest step's 256-step tile.
    let below = common::query_i64(&uri, "SELECT tiled_below FROM latest_metrics WHERE key = 'loss'").await;
    assert_eq!(below, 2_816);
    // The tiles hold exactly the points below it.
    let tiled = common::query_i64(&uri, "SELECT sum(count) FROM metric_tiles WHERE level = 20").await;
    assert_eq!(tiled, 2_816 + 2);
}

#[tokio::test]
async fn histories_stored_before_summaries_are_summarized_in_the_background() {
    let (_dir, store, uri) = common::open_with_uri().await;
    let run = new_run(&store, "0", "old", 1).await;
    let n = 200_000i64;
    for start in (0..n).step_by(1000) {
        let batch = (start..start + 1000).map(|s| metric("old", if s == 12_345 { 9.0 } else { 0.5 }, s, s)).collect();
        store.log_batch(&run, batch, vec![], vec![]).await.unwrap();
    }
    // Short histories need no summary; charts read them whole anyway.
    store.log_batch(&run, vec![metric("short", 1.0, 1, 0)], vec![], vec![]).await.unwrap();
    // What a database from before summaries looks like: no tiles at all,
    // and no watermark.
    common::execute_raw(&uri, "DELETE FROM metric_tiles").await;
    common::execute_raw(&uri, "UPDATE latest_metrics SET tiled_below = NULL").await;
    let (points, count) = store.metric_overview(&run, "old", None, None, 1000).await.unwrap();
    assert_eq!((points.len(), count), (n as usize, n as u64), "read whole without tiles");
    assert_eq!(store.backfill_summaries().await.unwrap(), 1);
    let (points, count) = store.metric_overview(&run, "old", None, None, 1000).await.unwrap();
    assert_eq!(count, n as u64);
    assert!(points.len() <= 2 * 782, "{} points: read from the summaries", points.len());
    assert!(points.iter().any(|p| p.value == 9.0 && p.step == 12_345), "the spike survives");
    // Done once: nothing left to summarize.
    assert_eq!(store.backfill_summaries().await.unwrap(), 0);
}

#[tokio::test]
async fn writes_to_deleted_runs_fail_without_side_effects() {
    let (_dir, store) = open().await;
    let run = new_run(&store, "0", "r", 1).await;
    store.log_batch(&run, vec![], vec![KeyValue::new("lr", "0.1")], vec![]).await.unwrap();
    let err = store.log_batch(&run, vec![metric("m", 1.0, 1, 0)], vec![KeyValue::new("lr", "0.2")], vec![]).await;
    assert_eq!(err.unwrap_err().error_code, ErrorCode::InvalidParameterValue);
    // The failed batch left no metric behind: a batch is all or nothing.
    assert!(store.get_run(&run).await.unwrap().data.metrics.is_empty());

    store.delete_run(&run).await.unwrap();
    let err = store.log_batch(&run, vec![metric("m", 1.0, 1, 0)], vec![], vec![]).await.unwrap_err();
    assert!(err.message.contains("must be in the 'active' state"), "{}", err.message);
    store.restore_run(&run).await.unwrap();
    let info = store
        .update_run(&run, RunUpdate { status: Some(RunStatus::Finished), end_time: Some(9), run_name: None })
        .await
        .unwrap();
    assert_eq!((info.status, info.end_time), (RunStatus::Finished, Some(9)));
}

#[tokio::test]
async fn concurrent_writers_share_commits_and_all_land() {
    let (_dir, store) = open().await;
    let run = new_run(&store, "0", "r", 1).await;
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let store = store.clone();
            let run = run.clone();
            tokio::spawn(async move {
                for b in 0..10 {
                    let points = (0..50).map(|i| metric(&format!("k{t}"), i as f64, 1, b * 50 + i)).collect();
                    store.log_batch(&run, points, vec![], vec![]).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for t in 0..32 {
        let h = store.get_metric_history(&run, &format!("k{t}"), None, None).await.unwrap();
        assert_eq!(h.items.len(), 500);
    }
    assert_eq!(store.get_run(&run).await.unwrap().data.metrics.len(), 32);
}

#[tokio::test]
async fn search_runs_by_filter_and_order() {
    let (_dir, store) = open().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let run = new_run(&store, "0", &format!("r{i}"), 100 + i).await;
        store
            .log_batch(
                &run,
                vec![metric("acc", i as f64 / 10.0, 1, 0)],
                vec![KeyValue::new("i", i.to_string())],
                vec![],
            )
            .await
            .unwrap();
        ids.push(run);
    }
    let search = |filter: &str, order: &[&str]| RunQuery {
        experiment_ids: vec!["0".into()],
        filter: filter.into(),
        max_results: 100,
        order_by: order.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let names =
        |page: tracking::Page<tracking::Run>| page.items.into_iter().map(|r| r.info.run_name).collect::<Vec<_>>();
    assert_eq!(names(store.search_runs(&search("", &[])).await.unwrap()), ["r4", "r3", "r2", "r1", "r0"]);
    assert_eq!(
        names(store.search_runs(&search("metrics.acc >= 0.2", &["metrics.acc ASC"])).await.unwrap()),
        ["r2", "r3", "r4"]
    );
    assert_eq!(names(store.search_runs(&search("params.i = '1'", &[])).await.unwrap()), ["r1"]);
    let err = store.search_runs(&search("metrics.acc >", &[])).await.unwrap_err();
    assert_eq!(err.error_code, ErrorCode::InvalidParameterValue);
    // A param's numbers: as text for MLflow's API, by value for the UI
    // (words after numbers, runs without the param last either way).
    for (run, lr) in ids.iter().zip(["0.1", "0.05", "1e-3", "10", "adaptive"]) {
        store.log_batch(run, vec![], vec![KeyValue::new("lr", lr)], vec![]).await.unwrap();
    }
    new_run(&store, "0", "no-lr", 99).await;
    let as_text = search("", &["params.lr ASC"]);
    assert_eq!(names(store.search_runs(&as_text).await.unwrap()), ["r1", "r0", "r3", "r2", "r4", "no-lr"]);
    let as_numbers = RunQuery { numeric_params: true, ..as_text };
    assert_eq!(names(store.search_runs(&as_numbers).await.unwrap()), ["r2", "r1", "r0", "r3", "r4", "no-lr"]);
    let descending = RunQuery { order_by: vec!["params.lr DESC".into()], ..as_numbers };
    assert_eq!(names(store.search_runs(&descending).await.unwrap()), ["r3", "r0", "r1", "r2", "r4", "no-lr"]);
}

#[tokio::test]
async fn runs_are_numbered_in_creation_order_within_their_experiment() {
    let (_dir, store) = open().await;
    let a = store.create_experiment("a", None, &[]).await.unwrap();
    let b = store.create_experiment("b", None, &[]).await.unwrap();
    let mut in_a = Vec::new();
    for i in 0..5 {
        // Start times out of order: the number follows creation, not start time.
        in_a.push(new_run(&store, &a, &format!("a{i}"), 1000 - i).await);
        new_run(&store, &b, &format!("b{i}"), 1000).await;
    }
    store.delete_run(&in_a[1]).await.unwrap();
    let mut asked = vec![in_a[4].clone(), in_a[0].clone(), "no-such-run".into(), in_a[2].clone()];
    asked.sort();
    let mut got = store.run_ordinals(&asked).await.unwrap();
    got.sort();
    let mut want = vec![(in_a[0].clone(), 0), (in_a[2].clone(), 2), (in_a[4].clone(), 4)];
    want.sort();
    assert_eq!(got, want, "deleted runs keep their place; unknown ids are left out");
    // Many runs at once (a sweep's chart view) are numbered in one pass, alike.
    for i in 5..80 {
        in_a.push(new_run(&store, &a, &format!("a{i}"), 1000).await);
        new_run(&store, &b, &format!("b{i}"), 1000).await;
    }
    let mut asked: Vec<String> = in_a.iter().rev().cloned().chain(["no-such-run".to_string()]).collect();
    asked.swap(0, 40);
    let mut got = store.run_ordinals(&asked).await.unwrap();
    got.sort_by_key(|(_, n)| *n);
    let want: Vec<(String, i64)> = in_a.iter().cloned().zip(0..).collect();
    assert_eq!(got, want);
}
