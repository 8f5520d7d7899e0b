"""Behaviours MLflow's own REST tests check, in our words: each test here
guards one thing mltrack once did differently from MLflow's server
(model-version sources, default orders, error wording, the ajax-api
endpoints its UI calls, download headers, local artifact roots)."""

import json
import uuid
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow.entities import Dataset, DatasetInput, InputTag

from conftest import Server


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def post(server, path, **kw):
    return requests.post(f"{server.url}/api/2.0/mlflow/{path}", timeout=30, **kw)


def ajax_get(server, path, **kw):
    return requests.get(f"{server.url}/ajax-api/2.0/mlflow/{path}", timeout=30, **kw)


def bad_request(response, text):
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert text in body["message"], body["message"]


@pytest.fixture(scope="module")
def local_root_server(tmp_path_factory):
    """A server whose default artifact root is a local folder, as MLflow's
    tests run theirs: clients write artifacts there themselves."""
    workdir = tmp_path_factory.mktemp("mltrack-local-root")
    root = workdir / "artifact-root"
    srv = Server(workdir, args=["--default-artifact-root", root.as_uri()]).start()
    srv.root = root
    yield srv
    srv.stop()


# Model version sources ------------------------------------------------------


def test_version_sources_follow_mlflows_rules(client, server):
    """A `runs:/` source needs no matching run_id (it is read by the client);
    other remote sources only have to be absolute and free of `..`."""
    name = unique("sources")
    client.create_registered_model(name)
    v = client.create_model_version(name, "runs:/some-run/model", "another-run")
    assert (v.version, v.source, v.run_id) == ("1", "runs:/some-run/model", "another-run")
    assert client.get_model_version_download_uri(name, "1") == "runs:/some-run/model"
    for ok in ["mlflow-artifacts:/models", "mlflow-artifacts:/models///", "s3://bucket/a//b", "mlflow-artifacts://h:9000/m/..../"]:
        r = post(server, "model-versions/create", json={"name": name, "source": ok, "run_id": "r"})
        assert r.status_code == 200, (ok, r.text)
    for bad in [
        "mlflow-artifacts://host:9000/models/../../../",
        "https://host/api/2.0/mlflow-artifacts/artifacts/../../../",
        "s3a://bucket/x/../../y",
        "mlflow-artifacts://host:9000/models/..%2f..%2fartifacts",
        "mlflow-artifacts://host:9000/models/artifact%00",
        "s3://bucket/./x",
    ]:
        bad_request(post(server, "model-versions/create", json={"name": name, "source": bad}), "an absolute path must be provided")
    # A local path is accepted only inside the artifact folder of the run named.
    bad_request(post(server, "model-versions/create", json={"name": name, "source": "/tmp/model"}), "To use a local path")
    r = post(server, "model-versions/create", json={"name": name, "source": "file://10.1.2.3/x", "run_id": "r"})
    assert r.status_code == 500 and "is not a valid remote uri" in r.json()["message"]


def test_local_version_sources_inside_the_runs_folder(local_root_server):
    client = mlflow.MlflowClient(local_root_server.url, registry_uri=local_root_server.url)
    exp = client.create_experiment(unique("local-sources"))
    run = client.create_run(exp)
    assert run.info.artifact_uri.startswith("file://")
    name = unique("local")
    client.create_registered_model(name)
    folder = run.info.artifact_uri[len("file://"):]
    for source in [folder, f"{run.info.artifact_uri}/model", f"{run.info.artifact_uri}/model/.."]:
        r = post(local_root_server, "model-versions/create", json={"name": name, "source": source, "run_id": run.info.run_id})
        assert r.status_code == 200, (source, r.text)
    for body in [{"source": folder}, {"source": "/tmp", "run_id": run.info.run_id}, {"source": f"{folder}/../.."}]:
        bad_request(post(local_root_server, "model-versions/create", json={"name": name, **body}), "To use a local path")


def test_models_uri_sources_and_the_model_versions_tag(client):
    exp = client.create_experiment(unique("models-uri"))
    model = client.create_logged_model(exp)
    name = unique("from-model")
    client.create_registered_model(name)
    client.create_model_version(name, source=f"models:/{model.model_id}", model_id=model.model_id)
    client.create_model_version(name, source=f"models:/{model.model_id}", model_id=model.model_id)
    # The tag is the list as Python's json.dumps writes it, versions as numbers.
    tag = client.get_logged_model(model.model_id).tags["mlflow.modelVersions"]
    assert tag == json.dumps([{"name": name, "version": 1}, {"name": name, "version": 2}])
    # models:/<name>/<version> copies another version: it reads that version's files.
    copy = unique("copy")
    client.create_registered_model(copy)
    v = client.create_model_version(copy, source=f"models:/{name}/1")
    assert client.get_model_version_download_uri(copy, v.version) == model.artifact_location


