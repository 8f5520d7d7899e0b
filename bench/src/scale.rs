//! `mltrack-bench --scale RUNS METRICS STEPS NAME=URL@PID`: fills one
//! experiment with RUNS runs of METRICS per-step metrics over STEPS steps
//! (four clients, 1,000 points a request), then times the reads a user's
//! pages make on that much history: search-runs with a filter and an
//! order, one metric's whole history, and the chart view's sampled read of
//! 100 runs (`get-history-bulk-interval`). `bench/scale.sh` runs it.

use crate::{create_run, median, now_ms, Conn, Result, Target};
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Instant;

const CLIENTS: usize = 4;
const POINTS_PER_REQUEST: usize = 1_000;
const REPEATS: usize = 5;

#[derive(Clone, Copy)]
pub struct Scale {
    pub runs: usize,
    pub metrics: usize,
    pub steps: usize,
}

/// One request's body: `steps_per_request` steps of every metric of a run.
fn body(run_id: &str, scale: &Scale, first_step: usize, steps: usize) -> Bytes {
    let metrics: Vec<Value> = (first_step..first_step + steps)
        .flat_map(|step| {
            (0..scale.metrics).map(move |k| {
                let value = 1.0 / (1.0 + step as f64) + (k as f64) * 0.01 + (step as f64).sin() * 0.001;
                json!({"key": format!("m{k}"), "value": value, "timestamp": 1_700_000_000_000i64 + step as i64, "step": step})
            })
        })
        .collect();
    Bytes::from(json!({"run_id": run_id, "metrics": metrics}).to_string())
}

async fn timed(conn: &mut Conn, what: impl Fn(&mut Conn) -> Vec<(bool, String, Bytes)>) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let calls = what(conn);
        let t = Instant::now();
        for (post, endpoint, body) in calls {
            if post {
                conn.post(&endpoint, body).await?;
            } else {
                conn.get(&endpoint).await?;
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

pub async fn run(target: &Target, scale: &Scale) -> Result<()> {
    let mut conn = Conn::open(&target.url).await?;
    let exp = conn.post_json("experiments/create", json!({"name": format!("bench-scale-{}", now_ms())})).await?
        ["experiment_id"]
        .as_str()
        .ok_or("no experiment id")?
        .to_string();
    let steps_per_request = (POINTS_PER_REQUEST / scale.metrics.max(1)).max(1);
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, exp) = (target.url.clone(), exp.clone());
            let scale = *scale;
            tokio::spawn(async move {
                let mut conn = Conn::open(&url).await?;
                let mut ids = Vec::new();
                for i in (c..scale.runs).step_by(CLIENTS) {
                    let run_id = create_run(&mut conn, &exp).await?;
                    let params = json!({"run_id": run_id, "params": [
                        {"key": "lr", "value": format!("{}", 10f64.powi(-((i % 4) as i32 + 1)))},
                        {"key": "optimizer", "value": if i % 2 == 0 { "adam" } else { "sgd" }},
                    ]});
                    conn.post_json("runs/log-batch", params).await?;
                    for first in (0..scale.steps).step_by(steps_per_request) {
                        let steps = steps_per_request.min(scale.steps - first);
                        conn.post("runs/log-batch", body(&run_id, &scale, first, steps)).await?;
                    }
                    ids.push(run_id);
                }
                Ok::<Vec<String>, String>(ids)
            })
        })
        .collect();
    let mut run_ids = Vec::new();
    for t in tasks {
        run_ids.extend(t.await.map_err(|e| e.to_string())??);
    }
    let fill = start.elapsed().as_secs_f64();
    let points = scale.runs * scale.metrics * scale.steps;

    let search = Bytes::from(
        json!({
            "experiment_ids": [exp],
            "filter": "params.optimizer = 'adam' AND metrics.m0 < 0.5",
            "order_by": ["metrics.m1 ASC"],
            "max_results": 100,
        })
        .to_string(),
    );
    let search_s = timed(&mut conn, |_| vec![(true, "runs/search".into(), search.clone())]).await?;
    let one = run_ids[run_ids.len() / 2].clone();
    let history_s =
        timed(&mut conn, |_| vec![(false, format!("metrics/get-history?run_id={one}&metric_key=m0"), Bytes::new())])
            .await?;
    let chart_runs: String = run_ids.iter().take(100).map(|r| format!("&run_ids={r}")).collect();
    let chart = format!("metrics/get-history-bulk-interval?metric_key=m0&max_results=320{chart_runs}");
    let chart_s = timed(&mut conn, |_| vec![(false, chart.clone(), Bytes::new())]).await?;
    println!(
        "{}: {points} points ({} runs x {} metrics x {} steps) in {fill:.1} s ({:.0} points/s); \
         search-runs {:.1} ms; get-history ({} points) {:.1} ms; chart read of 100 runs {:.1} ms",
        target.name,
        scale.runs,
        scale.metrics,
        scale.steps,
        points as f64 / fill,
        search_s * 1e3,
        scale.steps,
        history_s * 1e3,
        chart_s * 1e3,
    );
    Ok(())
}
