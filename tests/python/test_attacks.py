"""What a second account tries against someone else's data, through the real
binary with users and permissions on (`--app-name basic-auth`): each test
makes the attack as it was reported, then reads the owner's data back as
the owner (or an admin) to see that nothing changed or leaked.

One server for the module (most tests); the login-throttling, first-admin
and import tests start their own. Test names carry the item number of the
review they come from (`test_item<N>_…`)."""

import base64
import http.client
import http.server
import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import BINARY, POSTGRES, Server, new_postgres_database
from test_live import Stream

ADMIN = ("admin", "admin-password-1")
ADMIN_ENV = {"MLTRACK_ADMIN_USERNAME": ADMIN[0], "MLTRACK_ADMIN_PASSWORD": ADMIN[1]}


# --------------------------------------------------------------------------
# Helpers: plain HTTP as one user or another.


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _start_auth(tmp_path_factory, env=None):
    return Server(
        tmp_path_factory.mktemp("attacks"), args=["--app-name", "basic-auth"], env={**ADMIN_ENV, **(env or {})}
    ).start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = _start_auth(tmp_path_factory)
    yield s
    s.stop()


def call(server, method, path, user=ADMIN, **kw):
    """One request as `user` (HTTP Basic; None: no credentials)."""
    auth = requests.auth.HTTPBasicAuth(*user) if user else None
    kw.setdefault("timeout", 30)
    return requests.request(method, f"{server.url}{path}", auth=auth, **kw)


def ok(r):
    assert r.status_code == 200, (r.request.method, r.request.url, r.status_code, r.text[:300])
    return r.json() if r.content else {}


def new_user(server, prefix="u"):
    name, password = unique(prefix), f"pw-{uuid.uuid4().hex}"
    ok(call(server, "POST", "/api/2.0/mlflow/users/create", json={"username": name, "password": password}))
    return name, password


def grant(server, user, resource_type, resource_id, permission):
    ok(call(server, "POST", "/api/3.0/mlflow/users/permissions/grant",
            json={"username": user[0], "resource_type": resource_type, "resource_id": resource_id,
                  "permission": permission}))


def mk_exp(server, user, name=None):
    return ok(call(server, "POST", "/api/2.0/mlflow/experiments/create", user=user,
                   json={"name": name or unique("exp")}))["experiment_id"]


def mk_run(server, user, experiment_id, name=None):
    return ok(call(server, "POST", "/api/2.0/mlflow/runs/create", user=user,
                   json={"experiment_id": experiment_id, "run_name": name or unique("run"),
                         "start_time": int(time.time() * 1000)}))["run"]["info"]


def proxy_path(artifact_uri):
    """The mlflow-artifacts proxy path of a `mlflow-artifacts:` root."""
    rest = artifact_uri.split("mlflow-artifacts:", 1)[1]
    if rest.startswith("//"):
        rest = rest[2:].split("/", 1)[1]
    return rest.lstrip("/")


def put_artifact(server, user, artifact_uri, path, data):
    ok(call(server, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{proxy_path(artifact_uri)}/{path}", user=user,
            data=data))


def read_artifact(server, user, run_id, path):
    r = call(server, "GET", "/get-artifact", user=user, params={"run_id": run_id, "path": path})
    assert r.status_code == 200, r.text[:300]
    return r.content


def runs_in(server, experiment_id, user=ADMIN):
    body = ok(call(server, "POST", "/api/2.0/mlflow/runs/search", user=user,
                   json={"experiment_ids": [experiment_id], "max_results": 1000, "run_view_type": "ALL"}))
    return sorted(r["info"]["run_id"] for r in body.get("runs", []))


def exp_tags(server, experiment_id, user=ADMIN):
    e = ok(call(server, "GET", "/api/2.0/mlflow/experiments/get", user=user,
                params={"experiment_id": experiment_id}))["experiment"]
    return {t["key"]: t["value"] for t in e.get("tags", [])}


