"""Dashboards through the REST API, as a script or CI publishes them."""

import threading

import requests


def call(server, method, path, **kw):
    return requests.request(method, f"{server.url}/api/2.0/mltrack/dashboards/{path}", timeout=30, **kw)


def test_minimal_create_get_and_defaults(server, experiment_id):
    r = call(server, "POST", "create", json={"name": "sweep", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["loss"]}]})
    assert r.status_code == 200, r.text
    d = r.json()["dashboard"]
    assert d["dashboard_id"].startswith("d-") and d["version"] == 1
    assert d["panels"] == [{"type": "line", "metrics": ["loss"], "x": "step", "smoothing": 0.0, "log_y": False, "title": ""}]
    assert d["creation_time"] == d["last_update_time"] > 0
    got = call(server, "GET", "get", params={"dashboard_id": d["dashboard_id"]}).json()["dashboard"]
    assert got == d
    # The ajax prefix the UI's scripts use answers the same.
    same = requests.get(f"{server.url}/ajax-api/2.0/mltrack/dashboards/get", params={"dashboard_id": d["dashboard_id"]}, timeout=30)
    assert same.json()["dashboard"] == d


def test_every_panel_kind_round_trips(server, experiment_id):
    panels = [
        {"type": "section", "title": "Validation"},
        {"type": "line", "metrics": ["val/loss", "train/loss"], "x": "relative", "smoothing": 0.6, "log_y": True, "ignore_outliers": True, "log_x": True, "y_range": [0.01, 2.0], "title": "losses"},
        {"type": "line", "metrics": ["val/loss"], "x": "step", "smoothing": 0.0, "log_y": False, "title": "by optimizer",
         "group": {"by": "params.optimizer", "center": "median", "band": "sem", "style": "params.depth"}},
        {"type": "line", "metrics": ["val/loss"], "x": "metric:train/loss", "smoothing": 0.0, "log_y": False, "title": "styled",
         "group": {"by": "", "center": "mean", "band": "minmax", "style": "tags.arch"}},
        {"type": "bar", "metric": "test_accuracy", "title": ""},
        {"type": "scatter", "x": "params.lr", "y": "metrics.val/loss", "title": ""},
        {"type": "table", "columns": ["params.lr", "metrics.val/loss", "tags.team"], "title": ""},
        {"type": "parallel", "fields": ["params.lr", "params.optimizer", "metrics.val/loss"], "color": "metrics.val/loss", "title": "sweep"},
        {"type": "parallel", "fields": [], "color": "", "title": "", "group": {"by": "params.optimizer", "center": "mean", "band": "minmax"}},
        {"type": "images", "key": "samples/val set", "title": "predictions"},
        {"type": "note", "text": "We dropped **adamw**: it diverged at lr=1e-2."},
    ]
    body = {"name": "all kinds", "description": "every panel", "experiment_ids": [experiment_id],
            "filter": "params.optimizer = 'adam'", "order_by": ["metrics.val_loss ASC"],
            "colors": {"abc123": "#1f77b4"}, "panels": panels}
    d = call(server, "POST", "create", json=body).json()["dashboard"]
    for k, v in body.items():
        assert d[k] == v, k


def test_bad_dashboards_get_mlflow_errors_in_sentences(server, experiment_id):
    cases = [
        ({"experiment_ids": [experiment_id]}, "needs a name"),
        ({"name": "x"}, "'experiment_ids'"),
        ({"name": "x", "experiment_ids": ["abc"]}, "'abc' is not an experiment id"),
        ({"name": "x", "experiment_ids": [experiment_id], "filter": "metrics.loss <<< 2"}, "'filter'"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "pie"}]}, "unknown variant `pie`"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": []}]}, "panels[0]"),
        ({"name": "x", "experiment_ids": [experiment_id], "panel": []}, "Unknown dashboard field 'panel'"),
        ({"name": "x", "experiment_ids": [experiment_id], "colors": {"r": "red"}}, "'colors'"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "group": {"by": "optimizer"}}]}, "params.<key>"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "group": {"by": "params.o", "band": "p90"}}]}, "minmax, std, sem, iqr or none"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "group": {"field": "params.o"}}]}, "unknown field `field`"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "parallel", "fields": ["lr"]}]}, "params.<key> or metrics.<key>"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "images", "key": "a+b"}]}, "not an image key"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "group": {"by": "", "style": "depth"}}]}, "params.<key>"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "x": "epoch"}]}, "metric:<key>"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "y_range": [2, 1]}]}, "the low one first"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "line", "metrics": ["l"], "log_y": True, "y_range": [0, 1]}]}, "above 0"),
        ({"name": "x", "experiment_ids": [experiment_id], "panels": [{"type": "images"}]}, "missing field `key`"),
    ]
    for body, words in cases:
        r = call(server, "POST", "create", json=body)
        assert r.status_code == 400, (body, r.text)
        err = r.json()
        assert err["error_code"] == "INVALID_PARAMETER_VALUE", err
        assert words in err["message"], (words, err["message"])
    # A 10 MB note is refused in a sentence; nothing is stored.
    before = call(server, "GET", "search").json().get("dashboards", [])
    big = {"name": "big", "experiment_ids": [experiment_id], "panels": [{"type": "note", "text": "x" * 10_000_000}]}
    r = call(server, "POST", "create", json=big)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text[:300]
    assert "at most 16384 characters" in r.json()["message"]
    assert call(server, "GET", "search").json().get("dashboards", []) == before
    r = call(server, "GET", "get", params={"dashboard_id": "d-nope"})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = call(server, "GET", "get")
    assert r.status_code == 400 and "dashboard_id" in r.json()["message"]


