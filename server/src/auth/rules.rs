//! What each endpoint needs of its resource, as MLflow's basic-auth app
//! decides it (`mlflow/server/auth/__init__.py`, 3.17): a table from
//! method and path to [`Need`]s, and the parameters that name the
//! resource. Resolving a need against a user's grants is in [`super::check`].

use axum::http::Method;
use serde::Deserialize;
use serde_json::Value;
use tracking::permissions::Capability;

/// One condition a request must meet; a request meets all of its needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Any signed-in user.
    SignedIn,
    /// Only admins (and no one else: unknown endpoints fail closed).
    Admin,
    /// The endpoint decides who may call it (user and role management).
    ItsOwn,
    Experiment(String, Capability),
    /// An experiment named by its name (`get-by-name`).
    ExperimentNamed(String, Capability),
    /// A new resource of `tier` in an experiment: update on the experiment
    /// and `(tier, *)` not denied.
    CreateIn(String, &'static str),
    /// A new experiment or registered model: `(type, *)` or its name not denied.
    Create(&'static str, Option<String>),
    /// A run: read on its experiment and the capability on the run tier.
    Run(String, Capability),
    Runs(Vec<String>, Capability),
    Experiments(Vec<String>, Capability),
    LoggedModel(String, Capability),
    /// A registered model (point) and, with `Some`, its version tier.
    Model(String, Capability, Option<Capability>),
    /// A path in the proxied artifact store: `<experiment>/<run>/…`.
    ArtifactPath(String, Capability),
    /// The answer is filtered to what the user may read; nothing up front.
    Filtered,
    /// The parameter naming the resource is missing. Only admins go on
    /// (the endpoint then says what is missing); anyone else is told here,
    /// so that no request the guard could not place reaches a handler.
    Missing(&'static str),
}

/// The request parameters that name resources, from the query string or
/// the JSON body (other fields are skipped unread).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    run_id: Option<Value>,
    run_uuid: Option<Value>,
    run_ids: Option<Value>,
    experiment_id: Option<Value>,
    experiment_ids: Option<Value>,
    experiment_name: Option<Value>,
    name: Option<Value>,
    new_name: Option<Value>,
    path: Option<Value>,
}

fn text(v: &Option<Value>) -> Option<String> {
    match v.as_ref()? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn list(v: &Option<Value>) -> Vec<String> {
    match v.as_ref() {
        Some(Value::Array(items)) => items.iter().filter_map(|i| text(&Some(i.clone()))).collect(),
        Some(_) => text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

impl Params {
    /// From a query string; a key given twice becomes a list.
    pub fn from_query(query: &str) -> Params {
        let mut map = serde_json::Map::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = Value::String(v.into_owned());
            match map.get_mut(k.as_ref()) {
                Some(Value::Array(items)) => items.push(v),
                Some(first) => *first = Value::Array(vec![first.clone(), v]),
                None => {
                    map.insert(k.into_owned(), v);
                }
            }
        }
        serde_json::from_value(Value::Object(map)).unwrap_or_default()
    }

    /// From a request body as the endpoints read it (`api::extract`): an
    /// empty body means the query string, a JSON string holding JSON (old
    /// clients encode twice) means what it holds. A body that is none of
    /// these names nothing, and the guard refuses what it cannot place.
    pub fn from_body(body: &[u8], query: &str) -> Params {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Params::from_query(query);
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::String(inner)) => serde_json::from_str(&inner).unwrap_or_default(),
            Ok(value) => serde_json::from_value(value).unwrap_or_default(),
            Err(_) => Params::default(),
        }
    }

    #[cfg(test)]
    fn from_json(body: &[u8]) -> Params {
        Params::from_body(body, "")
    }

    pub fn name(&self) -> Option<String> {
        text(&self.name)
    }

    pub fn new_name(&self) -> Option<String> {
        text(&self.new_name)
    }

    fn run(&self) -> Option<String> {
        text(&self.run_id).or_else(|| text(&self.run_uuid))
    }
}

fn run(p: &Params, cap: Capability) -> Need {
    p.run().map_or(Need::Missing("run_id"), |id| Need::Run(id, cap))
}

fn experiment(p: &Params, cap: Capability) -> Need {
    text(&p.experiment_id).map_or(Need::Missing("experiment_id"), |id| Need::Experiment(id, cap))
}

fn model(p: &Params, cap: Capability, versions: Option<Capability>) -> Need {
    text(&p.name).map_or(Need::Missing("name"), |name| Need::Model(name, cap, versions))
}

/// Whether a path is MLflow's REST API (or mltrack's own), as opposed to
/// the web UI.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/ajax-api/")
        || path == "/get-artifact"
        || path == "/model-versions/get-artifact"
}

