"""MLflow 3 logged models with the real client: log_model, load_model by
runs:/ and models:/m-… URIs, predict, and the logged-model REST calls.
Runs on both artifact backends (local folder and S3)."""

import uuid

import mlflow
import numpy as np
import pytest
import requests

from test_artifacts import backend, tracked  # noqa: F401  (fixtures, both backends)


def train():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return LogisticRegression().fit(X, y), X


def test_sklearn_model_logs_loads_and_predicts(tracked):
    import pandas as pd

    model, X = train()
    expected = model.predict(X)
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:3])
        mlflow.log_metric("accuracy", 0.93, model_id=info.model_id)
    run_id = run.info.run_id
    assert info.model_id.startswith("m-")

    for uri in (f"runs:/{run_id}/model", f"models:/{info.model_id}", info.model_uri):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (np.asarray(loaded.predict(pd.DataFrame(X))) == expected).all(), uri
    again = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    assert (again.predict(X) == expected).all()

    client = mlflow.MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.status.to_proto() == mlflow.entities.LoggedModelStatus.READY.to_proto()
    assert logged.source_run_id == run_id
    assert logged.name == "model"
    assert [(m.key, m.value, m.run_id) for m in logged.metrics] == [("accuracy", 0.93, run_id)]
    names = {f.path for f in client.list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "requirements.txt", "conda.yaml"} <= names, names
    assert any(n.startswith("model.") for n in names), names

    # The run lists the model it produced; runs:/ URIs reach the model's files.
    outputs = client.get_run(run_id).outputs
    assert [o.model_id for o in outputs.model_outputs] == [info.model_id]
    listed = {f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=f"runs:/{run_id}/model")}
    assert "model/MLmodel" in listed, listed


def test_logged_model_calls_and_errors(tracked):
    client = mlflow.MlflowClient()
    exp = mlflow.get_experiment_by_name(mlflow.get_experiment(mlflow.tracking.fluent._get_experiment_id()).name)
    exp_id = exp.experiment_id
    with mlflow.start_run() as run:
        pass
    m = client.create_logged_model(
        exp_id, name="ranker", source_run_id=run.info.run_id, params={"depth": "3"}, tags={"team": "search"},
        model_type="xgb",
    )
    assert m.status.to_proto() == mlflow.entities.LoggedModelStatus.PENDING.to_proto()
    assert m.params == {"depth": "3"} and m.tags == {"team": "search"} and m.model_type == "xgb"
    client.set_logged_model_tags(m.model_id, {"stage": "dev", "team": "ranking"})
    client.log_model_params(m.model_id, {"lr": "0.1"})
    client.delete_logged_model_tag(m.model_id, "stage")
    got = client.get_logged_model(m.model_id)
    assert got.tags == {"team": "ranking"} and got.params == {"depth": "3", "lr": "0.1"}
    ready = client.finalize_logged_model(m.model_id, mlflow.entities.LoggedModelStatus.READY)
    assert ready.status.to_proto() == mlflow.entities.LoggedModelStatus.READY.to_proto()

    other = client.create_logged_model(exp_id, name="other")
    found = client.search_logged_models([exp_id], filter_string="name = 'ranker'")
    assert [x.model_id for x in found] == [m.model_id]
    found = client.search_logged_models([exp_id], filter_string="tags.team = 'ranking' AND params.lr = '0.1'")
    assert [x.model_id for x in found] == [m.model_id]
    found = client.search_logged_models([exp_id], filter_string="status = 'READY'")
    assert [x.model_id for x in found] == [m.model_id]
    everything = client.search_logged_models([exp_id], order_by=[{"field_name": "name", "ascending": True}])
    assert [x.name for x in everything] == ["other", "ranker"]
    page = client.search_logged_models([exp_id], max_results=1)
    assert len(page) == 1 and page.token
    rest = client.search_logged_models([exp_id], max_results=1, page_token=page.token)
    assert {page[0].model_id, rest[0].model_id} == {m.model_id, other.model_id}

    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.search_logged_models([exp_id], filter_string="nonsense ===")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.delete_logged_model_tag(m.model_id, "missing")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.create_logged_model(exp_id, name="bad/name")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"

    client.delete_logged_model(other.model_id)
    with pytest.raises(mlflow.exceptions.MlflowException) as err:
        client.get_logged_model(other.model_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    deleted = requests.get(
        f"{tracked.url}/api/2.0/mlflow/logged-models/{other.model_id}", params={"allow_deleted": "true"}, timeout=10
    )
    assert deleted.json()["model"]["info"]["model_id"] == other.model_id
    assert [x.model_id for x in client.search_logged_models([exp_id])] == [m.model_id]

    r = requests.get(f"{tracked.url}/api/2.0/mlflow/logged-models/m-doesnotexist", timeout=10)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = requests.patch(f"{tracked.url}/api/2.0/mlflow/logged-models/{m.model_id}", json={"status": "BOGUS"}, timeout=10)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = requests.post(f"{tracked.url}/api/2.0/mlflow/logged-models", json={"name": "x"}, timeout=10)
    assert r.status_code == 400 and "experiment_id" in r.json()["message"]


def test_model_inputs_and_datasets(tracked):
    import pandas as pd

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    train_ds = mlflow.data.from_pandas(df, source="s3://data/train.parquet", name="train-set", targets="y")
    eval_ds = mlflow.data.from_pandas(df.head(2), name="eval-set")
    client = mlflow.MlflowClient()
    with mlflow.start_run() as producer:
        info = mlflow.pyfunc.log_model(name="echo", python_model=Echo())
    with mlflow.start_run() as run:
        mlflow.log_input(train_ds, context="training")
        mlflow.log_input(eval_ds, context="eval", tags={"fold": "1"})
        client.log_inputs(run.info.run_id, models=[mlflow.entities.LoggedModelInput(info.model_id)])
    got = client.get_run(run.info.run_id)
    inputs = {(d.dataset.name, tuple(sorted((t.key, t.value) for t in d.tags))) for d in got.inputs.dataset_inputs}
    assert inputs == {
        ("train-set", (("mlflow.data.context", "training"),)),
        ("eval-set", (("fold", "1"), ("mlflow.data.context", "eval"))),
    }
    train_input = next(d.dataset for d in got.inputs.dataset_inputs if d.dataset.name == "train-set")
    assert train_input.digest == train_ds.digest and "s3://data/train.parquet" in train_input.source
    assert train_input.schema and train_input.profile
    assert [m.model_id for m in got.inputs.model_inputs] == [info.model_id]
    exp = [got.info.experiment_id]
    assert [r.info.run_id for r in client.search_runs(exp, "dataset.name = 'train-set'")] == [run.info.run_id]
    assert [r.info.run_id for r in client.search_runs(exp, "dataset.context = 'eval'")] == [run.info.run_id]
    assert client.search_runs(exp, f"dataset.digest = '{train_ds.digest}'")[0].info.run_id == run.info.run_id
    assert producer.info.run_id != run.info.run_id


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input


def test_pyfunc_model_with_code_and_a_run_artifacts_listing(tracked):
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="echo", python_model=Echo(), input_example=[[1, 2]])
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/echo")
    assert loaded.predict([[5, 6]]) == [[5, 6]]
    model_files = {f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=f"runs:/{run.info.run_id}/echo")}
    assert "echo/MLmodel" in model_files, model_files
    assert uuid.UUID(run.info.run_id)
    assert info.model_id
