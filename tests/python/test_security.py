"""mltrack probed as an attacker would, through the real binary: cross-site
writes, DNS rebinding, framing, forwarded hosts, filters built to break the
query, and values built to break a page. The checks follow MLflow 3.5+'s
security middleware (its flags and messages)."""

import re
import uuid

import mlflow
import pytest
import requests

from conftest import Server

EVIL = "http://evil.example"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused_cross_origin(response):
    assert response.status_code == 403, (response.status_code, response.text[:200])
    assert response.text == "Cross-origin request blocked"


@pytest.fixture(scope="module")
def server_fns(server):
    """The UI's server-function URLs, as the wasm bundle calls them."""
    wasm = requests.get(f"{server.url}/pkg/mltrack_bg.wasm", timeout=30).content
    found = {m.group(1).decode(): m.group(0).decode() for m in re.finditer(rb"/_app/([a-z_]+?)\d+", wasm)}
    assert {"rename_experiment", "set_experiment_deleted", "set_run_tag"} <= set(found), sorted(found)
    return found


def test_cross_origin_writes_are_refused_on_every_route_family(server, client, experiment_id, server_fns):
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    simple = {"Origin": EVIL, "Content-Type": "text/plain"}  # a simple request: no preflight
    name = unique("pwned")
    for prefix in ("api", "ajax-api"):
        refused_cross_origin(
            requests.post(f"{server.url}/{prefix}/2.0/mlflow/experiments/create", data=f'{{"name": "{name}"}}', headers=simple)
        )
        refused_cross_origin(
            requests.post(
                f"{server.url}/{prefix}/2.0/mlflow/runs/set-tag",
                data=f'{{"run_id": "{run_id}", "key": "owned", "value": "1"}}',
                headers=simple,
            )
        )
    artifacts = f"{server.url}/api/2.0/mlflow-artifacts"
    root = run.info.artifact_uri.split("mlflow-artifacts:/", 1)[1]
    refused_cross_origin(requests.put(f"{artifacts}/artifacts/{root}/x.txt", data=b"x", headers=simple))
    refused_cross_origin(requests.delete(f"{artifacts}/artifacts/{root}", headers=simple))
    refused_cross_origin(requests.post(f"{artifacts}/mpu/create/{root}", data='{"path": "x", "num_parts": 1}', headers=simple))
    refused_cross_origin(
        requests.post(f"{server.url}/ajax-api/2.0/mlflow/upload-artifact", params={"run_uuid": run_id, "path": "x"}, data="x", headers=simple)
    )
    # The UI's server functions: a plain form post from another site.
    form = {"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"}
    refused_cross_origin(requests.post(server.url + server_fns["rename_experiment"], data={"experiment_id": experiment_id, "name": name}, headers=form))
    refused_cross_origin(
        requests.post(server.url + server_fns["set_experiment_deleted"], data={"experiment_id": experiment_id, "deleted": "true"}, headers=form)
    )
    refused_cross_origin(requests.post(server.url + server_fns["set_run_tag"], data={"run_id": run_id, "key": "owned", "value": "1"}, headers=form))
    # A sandboxed frame sends Origin: null; a cross-site fetch may send only Sec-Fetch-Site.
    refused_cross_origin(requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": name}, headers={"Origin": "null"}))
    refused_cross_origin(
        requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": name}, headers={"Sec-Fetch-Site": "cross-site"})
    )
    # Nothing changed.
    exp = client.get_experiment(experiment_id)
    assert exp.lifecycle_stage == "active" and not exp.name.startswith("pwned")
    assert "owned" not in client.get_run(run_id).data.tags
    assert client.get_experiment_by_name(name) is None
    assert client.list_artifacts(run_id) == []


def test_same_origin_localhost_and_scripts_may_write(server, client):
    port = server.url.rsplit(":", 1)[1]
    for origin in (server.url, f"http://localhost:{port}", "http://localhost:3000", None):
        headers = {"Origin": origin} if origin else {}
        r = requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": unique("ok")}, headers=headers)
        assert r.status_code == 200, (origin, r.text)
    # Cross-origin reads are answered, but without CORS headers a foreign page cannot read them.
    r = requests.get(f"{server.url}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, headers={"Origin": EVIL})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(f"{server.url}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, headers={"Origin": "http://localhost:3000"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_rebinding_hosts_are_refused(server, client, experiment_id):
    run = client.create_run(experiment_id)
    evil_host = {"Host": "evil.example:5000"}
    for method, path in [
        ("GET", "/api/2.0/mlflow/experiments/search?max_results=1"),
        ("GET", f"/get-artifact?run_uuid={run.info.run_id}&path=x"),
        ("GET", "/"),
        ("POST", "/api/2.0/mlflow/experiments/create"),
    ]:
        r = requests.request(method, server.url + path, headers=evil_host, json={"name": unique("rebound")})
        assert r.status_code == 403 and r.text == "Invalid Host header - possible DNS rebinding attack detected", path
    assert requests.get(f"{server.url}/health", headers=evil_host).status_code == 200
    for host in ("localhost:5000", "127.0.0.1", "192.168.1.20:5000", "10.1.2.3:80"):
        assert requests.get(f"{server.url}/version", headers={"Host": host}).status_code == 200
        assert requests.get(f"{server.url}/api/2.0/mlflow/experiments/search?max_results=1", headers={"Host": host}).status_code == 200


def test_security_headers_on_pages_json_and_artifacts(server, tracking):
    with mlflow.start_run() as run:
        mlflow.log_text("<script>alert(1)</script>", "x.html")
    for path in ("/", f"/experiments/{run.info.experiment_id}", "/api/2.0/mlflow/experiments/search?max_results=1",
                 f"/get-artifact?run_uuid={run.info.run_id}&path=x.html"):
        r = requests.get(server.url + path)
        assert r.status_code == 200, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert r.headers["Referrer-Policy"] == "same-origin"
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp, path
        if path.startswith("/get-artifact") or path.startswith("/api"):
            assert "default-src 'none'" in csp and "sandbox" in csp
        else:
            nonce = re.search(r"'nonce-([\w-]+)'", csp).group(1)
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            assert re.findall(r"<script[^>]*>", r.text), path
            # Every inline script carries this response's nonce.
            for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text):
                assert f'nonce="{nonce}"' in tag, tag


def test_forwarded_hosts_are_used_only_when_allowed(server, client, experiment_id):
    run = client.create_run(experiment_id)
    root = run.info.artifact_uri.split("mlflow-artifacts:/", 1)[1]
    url = f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/{root}"
    here = server.url.split("://", 1)[1]
    r = requests.post(url, json={"path": "big.bin", "num_parts": 1}, headers={"X-Forwarded-Host": "evil.example"})
    part_url = r.json()["credentials"][0]["url"]
    assert part_url.startswith(f"http://{here}/"), part_url
    r = requests.post(url, json={"path": "big.bin", "num_parts": 1}, headers={"X-Forwarded-Host": "10.0.0.8:8080"})
    assert r.json()["credentials"][0]["url"].startswith("http://10.0.0.8:8080/")


def test_flags_widen_hosts_and_origins(tmp_path):
    srv = Server(tmp_path, args=["--allowed-hosts", "mltrack.corp.example,*.lab.example:*",
                                 "--cors-allowed-origins", "https://notebooks.corp.example"]).start()
    try:
        search = f"{srv.url}/api/2.0/mlflow/experiments/search?max_results=1"
        assert requests.get(search, headers={"Host": "mltrack.corp.example"}).status_code == 200
        assert requests.get(search, headers={"Host": "gpu1.lab.example:5000"}).status_code == 200
        assert requests.get(search, headers={"Host": "localhost:5000"}).status_code == 403
        create = f"{srv.url}/api/2.0/mlflow/experiments/create"
        ok = {"Host": "mltrack.corp.example", "Origin": "https://notebooks.corp.example"}
        assert requests.post(create, json={"name": "from-notebook"}, headers=ok).status_code == 200
        refused_cross_origin(requests.post(create, json={"name": "x"}, headers={**ok, "Origin": EVIL}))
        pre = requests.options(create, headers={**ok, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "https://notebooks.corp.example"
        assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    finally:
        srv.stop()


def test_extreme_values_do_not_hang_pages(server, client, experiment_id):
    """A run whose end time is the smallest int64 once made the pages panic
    in the duration arithmetic and never finish the response."""
    run = client.create_run(experiment_id, start_time=1000)
    r = requests.post(f"{server.url}/api/2.0/mlflow/runs/update",
                      json={"run_id": run.info.run_id, "end_time": -(2**63), "status": "FINISHED"})
    assert r.status_code == 200
    for path in (f"/experiments/{experiment_id}", f"/experiments/{experiment_id}/runs/{run.info.run_id}"):
        assert requests.get(server.url + path, timeout=30).status_code == 200, path
    # max_results at int64's limit once overflowed in the store's readers
    # and, after four such requests, left none to answer reads.
    client.log_metric(run.info.run_id, "m", 1.0)
    for _ in range(6):
        r = requests.get(f"{server.url}/api/2.0/mlflow/metrics/get-history",
                         params={"run_id": run.info.run_id, "metric_key": "m", "max_results": 2**63 - 1}, timeout=30)
        assert r.status_code == 200 and len(r.json()["metrics"]) == 1
    assert requests.get(f"{server.url}/health", timeout=30).text == "OK"
    assert client.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_oversized_filters_are_bad_requests(server, experiment_id):
    flt = " AND ".join(["params.a = '1'"] * 1000)
    r = requests.post(f"{server.url}/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id], "filter": flt})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "at most 200 comparisons" in r.json()["message"]
    # A long IN list is one statement and one parameter: no limit on SQL variables.
    ids = ",".join(f"'r{i}'" for i in range(40000))
    r = requests.post(f"{server.url}/api/2.0/mlflow/runs/search",
                      json={"experiment_ids": [experiment_id], "filter": f"attributes.run_id IN ({ids})"})
    assert r.status_code == 200 and r.json().get("runs", []) == []


def test_internal_causes_stay_in_the_log(server, client, experiment_id):
    """What went wrong inside (the file system's own words, local paths) is
    logged with a request id; the client gets a sentence and that id."""
    run = client.create_run(experiment_id)
    root = run.info.artifact_uri.split("mlflow-artifacts:/", 1)[1]
    proxy = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{root}"
    assert requests.put(f"{proxy}/a.txt", data=b"file").status_code == 200
    # A file stands where a folder would have to be: the disk refuses.
    r = requests.put(f"{proxy}/a.txt/b.txt", data=b"x")
    assert r.status_code == 500
    message = r.json()["message"]
    assert str(server.workdir) not in message and "Not a directory" not in message
    request_id = re.search(r"\(request (\w+)\)", message).group(1)
    log = (server.workdir / "server.log").read_text()
    assert re.search(rf"request_id\W+{request_id}.*cause", log), "the cause is logged with the id"
    assert requests.get(f"{proxy}/a.txt").content == b"file"