/// The needs of a request to an API path (see [`is_api`]). `params` are
/// read from the query or body as the method has them.
pub fn needs(method: &Method, path: &str, params: &Params) -> Vec<Need> {
    use Capability::*;
    let m = method.as_str();
    if path == "/get-artifact" {
        return vec![run(params, Read)];
    }
    if path == "/model-versions/get-artifact" {
        return vec![model(params, Read, Some(Read))];
    }
    let rest = path.strip_prefix("/api/").or_else(|| path.strip_prefix("/ajax-api/")).unwrap_or(path);
    let (version, route) = rest.split_once('/').unwrap_or((rest, ""));
    if !matches!(version, "2.0" | "3.0") {
        return vec![Need::Admin];
    }
    if let Some(artifact) = route.strip_prefix("mlflow-artifacts/") {
        return artifact_needs(m, artifact, params);
    }
    if let Some(own) = route.strip_prefix("mltrack/") {
        return mltrack_needs(m, own, params);
    }
    let Some(route) = route.strip_prefix("mlflow/") else { return vec![Need::Admin] };
    if route.starts_with("users/") || route.starts_with("roles/") || route == "server-info" {
        return vec![Need::ItsOwn];
    }
    if let Some(logged) = route.strip_prefix("logged-models") {
        return logged_model_needs(m, logged, params);
    }
    let need = match (m, route) {
        ("POST", "experiments/create") => Need::Create(tracking::permissions::EXPERIMENT, None),
        ("GET", "experiments/get") => experiment(params, Read),
        ("GET", "experiments/get-by-name") => {
            text(&params.experiment_name).map_or(Need::Missing("experiment_name"), |n| Need::ExperimentNamed(n, Read))
        }
        ("GET" | "POST", "experiments/search") => Need::Filtered,
        ("POST", "experiments/update" | "experiments/set-experiment-tag" | "experiments/delete-experiment-tag") => {
            experiment(params, Update)
        }
        ("POST", "experiments/delete" | "experiments/restore") => experiment(params, Delete),
        ("POST", "experiments/search-datasets") => Need::Experiments(list(&params.experiment_ids), Read),
        ("POST", "runs/create") => {
            Need::CreateIn(text(&params.experiment_id).unwrap_or_else(|| "0".to_string()), "run")
        }
        ("GET", "runs/get" | "metrics/get-history" | "artifacts/list") => run(params, Read),
        ("POST", "artifacts/presigned-download-url") => run(params, Read),
        (
            "POST",
            "runs/update"
            | "runs/log-parameter"
            | "runs/set-tag"
            | "runs/delete-tag"
            | "runs/log-model"
            | "runs/log-metric"
            | "runs/log-batch"
            | "runs/log-inputs"
            | "runs/outputs"
            | "upload-artifact"
            | "artifacts/presigned-upload-url",
        ) => run(params, Update),
        ("POST", "runs/delete" | "runs/restore") => run(params, Delete),
        ("POST", "runs/search") => Need::Filtered,
        ("GET", "metrics/get-history-bulk") => Need::Runs(list(&params.run_id), Read),
        ("GET", "metrics/get-history-bulk-interval") => Need::Runs(list(&params.run_ids), Read),
        ("POST", "registered-models/create") => {
            Need::Create(tracking::permissions::REGISTERED_MODEL, text(&params.name))
        }
        ("GET", "registered-models/get") => model(params, Read, None),
        ("PATCH", "registered-models/update")
        | ("POST", "registered-models/rename" | "registered-models/set-tag")
        | ("DELETE", "registered-models/delete-tag") => model(params, Update, None),
        ("DELETE", "registered-models/delete") => model(params, Delete, Some(Delete)),
        ("GET" | "POST", "registered-models/search" | "model-versions/search") => Need::Filtered,
        ("GET" | "POST", "registered-models/get-latest-versions")
        | ("GET", "model-versions/get" | "model-versions/get-download-uri" | "registered-models/alias") => {
            model(params, Read, Some(Read))
        }
        ("POST", "model-versions/create") => {
            let mut needs = vec![model(params, Update, Some(Read))];
            if let Some(run_id) = params.run() {
                needs.push(Need::Run(run_id, Read));
            }
            return needs;
        }
        ("PATCH", "model-versions/update") | ("POST", "model-versions/transition-stage" | "model-versions/set-tag") => {
            model(params, Read, Some(Update))
        }
        ("DELETE", "model-versions/delete" | "model-versions/delete-tag") => model(params, Read, Some(Delete)),
        ("POST", "registered-models/alias") => model(params, Update, Some(Read)),
        ("DELETE", "registered-models/alias") => model(params, Delete, Some(Read)),
        // Fail closed: an endpoint nobody mapped is for admins only.
        _ => Need::Admin,
    };
    vec![need]
}

