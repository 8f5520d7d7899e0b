"""Runs, params, metrics, tags and datasets through the real mlflow client."""

import math
import time

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException


def test_fluent_logging_round_trip(tracking, client, experiment_id):
    with mlflow.start_run(experiment_id=experiment_id, run_name="train") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"batch_size": 32, "optimizer": "adam"})
        for step in range(10):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=3)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"a": "1", "b": "2"})
    got = client.get_run(run.info.run_id)
    assert got.info.run_name == "train"
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= got.info.start_time
    assert got.info.experiment_id == experiment_id
    assert got.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    assert got.data.params == {"lr": "0.01", "batch_size": "32", "optimizer": "adam"}
    assert got.data.metrics == {"loss": 0.1, "acc": 0.9, "f1": 0.8}
    assert got.data.tags["team"] == "vision" and got.data.tags["mlflow.runName"] == "train"
    assert got.data.tags["mlflow.user"] and "mlflow.source.name" in got.data.tags
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(10)]


def test_generated_run_name_and_user(client, experiment_id):
    run = client.create_run(experiment_id)
    parts = run.info.run_name.split("-")
    assert len(parts) == 3 and parts[2].isdigit()
    assert run.data.tags["mlflow.runName"] == run.info.run_name


def test_run_name_conflict(client, experiment_id):
    with pytest.raises(MlflowException) as e:
        client.create_run(experiment_id, run_name="a", tags={"mlflow.runName": "b"})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_nested_runs_and_resume(tracking, client, experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("x", 1)
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    children = mlflow.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]

    with mlflow.start_run(run_id=parent.info.run_id):
        mlflow.log_metric("resumed", 2.0)
    got = client.get_run(parent.info.run_id)
    assert got.data.metrics["resumed"] == 2.0 and got.info.status == "FINISHED"


def test_update_run(client, experiment_id):
    run = client.create_run(experiment_id)
    client.update_run(run.info.run_id, status="KILLED", name="renamed")
    client.set_terminated(run.info.run_id, status="FAILED", end_time=1234)
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FAILED" and got.info.end_time == 1234
    assert got.info.run_name == "renamed" and got.data.tags["mlflow.runName"] == "renamed"
    client.set_tag(run.info.run_id, "mlflow.runName", "via-tag")
    assert client.get_run(run.info.run_id).info.run_name == "via-tag"


