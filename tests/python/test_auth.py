"""Users and permissions (`--app-name basic-auth`) through the real mlflow
client: `MLFLOW_TRACKING_USERNAME`/`PASSWORD` (HTTP Basic),
`MLFLOW_TRACKING_TOKEN` (Bearer), and `mlflow.server.get_app_client`."""

import base64
import contextlib
import json
import os
import re
import subprocess
import time
import uuid
from urllib.parse import quote

import mlflow
import mlflow.server
import pytest
import requests
from mlflow.exceptions import MlflowException, RestException

from conftest import BINARY, Server, free_port

ADMIN = ("admin", "admin-password-1")


def _start(tmp_path_factory, *args, env=None):
    srv = Server(
        tmp_path_factory.mktemp("auth"),
        args=["--app-name", "basic-auth", *args],
        env={"MLTRACK_ADMIN_USERNAME": ADMIN[0], "MLTRACK_ADMIN_PASSWORD": ADMIN[1], **(env or {})},
    )
    return srv.start()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    srv = _start(tmp_path_factory)
    yield srv
    srv.stop()


@contextlib.contextmanager
def as_user(monkeypatch, server, user, password=None, token=None):
    """The mlflow client, signed in as `user` (or with an API token)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    if token:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    mlflow.set_tracking_uri(server.url)
    yield mlflow.MlflowClient(server.url)


def admin_client(monkeypatch, server):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    return mlflow.server.get_app_client("basic-auth", tracking_uri=server.url)


def new_user(monkeypatch, server, prefix="u"):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    admin_client(monkeypatch, server).create_user(name, password)
    return name, password


def denied(excinfo):
    return "403" in str(excinfo.value) or "PERMISSION_DENIED" in str(excinfo.value)


def raw(server, method, path, user=ADMIN, **kw):
    auth = requests.auth.HTTPBasicAuth(*user) if user else None
    return requests.request(method, f"{server.url}{path}", auth=auth, timeout=30, **kw)


def test_requests_without_credentials_are_refused_in_mlflows_way(auth_server):
    r = requests.post(f"{auth_server.url}/api/2.0/mlflow/experiments/create", json={"name": "x"}, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="mlflow"'
    assert r.json()["error_code"] == "UNAUTHENTICATED"
    assert requests.get(f"{auth_server.url}/health", timeout=10).status_code == 200
    for bad in ["Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(), "Bearer", "Bearer " + "x" * 5000,
                "Digest abc", "Basic " + base64.b64encode(b"admin:wrong-password").decode()]:
        r = requests.get(f"{auth_server.url}/api/2.0/mlflow/experiments/search", headers={"Authorization": bad}, timeout=10)
        assert r.status_code == 401, bad
    r = requests.get(f"{auth_server.url}/api/2.0/mlflow/experiments/search",
                     headers={"Cookie": "mltrack_session=" + "y" * 8000}, timeout=10)
    assert r.status_code == 401
    # The UI sends its visitors to the login page and back.
    r = requests.get(f"{auth_server.url}/experiments/0?view=charts", allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"] == "/login?next=%2Fexperiments%2F0%3Fview%3Dcharts"


def test_users_are_managed_with_mlflows_app_client(auth_server, monkeypatch):
    client = admin_client(monkeypatch, auth_server)
    name, password = new_user(monkeypatch, auth_server)
    user = client.get_user(name)
    assert user.username == name and user.is_admin is False
    with pytest.raises(RestException, match="RESOURCE_ALREADY_EXISTS"):
        client.create_user(name, "another-password")
    with pytest.raises(RestException, match="Password must be at least"):
        client.create_user(f"short-{uuid.uuid4().hex[:6]}", "short")
    with pytest.raises(RestException, match="not found"):
        client.get_user("nobody-" + uuid.uuid4().hex)
    # Users change their own password only with the current one.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", name)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    own = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    with pytest.raises(RestException, match="Current password is required"):
        own.update_user_password(name, "a-new-password-1")
    with pytest.raises(RestException, match="Current password does not match"):
        own.update_user_password(name, "a-new-password-1", current_password="wrong-one-here")
    own.update_user_password(name, "a-new-password-1", current_password=password)
    assert raw(auth_server, "GET", "/api/2.0/mlflow/users/current", user=(name, password)).status_code == 401
    r = raw(auth_server, "GET", "/api/2.0/mlflow/users/current", user=(name, "a-new-password-1"))
    assert r.status_code == 200 and r.json()["user"]["username"] == name, r.text
    # Non-admins cannot make admins or read other users.
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "a-new-password-1")
    with pytest.raises(MlflowException) as e:
        own.update_user_admin(name, True)
    assert denied(e)
    with pytest.raises(MlflowException) as e:
        own.get_user(ADMIN[0])
    assert denied(e)
    client = admin_client(monkeypatch, auth_server)
    client.update_user_admin(name, True)
    assert client.get_user(name).is_admin is True
    client.update_user_admin(name, False)
    # The last admin stays admin; admins cannot delete themselves.
    with pytest.raises(RestException, match="only admin"):
        client.update_user_admin(ADMIN[0], False)
    with pytest.raises(RestException, match="cannot delete their own account"):
        client.delete_user(ADMIN[0])
    client.delete_user(name)
    with pytest.raises(RestException, match="not found"):
        client.get_user(name)
    assert raw(auth_server, "GET", "/api/2.0/mlflow/users/current", user=(name, "a-new-password-1")).status_code == 401


def test_read_users_read_and_creators_manage(auth_server, monkeypatch):
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        shared = client.create_experiment(f"shared-{uuid.uuid4().hex[:8]}")
        run = client.create_run(shared)
        client.log_metric(run.info.run_id, "loss", 0.5)
    alice = new_user(monkeypatch, auth_server, "alice")
    bob = new_user(monkeypatch, auth_server, "bob")
    with as_user(monkeypatch, auth_server, *alice) as client:
        # READ by default: alice sees the shared experiment and its run...
        assert client.get_experiment(shared).experiment_id == shared
        assert client.get_metric_history(run.info.run_id, "loss")[0].value == 0.5
        assert [r.info.run_id for r in client.search_runs([shared])] == [run.info.run_id]
        # ...but cannot change them.
        for attempt in (lambda: client.log_metric(run.info.run_id, "loss", 0.1),
                        lambda: client.create_run(shared),
                        lambda: client.delete_run(run.info.run_id),
                        lambda: client.set_experiment_tag(shared, "k", "v")):
            with pytest.raises(MlflowException) as e:
                attempt()
            assert denied(e)
        # What she creates is hers to manage.
        own = client.create_experiment(f"alice-{uuid.uuid4().hex[:8]}")
        mine = client.create_run(own)
        client.log_batch(mine.info.run_id, metrics=[mlflow.entities.Metric("acc", 0.9, 0, 0)])
        client.delete_run(mine.info.run_id)
        client.restore_run(mine.info.run_id)
    with as_user(monkeypatch, auth_server, *bob) as client:
        with pytest.raises(MlflowException) as e:
            client.log_metric(mine.info.run_id, "acc", 0.1)
        assert denied(e)
    # Alice lets Bob edit her experiment: he logs, but may not delete.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", alice[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", alice[1])
    apps = mlflow.server.get_app_client("basic-auth", tracking_uri=auth_server.url)
    apps.grant_user_permission(bob[0], "experiment", own, "EDIT")
    with pytest.raises(RestException, match="already exists"):
        apps.grant_user_permission(bob[0], "experiment", own, "READ")
    with pytest.raises(MlflowException) as e:
        apps.grant_user_permission(bob[0], "experiment", shared, "EDIT")
    assert denied(e)
    # Grants on things that are not there are refused, and change nothing.
    admin = admin_client(monkeypatch, auth_server)
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        admin.grant_user_permission(bob[0], "experiment", "987654", "EDIT")
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        admin.grant_user_permission(bob[0], "registered_model", "no such model", "READ")
    with pytest.raises(RestException, match="not found"):
        admin.grant_user_permission("nobody-" + uuid.uuid4().hex, "experiment", own, "READ")
    with pytest.raises(RestException, match="Invalid resource type"):
        admin.grant_user_permission(bob[0], "dataset", own, "READ")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", alice[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", alice[1])
    with as_user(monkeypatch, auth_server, *bob) as client:
        client.log_metric(mine.info.run_id, "acc", 0.95, step=1)
        assert [m.value for m in client.get_metric_history(mine.info.run_id, "acc")] == [0.9, 0.95]
        with pytest.raises(MlflowException) as e:
            client.delete_run(mine.info.run_id)
        assert denied(e)
    checked = admin_client(monkeypatch, auth_server).get_user_permission(bob[0], "experiment", own)
    assert checked.permission == "EDIT" and checked.allowed is True
    listed = requests.get(f"{auth_server.url}/api/3.0/mlflow/users/permissions/list", params={"username": bob[0]},
                          auth=ADMIN, timeout=10).json()
    assert {"resource_type": "experiment", "resource_pattern": own, "permission": "EDIT"}.items() <= listed["permissions"][0].items()
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", alice[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", alice[1])
    apps.revoke_user_permission(bob[0], "experiment", own)
    with pytest.raises(RestException, match="not found"):
        apps.revoke_user_permission(bob[0], "experiment", own)
    with as_user(monkeypatch, auth_server, *bob) as client:
        with pytest.raises(MlflowException) as e:
            client.log_metric(mine.info.run_id, "acc", 0.1)
        assert denied(e)


def test_denied_experiments_are_left_out_of_searches_and_pages_stay_right(auth_server, monkeypatch):
    tag = uuid.uuid4().hex[:8]
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        ids = [client.create_experiment(f"page-{tag}-{i}") for i in range(7)]
    carol = new_user(monkeypatch, auth_server, "carol")
    admin = admin_client(monkeypatch, auth_server)
    hidden = {ids[1], ids[4], ids[5]}
    for e in hidden:
        admin.grant_user_permission(carol[0], "experiment", e, "DENY")
    with as_user(monkeypatch, auth_server, *carol) as client:
        seen, token = [], None
        while True:
            page = client.search_experiments(filter_string=f"name LIKE 'page-{tag}-%'", max_results=2, page_token=token)
            assert len(page) == 2 or not page.token
            seen += [e.experiment_id for e in page]
            token = page.token
            if not token:
                break
        assert sorted(seen) == sorted(set(ids) - hidden)
        with pytest.raises(MlflowException) as e:
            client.get_experiment(ids[1])
        assert denied(e)
        assert client.search_runs([ids[1]]) == []


def test_roles_give_their_members_access(auth_server, monkeypatch):
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        exp = client.create_experiment(f"team-{uuid.uuid4().hex[:8]}")
        run = client.create_run(exp)
    dave = new_user(monkeypatch, auth_server, "dave")
    admin = admin_client(monkeypatch, auth_server)
    role = admin.create_role("default", f"editors-{uuid.uuid4().hex[:6]}", description="may log to the team's runs")
    grant = admin.add_role_permission(role.id, "experiment", exp, "EDIT")
    assert grant.permission == "EDIT" and grant.resource_pattern == exp
    with pytest.raises(RestException, match="reserved '__user_' prefix"):
        admin.create_role("default", "__user_99__")
    with pytest.raises(RestException, match="Invalid permission 'WRITE'"):
        admin.add_role_permission(role.id, "experiment", exp, "WRITE")
    with as_user(monkeypatch, auth_server, *dave) as client:
        with pytest.raises(MlflowException) as e:
            client.log_metric(run.info.run_id, "x", 1.0)
        assert denied(e)
    admin = admin_client(monkeypatch, auth_server)
    admin.assign_role(dave[0], role.id)
    assert [r.name for r in admin.list_user_roles(dave[0])].count(role.name) == 1
    assert [a.role_id for a in admin.list_role_users(role.id)] == [role.id]
    with as_user(monkeypatch, auth_server, *dave) as client:
        client.log_metric(run.info.run_id, "x", 1.0)
    admin = admin_client(monkeypatch, auth_server)
    admin.update_role_permission(grant.id, "READ")
    with as_user(monkeypatch, auth_server, *dave) as client:
        with pytest.raises(MlflowException) as e:
            client.log_metric(run.info.run_id, "x", 2.0)
        assert denied(e)
    admin = admin_client(monkeypatch, auth_server)
    admin.delete_role(role.id)
    with pytest.raises(RestException, match="not found"):
        admin.get_role(role.id)


def test_registered_models_belong_to_their_creator(auth_server, monkeypatch):
    erin = new_user(monkeypatch, auth_server, "erin")
    frank = new_user(monkeypatch, auth_server, "frank")
    name = f"erin's model {uuid.uuid4().hex[:6]}"
    with as_user(monkeypatch, auth_server, *erin) as client:
        client.create_registered_model(name)
        client.set_registered_model_tag(name, "owner", "erin")
        client.rename_registered_model(name, name + " v2")
        client.set_registered_model_tag(name + " v2", "renamed", "yes")
    with as_user(monkeypatch, auth_server, *frank) as client:
        assert client.get_registered_model(name + " v2").tags["renamed"] == "yes"
        with pytest.raises(MlflowException) as e:
            client.delete_registered_model(name + " v2")
        assert denied(e)
    admin = admin_client(monkeypatch, auth_server)
    admin.grant_user_permission(frank[0], "registered_model", name + " v2", "DENY")
    with as_user(monkeypatch, auth_server, *frank) as client:
        names = [m.name for m in client.search_registered_models(max_results=1000)]
        assert name + " v2" not in names
        with pytest.raises(MlflowException) as e:
            client.get_registered_model(name + " v2")
        assert denied(e)
    with as_user(monkeypatch, auth_server, *erin) as client:
        client.delete_registered_model(name + " v2")


def test_artifacts_follow_their_runs_permissions(auth_server, monkeypatch, tmp_path):
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        exp = client.create_experiment(f"art-{uuid.uuid4().hex[:8]}")
        run = client.create_run(exp)
        f = tmp_path / "notes.txt"
        f.write_text("only admins write here")
        client.log_artifact(run.info.run_id, str(f))
    gina = new_user(monkeypatch, auth_server, "gina")
    with as_user(monkeypatch, auth_server, *gina) as client:
        got = client.download_artifacts(run.info.run_id, "notes.txt", str(tmp_path / "down"))
        assert open(got).read() == "only admins write here"
        with pytest.raises((MlflowException, requests.HTTPError)) as e:
            client.log_artifact(run.info.run_id, str(f), artifact_path="sneaky")
        assert denied(e)
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run.info.run_id}/artifacts/notes.txt"
    assert raw(auth_server, "DELETE", path, user=gina).status_code == 403
    assert raw(auth_server, "GET", path, user=gina).text == "only admins write here"


def test_api_tokens_work_until_revoked(auth_server, monkeypatch):
    hank = new_user(monkeypatch, auth_server, "hank")
    r = raw(auth_server, "POST", "/api/2.0/mltrack/tokens/create", user=hank, json={"name": "ci", "expires_in_days": 30})
    assert r.status_code == 200, r.text
    token, info = r.json()["token"], r.json()["token_info"]
    assert token.startswith("mlt_") and info["name"] == "ci"
    with as_user(monkeypatch, auth_server, None, token=token) as client:
        exp = client.create_experiment(f"tok-{uuid.uuid4().hex[:8]}")
        client.log_metric(client.create_run(exp).info.run_id, "m", 1.0)
    listed = raw(auth_server, "GET", "/api/2.0/mltrack/tokens/list", user=hank).json()["tokens"]
    assert [t["id"] for t in listed] == [info["id"]] and "token" not in listed[0]
    assert raw(auth_server, "POST", "/api/2.0/mltrack/tokens/revoke", user=hank, json={"token_id": info["id"]}).status_code == 200
    r = requests.get(f"{auth_server.url}/api/2.0/mlflow/experiments/get", params={"experiment_id": exp},
                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 401
    assert raw(auth_server, "POST", "/api/2.0/mltrack/tokens/revoke", user=hank, json={"token_id": info["id"]}).status_code == 404
    bad = raw(auth_server, "POST", "/api/2.0/mltrack/tokens/create", user=hank, json={"name": "x", "expires_in_days": 0})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def _from(address, server, user):
    """GET users/current as `user`, sent from the loopback `address`."""
    import http.client
    host, port = server.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(address, 0))
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    conn.request("GET", "/api/2.0/mlflow/users/current", headers={"Authorization": f"Basic {token}"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_failed_logins_are_rate_limited(auth_server, monkeypatch):
    """Wrong passwords are throttled by the address they come from: a
    guesser cannot lock anyone out (an admin signs in from elsewhere), and
    known and unknown names get the same answers, so names cannot be
    probed."""
    ivy = new_user(monkeypatch, auth_server, "ivy")
    answers = [_from("127.0.0.2", auth_server, (ivy[0], "wrong-password"))[0] for _ in range(10)]
    assert answers == [401] * 10
    status, body = _from("127.0.0.2", auth_server, ivy)
    assert status == 429 and json.loads(body)["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert _from("127.0.0.2", auth_server, ("nobody-" + uuid.uuid4().hex[:6], "wrong-password"))[0] == 429
    assert _from("127.0.0.2", auth_server, ADMIN)[0] == 429
    # The same users from another address are not locked out.
    assert _from("127.0.0.3", auth_server, ivy)[0] == 200
    assert raw(auth_server, "GET", "/api/2.0/mlflow/users/current", user=ADMIN).status_code == 200
    # Unknown and known names answer alike before the limit.
    assert _from("127.0.0.4", auth_server, ("nobody-" + uuid.uuid4().hex[:6], "x"))[0] == 401
    assert _from("127.0.0.4", auth_server, (ivy[0], "x"))[0] == 401


def test_ui_login_sets_a_safe_cookie_and_logout_ends_it(auth_server):
    s = requests.Session()
    page = s.get(f"{auth_server.url}/login?next=/experiments/0", timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text
    # Styled by this build's stylesheet, by its versioned name.
    css = re.search(r'href="(/pkg/mltrack\.[0-9a-f]{16}\.css)"', page.text)
    assert css and s.get(auth_server.url + css.group(1), timeout=10).headers["content-type"] == "text/css"
    r = s.post(f"{auth_server.url}/login", data={"username": ADMIN[0], "password": "nope-nope-nope", "next": "/"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 401 and "do not match" in r.text
    r = s.post(f"{auth_server.url}/login", data={"username": ADMIN[0], "password": ADMIN[1], "next": "//evil.example/"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert s.get(f"{auth_server.url}/experiments/0", allow_redirects=False, timeout=10).status_code == 200
    assert s.get(f"{auth_server.url}/api/2.0/mlflow/users/current", timeout=10).json()["user"]["username"] == ADMIN[0]
    s.post(f"{auth_server.url}/logout", allow_redirects=False, timeout=10)
    old = requests.get(f"{auth_server.url}/experiments/0", cookies={"mltrack_session": cookie.split(";")[0].split("=", 1)[1]},
                       allow_redirects=False, timeout=10)
    assert old.status_code == 303


def test_no_permissions_by_default_shows_each_user_only_their_own(tmp_path_factory, monkeypatch):
    srv = _start(tmp_path_factory, "--auth-default-permission", "NO_PERMISSIONS")
    try:
        with as_user(monkeypatch, srv, *ADMIN) as client:
            secret = client.create_experiment("admins-only")
        jo = new_user(monkeypatch, srv, "jo")
        with as_user(monkeypatch, srv, *jo) as client:
            own = client.create_experiment("jo's")
            assert [e.experiment_id for e in client.search_experiments()] == [own]
            with pytest.raises(MlflowException) as e:
                client.get_experiment(secret)
            assert denied(e)
    finally:
        srv.stop()


def test_the_first_admin_comes_from_a_one_time_setup_link(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("setup"), args=["--app-name", "basic-auth"])
    srv.env.pop("MLTRACK_ADMIN_USERNAME", None)
    srv.env.pop("MLTRACK_ADMIN_PASSWORD", None)
    srv.start()
    try:
        log = (srv.workdir / "server.log").read_text()
        token = re.search(r"/setup\?token=(setup_[0-9a-f]+)", log).group(1)
        r = requests.post(f"{srv.url}/setup", data={"token": "setup_wrong", "username": "root", "password": "root-password-1"},
                          allow_redirects=False, timeout=10)
        assert r.status_code == 403
        r = requests.post(f"{srv.url}/setup", data={"token": token, "username": "root", "password": "root-password-1"},
                          allow_redirects=False, timeout=30)
        assert r.status_code == 303 and "mltrack_session=" in r.headers["Set-Cookie"]
        assert raw(srv, "GET", "/api/2.0/mlflow/users/current", user=("root", "root-password-1")).json()["user"]["is_admin"]
        again = requests.post(f"{srv.url}/setup", data={"token": token, "username": "root2", "password": "root-password-2"},
                              allow_redirects=False, timeout=10)
        assert again.status_code == 403
    finally:
        srv.stop()


def test_a_non_loopback_address_needs_auth_or_an_explicit_opt_out(tmp_path):
    port = free_port()
    out = subprocess.run([str(BINARY), "ui", "--host", "0.0.0.0", "--port", str(port)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "--app-name basic-auth" in out.stderr and "--insecure-no-auth" in out.stderr
    srv = Server(tmp_path, args=["--host", "0.0.0.0", "--insecure-no-auth"]).start()
    try:
        assert "NO users and permissions" in (tmp_path / "server.log").read_text()
    finally:
        srv.stop()


def test_import_from_a_server_with_users_sends_the_clients_credentials(auth_server, monkeypatch, tmp_path):
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        exp = client.create_experiment(f"to-import-{uuid.uuid4().hex[:6]}")
        run = client.create_run(exp)
        client.log_metric(run.info.run_id, "loss", 0.25)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    refused = subprocess.run([str(BINARY), "import", "--from", auth_server.url, "-q"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "not authenticated" in (refused.stdout + refused.stderr)
    env.update(MLFLOW_TRACKING_USERNAME=ADMIN[0], MLFLOW_TRACKING_PASSWORD=ADMIN[1])
    done = subprocess.run([str(BINARY), "import", "--from", auth_server.url, "--experiment", exp, "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    copy = Server(tmp_path, args=["--backend-store-uri", "sqlite:///mltrack.db"]).start()
    try:
        history = mlflow.MlflowClient(copy.url).get_metric_history(run.info.run_id, "loss")
        assert [m.value for m in history] == [0.25]
    finally:
        copy.stop()


def test_dashboards_are_changed_by_their_maker_and_editors(auth_server, monkeypatch):
    kim = new_user(monkeypatch, auth_server, "kim")
    lee = new_user(monkeypatch, auth_server, "lee")
    with as_user(monkeypatch, auth_server, *kim) as client:
        exp = client.create_experiment(f"kim-{uuid.uuid4().hex[:6]}")
    body = {"name": "kim's view", "experiment_ids": [exp], "panels": [{"type": "line", "metrics": ["loss"]}]}
    made = raw(auth_server, "POST", "/api/2.0/mltrack/dashboards/create", user=kim, json=body).json()["dashboard"]
    assert made["created_by"] == kim[0]
    d = made["dashboard_id"]
    # Lee reads it (READ on the experiment) but may not change or delete it.
    assert raw(auth_server, "GET", f"/api/2.0/mltrack/dashboards/get?dashboard_id={d}", user=lee).status_code == 200
    r = raw(auth_server, "POST", "/api/2.0/mltrack/dashboards/update", user=lee,
            json={"dashboard_id": d, "version": made["version"], "name": "lee's now"})
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"
    assert raw(auth_server, "POST", "/api/2.0/mltrack/dashboards/delete", user=lee, json={"dashboard_id": d}).status_code == 403
    def found(user):
        r = raw(auth_server, "GET", f"/api/2.0/mltrack/dashboards/search?name=kim&experiment_id={exp}", user=user)
        assert r.status_code == 200, r.text
        return [x["dashboard_id"] for x in r.json()["dashboards"]]

    assert found(lee) == [d]
    # Denied the experiment, Lee no longer sees the dashboard at all, not even its name in a search.
    admin_client(monkeypatch, auth_server).grant_user_permission(lee[0], "experiment", exp, "DENY")
    assert raw(auth_server, "GET", f"/api/2.0/mltrack/dashboards/get?dashboard_id={d}", user=lee).status_code == 403
    assert found(lee) == [] and found(kim) == [d]
    r = raw(auth_server, "POST", "/api/2.0/mltrack/dashboards/update", user=kim,
            json={"dashboard_id": d, "version": made["version"], "name": "kim's view, renamed"})
    assert r.status_code == 200 and r.json()["dashboard"]["last_updated_by"] == kim[0]
    assert raw(auth_server, "POST", "/api/2.0/mltrack/dashboards/delete", user=ADMIN, json={"dashboard_id": d}).status_code == 200


def test_requests_the_guard_cannot_place_are_refused(auth_server, monkeypatch):
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        exp = client.create_experiment(f"guarded-{uuid.uuid4().hex[:6]}")
        run = client.create_run(exp)
        client.log_metric(run.info.run_id, "loss", 1.0)
    mo = new_user(monkeypatch, auth_server, "mo")
    admin_client(monkeypatch, auth_server).grant_user_permission(mo[0], "experiment", exp, "DENY")
    rid = run.info.run_id
    # Arguments where the endpoints also read them: the query string of an
    # empty POST, a body encoded twice. Each is checked like a plain one.
    r = raw(auth_server, "POST", f"/api/2.0/mlflow/runs/delete?run_id={rid}", user=mo)
    assert r.status_code == 403, r.text
    r = raw(auth_server, "POST", "/api/2.0/mlflow/runs/delete", user=mo, data=json.dumps(json.dumps({"run_id": rid})),
            headers={"Content-Type": "application/json"})
    assert r.status_code == 403, r.text
    r = raw(auth_server, "POST", "/api/2.0/mlflow/runs/delete", user=mo, data="garbage")
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # An encoded experiment id in an artifact path is still that experiment's.
    path = f"/api/2.0/mlflow-artifacts/artifacts/{quote(exp)}/{rid}/artifacts/x.txt"
    enc = "".join(f"%{ord(c):02X}" for c in exp)
    assert raw(auth_server, "GET", path.replace(f"/artifacts/{quote(exp)}/", f"/artifacts/{enc}/"), user=mo).status_code == 403
    # A path that merely ends like a public one is not public.
    r = requests.get(f"{auth_server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/mlflow/server-info", timeout=10)
    assert r.status_code == 401
    with as_user(monkeypatch, auth_server, *ADMIN) as client:
        assert client.get_run(rid).info.lifecycle_stage == "active"
