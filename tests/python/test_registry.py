"""The model registry with the real client: every call, its errors, and the
full flow (train, log, register twice, alias, load by alias, predict)."""

import uuid
from urllib.parse import quote

import mlflow
import numpy as np
import pytest
import requests
from mlflow.exceptions import MlflowException


def name(prefix="model"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(call):
    with pytest.raises(MlflowException) as err:
        call()
    return err.value.error_code


def test_sklearn_register_alias_load_predict(tracking):
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment(name("registry-flow"))
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    model_name = name("churn")
    runs = []
    for c in (0.1, 10.0):
        with mlflow.start_run() as run:
            clf = LogisticRegression(C=c).fit(X, y)
            mlflow.log_param("C", c)
            mlflow.sklearn.log_model(clf, name="model")
            runs.append((run.info.run_id, clf))
    v1 = mlflow.register_model(f"runs:/{runs[0][0]}/model", model_name)
    v2 = mlflow.register_model(f"runs:/{runs[1][0]}/model", model_name)
    assert (v1.version, v2.version) == ("1", "2")
    assert v2.run_id == runs[1][0]
    assert v2.status == "READY"

    client = mlflow.MlflowClient()
    client.set_registered_model_alias(model_name, "champion", v2.version)
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
    assert (loaded.predict(X) == runs[1][1].predict(X)).all()
    by_version = mlflow.sklearn.load_model(f"models:/{model_name}/1")
    assert (by_version.predict(X) == runs[0][1].predict(X)).all()
    assert client.get_model_version_by_alias(model_name, "champion").version == "2"

    rm = client.get_registered_model(model_name)
    assert [(a, v) for a, v in rm.aliases.items()] == [("champion", "2")]
    mv = client.get_model_version(model_name, "2")
    assert mv.aliases == ["champion"]
    # The version links to its logged model (the client does not parse
    # model_id, so read it over REST), which remembers the registration.
    wire = requests.get(
        f"{tracking.url}/api/2.0/mlflow/model-versions/get", params={"name": model_name, "version": "2"}, timeout=10
    ).json()["model_version"]
    assert wire["source"] == f"models:/{wire['model_id']}"
    assert model_name in client.get_logged_model(wire["model_id"]).tags["mlflow.modelVersions"]
    # Registering with registered_model_name in log_model works too.
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(runs[0][1], name="model", registered_model_name=model_name)
    assert str(info.registered_model_version) == "3"


def test_registered_model_calls_and_errors(tracking):
    client = mlflow.MlflowClient()
    n = name()
    rm = client.create_registered_model(n, tags={"team": "search"}, description="ranker")
    assert rm.name == n and rm.description == "ranker" and rm.tags == {"team": "search"}
    assert error_code(lambda: client.create_registered_model(n)) == "RESOURCE_ALREADY_EXISTS"
    assert error_code(lambda: client.create_registered_model("a/b")) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.get_registered_model(name("missing"))) == "RESOURCE_DOES_NOT_EXIST"

    client.update_registered_model(n, description="better ranker")
    client.set_registered_model_tag(n, "owner", "ada")
    client.delete_registered_model_tag(n, "team")
    got = client.get_registered_model(n)
    assert got.description == "better ranker" and got.tags == {"owner": "ada"}

    renamed = name("renamed")
    client.rename_registered_model(n, renamed)
    assert error_code(lambda: client.get_registered_model(n)) == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model(renamed).tags == {"owner": "ada"}
    other = client.create_registered_model(name())
    assert error_code(lambda: client.rename_registered_model(renamed, other.name)) == "RESOURCE_ALREADY_EXISTS"

    found = client.search_registered_models(filter_string=f"name = '{renamed}'")
    assert [m.name for m in found] == [renamed]
    found = client.search_registered_models(filter_string="tags.owner = 'ada'")
    assert renamed in [m.name for m in found]
    found = client.search_registered_models(filter_string=f"name LIKE '{renamed[:10]}%'")
    assert [m.name for m in found] == [renamed]
    ordered = client.search_registered_models(order_by=["name DESC"], max_results=1000)
    assert [m.name for m in ordered] == sorted((m.name for m in ordered), reverse=True)
    page = client.search_registered_models(max_results=1)
    assert len(page) == 1 and page.token
    assert error_code(lambda: client.search_registered_models(filter_string="bogus.x = 1")) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.search_registered_models(max_results=5000)) == "INVALID_PARAMETER_VALUE"

    client.delete_registered_model(renamed)
    assert error_code(lambda: client.get_registered_model(renamed)) == "RESOURCE_DOES_NOT_EXIST"