def test_update_checks_the_version_it_read(server, experiment_id):
    d = call(server, "POST", "create", json={"name": "v", "experiment_ids": [experiment_id]}).json()["dashboard"]
    r = call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "version": 1, "name": "renamed",
                                             "panels": [{"type": "note", "text": "hi"}]})
    assert r.status_code == 200, r.text
    up = r.json()["dashboard"]
    assert (up["version"], up["name"], up["panels"], up["experiment_ids"]) == (2, "renamed", [{"type": "note", "text": "hi"}], [experiment_id])
    assert up["creation_time"] == d["creation_time"] and up["last_update_time"] >= d["last_update_time"]
    # A second writer that read version 1 is refused, told who saved and when.
    stale = call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "version": 1, "name": "mine"})
    assert stale.status_code == 409, stale.text
    err = stale.json()
    assert err["error_code"] == "RESOURCE_CONFLICT"
    assert "version 2" in err["message"] and "after version 1" in err["message"] and "UTC" in err["message"]
    assert call(server, "GET", "get", params={"dashboard_id": d["dashboard_id"]}).json()["dashboard"]["name"] == "renamed"
    # Missing version, unknown field, a change that breaks a rule: refused, nothing lost.
    r = call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "name": "x"})
    assert r.status_code == 400 and "'version'" in r.json()["message"]
    r = call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "version": 2, "version_id": 1})
    assert r.status_code == 400 and "'version_id'" in r.json()["message"]
    r = call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "version": 2, "name": ""})
    assert r.status_code == 400
    assert call(server, "GET", "get", params={"dashboard_id": d["dashboard_id"]}).json()["dashboard"]["version"] == 2


def test_concurrent_updates_of_one_version_one_wins(server, experiment_id):
    d = call(server, "POST", "create", json={"name": "race", "experiment_ids": [experiment_id]}).json()["dashboard"]
    results = []

    def save(i):
        results.append(call(server, "POST", "update", json={"dashboard_id": d["dashboard_id"], "version": 1, "name": f"w{i}"}).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [200] + [409] * 7
    assert call(server, "GET", "get", params={"dashboard_id": d["dashboard_id"]}).json()["dashboard"]["version"] == 2


def test_search_by_name_experiment_and_pages_then_delete(server, client):
    a = client.create_experiment("dash-search-a")
    b = client.create_experiment("dash-search-b")
    ids = []
    for i in range(5):
        exp = a if i < 3 else b
        ids.append(call(server, "POST", "create", json={"name": f"Findme board {i}", "experiment_ids": [exp]}).json()["dashboard"]["dashboard_id"])
    found = call(server, "GET", "search", params={"name": "findme"}).json()["dashboards"]
    assert [d["dashboard_id"] for d in found] == ids[::-1]  # newest first
    of_b = call(server, "GET", "search", params={"experiment_id": b}).json()["dashboards"]
    assert {d["dashboard_id"] for d in of_b} == set(ids[3:])
    page = call(server, "GET", "search", params={"name": "findme", "max_results": 2}).json()
    assert len(page["dashboards"]) == 2 and page["next_page_token"]
    rest = call(server, "POST", "search", json={"name": "findme", "max_results": 10, "page_token": page["next_page_token"]}).json()
    assert len(rest["dashboards"]) == 3 and "next_page_token" not in rest
    r = call(server, "GET", "search", params={"experiment_id": "x"})
    assert r.status_code == 400
    assert call(server, "POST", "delete", json={"dashboard_id": ids[0]}).status_code == 200
    assert call(server, "GET", "get", params={"dashboard_id": ids[0]}).status_code == 404
    again = call(server, "POST", "delete", json={"dashboard_id": ids[0]})
    assert again.status_code == 404 and again.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert len(call(server, "GET", "search", params={"experiment_id": a}).json()["dashboards"]) == 2


def test_cross_site_dashboard_writes_are_refused(server, experiment_id):
    r = call(server, "POST", "create", headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
             data='{"name": "x", "experiment_ids": ["0"]}')
    assert r.status_code == 403