def mk_model(server, user, name=None, tags=None):
    name = name or unique("model")
    ok(call(server, "POST", "/api/2.0/mlflow/registered-models/create", user=user,
            json={"name": name, "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}))
    return name


def mk_version(server, user, name, source, run_id=None):
    body = {"name": name, "source": source}
    if run_id:
        body["run_id"] = run_id
    return ok(call(server, "POST", "/api/2.0/mlflow/model-versions/create", user=user, json=body))["model_version"]


def model_tags(server, name, user=ADMIN):
    m = ok(call(server, "GET", "/api/2.0/mlflow/registered-models/get", user=user, params={"name": name}))
    return {t["key"]: t["value"] for t in m["registered_model"].get("tags", [])}


def session_for(server, user):
    """A requests session signed in through the UI's login form (a cookie)."""
    s = requests.Session()
    r = s.post(f"{server.url}/login", data={"username": user[0], "password": user[1], "next": "/"},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303 and "mltrack_session" in s.cookies, (r.status_code, r.text[:200])
    return s


def page(server, path, user):
    """A UI page's HTML as `user` (HTTP Basic)."""
    return call(server, "GET", path, user=user, allow_redirects=False)


@pytest.fixture(scope="module")
def fns(srv):
    """The UI's server-function URLs, as the wasm bundle calls them."""
    wasm = requests.get(f"{srv.url}/pkg/mltrack_bg.wasm", timeout=60).content
    found = {m.group(1).decode(): m.group(0).decode() for m in re.finditer(rb"/_app/([a-z_]+?)\d+", wasm)}
    need = {"dashboard_view", "duplicate_dashboard", "snapshot_dashboard", "run_page", "experiment_runs"}
    assert need <= set(found), sorted(found)
    return found


def server_fn(server, fns, name, user, data):
    """A Leptos server function, called as the UI calls it (a form post)."""
    return requests.post(server.url + fns[name], data=data, auth=requests.auth.HTTPBasicAuth(*user), timeout=30)


@pytest.fixture()
def victim_and_attacker(srv):
    """An owner with an experiment, a run and a file in it; an attacker
    DENY'd on that experiment."""
    owner = new_user(srv, "owner")
    attacker = new_user(srv, "mallory")
    exp_name = unique("secret-exp")
    exp = mk_exp(srv, owner, exp_name)
    run_name = unique("secret-run")
    run = mk_run(srv, owner, exp, run_name)
    put_artifact(srv, owner, run["artifact_uri"], "model/MLmodel", b"owner's model file")
    grant(srv, attacker, "experiment", exp, "DENY")
    return dict(owner=owner, attacker=attacker, exp=exp, exp_name=exp_name, run=run, run_id=run["run_id"],
                run_name=run_name)


# --------------------------------------------------------------------------
# 1. upload-artifact names its run twice.


def test_item1_upload_artifact_cannot_write_into_another_users_run(srv):
    victim = new_user(srv, "victim")
    attacker = new_user(srv, "mallory")
    vexp = mk_exp(srv, victim)
    vrun = mk_run(srv, victim, vexp)
    original = b"flavors:\n  python_function: {}\n# the victim's own\n"
    put_artifact(srv, victim, vrun["artifact_uri"], "model/MLmodel", original)
    aexp = mk_exp(srv, attacker)
    arun = mk_run(srv, attacker, aexp)
    answers = []
    for prefix in ("ajax-api", "api"):
        # run_id names the attacker's own run (what a guard may check), run_uuid the victim's.
        r = call(srv, "POST", f"/{prefix}/2.0/mlflow/upload-artifact", user=attacker,
                 params={"run_id": arun["run_id"], "run_uuid": vrun["run_id"], "path": "model/MLmodel"},
                 data=b"pwned", headers={"Content-Type": "application/octet-stream"})
        answers.append((prefix, r.status_code))
        assert r.status_code < 500, r.text[:300]
    # Only READ on the victim's experiment (the default): naming the victim's run alone is refused.
    for key in ("run_id", "run_uuid"):
        r = call(srv, "POST", "/ajax-api/2.0/mlflow/upload-artifact", user=attacker,
                 params={key: vrun["run_id"], "path": "model/MLmodel"}, data=b"pwned-too")
        assert r.status_code == 403, (key, r.status_code, r.text[:200])
    # The victim's file is byte for byte what the victim wrote.
    assert read_artifact(srv, victim, vrun["run_id"], "model/MLmodel") == original, answers
    r = call(srv, "GET", f"/api/2.0/mlflow-artifacts/artifacts/{proxy_path(vrun['artifact_uri'])}/model/MLmodel",
             user=victim)
    assert r.content == original


# --------------------------------------------------------------------------
# 2. DELETE endpoints: the guard read the query, the handler the body.


@pytest.fixture()
def two_models(srv):
    """The victim's registered model (a tag, version 1, alias `champion`) and
    the attacker's own, alike."""
    out = {}
    for who in ("victim", "attacker"):
        user = new_user(srv, who)
        exp = mk_exp(srv, user)
        run = mk_run(srv, user, exp)
        name = mk_model(srv, user, unique(f"{who}-model"), tags={"k": f"{who}'s tag"})
        mk_version(srv, user, name, f"mlflow-artifacts:/{exp}/{run['run_id']}/artifacts/model", run["run_id"])
        ok(call(srv, "POST", "/api/2.0/mlflow/registered-models/alias", user=user,
                json={"name": name, "alias": "champion", "version": "1"}))
        out[who] = (user, name)
    return out


def _delete_with_body(srv, attacker, path, own_query, body):
    """The attack's three shapes: target in a text/plain JSON body, in a form
    body, and in a JSON body under a query naming the attacker's own."""
    answers = []
    for content_type, data in (
        ("text/plain", json.dumps(body)),
        ("application/x-www-form-urlencoded", urllib.parse.urlencode(body)),
        ("application/json", json.dumps(body)),
    ):
        r = call(srv, "DELETE", path, user=attacker, params=own_query, data=data,
                 headers={"Content-Type": content_type})
        answers.append((content_type, r.status_code))
    return answers


def test_item2_registered_model_delete_reads_the_target_where_the_guard_does(srv, two_models):
    victim, vname = two_models["victim"]
    attacker, aname = two_models["attacker"]
    answers = _delete_with_body(srv, attacker, "/api/2.0/mlflow/registered-models/delete", {"name": aname},
                                {"name": vname})
    r = call(srv, "GET", "/api/2.0/mlflow/registered-models/get", user=victim, params={"name": vname})
    assert r.status_code == 200, (answers, r.text[:200])
    assert model_tags(srv, vname, user=victim) == {"k": "victim's tag"}


def test_item2_model_version_delete_reads_the_target_where_the_guard_does(srv, two_models):
    victim, vname = two_models["victim"]
    attacker, aname = two_models["attacker"]
    answers = _delete_with_body(srv, attacker, "/api/2.0/mlflow/model-versions/delete",
                                {"name": aname, "version": "1"}, {"name": vname, "version": "1"})
    r = call(srv, "GET", "/api/2.0/mlflow/model-versions/get", user=victim, params={"name": vname, "version": "1"})
    assert r.status_code == 200, (answers, r.text[:200])
    assert r.json()["model_version"]["current_stage"] != "Deleted_Internal"
    assert r.json()["model_version"]["source"].startswith("mlflow-artifacts:/"), r.json()


def test_item2_alias_delete_reads_the_target_where_the_guard_does(srv, two_models):
    victim, vname = two_models["victim"]
    attacker, aname = two_models["attacker"]
    answers = _delete_with_body(srv, attacker, "/api/2.0/mlflow/registered-models/alias",
                                {"name": aname, "alias": "champion"}, {"name": vname, "alias": "champion"})
    r = call(srv, "GET", "/api/2.0/mlflow/registered-models/alias", user=victim,
             params={"name": vname, "alias": "champion"})
    assert r.status_code == 200 and r.json()["model_version"]["version"] == "1", (answers, r.text[:200])


def test_item2_tag_delete_reads_the_target_where_the_guard_does(srv, two_models):
    victim, vname = two_models["victim"]
    attacker, aname = two_models["attacker"]
    answers = _delete_with_body(srv, attacker, "/api/2.0/mlflow/registered-models/delete-tag",
                                {"name": aname, "key": "k"}, {"name": vname, "key": "k"})
    assert model_tags(srv, vname, user=victim) == {"k": "victim's tag"}, answers


# --------------------------------------------------------------------------
# 3. Experiment ids spelled another way than the grant.


def spellings(experiment_id):
    return ["0" + experiment_id, "00" + experiment_id, "+" + experiment_id, " " + experiment_id]


@pytest.fixture()
def denied_experiment(srv):
    """Experiment E (the owner's) with a run and a logged model; an attacker DENY'd on it."""
    owner = new_user(srv, "owner")
    attacker = new_user(srv, "mallory")
    names = dict(exp=unique("secret-exp"), run=unique("secret-run"), model=unique("secret-lm"))
    exp = mk_exp(srv, owner, names["exp"])
    mk_run(srv, owner, exp, names["run"])
    ok(call(srv, "POST", "/api/2.0/mlflow/logged-models", user=owner,
            json={"experiment_id": exp, "name": names["model"]}))
    grant(srv, attacker, "experiment", exp, "DENY")
    return owner, attacker, exp, names


def leaks(text, names):
    return [n for n in names.values() if n in text]


def test_item3_padded_experiment_ids_read_nothing(srv, denied_experiment):
    owner, attacker, exp, names = denied_experiment
    # The spelling the grant names is refused (the baseline of this test).
    assert call(srv, "GET", "/api/2.0/mlflow/experiments/get", user=attacker,
                params={"experiment_id": exp}).status_code == 403
    cookie = session_for(srv, attacker)
    found = []
    for sp in spellings(exp):
        r = call(srv, "GET", "/api/2.0/mlflow/experiments/get", user=attacker, params={"experiment_id": sp})
        if not 400 <= r.status_code < 500 or leaks(r.text, names):
            found.append(("experiments/get", sp, r.status_code, leaks(r.text, names)))
        for endpoint in ("runs/search", "logged-models/search"):
            r = call(srv, "POST", f"/api/2.0/mlflow/{endpoint}", user=attacker, json={"experiment_ids": [sp]})
            if r.status_code >= 500 or leaks(r.text, names):
                found.append((endpoint, sp, r.status_code, leaks(r.text, names)))
        quoted = urllib.parse.quote(sp, safe="+")
        for how, r in (("basic", page(srv, f"/experiments/{quoted}", attacker)),
                       ("cookie", cookie.get(f"{srv.url}/experiments/{quoted}", allow_redirects=False, timeout=30))):
            if leaks(r.text, names):
                found.append((f"page /experiments/{quoted} ({how})", r.status_code, leaks(r.text, names)))
    # The owner still sees it all, where the attacker looked.
    assert ok(call(srv, "GET", "/api/2.0/mlflow/experiments/get", user=owner,
                   params={"experiment_id": exp}))["experiment"]["name"] == names["exp"]
    assert names["run"] in call(srv, "POST", "/api/2.0/mlflow/runs/search", user=owner,
                                json={"experiment_ids": [exp]}).text
    shown = page(srv, f"/experiments/{exp}", owner).text
    assert names["exp"] in shown and names["run"] in shown
    assert found == [], found


def test_item3_padded_experiment_ids_write_nothing(srv, denied_experiment):
    owner, attacker, exp, names = denied_experiment
    # EDIT on every experiment, but DENY on E.
    grant(srv, attacker, "experiment", "*", "EDIT")
    runs_before, tags_before = runs_in(srv, exp), exp_tags(srv, exp)
    assert call(srv, "POST", "/api/2.0/mlflow/runs/create", user=attacker,
                json={"experiment_id": exp}).status_code == 403
    answers = []
    for sp in spellings(exp):
        r = call(srv, "POST", "/api/2.0/mlflow/runs/create", user=attacker, json={"experiment_id": sp})
        answers.append(("runs/create", sp, r.status_code))
        r = call(srv, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", user=attacker,
                 json={"experiment_id": sp, "key": "pwned", "value": sp})
        answers.append(("set-experiment-tag", sp, r.status_code))
    assert runs_in(srv, exp) == runs_before, answers
    assert exp_tags(srv, exp) == tags_before, answers
    assert all(400 <= status < 500 for _, _, status in answers), answers
    # The wildcard works where no DENY is: the attacker's grant is real.
    other = mk_exp(srv, owner)
    assert call(srv, "POST", "/api/2.0/mlflow/runs/create", user=attacker,
                json={"experiment_id": other}).status_code == 200


# --------------------------------------------------------------------------
# 4. A registered model named `*`.


def _star_cleanup(srv):
    r = call(srv, "GET", "/api/2.0/mlflow/registered-models/get", params={"name": "*"})
    if r.status_code == 200:
        call(srv, "DELETE", "/api/2.0/mlflow/registered-models/delete", json={"name": "*"})


def _user_grants(srv, user):
    body = ok(call(srv, "GET", "/api/3.0/mlflow/users/permissions/list", params={"username": user[0]}))
    return {(p["resource_type"], p["resource_pattern"], p["permission"]) for p in body.get("permissions", [])}


@pytest.fixture()
def star_setting(srv):
    """A victim's model, a colleague DENY'd on every model, an attacker."""
    _star_cleanup(srv)
    victim = new_user(srv, "victim")
    colleague = new_user(srv, "colleague")
    attacker = new_user(srv, "mallory")
    vmodel = mk_model(srv, victim, tags={"owner": "victim"})
    grant(srv, colleague, "registered_model", "*", "DENY")
    yield victim, colleague, attacker, vmodel
    _star_cleanup(srv)


def _after_star(srv, victim, colleague, attacker, vmodel):
    """What a `*` model gave the attacker, and what deleting it took away:
    the facts, read back as the victim and the admin."""
    tag = call(srv, "POST", "/api/2.0/mlflow/registered-models/set-tag", user=attacker,
               json={"name": vmodel, "key": "owner", "value": "mallory"})
    attacker_grants = _user_grants(srv, attacker)
    if call(srv, "GET", "/api/2.0/mlflow/registered-models/get", params={"name": "*"}).status_code == 200:
        call(srv, "DELETE", "/api/2.0/mlflow/registered-models/delete", user=attacker, json={"name": "*"})
    return dict(
        tag_status=tag.status_code,
        victim_tags=model_tags(srv, vmodel, user=victim),
        colleague_deny_kept=("registered_model", "*", "DENY") in _user_grants(srv, colleague),
        attacker_manages_all=("registered_model", "*", "MANAGE") in attacker_grants,
    )


def _assert_star_changed_nothing(facts):
    assert facts == dict(tag_status=403, victim_tags={"owner": "victim"}, colleague_deny_kept=True,
                         attacker_manages_all=False)


def test_item4_a_model_named_star_is_refused(srv, star_setting):
    victim, colleague, attacker, vmodel = star_setting
    r = call(srv, "POST", "/api/2.0/mlflow/registered-models/create", user=attacker, json={"name": "*"})
    facts = _after_star(srv, victim, colleague, attacker, vmodel)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (r.text[:200], facts)
    _assert_star_changed_nothing(facts)


def test_item4_renaming_a_model_to_star_is_refused(srv, star_setting):
    victim, colleague, attacker, vmodel = star_setting
    own = mk_model(srv, attacker)
    r = call(srv, "POST", "/api/2.0/mlflow/registered-models/rename", user=attacker,
             json={"name": own, "new_name": "*"})
    facts = _after_star(srv, victim, colleague, attacker, vmodel)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", (r.text[:200], facts)
    _assert_star_changed_nothing(facts)
    assert call(srv, "GET", "/api/2.0/mlflow/registered-models/get", user=attacker,
                params={"name": own}).status_code == 200


# --------------------------------------------------------------------------
# 5. A model version whose source is a denied experiment's files.


def test_item5_model_version_sources_do_not_reach_denied_artifacts(srv):
    victim = new_user(srv, "victim")
    attacker = new_user(srv, "mallory")
    secret = f"secret-{uuid.uuid4().hex}".encode()
    exp = mk_exp(srv, victim)
    run = mk_run(srv, victim, exp)
    rid = run["run_id"]
    put_artifact(srv, victim, run["artifact_uri"], "model/MLmodel", secret)
    vmodel = mk_model(srv, victim)
    mk_version(srv, victim, vmodel, f"mlflow-artifacts:/{exp}/{rid}/artifacts/model", rid)
    lm = ok(call(srv, "POST", "/api/2.0/mlflow/logged-models", user=victim,
                 json={"experiment_id": exp, "name": unique("lm")}))["model"]["info"]
    put_artifact(srv, victim, lm["artifact_uri"], "MLmodel", secret)
    lm_tags_before = ok(call(srv, "GET", f"/api/2.0/mlflow/logged-models/{lm['model_id']}",
                             user=victim))["model"]["info"].get("tags", [])
    grant(srv, attacker, "experiment", exp, "DENY")
    grant(srv, attacker, "registered_model", vmodel, "DENY")
    # The direct ways are closed (the baseline of this test).
    assert call(srv, "GET", "/get-artifact", user=attacker,
                params={"run_id": rid, "path": "model/MLmodel"}).status_code == 403
    assert call(srv, "GET", "/model-versions/get-artifact", user=attacker,
                params={"name": vmodel, "version": "1", "path": "MLmodel"}).status_code == 403
    amodel = mk_model(srv, attacker)
    sources = [
        (f"mlflow-artifacts:/{exp}/{rid}/artifacts", "model/MLmodel"),
        (f"mlflow-artifacts:/{exp}", f"{rid}/artifacts/model/MLmodel"),
        (f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts", "model/MLmodel"),
        (f"runs:/{rid}/model", "MLmodel"),
        (f"models:/{vmodel}/1", "MLmodel"),
        (f"models:/{lm['model_id']}", "MLmodel"),
    ]
    found = []
    for source, path in sources:
        r = call(srv, "POST", "/api/2.0/mlflow/model-versions/create", user=attacker,
                 json={"name": amodel, "source": source})
        if r.status_code != 200:
            if not 400 <= r.status_code < 500:
                found.append((source, "create", r.status_code))
            continue
        version = r.json()["model_version"]["version"]
        got = call(srv, "GET", "/model-versions/get-artifact", user=attacker,
                   params={"name": amodel, "version": version, "path": path})
        if not 400 <= got.status_code < 500 or secret in got.content:
            found.append((source, "get-artifact", got.status_code, secret in got.content))
    lm_tags_after = ok(call(srv, "GET", f"/api/2.0/mlflow/logged-models/{lm['model_id']}",
                            user=victim))["model"]["info"].get("tags", [])
    assert found == [], found
    assert lm_tags_after == lm_tags_before
    # The victim reads the same file through the same endpoint.
    assert call(srv, "GET", "/model-versions/get-artifact", user=victim,
                params={"name": vmodel, "version": "1", "path": "MLmodel"}).content == secret


# --------------------------------------------------------------------------
# 6. Multipart uploads in flight.


def test_item6_multipart_uploads_are_private_to_their_uploader(srv):
    owner = new_user(srv, "owner")
    attacker = new_user(srv, "mallory")
    exp = mk_exp(srv, owner)
    run = mk_run(srv, owner, exp)
    folder = proxy_path(run["artifact_uri"])
    upload = ok(call(srv, "POST", f"/api/2.0/mlflow-artifacts/mpu/create/{folder}", user=owner,
                     json={"path": "/tmp/big.bin", "num_parts": 1}))
    upload_id = upload["upload_id"]
    mine = b"owner's part " * 1000
    r = call(srv, "PUT", f"/api/2.0/mlflow-artifacts/mpu/part/{upload_id}/1", user=owner, data=mine)
    assert r.status_code == 200, r.text[:200]
    # The attacker looks for uploads in flight, reads them, and writes a part of his own.
    listing = call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", user=attacker,
                   params={"path": ".mltrack-uploads"})
    inside = call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", user=attacker,
                  params={"path": f".mltrack-uploads/{upload_id}"})
    target = call(srv, "GET", f"/api/2.0/mlflow-artifacts/artifacts/.mltrack-uploads/{upload_id}/target", user=attacker)
    part = call(srv, "GET", f"/api/2.0/mlflow-artifacts/artifacts/.mltrack-uploads/{upload_id}/part-00001",
                user=attacker)
    replaced = call(srv, "PUT", f"/api/2.0/mlflow-artifacts/mpu/part/{upload_id}/1", user=attacker,
                    data=b"mallory's part")
    ok(call(srv, "POST", f"/api/2.0/mlflow-artifacts/mpu/complete/{folder}", user=owner,
            json={"path": "/tmp/big.bin", "upload_id": upload_id, "parts": [{"part_number": 1, "etag": "x"}]}))
    assert read_artifact(srv, owner, run["run_id"], "big.bin") == mine
    assert listing.status_code != 200 or upload_id not in listing.text, listing.text[:300]
    assert inside.status_code != 200 or "part-" not in inside.text, inside.text[:300]
    assert target.status_code != 200 and folder.encode() not in target.content, target.status_code
    assert part.status_code != 200 and b"owner's part" not in part.content, part.status_code
    assert replaced.status_code in (403, 404), replaced.text[:200]


# --------------------------------------------------------------------------
# 7 and 8. Dashboards: the UI's page and server functions, and pinned runs.


def _dashboards_named(srv, text):
    body = ok(call(srv, "GET", "/api/2.0/mltrack/dashboards/search", params={"name": text, "max_results": 1000}))
    return sorted(d["dashboard_id"] for d in body.get("dashboards", []))


def test_item7_dashboard_page_and_server_functions_check_the_reader(srv, fns, victim_and_attacker):
    v = victim_and_attacker
    secrets = dict(name=unique("secret-dash"), description=unique("secret-desc"), note=unique("secret-note"))
    d = ok(call(srv, "POST", "/api/2.0/mltrack/dashboards/create", user=v["owner"], json={
        "name": secrets["name"], "description": secrets["description"], "experiment_ids": [v["exp"]],
        "panels": [{"type": "line", "metrics": ["loss"]}, {"type": "note", "text": secrets["note"]}],
    }))["dashboard"]
    did = d["dashboard_id"]
    attacker = v["attacker"]
    # REST already refuses (the baseline of this test).
    assert call(srv, "GET", "/api/2.0/mltrack/dashboards/get", user=attacker,
                params={"dashboard_id": did}).status_code == 403
    before = _dashboards_named(srv, secrets["name"])
    found = []
    r = page(srv, f"/dashboards/{did}", attacker)
    if leaks(r.text, secrets):
        found.append(("page", r.status_code, leaks(r.text, secrets)))
    for fn, data in (("dashboard_view", {"dashboard_id": did, "selection": ""}),
                     ("duplicate_dashboard", {"dashboard_id": did}),
                     ("snapshot_dashboard", {"dashboard_id": did})):
        r = server_fn(srv, fns, fn, attacker, data)
        if r.status_code < 400 or leaks(r.text, secrets):
            found.append((fn, r.status_code, leaks(r.text, secrets), r.text[:120]))
    after = _dashboards_named(srv, secrets["name"])
    assert found == [], found
    assert after == before == [did]
    # The owner's page and view show what the attacker's did not.
    assert leaks(page(srv, f"/dashboards/{did}", v["owner"]).text, secrets)
    mine = server_fn(srv, fns, "dashboard_view", v["owner"], {"dashboard_id": did, "selection": ""})
    assert mine.status_code == 200 and secrets["name"] in mine.text
    got = ok(call(srv, "GET", "/api/2.0/mltrack/dashboards/get", user=v["owner"], params={"dashboard_id": did}))
    assert got["dashboard"]["name"] == secrets["name"] and got["dashboard"]["version"] == d["version"]


def test_item8_dashboards_pinned_to_denied_runs_are_not_shown(srv, fns, victim_and_attacker):
    v = victim_and_attacker
    secrets = dict(name=unique("secret-pinned"), note=unique("secret-note"))
    d = ok(call(srv, "POST", "/api/2.0/mltrack/dashboards/create", user=v["owner"], json={
        "name": secrets["name"], "run_ids": [v["run_id"]],
        "panels": [{"type": "bar", "metric": "loss"}, {"type": "note", "text": secrets["note"]}],
    }))["dashboard"]
    did = d["dashboard_id"]
    attacker = v["attacker"]
    got = call(srv, "GET", "/api/2.0/mltrack/dashboards/get", user=attacker, params={"dashboard_id": did})
    listed = call(srv, "GET", "/api/2.0/mltrack/dashboards/search", user=attacker,
                  params={"name": secrets["name"]})
    listed_all = call(srv, "GET", "/api/2.0/mltrack/dashboards/search", user=attacker, params={"max_results": 1000})
    shown = page(srv, f"/dashboards/{did}", attacker)
    index = page(srv, "/dashboards", attacker)
    view = server_fn(srv, fns, "dashboard_view", attacker, {"dashboard_id": did, "selection": ""})
    assert got.status_code == 403, got.text[:200]
    assert listed.status_code != 200 or did not in listed.text, listed.text[:300]
    assert did not in listed_all.text and secrets["name"] not in listed_all.text
    assert leaks(shown.text, secrets) == []
    assert leaks(index.text, secrets) == [] and did not in index.text
    assert view.status_code >= 400 and leaks(view.text, secrets) == [], view.text[:200]
    # The owner still has it, unchanged, and the pages show it to the owner.
    assert ok(call(srv, "GET", "/api/2.0/mltrack/dashboards/get", user=v["owner"],
                   params={"dashboard_id": did}))["dashboard"]["run_ids"] == [v["run_id"]]
    assert secrets["name"] in page(srv, f"/dashboards/{did}", v["owner"]).text
    assert secrets["name"] in page(srv, "/dashboards", v["owner"]).text


# --------------------------------------------------------------------------
# 9. Roles: a member of one role saw every user's personal grants.


def test_item9_role_members_see_only_their_own_roles(srv):
    victim = new_user(srv, "victim")
    attacker = new_user(srv, "mallory")
    exp = mk_exp(srv, ADMIN)
    grant(srv, victim, "experiment", exp, "DENY")
    grant(srv, attacker, "experiment", exp, "READ")
    mine = ok(call(srv, "POST", "/api/3.0/mlflow/roles/create",
                   json={"workspace": "default", "name": unique("readers")}))["role"]
    other = ok(call(srv, "POST", "/api/3.0/mlflow/roles/create",
                    json={"workspace": "default", "name": unique("others")}))["role"]
    ok(call(srv, "POST", "/api/3.0/mlflow/roles/permissions/add",
            json={"role_id": other["id"], "resource_type": "experiment", "resource_pattern": exp,
                  "permission": "MANAGE"}))
    ok(call(srv, "POST", "/api/3.0/mlflow/roles/assign", json={"username": attacker[0], "role_id": mine["id"]}))
    ids = {u: ok(call(srv, "GET", "/api/2.0/mlflow/users/get", params={"username": u[0]}))["user"]["id"]
           for u in (victim, attacker)}
    everything = ok(call(srv, "GET", "/api/3.0/mlflow/roles/list"))["roles"]
    by_name = {r["name"]: r for r in everything}
    victim_role = by_name[f"__user_{ids[victim]}__"]
    allowed = {mine["name"], f"__user_{ids[attacker]}__"}
    listed = call(srv, "GET", "/api/3.0/mlflow/roles/list", user=attacker, params={"workspace": "default"})
    grants = call(srv, "GET", "/api/3.0/mlflow/roles/permissions/list", user=attacker,
                  params={"role_id": victim_role["id"]})
    one = call(srv, "GET", "/api/3.0/mlflow/roles/get", user=attacker, params={"role_id": victim_role["id"]})
    others = call(srv, "GET", "/api/3.0/mlflow/roles/permissions/list", user=attacker,
                  params={"role_id": other["id"]})
    if listed.status_code == 200:
        seen = {r["name"] for r in listed.json().get("roles", [])}
        assert seen <= allowed, sorted(seen - allowed)
    else:
        assert 400 <= listed.status_code < 500
    assert grants.status_code in (403, 404), grants.text[:300]
    assert one.status_code in (403, 404), one.text[:300]
    assert others.status_code in (403, 404), others.text[:300]
    # The attacker still sees the role he holds; the admin still sees the victim's DENY.
    assert call(srv, "GET", "/api/3.0/mlflow/roles/permissions/list", user=attacker,
                params={"role_id": mine["id"]}).status_code == 200
    assert ("experiment", exp, "DENY") in _user_grants(srv, victim)


# --------------------------------------------------------------------------
# 11. The Host allow-list matched names, not addresses.


@pytest.mark.parametrize("host", ["10.evil.example", "10.evil.example:5000", "192.168.evil.example",
                                  "172.16.x.example", "fd00.evil", "fd00:evil.example"])
def test_item11_host_names_that_look_like_private_addresses_are_refused(srv, host):
    name = unique("rebound")
    read = call(srv, "GET", "/api/2.0/mlflow/experiments/search", params={"max_results": 1}, headers={"Host": host})
    write = call(srv, "POST", "/api/2.0/mlflow/experiments/create", json={"name": name}, headers={"Host": host})
    ui = call(srv, "GET", "/", headers={"Host": host}, allow_redirects=False)
    assert 400 <= read.status_code < 500, (read.status_code, read.text[:100])
    assert 400 <= write.status_code < 500, (write.status_code, write.text[:100])
    assert 400 <= ui.status_code < 500, ui.status_code
    r = call(srv, "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name})
    assert r.status_code == 404, r.text[:200]
    for good in (f"localhost:{srv.port}", f"127.0.0.1:{srv.port}"):
        assert call(srv, "GET", "/api/2.0/mlflow/experiments/search", params={"max_results": 1},
                    headers={"Host": good}).status_code == 200, good


# --------------------------------------------------------------------------
# 12. Tokens.


def _token(srv, user, name, days=None, bearer=None):
    body = {"name": name}
    if days is not None:
        body["expires_in_days"] = days
    if bearer:
        return requests.post(f"{srv.url}/api/2.0/mltrack/tokens/create", json=body,
                             headers={"Authorization": f"Bearer {bearer}"}, timeout=30)
    return call(srv, "POST", "/api/2.0/mltrack/tokens/create", user=user, json=body)


def _as_token(srv, token):
    return requests.get(f"{srv.url}/api/2.0/mlflow/experiments/search", params={"max_results": 1},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_item12_a_token_cannot_make_a_longer_lived_token(srv):
    user = new_user(srv, "tok")
    parent = ok(_token(srv, user, "one day", days=1))
    expiry = parent["token_info"]["expiry_time"]
    assert expiry and _as_token(srv, parent["token"]).status_code == 200
    answers = []
    for days in (None, 3650, 2):
        r = _token(srv, user, f"child {days}", days=days, bearer=parent["token"])
        if r.status_code == 200:
            child = r.json()["token_info"]["expiry_time"]
            answers.append((days, 200, child))
            assert child is not None and child <= expiry, (days, child, expiry)
        else:
            answers.append((days, r.status_code))
            assert 400 <= r.status_code < 500, r.text[:200]
    # Signed in with the password, the user still makes long-lived tokens.
    assert ok(_token(srv, user, "ci", days=365))["token_info"]["expiry_time"] > expiry


def test_item12_tokens_stop_working_after_a_password_change_or_reset(srv):
    user = new_user(srv, "tok")
    token = ok(_token(srv, user, "ci", days=30))["token"]
    assert _as_token(srv, token).status_code == 200
    new_password = f"pw-{uuid.uuid4().hex}"
    ok(call(srv, "PATCH", "/api/2.0/mlflow/users/update-password", user=user,
            json={"username": user[0], "password": new_password, "current_password": user[1]}))
    after_change = _as_token(srv, token).status_code
    user = (user[0], new_password)
    token2 = ok(_token(srv, user, "ci-2", days=30))["token"]
    assert _as_token(srv, token2).status_code == 200
    ok(call(srv, "PATCH", "/api/2.0/mlflow/users/update-password",
            json={"username": user[0], "password": f"pw-{uuid.uuid4().hex}"}))
    after_reset = _as_token(srv, token2).status_code
    assert (after_change, after_reset) == (401, 401)


def _metric_keys(ev):
    return [m["key"] for m in ev[2].get("metrics", [])] if ev[0] == "metrics" else []


def _arrives(stream, key, timeout):
    try:
        return stream.until(lambda ev: key in _metric_keys(ev), timeout)
    except AssertionError:
        return None


def test_item12_an_open_event_stream_ends_when_its_token_is_revoked(srv):
    user = new_user(srv, "tok")
    exp = mk_exp(srv, user)
    run = mk_run(srv, user, exp)
    made = ok(_token(srv, user, "live", days=1))
    stream = Stream(f"{srv.url}/api/2.0/mltrack/events", {"experiment_id": exp},
                    {"Authorization": f"Bearer {made['token']}"})
    try:

        def log(key):
            ok(call(srv, "POST", "/api/2.0/mlflow/runs/log-metric", user=user,
                    json={"run_id": run["run_id"], "key": key, "value": 1.0, "timestamp": 0, "step": 0}))

        log("before")
        assert _arrives(stream, "before", 10), "the stream delivers while valid"
        ok(call(srv, "POST", "/api/2.0/mltrack/tokens/revoke", user=user, json={"token_id": made["token_info"]["id"]}))
        assert _as_token(srv, made["token"]).status_code == 401
        ended_in_time = stream.ended.wait(6)
        log("after")
        late = _arrives(stream, "after", 2)
        assert ended_in_time, "the stream was still open 6 s after its token was revoked"
        assert late is None, "a change made after the revocation was delivered"
    finally:
        stream.close()
    # The owner's data is as logged.
    hist = ok(call(srv, "GET", "/api/2.0/mlflow/metrics/get-history", user=user,
                   params={"run_id": run["run_id"], "metric_key": "after"}))
    assert [m["value"] for m in hist["metrics"]] == [1.0]


# --------------------------------------------------------------------------
# 13. Login throttling: by address, and saying nothing about who exists.


def _basic_from(server, source, user, password, path="/api/2.0/mlflow/experiments/search?max_results=1"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(source, 0))
    try:
        creds = base64.b64encode(f"{user}:{password}".encode()).decode()
        conn.request("GET", path, headers={"Authorization": f"Basic {creds}", "Host": f"127.0.0.1:{server.port}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_item13_wrong_passwords_from_one_address_lock_out_no_one_else(tmp_path_factory):
    server = _start_auth(tmp_path_factory)
    try:
        user = new_user(server, "ivy")
        attacker_ip = "127.0.0.2"
        assert _basic_from(server, attacker_ip, *user) == 200, "the loopback alias answers"
        statuses = [_basic_from(server, attacker_ip, name, "wrong-password")
                    for name in (user[0], ADMIN[0]) for _ in range(8)]
        assert set(statuses) <= {401, 429}, statuses
        # From another address, the right password still works, for the user and the admin.
        for who in (user, ADMIN):
            assert _basic_from(server, "127.0.0.1", *who) == 200, (who[0], statuses)
        # From the throttled address, a known name and an unknown one look alike.
        for _ in range(4):
            _basic_from(server, attacker_ip, user[0], "wrong-password")
        known = _basic_from(server, attacker_ip, user[0], "wrong-password")
        unknown = _basic_from(server, attacker_ip, unique("nobody"), "wrong-password")
        assert known == unknown, (known, unknown)
        assert ok(call(server, "GET", "/api/2.0/mlflow/users/get", params={"username": user[0]}))["user"]["username"] == user[0]
    finally:
        server.stop()


# --------------------------------------------------------------------------
# 14. The one-time setup link, used six times at once.


def test_item14_the_setup_link_makes_exactly_one_admin(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("setup-race"), args=["--app-name", "basic-auth"])
    for var in ("MLTRACK_ADMIN_USERNAME", "MLTRACK_ADMIN_PASSWORD", "MLFLOW_AUTH_ADMIN_USERNAME",
                "MLFLOW_AUTH_ADMIN_PASSWORD"):
        server.env.pop(var, None)
    server.start()
    try:
        token = re.search(r"/setup\?token=(setup_[0-9a-f]+)", (server.workdir / "server.log").read_text()).group(1)
        names = [(f"root{i}", f"root-password-{i}-{uuid.uuid4().hex[:6]}") for i in range(6)]
        barrier = threading.Barrier(len(names))
        answers = [None] * len(names)

        def post(i):
            barrier.wait()
            r = requests.post(f"{server.url}/setup",
                              data={"token": token, "username": names[i][0], "password": names[i][1]},
                              allow_redirects=False, timeout=60)
            answers[i] = r.status_code

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(names))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        admins = []
        for name, password in names:
            r = call(server, "GET", "/api/2.0/mlflow/users/current", user=(name, password))
            if r.status_code == 200 and r.json()["user"]["is_admin"]:
                admins.append(name)
        assert len(admins) == 1, (admins, answers)
        assert answers.count(303) == 1, answers
        users = ok(call(server, "GET", "/api/2.0/mlflow/users/list",
                        user=next(n for n in names if n[0] == admins[0])))["users"]
        assert [u["username"] for u in users] == admins
    finally:
        server.stop()


# --------------------------------------------------------------------------
# 15. A run page names its parent.


def test_item15_run_page_does_not_name_a_denied_parent(srv, victim_and_attacker):
    v = victim_and_attacker
    attacker = v["attacker"]
    own_exp = mk_exp(srv, attacker)
    own = mk_run(srv, attacker, own_exp, unique("child"))
    ok(call(srv, "POST", "/api/2.0/mlflow/runs/set-tag", user=attacker,
            json={"run_id": own["run_id"], "key": "mlflow.parentRunId", "value": v["run_id"]}))
    html = page(srv, f"/experiments/{own_exp}/runs/{own['run_id']}", attacker)
    assert html.status_code == 200, html.status_code
    assert own["run_name"] in html.text, "the page shows the attacker's own run"
    assert v["run_name"] not in html.text
    assert v["exp_name"] not in html.text
    assert f"/experiments/{v['exp']}/runs/{v['run_id']}" not in html.text
    # The victim's run is as it was.
    got = ok(call(srv, "GET", "/api/2.0/mlflow/runs/get", user=v["owner"], params={"run_id": v["run_id"]}))
    assert got["run"]["info"]["run_name"] == v["run_name"]


# --------------------------------------------------------------------------
# 16. The importer against a source whose pages never end.


class EndlessSource(http.server.BaseHTTPRequestHandler):
    """A fake MLflow server: one experiment; runs/search answers a page of
    runs with a next page token, forever. `token_mode`: "same" (the same
    token and full page each time), "new" (a new token, the same full page)
    or "fresh" (a new token and one new run each time: no page repeats
    another, but a page of 1 run of the 1,000 asked for says more follow)."""

    protocol_version = "HTTP/1.1"
    token_mode = "same"
    calls = None
    # About 100 KB of params (each under MLflow's 6,000-character limit).
    params = [{"key": f"p{i}", "value": "x" * 5000} for i in range(20)]

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}") if n else {}

    def do_GET(self):
        if self.path.startswith("/version"):
            return self._send(200, b"2.20.0", "text/plain")
        self._send(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "not here"})

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        if path.endswith("/experiments/search"):
            return self._send(200, {"experiments": [{
                "experiment_id": "1", "name": "endless", "artifact_location": "", "lifecycle_stage": "active",
                "creation_time": 1, "last_update_time": 1}]})
        if path.endswith("/runs/search"):
            n = self.calls.setdefault("runs/search", 0) + 1
            self.calls["runs/search"] = n
            token = "again" if self.token_mode == "same" else f"page-{n}"
            ids = [f"{n:032x}"] if self.token_mode == "fresh" else [f"{i:032x}" for i in range(60)]
            return self._send(200, {"runs": [{
                "info": {"run_id": run_id, "run_uuid": run_id, "experiment_id": "1", "run_name": "r",
                         "user_id": "u", "status": "FINISHED", "start_time": 1, "end_time": 2,
                         "artifact_uri": "", "lifecycle_stage": "active"},
                "data": {"params": self.params, "metrics": [], "tags": []}} for run_id in ids],
                "next_page_token": token})
        self._send(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"{path} not here"})


def _rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.mark.parametrize("token_mode", ["same", "new", "fresh"])
def test_item16_import_of_an_endless_source_stops_with_bounded_memory(tmp_path, token_mode):
    calls = {}
    handler = type("Handler", (EndlessSource,), {"token_mode": token_mode, "calls": calls})
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    target = new_postgres_database() if POSTGRES else f"sqlite:///{tmp_path}/imported.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    env["MLTRACK_BACKEND_STORE_URI"] = target
    out = open(tmp_path / "import.log", "wb")
    proc = subprocess.Popen([str(BINARY), "import", "--from", f"http://127.0.0.1:{fake.server_port}", "-q"],
                            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    peak, started, killed = 0.0, time.time(), None
    try:
        while proc.poll() is None:
            peak = max(peak, _rss_mb(proc.pid))
            if peak > 500:
                killed = f"RSS reached {peak:.0f} MB after {time.time() - started:.1f} s"
            elif time.time() - started > 60:
                killed = "still running after 60 s"
            if killed:
                proc.kill()
                proc.wait(30)
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        fake.shutdown()
        fake.server_close()
        out.close()
    log = (tmp_path / "import.log").read_text(errors="replace")
    # Full pages are read until one repeats; a short page that says more
    # follow stops at once.
    assert calls.get("runs/search", 0) >= (1 if token_mode == "fresh" else 2), (calls, log[-2000:])
    assert killed is None, (killed, calls, log[-1000:])
    assert proc.returncode != 0, log[-2000:]
    assert peak < 500, peak
    assert re.search(r"page|token|runs/search", log, re.I), log[-2000:]


# --------------------------------------------------------------------------
# 17. Limits answered as bad requests, not server errors.


def test_item17_huge_like_pattern_and_order_by_are_bad_requests(srv):
    exp = mk_exp(srv, ADMIN)
    mk_run(srv, ADMIN, exp)
    like = call(srv, "POST", "/api/2.0/mlflow/runs/search", timeout=120,
                json={"experiment_ids": [exp], "filter": "params.x LIKE '%" + "a" * (1024 * 1024) + "%'"})
    order = call(srv, "POST", "/api/2.0/mlflow/runs/search", timeout=120,
                 json={"experiment_ids": [exp], "order_by": [f"params.p{i}" for i in range(10000)]})
    for r in (like, order):
        assert r.status_code == 400, (r.status_code, r.text[:300])
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text[:300]
    assert call(srv, "GET", "/health").text == "OK"
    assert len(runs_in(srv, exp)) == 1


# --------------------------------------------------------------------------
# 18. The artifact root's listing.


def test_item18_artifact_root_lists_only_readable_experiments(srv, victim_and_attacker):
    v = victim_and_attacker
    attacker = v["attacker"]
    own_exp = mk_exp(srv, attacker)
    own_run = mk_run(srv, attacker, own_exp)
    put_artifact(srv, attacker, own_run["artifact_uri"], "mine.txt", b"mine")
    everything = ok(call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts"))
    assert v["exp"] in {f["path"] for f in everything.get("files", [])}, "the admin sees E's folder"
    for params in ({}, {"path": ""}):
        r = call(srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", user=attacker, params=params)
        if r.status_code == 200:
            folders = {f["path"] for f in r.json().get("files", [])}
            assert v["exp"] not in folders, params
            assert own_exp in folders or not folders, (params, folders)
        else:
            assert 400 <= r.status_code < 500, r.text[:200]
    assert read_artifact(srv, v["owner"], v["run_id"], "model/MLmodel") == b"owner's model file"


# --------------------------------------------------------------------------
# 19. Denials from the UI's server functions.


def test_item19_server_function_denials_are_403(srv, fns, victim_and_attacker):
    v = victim_and_attacker
    attacker = v["attacker"]
    run = server_fn(srv, fns, "run_page", attacker, {"run_id": v["run_id"]})
    runs = server_fn(srv, fns, "experiment_runs", attacker,
                     {"experiment_id": v["exp"], "filter": "", "deleted": "false"})
    for r in (run, runs):
        assert r.status_code == 403, (r.status_code, r.text[:200])
        assert v["run_name"] not in r.text and v["exp_name"] not in r.text
        # A typed error, MLflow's body: the page tells a denial from a missing run by its code.
        assert r.json()["error_code"] == "PERMISSION_DENIED", r.text[:200]
    missing = server_fn(srv, fns, "run_page", ADMIN, {"run_id": "0" * 32})
    assert missing.status_code == 404, (missing.status_code, missing.text[:200])
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", missing.text[:200]
    # Arguments the function cannot read are the caller's mistake: a 400 in a sentence, not a 500.
    unread = server_fn(srv, fns, "run_page", ADMIN, {"run": "x"})
    assert unread.status_code == 400, (unread.status_code, unread.text[:200])
    assert unread.json()["error_code"] == "BAD_REQUEST" and "could not be read" in unread.json()["message"]
    # The owner reads the same through the same functions.
    mine = server_fn(srv, fns, "run_page", v["owner"], {"run_id": v["run_id"]})
    assert mine.status_code == 200 and v["run_name"] in mine.text, mine.text[:200]