def test_model_version_calls_stages_and_errors(tracking, tmp_path):
    client = mlflow.MlflowClient()
    mlflow.set_experiment(name("registry-versions"))
    with mlflow.start_run() as run:
        mlflow.log_text("weights", "model/weights.txt")
    run_id = run.info.run_id
    n = name()
    client.create_registered_model(n)
    source = f"{run.info.artifact_uri}/model"
    versions = [client.create_model_version(n, source, run_id, tags={"i": str(i)}) for i in range(3)]
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert all(v.current_stage == "None" for v in versions)

    v = client.update_model_version(n, "1", description="first")
    assert v.description == "first"
    client.set_model_version_tag(n, "1", "validated", "yes")
    client.delete_model_version_tag(n, "1", "i")
    assert client.get_model_version(n, "1").tags == {"validated": "yes"}

    client.transition_model_version_stage(n, "1", "production")
    client.transition_model_version_stage(n, "2", "Staging")
    promoted = client.transition_model_version_stage(n, "3", "Production", archive_existing_versions=True)
    assert promoted.current_stage == "Production"
    assert client.get_model_version(n, "1").current_stage == "Archived"
    latest = {v.current_stage: v.version for v in client.get_latest_versions(n)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3"}
    assert [v.version for v in client.get_latest_versions(n, stages=["Staging"])] == ["2"]
    assert error_code(lambda: client.transition_model_version_stage(n, "1", "Shipping")) == "INVALID_PARAMETER_VALUE"
    assert (
        error_code(lambda: client.transition_model_version_stage(n, "1", "Archived", archive_existing_versions=True))
        == "INVALID_PARAMETER_VALUE"
    )

    assert client.get_model_version_download_uri(n, "2") == source
    downloaded = mlflow.artifacts.download_artifacts(f"models:/{n}/2", dst_path=str(tmp_path))
    assert open(f"{downloaded}/weights.txt").read() == "weights"

    found = client.search_model_versions(f"name = '{n}' AND tags.i = '2'")
    assert [v.version for v in found] == ["3"]
    found = client.search_model_versions(f"run_id = '{run_id}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]
    found = client.search_model_versions(f"name = '{n}' AND version_number > 1")
    assert sorted(v.version for v in found) == ["2", "3"]

    client.set_registered_model_alias(n, "canary", "2")
    client.set_registered_model_alias(n, "champion", "3")
    assert client.get_model_version_by_alias(n, "canary").version == "2"
    client.delete_registered_model_alias(n, "canary")
    assert error_code(lambda: client.get_model_version_by_alias(n, "canary")) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.set_registered_model_alias(n, "latest", "1")) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.set_registered_model_alias(n, "v2", "1")) == "INVALID_PARAMETER_VALUE"
    assert error_code(lambda: client.set_registered_model_alias(n, "x", "99")) == "RESOURCE_DOES_NOT_EXIST"

    client.delete_model_version(n, "3")
    assert error_code(lambda: client.get_model_version(n, "3")) == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model(n).aliases == {}
    # A deleted version's number is never given out again.
    again = client.create_model_version(n, source, run_id)
    assert again.version == "4"
    assert error_code(lambda: client.get_model_version(n, "x")) == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    "source",
    [
        "/etc",
        "file:///etc/passwd",
        "mlflow-artifacts:/../../../../etc",
        "mlflow-artifacts:/%2e%2e/%2e%2e/etc",
        "http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/..%2f..%2f..%2fetc",
        "runs:relative/model",
    ],
)
def test_model_version_sources_cannot_escape(tracking, source):
    """CVE-2023-1177, CVE-2023-2780, CVE-2024-3573: a version's source must
    not let the server read files outside the run's artifacts."""
    client = mlflow.MlflowClient()
    mlflow.set_experiment(name("registry-sources"))
    with mlflow.start_run() as run:
        pass
    n = name()
    client.create_registered_model(n)
    assert error_code(lambda: client.create_model_version(n, source, run.info.run_id)) == "INVALID_PARAMETER_VALUE"
    assert client.search_model_versions(f"name = '{n}'") == []


def test_registry_rest_shapes(server):
    base = f"{server.url}/api/2.0/mlflow"
    n = name()
    r = requests.post(f"{base}/registered-models/create", json={"name": n}, timeout=10)
    assert r.status_code == 200 and r.json()["registered_model"]["name"] == n
    r = requests.get(f"{base}/registered-models/get", params={"name": n}, timeout=10)
    assert set(r.json()["registered_model"]) >= {"name", "creation_timestamp", "last_updated_timestamp"}
    r = requests.post(f"{base}/registered-models/create", json={}, timeout=10)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = requests.get(f"{base}/model-versions/get", params={"name": n, "version": "1"}, timeout=10)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = requests.delete(f"{base}/registered-models/delete", params={"name": n}, timeout=10)
    assert r.status_code == 200
    r = requests.get(f"{base}/registered-models/search", params={"max_results": "10"}, timeout=10)
    assert r.status_code == 200


def test_names_with_quotes_work_everywhere(tracking, tmp_path):
    """`bob's model`: through the API, its search filters and the UI's own queries."""
    client = mlflow.MlflowClient(tracking.url)
    name = f"bob's model {uuid.uuid4().hex[:6]}"
    client.create_registered_model(name)
    with mlflow.start_run() as run:
        mlflow.set_tag("note", "it's done")
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    assert [m.name for m in client.search_registered_models(f'name = "{name}"')] == [name]
    assert [v.version for v in client.search_model_versions(f'name = "{name}"')] == ["1"]
    found = client.search_runs([run.info.experiment_id], "tags.note = \"it's done\"")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    # The model's page lists its version (the page searches versions by name).
    page = requests.get(f"{tracking.url}/models/{quote(name)}", timeout=30)
    assert page.status_code == 200
    # The page's links percent-encode everything but unreserved characters.
    assert f"/models/{quote(name, safe='')}/versions/1" in page.text