def test_latest_metric_follows_mlflow_rule(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    # Highest step wins, then the highest timestamp, then the highest value.
    client.log_metric(run_id, "m", 5.0, timestamp=100, step=2)
    client.log_metric(run_id, "m", 9.0, timestamp=50, step=1)
    assert client.get_run(run_id).data.metrics["m"] == 5.0
    client.log_metric(run_id, "m", 3.0, timestamp=200, step=2)
    assert client.get_run(run_id).data.metrics["m"] == 3.0
    client.log_metric(run_id, "m", 4.0, timestamp=200, step=2)
    assert client.get_run(run_id).data.metrics["m"] == 4.0
    assert len(client.get_metric_history(run_id, "m")) == 4


def test_nan_and_infinity(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[
            Metric("nan", float("nan"), 1, 0),
            Metric("pinf", float("inf"), 1, 0),
            Metric("ninf", float("-inf"), 1, 0),
        ],
    )
    m = client.get_run(run_id).data.metrics
    assert math.isnan(m["nan"]) and m["pinf"] == math.inf and m["ninf"] == -math.inf
    assert math.isnan(client.get_metric_history(run_id, "nan")[0].value)


def test_log_batch_and_delete_tag(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), now + i, i) for i in range(1000)],
        params=[Param(f"p{i}", str(i)) for i in range(50)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(50)],
    )
    got = client.get_run(run_id)
    assert got.data.metrics["m"] == 999.0 and len(got.data.params) == 50
    assert len(client.get_metric_history(run_id, "m")) == 1000
    client.delete_tag(run_id, "t0")
    assert "t0" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as e:
        client.delete_tag(run_id, "t0")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_param_cannot_change(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_param(run_id, "lr", "0.1")  # the same value again is fine
    with pytest.raises(MlflowException) as e:
        client.log_param(run_id, "lr", "0.2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in e.value.message
    assert client.get_run(run_id).data.params == {"lr": "0.1"}


def test_deleted_runs_refuse_writes_and_can_be_restored(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "m", 1.0)
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as e:
        client.log_metric(run_id, "m", 2.0)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE" and "must be in the 'active' state" in e.value.message
    client.restore_run(run_id)
    client.log_metric(run_id, "m", 3.0, step=1)
    assert client.get_run(run_id).data.metrics["m"] == 3.0


def test_missing_run(client):
    with pytest.raises(MlflowException) as e:
        client.get_run("0123456789abcdef0123456789abcdef")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_invalid_keys_are_rejected(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    for key in ["../escape", "/abs", "a/../b", "bad\\key", "semi;colon"]:
        with pytest.raises(MlflowException) as e:
            client.log_metric(run_id, key, 1.0)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", key
    assert client.get_run(run_id).data.metrics == {}


def test_search_runs_filter_grammar(tracking, client, experiment_id):
    runs = {}
    for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd"), (0.001, "adam"), (0.0001, "Adam")]):
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"r{i}") as run:
            mlflow.log_params({"lr": lr, "optimizer": opt})
            mlflow.log_metric("loss", 1.0 - i * 0.2)
            mlflow.log_metric("acc", i * 0.25)
            mlflow.set_tag("group", "even" if i % 2 == 0 else "odd")
            if i == 3:
                mlflow.set_tag("special", "yes")
        runs[f"r{i}"] = run.info.run_id
    failed = client.create_run(experiment_id, run_name="failed")
    client.set_terminated(failed.info.run_id, "FAILED")

    def names(filter_string, order_by=None, view=ViewType.ACTIVE_ONLY):
        found = client.search_runs([experiment_id], filter_string, view, order_by=order_by or ["attributes.run_name ASC"])
        return [r.info.run_name for r in found]

    assert names("metrics.loss < 0.7") == ["r2", "r3"]
    assert names("metrics.acc >= 0.5 AND params.optimizer = 'adam'") == ["r2"]
    assert names("params.optimizer LIKE 'a%'") == ["r0", "r2"]
    assert names("params.optimizer ILIKE 'a%'") == ["r0", "r2", "r3"]
    assert names("params.optimizer != 'adam'") == ["r1", "r3"]
    assert names("tags.group = 'odd'") == ["r1", "r3"]
    assert names("tags.special IS NOT NULL") == ["r3"]
    assert names("tags.special IS NULL AND tags.group = 'even'") == ["r0", "r2"]
    assert names("params.lr IS NULL") == ["failed"]
    assert names("attributes.status = 'FAILED'") == ["failed"]
    assert names("attributes.run_name LIKE 'r%' AND metrics.loss != 1.0") == ["r1", "r2", "r3"]
    assert names(f"attributes.run_id IN ('{runs['r0']}', '{runs['r3']}')") == ["r0", "r3"]
    assert names(f"attributes.run_id NOT IN ('{runs['r0']}')") == ["failed", "r1", "r2", "r3"]
    assert names("`metrics`.`loss` <= 0.6") == ["r2", "r3"]
    assert names('tags."mlflow.runName" = "r1"') == ["r1"]
    assert names("attributes.start_time > 0 AND created > 0") == ["failed", "r0", "r1", "r2", "r3"]

    # Ordering: metrics, params and attributes; runs without the key go last.
    assert names("", ["metrics.acc DESC"]) == ["r3", "r2", "r1", "r0", "failed"]
    assert names("", ["metrics.acc ASC"]) == ["r0", "r1", "r2", "r3", "failed"]
    assert names("", ["params.lr DESC", "attributes.run_name"]) == ["r0", "r1", "r2", "r3", "failed"]
    assert names("params.lr IS NOT NULL", ["tags.group ASC", "metrics.loss ASC"]) == ["r2", "r0", "r3", "r1"]

    # Deleted runs only show with the matching view type.
    client.delete_run(runs["r0"])
    assert "r0" not in names("")
    assert names("", view=ViewType.DELETED_ONLY) == ["r0"]
    assert len(names("", view=ViewType.ALL)) == 5

    # The pandas front end.
    df = mlflow.search_runs([experiment_id], filter_string="metrics.acc > 0.2", order_by=["metrics.acc DESC"])
    assert list(df["tags.mlflow.runName"]) == ["r3", "r2", "r1"]
    assert list(df["metrics.acc"]) == [0.75, 0.5, 0.25]


def test_search_runs_pages_and_experiments(client):
    a = client.create_experiment(f"pages-a-{time.time_ns()}")
    b = client.create_experiment(f"pages-b-{time.time_ns()}")
    created = [client.create_run(a if i % 2 else b, start_time=1000 + i).info.run_id for i in range(25)]
    seen, token = [], None
    while True:
        page = client.search_runs([a, b], max_results=10, page_token=token)
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
    # Newest first by default, across both experiments.
    assert seen == list(reversed(created))
    assert len(mlflow.search_runs([a], output_format="list")) == 12


def test_search_runs_errors(client, experiment_id):
    for bad in [
        "metrics.loss < 'abc'",
        "params.lr > '1'",
        "metrics.loss < 1 OR metrics.acc > 1",
        "foo.bar = 1",
        "attributes.nope = 'x'",
        "metrics.loss <",
        "params.x = 'unterminated",
    ]:
        with pytest.raises(MlflowException) as e:
            client.search_runs([experiment_id], bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", bad
    with pytest.raises(MlflowException):
        client.search_runs([experiment_id], order_by=["metrics.loss SIDEWAYS"])
    with pytest.raises(MlflowException):
        client.search_runs([experiment_id], max_results=50001)


def test_datasets(tracking, client, experiment_id):
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    train = mlflow.data.from_pandas(df, source="s3://data/train.csv", name="train-set", targets="y")
    evald = mlflow.data.from_pandas(df.head(2), source="s3://data/eval.csv", name="eval-set")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_input(train, context="training")
        mlflow.log_input(evald, context="eval", tags={"split": "holdout"})
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["train-set", "eval-set"]
    assert inputs[0].dataset.digest == train.digest and inputs[0].dataset.source_type == "s3"
    assert '"x"' in inputs[0].dataset.schema and inputs[0].dataset.profile
    tags = {t.key: t.value for t in inputs[1].tags}
    assert tags == {"mlflow.data.context": "eval", "split": "holdout"}

    other = client.create_run(experiment_id).info.run_id
    by = lambda f: [r.info.run_id for r in client.search_runs([experiment_id], f)]  # noqa: E731
    assert by("datasets.name = 'train-set'") == [run.info.run_id]
    assert by("datasets.context = 'eval'") == [run.info.run_id]
    assert by(f"datasets.digest IN ('{evald.digest}')") == [run.info.run_id]
    assert other not in by("datasets.name LIKE '%set'")


def test_metric_history_paging_and_bulk_interval(api, client, experiment_id):
    run_ids = [client.create_run(experiment_id).info.run_id for _ in range(2)]
    for k, run_id in enumerate(run_ids):
        client.log_batch(run_id, metrics=[Metric("m", float(i * (k + 1)), 1000 + i, i) for i in range(0, 1000)])
    r = api.get("metrics/get-history", params={"run_id": run_ids[0], "metric_key": "m", "max_results": 300})
    body = r.json()
    assert len(body["metrics"]) == 300 and body["next_page_token"]
    r = api.get(
        "metrics/get-history",
        params={"run_id": run_ids[0], "metric_key": "m", "max_results": 800, "page_token": body["next_page_token"]},
    )
    assert [m["step"] for m in r.json()["metrics"]] == list(range(300, 1000))
    assert "next_page_token" not in r.json()

    r = api.get(
        "metrics/get-history-bulk-interval",
        params={"run_ids": run_ids, "metric_key": "m", "max_results": 50},
    )
    points = r.json()["metrics"]
    steps = sorted({p["step"] for p in points})
    assert 50 <= len(steps) <= 52 and steps[0] == 0 and steps[-1] == 999
    assert {p["run_id"] for p in points} == set(run_ids)
    r = api.get(
        "metrics/get-history-bulk-interval",
        params={"run_ids": run_ids[0], "metric_key": "m", "start_step": 10, "end_step": 20},
    )
    assert [p["step"] for p in r.json()["metrics"]] == list(range(10, 21))
    r = api.get("metrics/get-history-bulk-interval", params={"run_ids": run_ids[0], "metric_key": "m", "start_step": 5})
    assert r.status_code == 400


def test_rest_bad_input_changes_nothing(api, client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "keep", 1.0)
    before = client.get_run(run_id).data

    cases = [
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}, "'value'"),
        ("runs/log-metric", {"run_id": run_id, "key": "m", "timestamp": 1}, "Missing value for required parameter 'value'"),
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": "soon"}, "'timestamp'"),
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": -5}, "Timestamp"),
        ("runs/log-parameter", {"run_id": run_id, "key": ["list"], "value": "x"}, "'key'"),
        ("runs/log-batch", {"run_id": run_id, "metrics": "nope"}, "'metrics'"),
        ("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "a", "value": 1, "timestamp": 1}] * 1001}, "at most 1000"),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "at most 100"),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]}, "Duplicate"),
        ("runs/log-batch", {"run_id": run_id, "tags": [{"key": "t", "value": "x" * 8001}]}, "exceeds the maximum length"),
        ("runs/set-tag", {"run_id": "../../etc/passwd", "key": "a", "value": "b"}, "run_id"),
        ("runs/update", {"run_id": run_id, "status": "EXPLODED"}, "status"),
        ("runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.m >"}, "Invalid filter"),
        ("runs/search", {"experiment_ids": [experiment_id], "max_results": "many"}, "max_results"),
    ]
    for path, body, fragment in cases:
        r = api.post(path, json=body)
        assert r.status_code == 400, (path, body, r.text)
        err = r.json()
        assert err["error_code"] == "INVALID_PARAMETER_VALUE", (path, err)
        assert fragment in err["message"], (path, err["message"])

    # A batch over MLflow's 1 MB request limit, and a body over the server's limit.
    big = {"run_id": run_id, "tags": [{"key": f"t{i}", "value": "x" * 7000} for i in range(100)] * 2}
    r = api.post("runs/log-batch", json=big)
    assert r.status_code == 400 and "at most 1000000 bytes" in r.json()["message"]
    r = api.post("runs/log-batch", data=b"{" + b" " * (17 * 1024 * 1024) + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    r = api.get("runs/get", params={"run_id": "0" * 32})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    after = client.get_run(run_id).data
    assert (after.metrics, after.params, after.tags) == (before.metrics, before.params, before.tags)


def test_run_json_shape(api, client, experiment_id):
    run = client.create_run(experiment_id, tags={"k": "v"})
    client.log_metric(run.info.run_id, "m", float("nan"))
    body = api.get("runs/get", params={"run_id": run.info.run_id}).json()["run"]
    info = body["info"]
    assert info["run_id"] == info["run_uuid"] == run.info.run_id
    assert info["status"] == "RUNNING" and info["lifecycle_stage"] == "active"
    assert isinstance(info["start_time"], int) and "end_time" not in info
    assert body["data"]["metrics"][0]["value"] == "NaN"
    assert {"key": "k", "value": "v"} in body["data"]["tags"]
    assert body["inputs"] == {}