fn logged_model_needs(m: &str, rest: &str, params: &Params) -> Vec<Need> {
    use Capability::*;
    if rest.is_empty() && m == "POST" {
        return vec![
            text(&params.experiment_id).map_or(Need::Missing("experiment_id"), |e| Need::CreateIn(e, "logged_model"))
        ];
    }
    if rest == "/search" && m == "POST" {
        return vec![Need::Filtered];
    }
    let Some(rest) = rest.strip_prefix('/') else { return vec![Need::Admin] };
    let (model_id, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let cap = match (m, sub) {
        ("GET", _) => Read,
        ("PATCH", "" | "tags") | ("POST", "params") => Update,
        ("DELETE", _) => Delete,
        _ => return vec![Need::Admin],
    };
    vec![Need::LoggedModel(model_id.to_string(), cap)]
}

fn artifact_needs(m: &str, rest: &str, params: &Params) -> Vec<Need> {
    use Capability::*;
    let cap = match m {
        "GET" => Read,
        "PUT" | "POST" => Update,
        "DELETE" => Manage,
        _ => return vec![Need::Admin],
    };
    if rest.starts_with("mpu/part/") {
        // A part goes to an upload that `mpu/create` opened for a path the
        // user may write; its id is that permission.
        return vec![Need::SignedIn];
    }
    let path = ["artifacts/", "mpu/create/", "mpu/complete/", "mpu/abort/", "presigned/"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
        .map(str::to_string)
        .or_else(|| text(&params.path))
        .unwrap_or_default();
    vec![Need::ArtifactPath(path, cap)]
}

fn mltrack_needs(m: &str, rest: &str, params: &Params) -> Vec<Need> {
    match (m, rest) {
        (_, r) if r.starts_with("tokens/") => vec![Need::ItsOwn],
        ("GET", "events") => {
            let runs = list(&params.run_id);
            let experiments = list(&params.experiment_id);
            if runs.is_empty() && experiments.is_empty() {
                // Every change on the server: for admins.
                return vec![Need::Admin];
            }
            let mut needs = Vec::new();
            if !experiments.is_empty() {
                needs.push(Need::Experiments(experiments, Capability::Read));
            }
            if !runs.is_empty() {
                needs.push(Need::Runs(runs, Capability::Read));
            }
            needs
        }
        (_, r) if r.starts_with("dashboards/") => vec![Need::SignedIn],
        _ => vec![Need::Admin],
    }
}

/// Where a proxied artifact path belongs: its experiment and, when it is
/// inside a run's folder, the run (`<experiment>/<run>/artifacts/…`).
pub fn artifact_owner(path: &str) -> (Option<String>, Option<String>) {
    // Decoded and checked as the proxy decodes it, so that `%37/…` is
    // experiment 7's; a path the proxy would refuse names nothing.
    let Ok(path) = artifacts::ArtifactPath::parse(path) else { return (None, None) };
    let mut parts = path.as_str().split('/');
    let experiment = parts.next().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let Some(experiment) = experiment else { return (None, None) };
    let run = parts.next().filter(|p| p.len() == 32 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    (Some(experiment.to_string()), run.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    fn q(query: &str) -> Params {
        Params::from_query(query)
    }

    #[test]
    fn endpoints_need_what_mlflow_asks() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            needs(&get, "/api/2.0/mlflow/experiments/get", &q("experiment_id=4")),
            vec![Need::Experiment("4".into(), Read)]
        );
        assert_eq!(
            needs(
                &post,
                "/ajax-api/2.0/mlflow/runs/log-batch",
                &Params::from_json(br#"{"run_id":"abc","metrics":[]}"#)
            ),
            vec![Need::Run("abc".into(), Update)]
        );
        assert_eq!(
            needs(&post, "/api/2.0/mlflow/runs/delete", &Params::from_json(br#"{"run_id":"abc"}"#)),
            vec![Need::Run("abc".into(), Delete)]
        );
        assert_eq!(
            needs(&post, "/api/2.0/mlflow/experiments/create", &Params::default()),
            vec![Need::Create("experiment", None)]
        );
        assert_eq!(
            needs(&get, "/ajax-api/2.0/mlflow/metrics/get-history-bulk", &q("run_id=a&run_id=b&metric_key=m")),
            vec![Need::Runs(vec!["a".into(), "b".into()], Read)]
        );
        assert_eq!(
            needs(
                &Method::DELETE,
                "/api/2.0/mlflow/model-versions/delete",
                &Params::from_json(br#"{"name":"m","version":"1"}"#)
            ),
            vec![Need::Model("m".into(), Read, Some(Delete))]
        );
        assert_eq!(
            needs(&Method::PATCH, "/api/2.0/mlflow/logged-models/m-1/tags", &Params::default()),
            vec![Need::LoggedModel("m-1".into(), Update)]
        );
        assert_eq!(
            needs(
                &Method::DELETE,
                "/api/2.0/mlflow-artifacts/artifacts/3/0123456789abcdef0123456789abcdef/artifacts/x",
                &Params::default()
            ),
            vec![Need::ArtifactPath("3/0123456789abcdef0123456789abcdef/artifacts/x".into(), Manage)]
        );
        assert_eq!(needs(&post, "/api/2.0/mlflow/runs/search", &Params::default()), vec![Need::Filtered]);
        assert_eq!(needs(&get, "/api/2.0/mlflow/runs/get", &Params::default()), vec![Need::Missing("run_id")]);
        // Unknown endpoints fail closed.
        assert_eq!(needs(&post, "/api/2.0/mlflow/traces/new", &Params::default()), vec![Need::Admin]);
        assert_eq!(needs(&get, "/api/2.0/mltrack/events", &Params::default()), vec![Need::Admin]);
        assert_eq!(needs(&get, "/api/3.0/mlflow/users/current", &Params::default()), vec![Need::ItsOwn]);
    }

    #[test]
    fn parameters_are_read_where_the_endpoints_read_them() {
        let p = Params::from_body(b"", "run_id=abc");
        assert_eq!(
            needs(&Method::POST, "/api/2.0/mlflow/runs/delete", &p),
            vec![Need::Run("abc".into(), Capability::Delete)]
        );
        let p = Params::from_body(br#""{\"run_id\": \"abc\"}""#, "");
        assert_eq!(
            needs(&Method::POST, "/api/2.0/mlflow/runs/delete", &p),
            vec![Need::Run("abc".into(), Capability::Delete)]
        );
        let p = Params::from_body(b"not json", "run_id=abc");
        assert_eq!(needs(&Method::POST, "/api/2.0/mlflow/runs/delete", &p), vec![Need::Missing("run_id")]);
    }

    #[test]
    fn artifact_paths_name_their_experiment_and_run() {
        let run = "0123456789abcdef0123456789abcdef";
        assert_eq!(artifact_owner(&format!("7/{run}/artifacts/a.txt")), (Some("7".into()), Some(run.into())));
        assert_eq!(artifact_owner("7/models/m-1/artifacts"), (Some("7".into()), None));
        assert_eq!(artifact_owner(""), (None, None));
        assert_eq!(artifact_owner("../etc"), (None, None));
        // Encoded the way the proxy decodes it, it is still experiment 7's.
        assert_eq!(artifact_owner(&format!("%37/{run}/artifacts/a.txt")).0, Some("7".into()));
        assert_eq!(artifact_owner("%2537/x").0, Some("7".into()));
    }
}