def test_search_model_versions_default_order(client):
    """Newest update first, then name, then newest version."""
    prefix = unique("order")
    names = [f"{prefix}-{i}" for i in range(3)]
    for n in names:
        client.create_registered_model(n)
    made = [client.create_model_version(n, "runs:/r/model", "r") for n in names + names[:1]]
    client.update_model_version(names[1], "1", description="touched last")
    found = [(v.name, v.version) for v in client.search_model_versions(f"name LIKE '{prefix}-%'")]
    mine = sorted(
        ((v.name, v.version) for v in made),
        key=lambda nv: (-client.get_model_version(*nv).last_updated_timestamp, nv[0], -int(nv[1])),
    )
    assert found == mine
    assert found[0] == (names[1], "1")


# Error wording ---------------------------------------------------------------


def test_wrong_json_types_are_named_as_mlflow_names_them(server, experiment_id):
    bad_request(post(server, "experiments/create", json={"name": 123}), "Invalid value 123 for parameter 'name' supplied")
    r = post(server, "experiments/create", json={"name": "x", "artifact_location": 9.0})
    bad_request(r, "Invalid value 9.0 for parameter 'artifact_location'")
    assert "Hint: Value was of type 'float'" in r.json()["message"]
    r = post(server, "experiments/create", json={"name": "x", "tags": "5"})
    assert 'Invalid value \\"5\\" for parameter \'tags\'' in r.text
    run_id = post(server, "runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"]["run_id"]
    for path, body in [
        ("runs/log-metric", {"run_id": 31, "key": "m", "value": 1, "timestamp": 1, "step": 0}),
        ("runs/log-parameter", {"run_id": 31, "key": "p", "value": "v"}),
        ("runs/set-tag", {"run_id": 31, "key": "t", "value": "v"}),
    ]:
        bad_request(post(server, path, json=body), "Invalid value 31 for parameter 'run_id' supplied")
    bad_request(
        post(server, "runs/log-metric", json={"run_id": run_id, "key": 31, "value": 1, "timestamp": 1}),
        "Invalid value 31 for parameter 'key' supplied",
    )


def test_unsafe_paths_answer_exactly_invalid_path(server, client, experiment_id):
    run = client.create_run(experiment_id)
    for path, params in [
        ("api/2.0/mlflow/artifacts/list", {"run_id": run.info.run_id, "path": "../x"}),
        ("get-artifact", {"run_id": run.info.run_id, "path": "../x"}),
        # A doubled slash is routed as one, as by MLflow's server.
        ("/model-versions/get-artifact", {"name": "m", "version": 1, "path": "../x"}),
    ]:
        r = requests.get(f"{server.url}/{path}", params=params, timeout=30)
        assert r.status_code == 400 and r.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


# Experiments and logged models ------------------------------------------------


def test_relative_artifact_location_is_resolved_on_the_server(client, server):
    exp = client.get_experiment(client.create_experiment(unique("relative"), artifact_location="my_location"))
    assert exp.artifact_location == str(server.workdir / "my_location")
    exp = client.get_experiment(client.create_experiment(unique("remote"), artifact_location="s3://b/p"))
    assert exp.artifact_location == "s3://b/p"


def test_logged_model_source_run_is_recorded_as_given(client, experiment_id):
    model = client.create_logged_model(experiment_id, source_run_id="123")
    assert client.get_logged_model(model.model_id).source_run_id == "123"


def test_logged_model_artifacts_under_a_local_root(local_root_server, tmp_path):
    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return model_input

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(local_root_server.url)
    try:
        mlflow.set_experiment(unique("local-models"))
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo())
        with mlflow.start_run() as run:
            mlflow.log_text("hello", "notes/a.txt")
    finally:
        mlflow.set_tracking_uri(previous)
    base = f"{local_root_server.url}/ajax-api/2.0/mlflow/logged-models/{info.model_id}/artifacts"
    r = requests.get(f"{base}/directories", timeout=30)
    assert r.status_code == 200 and "MLmodel" in [f["path"] for f in r.json()["files"]]
    r = requests.get(f"{base}/files", params={"artifact_file_path": "MLmodel"}, timeout=30)
    assert r.status_code == 200 and info.model_id in r.text
    assert r.headers["Content-Type"] == "text/plain"
    # A run's artifacts written by the client into the local root are served too.
    r = requests.get(f"{local_root_server.url}/get-artifact", params={"run_uuid": run.info.run_id, "path": "notes/a.txt"}, timeout=30)
    assert r.status_code == 200 and r.text == "hello"


def test_roots_outside_the_servers_own_are_not_read(local_root_server, tmp_path):
    """An experiment may name any location, but the server reads only its
    own roots: a location of /etc does not make /etc/hostname downloadable."""
    client = mlflow.MlflowClient(local_root_server.url)
    exp = client.create_experiment(unique("elsewhere"), artifact_location=str(tmp_path))
    (tmp_path / "secret.txt").write_text("not for the server to hand out")
    run = client.create_run(exp)
    r = requests.get(f"{local_root_server.url}/get-artifact", params={"run_uuid": run.info.run_id, "path": "../secret.txt"}, timeout=30)
    assert r.status_code == 400
    r = requests.get(f"{local_root_server.url}/get-artifact", params={"run_uuid": run.info.run_id, "path": "x"}, timeout=30)
    assert r.status_code == 400 and "not served by this server" in r.json()["message"]


