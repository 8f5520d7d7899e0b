"""Experiments through the real mlflow client and raw REST."""

import uuid

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


def name(prefix="exp"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_create_get_and_tags(client):
    n = name()
    exp_id = client.create_experiment(n, tags={"team": "vision", "owner": "ana"})
    exp = client.get_experiment(exp_id)
    assert exp.name == n
    assert exp.tags == {"team": "vision", "owner": "ana"}
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert exp.creation_time > 0 and exp.last_update_time >= exp.creation_time

    client.set_experiment_tag(exp_id, "team", "nlp")
    client.delete_experiment_tag(exp_id, "owner")
    assert client.get_experiment(exp_id).tags == {"team": "nlp"}


def test_set_experiment_creates_once(tracking):
    n = name()
    first = mlflow.set_experiment(n)
    second = mlflow.set_experiment(n)
    assert first.experiment_id == second.experiment_id


def test_explicit_artifact_location(client):
    exp_id = client.create_experiment(name(), artifact_location="s3://bucket/prefix")
    assert client.get_experiment(exp_id).artifact_location == "s3://bucket/prefix"


def test_duplicate_name_is_rejected(client):
    n = name()
    client.create_experiment(n)
    with pytest.raises(MlflowException) as e:
        client.create_experiment(n)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_missing_experiment(client):
    with pytest.raises(MlflowException) as e:
        client.get_experiment("987654")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name("no-such-experiment-x") is None


def test_rename_delete_restore(client, api):
    exp_id = client.create_experiment(name())
    run = client.create_run(exp_id)
    client.rename_experiment(exp_id, "renamed-" + exp_id)
    assert client.get_experiment(exp_id).name == "renamed-" + exp_id

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    # Deleting an experiment deletes its runs, and restoring brings them back.
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    # MLflow answers INVALID_STATE with HTTP 500, which its client retries as a server error.
    r = api.post("experiments/update", json={"experiment_id": exp_id, "new_name": "again-" + exp_id})
    assert r.status_code == 500 and r.json()["error_code"] == "INVALID_STATE"
    with pytest.raises(MlflowException):
        client.create_run(exp_id)

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_search_filter_order_and_pages(client):
    prefix = name("srch")
    ids = [client.create_experiment(f"{prefix}-{i}", tags={"i": str(i), "even": str(i % 2 == 0)}) for i in range(7)]
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [e.name for e in found] == [f"{prefix}-{i}" for i in reversed(range(7))]

    evens = client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.even = 'True'")
    assert sorted(e.experiment_id for e in evens) == sorted(ids[0::2])

    # ILIKE is case-insensitive, LIKE is not.
    assert len(client.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}%'")) == 7
    assert len(client.search_experiments(filter_string=f"name LIKE '{prefix.upper()}%'")) == 0

    pages, token = [], None
    while True:
        page = client.search_experiments(
            filter_string=f"name LIKE '{prefix}%'", order_by=["experiment_id ASC"], max_results=3, page_token=token
        )
        pages.append([e.experiment_id for e in page])
        token = page.token
        if not token:
            break
    assert pages == [ids[0:3], ids[3:6], ids[6:7]]

    client.delete_experiment(ids[0])
    active = client.search_experiments(filter_string=f"name LIKE '{prefix}%'")
    deleted = client.search_experiments(filter_string=f"name LIKE '{prefix}%'", view_type=ViewType.DELETED_ONLY)
    everything = client.search_experiments(filter_string=f"name LIKE '{prefix}%'", view_type=ViewType.ALL)
    assert len(active) == 6 and [e.experiment_id for e in deleted] == [ids[0]] and len(everything) == 7


def test_search_rejects_bad_filters(client):
    for bad in ["name = ", "params.x = 'a'", "name LIKE 'a' OR name LIKE 'b'", "nope = 'x'"]:
        with pytest.raises(MlflowException) as e:
            client.search_experiments(filter_string=bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE", bad


def test_rest_errors(api):
    r = api.post("experiments/create", json={})
    assert r.status_code == 400
    assert r.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Missing value for required parameter 'name'.",
    }
    r = api.post("experiments/create", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = api.post("experiments/create", json={"name": 42})
    assert r.status_code == 400 and "'name'" in r.json()["message"]
    r = api.get("experiments/get", params={"experiment_id": "../etc"})
    assert r.status_code == 400
    r = api.get("experiments/nope")
    assert r.status_code == 404 and r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    r = api.post("experiments/create", json={"name": "x" * 501})
    assert r.status_code == 400 and "exceeds the maximum length" in r.json()["message"]


def test_ajax_prefix_serves_the_same_api(api, client):
    exp_id = client.create_experiment(name())
    r = api.get("experiments/get", params={"experiment_id": exp_id})
    r2 = __import__("requests").get(api.url("experiments/get", prefix="ajax-api"), params={"experiment_id": exp_id})
    assert r.json() == r2.json()


def test_health_and_version(server):
    import requests

    assert requests.get(server.url + "/health").text == "OK"
    assert requests.get(server.url + "/version").text.count(".") == 2
