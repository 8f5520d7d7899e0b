//! `mltrack-bench`: the same REST calls against several MLflow-compatible
//! servers, one after the other on the same machine, printed side by side
//! with ratios. Request bodies are serialised before the clock starts and the
//! client is plain hyper over keep-alive connections, so the client is not
//! what is measured. `bench/run.sh` starts the servers and calls this.
//!
//! Usage:
//!   mltrack-bench [--quick] [--out FILE] NAME=URL@PID …   measure servers (one after the other)
//!   mltrack-bench --report FILE[+FILE…] …                  print saved results side by side
//!                                                           (a+b+c: rounds of one server, their medians)
//!   mltrack-bench --scale RUNS METRICS STEPS NAME=URL@PID  fill one server, time reads (see `scale`)
//! `--subscribers N` keeps N live-update streams (`/api/2.0/mltrack/events`,
//! mltrack only) open while it measures: `--subscribe-to other` (default)
//! on another experiment, as pages watching other work; `same` on the
//! experiment being written, each stream read as fast as it comes.
//! In reports the first server is the one the ratios compare with the others.

mod scale;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

/// One keep-alive HTTP/1.1 connection, reopened when the server closes it
/// (uvicorn drops connections idle for 5 s).
struct Conn {
    host: String,
    send: SendRequest<Full<Bytes>>,
}

async fn handshake(host: &str) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(host).await.map_err(|e| format!("connect {host}: {e}"))?;
    stream.set_nodelay(true).ok();
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(send)
}

/// `Authorization` for every request: HTTP Basic from `MLTRACK_BENCH_AUTH`
/// (`user:password`), to measure a server with users and permissions on.
fn authorization() -> Option<String> {
    use base64::Engine;
    let credentials = std::env::var("MLTRACK_BENCH_AUTH").ok().filter(|c| !c.is_empty())?;
    Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)))
}

fn with_auth(builder: hyper::http::request::Builder) -> hyper::http::request::Builder {
    match authorization() {
        Some(value) => builder.header("authorization", value),
        None => builder,
    }
}

impl Conn {
    async fn open(base: &str) -> Result<Conn> {
        let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
        let send = handshake(&host).await?;
        Ok(Conn { host, send })
    }

    async fn call(&mut self, method: Method, path: &str, body: Bytes) -> Result<Bytes> {
        let req = || {
            with_auth(Request::builder())
                .method(method.clone())
                .uri(path)
                .header("host", &self.host)
                .header("content-type", "application/json")
                .body(Full::new(body.clone()))
                .map_err(|e| e.to_string())
        };
        if self.send.is_closed() || self.send.ready().await.is_err() {
            self.send = handshake(&self.host).await?;
        }
        let res = match self.send.send_request(req()?).await {
            Ok(res) => res,
            Err(e) if e.is_canceled() || e.is_closed() || e.is_incomplete_message() => {
                self.send = handshake(&self.host).await?;
                self.send.send_request(req()?).await.map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let status = res.status();
        let bytes = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        if !status.is_success() {
            return Err(format!("{path}: HTTP {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(300)])));
        }
        Ok(bytes)
    }

    async fn post(&mut self, endpoint: &str, body: Bytes) -> Result<Bytes> {
        self.call(Method::POST, &format!("/api/2.0/mlflow/{endpoint}"), body).await
    }

    async fn post_json(&mut self, endpoint: &str, body: Value) -> Result<Value> {
        let bytes = self.post(endpoint, Bytes::from(body.to_string())).await?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    async fn get(&mut self, endpoint_and_query: &str) -> Result<Bytes> {
        self.call(Method::GET, &format!("/api/2.0/mlflow/{endpoint_and_query}"), Bytes::new()).await
    }
}

struct Target {
    name: String,
    url: String,
    pid: u32,
}

impl Target {
    /// `NAME=URL@PID`.
    fn parse(arg: &str) -> Option<Target> {
        let (name, rest) = arg.split_once('=')?;
        let (url, pid) = rest.rsplit_once('@')?;
        Some(Target { name: name.into(), url: url.into(), pid: pid.parse().ok()? })
    }
}

/// Everything measured on one server.
#[derive(Default, Clone, Serialize, Deserialize)]
struct Report {
    name: String,
    ingest_points_per_s: f64,
    log_metric_p50_ms: f64,
    log_metric_p99_ms: f64,
    create_run_p50_ms: f64,
    create_run_p99_ms: f64,
    history_s: f64,
    history_points: usize,
    search_s: f64,
    search_hits: usize,
    peak_rss_mb: f64,
    #[serde(default)]
    subscribers: usize,
    /// Bytes the subscribers received, in MB.
    #[serde(default)]
    subscriber_mb: f64,
}

struct Plan {
    ingest_clients: usize,
    ingest_requests_per_client: usize,
    ingest_budget: Duration,
    latency_requests: usize,
    latency_budget: Duration,
    history_points: usize,
    search_runs: usize,
    repeats: usize,
    subscribers: usize,
    subscribe_to_same: bool,
}

/// Opens `n` event streams on `experiment_id` that read and count every byte.
async fn subscribe(
    base: &str,
    experiment_id: &str,
    n: usize,
) -> Result<(Vec<tokio::task::JoinHandle<()>>, std::sync::Arc<std::sync::atomic::AtomicU64>)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let bytes = std::sync::Arc::new(AtomicU64::new(0));
    let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut send = handshake(&host).await?;
        let req = with_auth(Request::builder())
            .uri(format!("/api/2.0/mltrack/events?experiment_id={experiment_id}"))
            .header("host", &host)
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let res = send.send_request(req).await.map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("events: HTTP {}", res.status()));
        }
        let counter = bytes.clone();
        tasks.push(tokio::spawn(async move {
            let mut body = res.into_body();
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
        }));
    }
    Ok((tasks, bytes))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

fn batch_body(run_id: &str, first_step: usize, keys: usize, steps: usize) -> Bytes {
    let ts = now_ms();
    let metrics: Vec<Value> = (0..steps)
        .flat_map(|s| {
            (0..keys).map(move |k| {
                let step = first_step + s;
                json!({"key": format!("metric_{k}"), "value": (step as f64).sin() + k as f64, "timestamp": ts + step as i64, "step": step})
            })
        })
        .collect();
    Bytes::from(json!({"run_id": run_id, "metrics": metrics}).to_string())
}

async fn create_run(conn: &mut Conn, experiment_id: &str) -> Result<String> {
    let run = conn.post_json("runs/create", json!({"experiment_id": experiment_id, "start_time": now_ms()})).await?;
    run["run"]["info"]["run_id"].as_str().map(str::to_string).ok_or_else(|| format!("no run id in {run}"))
}

/// Sum over the process and its descendants of each one's peak resident set.
fn peak_rss_mb(pid: u32) -> f64 {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for e in entries.flatten() {
                let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
                let after = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
                if after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
                    pids.push(child);
                }
            }
        }
        i += 1;
    }
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .filter_map(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .sum::<f64>()
        / 1024.0
}

