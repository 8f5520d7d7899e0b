"""The permission matrix: every route the server answers, from its own list
(`mltrack routes`: the REST routers, the pages, the server functions), tried
by a user DENY'd on the owner's experiment and model, by a READ-only user
and by nobody, with the owner's ids in the query, in a JSON body, in a
text/plain and a form body, respelled (`01`, `+1`) and swapped (`run_id`
mine, `run_uuid` theirs; the query mine, the body theirs). Each try must be
refused or show none of the owner's data, and afterwards the owner's data,
read back as an admin, must be exactly what it was.

A route or server function added later is in the list by itself; a server
function without arguments here fails the test until it gets them."""

import json
import re
import subprocess
import uuid
from urllib.parse import quote, urlencode

import pytest
import requests

from conftest import BINARY
from test_auth import ADMIN, _start, as_user, new_user, raw

MARK = "SECRET" + uuid.uuid4().hex[:10]
# Names requests send (so an echo of them is no leak): not marked.
EXP_NAME = "exp-" + uuid.uuid4().hex[:10]
METRIC = "metric_" + uuid.uuid4().hex[:10]


def routes():
    return json.loads(subprocess.run([str(BINARY), "routes"], check=True, capture_output=True, text=True).stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    srv = _start(tmp_path_factory)
    mp = pytest.MonkeyPatch()
    try:
        yield build_world(srv, mp)
    finally:
        mp.undo()
        srv.stop()


def build_world(srv, mp):
    """The owner's experiment, run, artifact, logged model, registered
    model, dashboards and an upload in flight; a DENY'd user and a
    READ-only user, each with things of their own."""
    w = {"server": srv}
    olga = new_user(mp, srv, "olga")
    dan = new_user(mp, srv, "dan")
    rita = new_user(mp, srv, "rita")
    w.update(olga=olga, dan=dan, rita=rita)
    with as_user(mp, srv, *olga) as c:
        exp = c.create_experiment(EXP_NAME, tags={"note": f"tag-{MARK}"})
        run = c.create_run(exp, run_name=f"run-{MARK}", tags={"t": f"tagv-{MARK}"})
        rid = run.info.run_id
        c.log_param(rid, "p", f"param-{MARK}")
        c.log_metric(rid, METRIC, 1.5)
        c.set_terminated(rid)
    olga_auth = requests.auth.HTTPBasicAuth(*olga)
    base = srv.url
    r = requests.put(f"{base}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/secret.txt",
                     data=f"bytes-{MARK}".encode(), auth=olga_auth, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(f"{base}/api/2.0/mlflow/logged-models", auth=olga_auth, timeout=30,
                      json={"experiment_id": exp, "name": f"lm-{MARK}", "tags": [{"key": "k", "value": f"lmtag-{MARK}"}]})
    assert r.status_code == 200, r.text
    lm = r.json()["model"]["info"]["model_id"]
    model = "model-" + uuid.uuid4().hex[:8]
    post = lambda path, body: requests.post(f"{base}/api/2.0/mlflow/{path}", json=body, auth=olga_auth, timeout=30)
    assert post("registered-models/create", {"name": model, "description": f"mdesc-{MARK}",
                                             "tags": [{"key": "k", "value": f"mtag-{MARK}"}]}).status_code == 200
    r = post("model-versions/create", {"name": model, "source": f"runs:/{rid}/model", "run_id": rid,
                                       "description": f"vdesc-{MARK}"})
    assert r.status_code == 200, r.text
    assert post("registered-models/alias", {"name": model, "alias": "champion", "version": "1"}).status_code == 200
    dash = post_mltrack(base, olga_auth, "dashboards/create",
                        {"name": f"dash-{MARK}", "description": f"ddesc-{MARK}", "experiment_ids": [exp]})
    pinned = post_mltrack(base, olga_auth, "dashboards/create", {"name": f"pinned-{MARK}", "run_ids": [rid]})
    r = requests.post(f"{base}/api/2.0/mlflow-artifacts/mpu/create/{exp}/{rid}/artifacts", auth=olga_auth,
                      json={"path": "big.bin", "num_parts": 1}, timeout=30)
    assert r.status_code == 200, r.text
    upload = r.json()["upload_id"]
    grant(base, dan[0], "experiment", exp, "DENY")
    grant(base, dan[0], "registered_model", model, "DENY")
    grant(base, rita[0], "experiment", exp, "READ")
    grant(base, rita[0], "registered_model", model, "READ")
    # Things of the attackers' own, to name beside the owner's.
    w["own"] = {}
    for key, who in (("dan", dan), ("rita", rita)):
        with as_user(mp, srv, *who) as c:
            own_exp = c.create_experiment(f"own-{uuid.uuid4().hex[:8]}")
            own_run = c.create_run(own_exp).info.run_id
            # A parent it may not show (the run page must not name it).
            c.set_tag(own_run, "mlflow.parentRunId", rid)
        auth = requests.auth.HTTPBasicAuth(*who)
        own_model = "own-" + uuid.uuid4().hex[:8]
        requests.post(f"{base}/api/2.0/mlflow/registered-models/create", json={"name": own_model}, auth=auth, timeout=30)
        w["own"][key] = {"exp": own_exp, "run": own_run, "model": own_model}
    w.update(exp=exp, run=rid, lm=lm, model=model, dash=dash, pinned=pinned, upload=upload)
    w["before"] = snapshot(w)
    return w


def post_mltrack(base, auth, path, body):
    r = requests.post(f"{base}/api/2.0/mltrack/{path}", json=body, auth=auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["dashboard"]["dashboard_id"]


def grant(base, username, resource_type, resource_id, permission):
    r = requests.post(f"{base}/api/3.0/mlflow/users/permissions/grant", auth=requests.auth.HTTPBasicAuth(*ADMIN),
                      json={"username": username, "resource_type": resource_type, "resource_id": resource_id,
                            "permission": permission}, timeout=30)
    assert r.status_code == 200, r.text


def snapshot(w):
    """The owner's data as an admin reads it (every read here is free of
    side effects), and the grants that keep the attackers out."""
    exp, rid, model = w["exp"], w["run"], w["model"]
    get = lambda path, **params: raw(w["server"], "GET", path, params=params).text
    post = lambda path, body: raw(w["server"], "POST", path, json=body).text

    def grants(user, only=None):
        rows = json.loads(get("/api/3.0/mlflow/users/permissions/list", username=user[0]))["permissions"]
        return sorted((r["resource_type"], r["resource_pattern"], r["permission"]) for r in rows
                      if only is None or r["resource_pattern"] in only)

    dashboards = json.loads(get("/api/2.0/mltrack/dashboards/search")).get("dashboards", [])
    return {
        "experiment": get("/api/2.0/mlflow/experiments/get", experiment_id=exp),
        "runs": post("/api/2.0/mlflow/runs/search", {"experiment_ids": [exp], "run_view_type": "ALL"}),
        "history": get("/api/2.0/mlflow/metrics/get-history", run_id=rid, metric_key=METRIC),
        "artifacts": get("/api/2.0/mlflow/artifacts/list", run_id=rid),
        "file": get(f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/secret.txt"),
        "logged_model": get(f"/api/2.0/mlflow/logged-models/{w['lm']}"),
        "model": get("/api/2.0/mlflow/registered-models/get", name=model),
        "versions": get("/api/2.0/mlflow/model-versions/search", filter=f"name='{model}'"),
        "dashboards": [d for d in dashboards if d["created_by"] == w["olga"][0]],
        "owner_grants": grants(w["olga"]),
        "attacker_grants": [grants(w[u], {exp, model, "*"}) for u in ("dan", "rita")],
        "admins": sorted((u["username"], u["is_admin"]) for u in json.loads(get("/api/2.0/mlflow/users/list"))["users"]),
    }


def leaks(text):
    return MARK in text


def fill(path, w, mine):
    """A route's path with its parameters naming the owner's things."""
    exp, rid = w["exp"], w["run"]
    return (path.replace("{model_id}", w["lm"]).replace("{tag_key}", "k")
            .replace("{*path}", f"{exp}/{rid}/artifacts/secret.txt").replace("{upload_id}", w["upload"])
            .replace("{part_number}", "1"))


def params(w, exp=None, run=None):
    """Every parameter a request may name a resource by, naming the owner's."""
    exp, run = exp or w["exp"], run or w["run"]
    return {
        "run_id": run, "run_uuid": run, "run_ids": [run], "experiment_id": exp, "experiment_ids": [exp],
        "experiment_name": EXP_NAME, "name": w["model"], "new_name": w["model"] + "-x", "version": "1",
        "alias": "champion", "key": "k", "value": "v", "path": "secret.txt", "dashboard_id": w["dash"],
        "model_id": w["lm"], "source": f"runs:/{w['run']}/model", "description": "changed", "stage": "Archived",
        "archive_existing_versions": False, "status": "FINISHED", "timestamp": 1, "step": 0, "metric_key": METRIC,
        "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}], "params": [{"key": "p2", "value": "v"}],
        "tags": [{"key": "t2", "value": "v"}], "upload_id": w["upload"], "parts": [{"part_number": 1}], "num_parts": 1,
        "username": w["olga"][0], "resource_type": "experiment", "resource_id": exp, "permission": "MANAGE",
        "role_id": 1, "token_id": 1, "run_name": "renamed", "new_value": "x", "max_results": 10, "filter": "",
        "end_time": 2, "version_number": 1, "dataset_name": "d", "datasets": [], "models": [{"model_id": w["lm"]}],
    }


def query_of(p):
    pairs = []
    for k, v in p.items():
        if isinstance(v, list):
            pairs += [(k, x) for x in v if not isinstance(x, dict)]
        elif not isinstance(v, (dict, bool)):
            pairs.append((k, v))
        elif isinstance(v, bool):
            pairs.append((k, "false"))
    return urlencode(pairs)


# Tries that also name the attacker's own things: an answer may succeed
# (on those), but must show and change nothing of the owner's.
MIXED = ("run_id mine, run_uuid theirs", "query mine, body theirs")


def variants(method, path, w, who):
    """(description, query, body bytes, content type) tries for one route."""
    own = w["own"][who]
    p = params(w)
    out = [
        ("query", query_of(p), None, None),
        ("json", "", json.dumps(p).encode(), "application/json"),
        ("text/plain", "", json.dumps(p).encode(), "text/plain"),
        ("form", "", query_of(p).encode(), "application/x-www-form-urlencoded"),
        ("double-encoded", "", json.dumps(json.dumps(p)).encode(), "application/json"),
        # My run in run_id, theirs in run_uuid; my things in the query, theirs in the body.
        ("run_id mine, run_uuid theirs", query_of({**p, "run_id": own["run"]}), None, None),
        ("query mine, body theirs", query_of(params(w, exp=own["exp"], run=own["run"]) | {"name": own["model"]}),
         json.dumps(p).encode(), "text/plain"),
    ]
    for spelled in ("0" + w["exp"], "+" + w["exp"], "00" + w["exp"]):
        sp = params(w, exp=spelled)
        out.append((f"experiment {spelled!r} in query", query_of(sp), None, None))
        out.append((f"experiment {spelled!r} in body", "", json.dumps(sp).encode(), "application/json"))
    return out


class Answer:
    def __init__(self, status_code, text):
        self.status_code, self.text = status_code, text


def send(w, user, method, path, query, body, ctype):
    """One request; a live-events stream that opens is read for a moment
    (its first event shows nothing of anyone's) and closed."""
    headers = {"Content-Type": ctype} if ctype else {}
    url = w["server"].url + quote(path, safe="/{}*%:@") + (f"?{query}" if query else "")
    auth = requests.auth.HTTPBasicAuth(*user) if user else None
    with requests.request(method, url, data=body, headers=headers, auth=auth, timeout=10, allow_redirects=False,
                          stream=True) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            text = next(r.iter_content(4096), b"").decode(errors="replace")
        else:
            text = r.content.decode(errors="replace")
        return Answer(r.status_code, text)


# Routes a DENY'd user may call with success: they are about the caller
# (their account, their tokens) or narrowed to what the caller may read.
ABOUT_THE_CALLER = re.compile(
    r"/(users/current|users/current/permissions|users/list|tokens/(create|list|revoke)|server-info)$"
    r"|/(experiments|runs|registered-models|model-versions|logged-models|dashboards)/search$"
    r"|/mlflow-artifacts/artifacts/?$|/experiments/create$|/registered-models/create$|/dashboards/create$"
    r"|/users/roles/list$|/roles/list$"
)


def test_every_route_refuses_a_denied_user_and_changes_nothing(world):
    w = world
    listed = routes()
    assert len(listed["rest"]) > 150, "the route list comes from the routers"
    problems = []
    for method, path in listed["rest"]:
        concrete = fill(path, w, w["dan"])
        for what, query, body, ctype in variants(method, concrete, w, "dan"):
            r = send(w, w["dan"], method, concrete, query, body, ctype)
            if r.status_code >= 500 and r.status_code != 501:
                problems.append(f"{method} {path} [{what}]: {r.status_code} {r.text[:120]}")
            elif r.status_code < 300 and what not in MIXED and not ABOUT_THE_CALLER.search(path):
                problems.append(f"{method} {path} [{what}]: answered {r.status_code}")
            if leaks(r.text):
                problems.append(f"{method} {path} [{what}]: shows the owner's data: {r.text[:160]}")
    assert not problems, "\n".join(problems[:60])
    assert snapshot(w) == w["before"]


def test_every_write_refuses_a_read_only_user_and_changes_nothing(world):
    w = world
    problems = []
    for method, path in routes()["rest"]:
        if method == "GET":
            continue
        concrete = fill(path, w, w["rita"])
        for what, query, body, ctype in variants(method, concrete, w, "rita"):
            r = send(w, w["rita"], method, concrete, query, body, ctype)
            if r.status_code >= 500 and r.status_code != 501:
                problems.append(f"{method} {path} [{what}]: {r.status_code} {r.text[:120]}")
    assert not problems, "\n".join(problems[:60])
    assert snapshot(w) == w["before"]


def test_every_route_asks_who_is_there(world):
    w = world
    listed = routes()
    for method, path in listed["rest"]:
        if path.endswith("/server-info"):
            continue
        r = send(w, None, method, fill(path, w, w["dan"]), query_of(params(w)), None, None)
        assert r.status_code == 401, (method, path, r.status_code)
        assert not leaks(r.text)
    for method, path in listed["server_fns"]:
        r = requests.request(method, w["server"].url + path, data={"run_id": w["run"]}, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
    for page in listed["pages"]:
        r = requests.get(w["server"].url + fill_page(page, w), allow_redirects=False, timeout=30)
        assert r.status_code == 303 and "/login" in r.headers["Location"], (page, r.status_code)


def fill_page(page, w):
    return (page.replace("{id}", w["exp"]).replace("{run_id}", w["run"]).replace("{*path}", "secret.txt")
            .replace("{name}", w["model"]).replace("{version}", "1").replace("{model_id}", w["lm"]))


def qs(args, prefix=""):
    """Arguments as serde_qs encodes them (the UI's server-function calls)."""
    pairs = []
    for k, v in args.items():
        key = f"{prefix}[{k}]" if prefix else k
        if isinstance(v, dict):
            pairs += qs(v, key)
        elif isinstance(v, list):
            pairs += [(f"{key}[{i}]", x) for i, x in enumerate(v)]
        elif isinstance(v, bool):
            pairs.append((key, "true" if v else "false"))
        elif v is not None:
            pairs.append((key, v))
    return pairs


def server_fn_args(w, exp=None):
    exp = exp or w["exp"]
    rid, d = w["run"], w["dash"]
    view = {"name": "copy", "experiment_id": exp, "filter": "", "order_by": "", "metrics": [METRIC],
            "x": "step", "smoothing": 0, "log_y": False, "ignore_outliers": False, "parallel_color": "",
            "colors": "", "hidden": "", "overrides": "", "added": ""}
    comparison = {"name": "copy", "run_ids": [rid], "metric": METRIC, "x": "step", "smoothing": 0,
                  "log_y": False, "scatter_x": "", "scatter_y": "", "columns": ["params.p"]}
    return {
        "signed_in_user": {}, "list_experiments": {}, "list_registered_models": {},
        "create_experiment": {"name": "made-" + uuid.uuid4().hex[:6]},
        "rename_experiment": {"experiment_id": exp, "name": "renamed"},
        "set_experiment_deleted": {"experiment_id": exp, "deleted": True},
        "experiment_runs": {"experiment_id": exp, "filter": "", "deleted": False},
        "metric_ranges": {"run_ids": rid, "keys": METRIC},
        "set_runs_deleted": {"run_ids": [rid], "deleted": True},
        "run_page": {"run_id": rid},
        "set_run_tag": {"run_id": rid, "key": "k", "value": "v"},
        "delete_run_tag": {"run_id": rid, "key": "t"},
        "chart_runs": {"experiment_id": exp, "filter": "", "order_by": "", "deleted": False},
        "metric_series": {"run_ids": [rid], "key": METRIC, "max_points": 100, "with_times": False},
        "sweep_series": {"ask": {"run_ids": rid, "group_of": "", "key": METRIC, "center": "median", "band": "iqr",
                                 "keep": rid, "lines": 5}},
        "list_run_artifacts": {"run_id": rid, "path": ""},
        "preview_artifact": {"run_id": rid, "path": "secret.txt"},
        "compare_runs": {"run_ids": [rid]},
        "model_page": {"name": w["model"]},
        "version_page": {"name": w["model"], "version": "1"},
        "logged_model_page": {"model_id": w["lm"]},
        "list_dashboards": {"name": ""},
        "dashboard_view": {"dashboard_id": d, "selection": ""},
        "save_chart_view": {"view": view},
        "save_comparison": {"view": comparison},
        "snapshot_dashboard": {"dashboard_id": d},
        "duplicate_dashboard": {"dashboard_id": w["pinned"]},
        "save_dashboard": {"dashboard_id": d, "version": 1, "draft": "{}"},
        "delete_dashboard": {"dashboard_id": d},
        "save_note": {"dashboard_id": d, "version": 1, "text": "hello"},
        "logged_images": {"run_ids": rid, "key": "x"},
        "set_model_description": {"name": w["model"], "description": "changed"},
        "set_model_tag": {"name": w["model"], "key": "k", "value": "v"},
        "delete_model_tag": {"name": w["model"], "key": "k"},
        "set_model_alias": {"name": w["model"], "alias": "taken", "version": "1"},
        "delete_model_alias": {"name": w["model"], "alias": "champion"},
        "set_version_description": {"name": w["model"], "version": "1", "description": "changed"},
        "set_version_tag": {"name": w["model"], "version": "1", "key": "k", "value": "v"},
        "delete_version_tag": {"name": w["model"], "version": "1", "key": "t"},
        "delete_version": {"name": w["model"], "version": "1"},
        "param_importance": {"experiment_id": exp, "filter": "", "deleted": False, "metric": METRIC},
    }


# Server functions a DENY'd user may call with success: about the caller,
# or lists narrowed to what they may read.
SERVER_FNS_FOR_ANYONE = {"signed_in_user", "list_experiments", "list_registered_models", "list_dashboards",
                         "create_experiment"}


def test_every_server_function_and_page_refuses_a_denied_user(world):
    w = world
    listed = routes()
    session = requests.Session()
    session.auth = requests.auth.HTTPBasicAuth(*w["dan"])
    names = {re.sub(r"\d+$", "", p.rsplit("/", 1)[1]): (m, p) for m, p in listed["server_fns"]}
    missing = set(names) - set(server_fn_args(w))
    assert not missing, f"server functions without a case in this test: {sorted(missing)}"
    problems = []
    for exp in (w["exp"], "0" + w["exp"]):
        for name, args in server_fn_args(w, exp).items():
            method, path = names[name]
            r = session.request(method, w["server"].url + path, data=qs(args),
                                headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
            if name not in SERVER_FNS_FOR_ANYONE and r.status_code < 300:
                problems.append(f"{name}({exp}): answered {r.status_code}: {r.text[:100]}")
            if r.status_code >= 500:
                problems.append(f"{name}({exp}): {r.status_code}: {r.text[:100]}")
            if leaks(r.text):
                problems.append(f"{name}({exp}): shows the owner's data: {r.text[:160]}")
    # A denial is a 403 with a sentence, not a 500.
    r = session.post(w["server"].url + names["run_page"][1], data={"run_id": w["run"]}, timeout=30)
    assert r.status_code == 403 and "permission" in r.text, r.text
    pages = [fill_page(p, w) for p in listed["pages"]] + [
        f"/experiments/0{w['exp']}", f"/experiments/+{w['exp']}", f"/compare?runs={w['run']}",
        f"/dashboards/{w['pinned']}",
        # The attacker's own run whose parent tag names the owner's run.
        f"/experiments/{w['own']['dan']['exp']}/runs/{w['own']['dan']['run']}",
    ]
    for page in pages:
        r = session.get(w["server"].url + page, timeout=30)
        if leaks(r.text):
            problems.append(f"page {page}: shows the owner's data")
    assert not problems, "\n".join(problems)
    assert snapshot(w) == w["before"]


def test_read_only_server_functions_change_nothing(world):
    w = world
    session = requests.Session()
    session.auth = requests.auth.HTTPBasicAuth(*w["rita"])
    names = {re.sub(r"\d+$", "", p.rsplit("/", 1)[1]): (m, p) for m, p in routes()["server_fns"]}
    for name, args in server_fn_args(w).items():
        method, path = names[name]
        r = session.request(method, w["server"].url + path, data=qs(args),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
        assert r.status_code < 500, (name, r.status_code, r.text[:200])
    assert snapshot(w) == w["before"]


def test_a_sweep_naming_one_denied_run_among_its_own_is_refused(world):
    """The sweep panel's runs are checked together (one lookup of their
    experiments): a denied run among the caller's own refuses the whole
    call, in either place and spelling; the caller's own runs alone are
    drawn."""
    w = world
    names = {re.sub(r"\d+$", "", p.rsplit("/", 1)[1]): (m, p) for m, p in routes()["server_fns"]}
    method, path = names["sweep_series"]
    session = requests.Session()
    session.auth = requests.auth.HTTPBasicAuth(*w["dan"])
    mine = w["own"]["dan"]["run"]

    def ask(run_ids, keep="", group_of=""):
        args = {"ask": {"run_ids": run_ids, "group_of": group_of, "key": METRIC, "center": "median", "band": "iqr",
                        "keep": keep, "lines": 5}}
        return session.request(method, w["server"].url + path, data=qs(args),
                               headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)

    for run_ids in (f"{mine},{w['run']}", f"{w['run']},{mine}", f" {w['run']} ,{mine}", f"{mine},{w['run'].upper()}"):
        r = ask(run_ids)
        assert r.status_code == 403 and "permission" in r.text, (run_ids, r.status_code, r.text[:200])
        assert not leaks(r.text), r.text[:200]
    r = ask(mine, keep=w["run"])
    assert r.status_code == 200, r.text[:200]
    assert [line["run_id"] for line in r.json()["lines"]] in ([], [mine])
    assert not leaks(r.text)
    # Groups that cannot be read are MLflow's 400 with a sentence.
    for group_of, said in (("x", "'x' is not a group's number"), ("7", "Group 7 is out of range for 1 run"),
                           ("", None)):
        r = ask(f"{mine},{mine}" if group_of == "" else mine, group_of=group_of)
        if said is None:
            assert r.status_code == 200, r.text[:200]
            continue
        assert r.status_code == 400, r.text[:200]
        assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": said}
    assert snapshot(w) == w["before"]