# The ajax-api endpoints of MLflow's UI ---------------------------------------


def test_get_history_bulk(server, client, experiment_id):
    runs = sorted(client.create_run(experiment_id).info.run_id for _ in range(2))
    points = [(1, 2, 10.0), (1, 3, 12.0), (1, 3, 11.0), (2, 3, 12.0), (0, 9, -1.0)]
    for i, run_id in enumerate(runs):
        for ts, step, value in points:
            client.log_metric(run_id, "m", value + i, timestamp=ts, step=step)
    r = ajax_get(server, "metrics/get-history-bulk", params={"run_id": runs[::-1] + ["no-such-run"], "metric_key": "m"})
    assert r.status_code == 200
    order = sorted(points)  # by timestamp, step, value
    want = [{"key": "m", "timestamp": ts, "step": s, "value": v + i, "run_id": run} for i, run in enumerate(runs) for ts, s, v in order]
    assert r.json()["metrics"] == want
    r = ajax_get(server, "metrics/get-history-bulk", params={"run_id": runs, "metric_key": "m", "max_results": 7})
    assert r.json()["metrics"] == want[:7]
    bad_request(ajax_get(server, "metrics/get-history-bulk", params={"metric_key": "m"}), "must specify at least one run_id")
    bad_request(ajax_get(server, "metrics/get-history-bulk", params={"run_id": ["x"] * 101, "metric_key": "m"}), "cannot specify more than 100")
    bad_request(ajax_get(server, "metrics/get-history-bulk", params={"run_id": runs}), "must specify a metric_key")


def test_search_datasets(server, client, experiment_id):
    run = client.create_run(experiment_id)
    ds = Dataset(name="train-set", digest="d1", source_type="local", source="/data")
    client.log_inputs(run.info.run_id, [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
    client.log_inputs(run.info.run_id, [DatasetInput(Dataset("eval", "d2", "local", "/e"), [])])
    url = f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets"
    r = requests.post(url, json={"experiment_ids": [experiment_id]}, timeout=30)
    assert r.status_code == 200
    got = sorted(r.json()["dataset_summaries"], key=lambda d: d["name"])
    assert got == [
        {"experiment_id": experiment_id, "name": "eval", "digest": "d2"},
        {"experiment_id": experiment_id, "name": "train-set", "digest": "d1", "context": "training"},
    ]
    bad_request(requests.post(url, json={}, timeout=30), "must specify at least one experiment_id")
    bad_request(requests.post(url, json={"experiment_ids": [str(i) for i in range(21)]}, timeout=30), "cannot specify more than 20")


def test_upload_artifact(server, client, experiment_id):
    run = client.create_run(experiment_id)
    url = f"{server.url}/ajax-api/2.0/mlflow/upload-artifact"
    r = requests.post(url, params={"run_uuid": run.info.run_id, "path": "dir/hello.txt"}, data="hello world", timeout=30)
    assert r.status_code == 200
    r = requests.get(f"{server.url}/get-artifact", params={"run_uuid": run.info.run_id, "path": "dir/hello.txt"}, timeout=30)
    assert r.text == "hello world"
    bad_request(requests.post(url, timeout=30), "Request must specify run_uuid.")
    bad_request(requests.post(url, params={"run_uuid": run.info.run_id, "path": ""}, timeout=30), "Request must specify path.")
    bad_request(requests.post(url, params={"run_uuid": run.info.run_id, "path": "../x"}, data="x", timeout=30), "Invalid path")
    bad_request(requests.post(url, params={"run_uuid": run.info.run_id, "path": "x"}, timeout=30), "Request must specify data.")


# Download headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "mime"),
    [("MLmodel", "text/plain"), ("mlproject", "text/plain"), ("conda.yaml", "text/plain"), ("metrics.json", "text/plain"),
     ("a.png", "image/png"), ("d.pdf", "application/pdf"), ("b.pkl", "application/octet-stream")],
)
def test_download_types_and_file_names(tracking, tmp_path, file_name, mime):
    path = Path(tmp_path, file_name)
    path.write_bytes(b"")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(path))
    r = requests.get(f"{tracking.url}/get-artifact", params={"run_id": run.info.run_id, "path": file_name}, timeout=30)
    assert r.headers["Content-Type"] == mime
    assert r.headers["Content-Disposition"] == f"attachment; filename={file_name}"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_logged_image_file_names_are_bare_tokens(tracking):
    np = pytest.importorskip("numpy")
    with mlflow.start_run() as run:
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), key="dog", step=20, timestamp=100, synchronous=True)
    listing = requests.get(f"{tracking.url}/ajax-api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id, "path": "images"}, timeout=30)
    files = [f["path"] for f in listing.json()["files"]]
    assert files
    for path in files:
        r = requests.get(f"{tracking.url}/get-artifact", params={"run_id": run.info.run_id, "path": path}, timeout=30)
        assert r.headers["Content-Disposition"].startswith("attachment; filename=dog+step+20+timestamp+100")