async fn measure(target: &Target, plan: &Plan) -> Result<Report> {
    let mut report = Report { name: target.name.clone(), ..Default::default() };
    let mut conn = Conn::open(&target.url).await?;
    let name = format!("bench-{}", now_ms());
    let created = conn.post_json("experiments/create", json!({"name": name})).await?;
    let experiment_id = created["experiment_id"].as_str().ok_or("no experiment id")?.to_string();
    let watched = if plan.subscribe_to_same { experiment_id.as_str() } else { "0" };
    let (subscribers, received) = subscribe(&target.url, watched, plan.subscribers).await?;
    report.subscribers = plan.subscribers;

    // create-run latency
    let mut lat = Vec::new();
    let start = Instant::now();
    let body = Bytes::from(json!({"experiment_id": experiment_id, "start_time": now_ms()}).to_string());
    while lat.len() < plan.latency_requests && start.elapsed() < plan.latency_budget {
        let t = Instant::now();
        conn.post("runs/create", body.clone()).await?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);
    (report.create_run_p50_ms, report.create_run_p99_ms) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    eprintln!("  {}: create-run x{} done", target.name, lat.len());

    // single log-metric latency
    let run_id = create_run(&mut conn, &experiment_id).await?;
    let ts = now_ms();
    let bodies: Vec<Bytes> = (0..plan.latency_requests)
        .map(|i| {
            Bytes::from(
                json!({"run_id": run_id, "key": "latency", "value": i as f64, "timestamp": ts + i as i64, "step": i})
                    .to_string(),
            )
        })
        .collect();
    let mut lat = Vec::new();
    let start = Instant::now();
    for body in bodies {
        if start.elapsed() > plan.latency_budget {
            break;
        }
        let t = Instant::now();
        conn.post("runs/log-metric", body).await?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);
    (report.log_metric_p50_ms, report.log_metric_p99_ms) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    eprintln!("  {}: log-metric x{} done", target.name, lat.len());

    // log-batch ingest: several clients, each on its own run and connection
    let mut clients = Vec::new();
    for _ in 0..plan.ingest_clients {
        let mut c = Conn::open(&target.url).await?;
        let run_id = create_run(&mut c, &experiment_id).await?;
        let bodies: Vec<Bytes> =
            (0..plan.ingest_requests_per_client).map(|r| batch_body(&run_id, r * 100, 10, 100)).collect();
        clients.push((c, bodies));
    }
    let budget = plan.ingest_budget;
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(mut c, bodies)| {
            tokio::spawn(async move {
                let mut points = 0usize;
                for body in bodies {
                    if start.elapsed() > budget {
                        break;
                    }
                    c.post("runs/log-batch", body).await?;
                    points += 1000;
                }
                Ok::<usize, String>(points)
            })
        })
        .collect();
    let mut points = 0;
    for t in tasks {
        points += t.await.map_err(|e| e.to_string())??;
    }
    report.ingest_points_per_s = points as f64 / start.elapsed().as_secs_f64();
    eprintln!("  {}: ingest {points} points done", target.name);

    // get-history of one long metric
    let run_id = create_run(&mut conn, &experiment_id).await?;
    for first in (0..plan.history_points).step_by(1000) {
        let ts = now_ms();
        let metrics: Vec<Value> = (first..first + 1000)
            .map(|s| json!({"key": "long", "value": s as f64, "timestamp": ts, "step": s}))
            .collect();
        conn.post_json("runs/log-batch", json!({"run_id": run_id, "metrics": metrics})).await?;
    }
    let mut times = Vec::new();
    for _ in 0..plan.repeats {
        let t = Instant::now();
        let bytes = conn.get(&format!("metrics/get-history?run_id={run_id}&metric_key=long")).await?;
        times.push(t.elapsed().as_secs_f64());
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        report.history_points = v["metrics"].as_array().map_or(0, |a| a.len());
    }
    report.history_s = median(times);
    eprintln!("  {}: history of {} points done", target.name, report.history_points);

    // search-runs over many runs with a params + metrics filter and an order_by
    let search_exp = conn
        .post_json("experiments/create", json!({"name": format!("bench-search-{}", now_ms())}))
        .await?["experiment_id"]
        .as_str()
        .ok_or("no experiment id")?
        .to_string();
    let per_client = plan.search_runs / plan.ingest_clients;
    let tasks: Vec<_> = (0..plan.ingest_clients)
        .map(|c| {
            let url = target.url.clone();
            let exp = search_exp.clone();
            tokio::spawn(async move {
                let mut conn = Conn::open(&url).await?;
                for i in c * per_client..(c + 1) * per_client {
                    let run_id = create_run(&mut conn, &exp).await?;
                    let ts = now_ms();
                    let body = json!({
                        "run_id": run_id,
                        "params": [{"key": "optimizer", "value": if i % 2 == 0 { "adam" } else { "sgd" }},
                                   {"key": "lr", "value": format!("{}", 10f64.powi(-((i % 4) as i32 + 1)))}],
                        "metrics": [{"key": "loss", "value": 1.0 / (1 + i) as f64, "timestamp": ts, "step": 0},
                                    {"key": "acc", "value": (i % 100) as f64 / 100.0, "timestamp": ts, "step": 0}],
                    });
                    conn.post_json("runs/log-batch", body).await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let query = Bytes::from(
        json!({
            "experiment_ids": [search_exp],
            "filter": "params.optimizer = 'adam' AND metrics.acc > 0.5",
            "order_by": ["metrics.loss ASC"],
            "max_results": 1000,
        })
        .to_string(),
    );
    let mut times = Vec::new();
    for _ in 0..plan.repeats {
        let t = Instant::now();
        let bytes = conn.post("runs/search", query.clone()).await?;
        times.push(t.elapsed().as_secs_f64());
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        report.search_hits = v["runs"].as_array().map_or(0, |a| a.len());
    }
    report.search_s = median(times);
    eprintln!(
        "  {}: search over {} runs done ({} hits)",
        target.name,
        per_client * plan.ingest_clients,
        report.search_hits
    );

    report.peak_rss_mb = peak_rss_mb(target.pid);
    report.subscriber_mb = received.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6;
    for s in subscribers {
        s.abort();
    }
    Ok(report)
}

/// Rounds of one server as one report: each figure's median.
fn median_report(rounds: Vec<Report>) -> Report {
    let mut out = rounds[0].clone();
    if rounds.len() == 1 {
        return out;
    }
    let of = |get: fn(&Report) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(get).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    out.ingest_points_per_s = of(|r| r.ingest_points_per_s);
    out.log_metric_p50_ms = of(|r| r.log_metric_p50_ms);
    out.log_metric_p99_ms = of(|r| r.log_metric_p99_ms);
    out.create_run_p50_ms = of(|r| r.create_run_p50_ms);
    out.create_run_p99_ms = of(|r| r.create_run_p99_ms);
    out.history_s = of(|r| r.history_s);
    out.search_s = of(|r| r.search_s);
    out.peak_rss_mb = of(|r| r.peak_rss_mb);
    out.subscriber_mb = of(|r| r.subscriber_mb);
    out.name = format!("{}×{}", out.name, rounds.len());
    out
}

fn print(reports: &[Report]) {
    type Row = (&'static str, fn(&Report) -> f64, bool);
    let rows: [Row; 11] = [
        ("log-batch ingest (points/s)", |r| r.ingest_points_per_s, true),
        ("log-metric p50 (ms)", |r| r.log_metric_p50_ms, false),
        ("log-metric p99 (ms)", |r| r.log_metric_p99_ms, false),
        ("create-run p50 (ms)", |r| r.create_run_p50_ms, false),
        ("create-run p99 (ms)", |r| r.create_run_p99_ms, false),
        ("get-history, long metric (s)", |r| r.history_s, false),
        ("search-runs (s)", |r| r.search_s, false),
        ("peak memory (MB)", |r| r.peak_rss_mb, false),
        ("history points returned", |r| r.history_points as f64, true),
        ("live subscribers", |r| r.subscribers as f64, true),
        ("bytes to subscribers (MB)", |r| r.subscriber_mb, true),
    ];
    let mut header = format!("{:<32}", "");
    for r in reports {
        header.push_str(&format!("{:>14}", r.name));
    }
    for r in &reports[1..] {
        header.push_str(&format!("{:>18}", format!("{} vs {}", reports[0].name, r.name)));
    }
    println!("{header}");
    for (label, get, higher_is_better) in rows {
        let mut line = format!("{label:<32}");
        for r in reports {
            let v = get(r);
            line.push_str(&if v >= 1000.0 { format!("{v:>14.0}") } else { format!("{v:>14.3}") });
        }
        let base = get(&reports[0]);
        for r in &reports[1..] {
            let ratio = if higher_is_better { base / get(r) } else { get(r) / base };
            line.push_str(&format!("{:>17.1}x", ratio));
        }
        println!("{line}");
    }
    println!(
        "(ratios: how many times better the first server is; search hits: {:?})",
        reports.iter().map(|r| r.search_hits).collect::<Vec<_>>()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--report") {
        // `a.json+b.json+…`: rounds of one server, reported by their medians.
        let reports: Vec<Report> = args[1..]
            .iter()
            .map(|group| {
                let rounds: Vec<Report> = group
                    .split('+')
                    .map(|f| {
                        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"))
                    })
                    .collect();
                median_report(rounds)
            })
            .collect();
        print(&reports);
        return;
    }
    if args.first().map(String::as_str) == Some("--scale") {
        let number =
            |i: usize| args.get(i).and_then(|n| n.parse().ok()).expect("--scale RUNS METRICS STEPS NAME=URL@PID");
        let scale = scale::Scale { runs: number(1), metrics: number(2), steps: number(3) };
        let target = args.get(4).and_then(|a| Target::parse(a)).expect("--scale RUNS METRICS STEPS NAME=URL@PID");
        if let Err(e) = scale::run(&target, &scale).await {
            eprintln!("{}: {e}", target.name);
            std::process::exit(1);
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let subscribers: usize = flag("--subscribers").map(|n| n.parse().expect("--subscribers N")).unwrap_or(0);
    let subscribe_to_same = flag("--subscribe-to").is_some_and(|s| s == "same");
    let out = args.iter().position(|a| a == "--out").and_then(|i| args.get(i + 1)).cloned();
    let targets: Vec<Target> = args
        .iter()
        .filter(|a| a.contains('=') && a.contains('@'))
        .map(|a| Target::parse(a).expect("NAME=URL@PID"))
        .collect();
    if targets.is_empty() {
        eprintln!("usage: mltrack-bench [--quick] [--out FILE] NAME=URL@PID … | mltrack-bench --report FILE[+FILE…] …");
        std::process::exit(2);
    }
    let plan = if quick {
        Plan {
            ingest_clients: 4,
            ingest_requests_per_client: 25,
            ingest_budget: Duration::from_secs(10),
            latency_requests: 200,
            latency_budget: Duration::from_secs(10),
            history_points: 10_000,
            search_runs: 400,
            repeats: 3,
            subscribers,
            subscribe_to_same,
        }
    } else {
        Plan {
            ingest_clients: 4,
            ingest_requests_per_client: 250,
            ingest_budget: Duration::from_secs(20),
            latency_requests: 2000,
            latency_budget: Duration::from_secs(20),
            history_points: 100_000,
            search_runs: 5000,
            repeats: 5,
            subscribers,
            subscribe_to_same,
        }
    };
    let mut reports = Vec::new();
    for t in &targets {
        eprintln!("benchmarking {} at {}", t.name, t.url);
        match measure(t, &plan).await {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("{}: {e}", t.name);
                std::process::exit(1);
            }
        }
    }
    if let Some(out) = out {
        let [report] = reports.as_slice() else { panic!("--out takes one server") };
        std::fs::write(&out, serde_json::to_string_pretty(report).unwrap()).expect("write results");
    } else {
        print(&reports);
    }
}
