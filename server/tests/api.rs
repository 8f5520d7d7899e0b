//! The REST API through the router (no network): MLflow's JSON shapes and errors.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    app: axum::Router,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let uri = format!("sqlite:///{}", dir.path().join("api.db").display());
        let store = store::open(&uri, "mlflow-artifacts:").await.unwrap();
        Api {
            app: server::app(store, artifacts::ArtifactRoots::default(), server::security::Policy::permissive(), None),
            _dir: dir,
        }
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_raw(path, body.to_string()).await
    }

    async fn post_raw(&self, path: &str, body: String) -> (StatusCode, Value) {
        let req = Request::post(format!("/api/2.0/mlflow/{path}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        self.call(req).await
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        self.call(Request::get(format!("/api/2.0/mlflow/{path_and_query}")).body(Body::empty()).unwrap()).await
    }
}

#[tokio::test]
async fn create_and_get_run_in_mlflow_shape() {
    let api = Api::new().await;
    let (s, body) = api.post("experiments/create", json!({"name": "e"})).await;
    assert_eq!((s, &body), (StatusCode::OK, &json!({"experiment_id": "1"})));
    let (s, body) = api
        .post(
            "runs/create",
            json!({"experiment_id": "1", "run_name": "r", "start_time": "17", "tags": [{"key": "k", "value": "v"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let run_id = body["run"]["info"]["run_id"].as_str().unwrap().to_string();
    assert_eq!(body["run"]["info"]["start_time"], json!(17));
    assert_eq!(body["run"]["info"]["status"], json!("RUNNING"));
    assert_eq!(body["run"]["info"]["artifact_uri"], json!(format!("mlflow-artifacts:/1/{run_id}/artifacts")));

    let (s, _) = api
        .post(
            "runs/log-metric",
            json!({"run_id": run_id, "key": "m", "value": "Infinity", "timestamp": 5, "step": "2"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, body) = api.get(&format!("runs/get?run_id={run_id}")).await;
    assert_eq!(body["run"]["data"]["metrics"], json!([{"key": "m", "value": "Infinity", "timestamp": 5, "step": 2}]));
    let (_, body) = api.get(&format!("metrics/get-history?run_id={run_id}&metric_key=m")).await;
    assert_eq!(body, json!({"metrics": [{"key": "m", "value": "Infinity", "timestamp": 5, "step": 2}]}));
}

#[tokio::test]
async fn errors_use_mlflow_codes_and_statuses() {
    let api = Api::new().await;
    let (s, body) = api.post_raw("experiments/create", "{oops".into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
    assert!(body["message"].as_str().unwrap().starts_with("Malformed JSON"));

    let (s, body) = api.get("experiments/get?experiment_id=42").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No Experiment with id=42 exists"}));

    api.post("experiments/create", json!({"name": "dup"})).await;
    let (s, body) = api.post("experiments/create", json!({"name": "dup"})).await;
    assert_eq!((s, body["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("RESOURCE_ALREADY_EXISTS")));

    let (s, body) =
        api.post("runs/search", json!({"experiment_ids": ["0"], "filter": "metrics.x > 1 OR metrics.y < 2"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("(at character 15)"), "{body}");

    let (s, body) =
        api.post("runs/log-metric", json!({"run_id": "abc", "key": "m", "value": true, "timestamp": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("'value'"), "{body}");

    let (s, body) = api.get("nothing/here").await;
    assert_eq!((s, body["error_code"].as_str()), (StatusCode::NOT_FOUND, Some("ENDPOINT_NOT_FOUND")));
}

#[tokio::test]
async fn get_requests_take_repeated_query_parameters() {
    let api = Api::new().await;
    for name in ["a", "b"] {
        api.post("experiments/create", json!({"name": name})).await;
    }
    let (s, body) = api.get("experiments/search?max_results=1&order_by=name%20DESC").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["experiments"][0]["name"], "b");
    assert!(body["next_page_token"].is_string());
    let (s, body) = api.get("runs/search?experiment_ids=1&experiment_ids=2&run_view_type=ALL").await;
    assert_eq!((s, body), (StatusCode::OK, json!({})));
}

// Pages render whole (SsrMode::Async), which needs a runtime with worker
// threads, as the server has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_version_and_ui_shell() {
    let api = Api::new().await;
    let res = api.app.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = api.app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(html.contains("<title>mltrack</title>") && html.contains("Default"), "{html}");
}
