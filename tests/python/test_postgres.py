"""mltrack on PostgreSQL as a team runs it: several replicas on one
database and one artifact folder, a database that restarts, and the
mistakes made when setting it up. Runs in the PostgreSQL pass of the suite
(MLTRACK_TEST_POSTGRES set); the rest of the suite also runs there."""

import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
import requests

from backends import Postgres
from conftest import BINARY, Server, free_port, new_postgres_database, on_postgres

pytestmark = on_postgres


@pytest.fixture()
def replicas(tmp_path):
    """Two mltrack processes on one database and one artifact folder."""
    uri = new_postgres_database()
    artifacts = tmp_path / "shared-artifacts"
    servers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        args = ["--backend-store-uri", uri, "--artifacts-destination", str(artifacts)]
        servers.append(Server(tmp_path / name, args=args).start())
    yield servers
    for s in servers:
        s.stop()


def api(server, path, **kw):
    method = requests.post if "json" in kw else requests.get
    return method(f"{server.url}/api/2.0/mlflow/{path}", timeout=30, **kw)


def test_two_replicas_behave_as_one_server(replicas, tmp_path, monkeypatch):
    a, b = replicas
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    writer, reader = mlflow.MlflowClient(a.url), mlflow.MlflowClient(b.url)
    exp = writer.create_experiment(f"replicas-{uuid.uuid4().hex[:6]}")
    runs = []
    for i in range(3):
        run = writer.create_run(exp, run_name=f"run-{i}")
        writer.log_param(run.info.run_id, "lr", str(0.1 * (i + 1)))
        for step in range(20):
            writer.log_metric(run.info.run_id, "loss", 1.0 / (step + 1 + i), step=step)
        writer.set_tag(run.info.run_id, "team", "vision")
        runs.append(run.info.run_id)
    artifact = tmp_path / "notes.txt"
    artifact.write_text("written through a, read through b")
    writer.log_artifact(runs[0], str(artifact))
    writer.set_terminated(runs[0])
    writer.create_registered_model("bob's model")
    version = writer.create_model_version("bob's model", f"runs:/{runs[0]}/model", run_id=runs[0])
    writer.set_registered_model_alias("bob's model", "champion", version.version)

    # Everything written through a is there through b.
    got = reader.get_run(runs[0])
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.1"} and got.data.tags["team"] == "vision"
    assert [m.value for m in reader.get_metric_history(runs[1], "loss")] == [1.0 / (s + 2) for s in range(20)]
    found = reader.search_runs([exp], "params.lr = '0.2' and metrics.loss < 0.1")
    assert [r.info.run_id for r in found] == [runs[1]]
    downloaded = reader.download_artifacts(runs[0], "notes.txt", str(tmp_path / "down"))
    assert open(downloaded).read() == "written through a, read through b"
    assert reader.get_model_version_by_alias("bob's model", "champion").run_id == runs[0]
    # Page tokens carry their state: a page read on a continues on b.
    first = api(a, "runs/search", json={"experiment_ids": [exp], "max_results": 2, "order_by": ["attributes.run_name"]})
    token = first.json()["next_page_token"]
    rest = api(b, "runs/search", json={"experiment_ids": [exp], "max_results": 2, "order_by": ["attributes.run_name"],
                                       "page_token": token}).json()
    names = [r["info"]["run_name"] for r in first.json()["runs"] + rest["runs"]]
    assert names == ["run-0", "run-1", "run-2"]
    # Run names generated on either replica never repeat a generated name.
    generated = [writer.create_run(exp).info.run_name for _ in range(5)]
    generated += [reader.create_run(exp).info.run_name for _ in range(5)]
    assert len(set(generated)) == 10


def test_live_events_reach_pages_connected_to_another_replica(replicas):
    from test_live import Stream

    a, b = replicas
    exp = api(a, "experiments/create", json={"name": f"live-{uuid.uuid4().hex[:6]}"}).json()["experiment_id"]
    stream = Stream(f"{b.url}/api/2.0/mltrack/events", params={"experiment_id": exp})
    try:
        assert stream.queue.get(timeout=10)[0] == "ready"
        run_id = api(a, "runs/create", json={"experiment_id": exp, "start_time": 1}).json()["run"]["info"]["run_id"]
        assert stream.next()[0:3:2] == ("run_created", {"run_id": run_id, "experiment_id": exp})
        small = [{"key": "loss", "value": 0.5, "timestamp": 7, "step": 3}]
        assert api(a, "runs/log-batch", json={"run_id": run_id, "metrics": small}).status_code == 200
        name, _, data = stream.next()
        assert name == "metrics"
        assert data["metrics"] == [{"key": "loss", "value": 0.5, "timestamp": 7, "step": 3}]
        # A batch too large for one notification arrives as its step ranges.
        large = [{"key": f"k{i % 3}", "value": float(i), "timestamp": 7, "step": i} for i in range(900)]
        assert api(a, "runs/log-batch", json={"run_id": run_id, "metrics": large}).status_code == 200
        name, _, data = stream.next()
        assert name == "metrics_range"
        assert data["metrics"][0] == {"key": "k0", "first_step": 0, "last_step": 897, "count": 300}
        assert api(a, "runs/update", json={"run_id": run_id, "status": "FINISHED"}).status_code == 200
        assert stream.next()[0] == "run_updated"
    finally:
        stream.close()


def test_the_same_name_created_on_two_replicas_at_once_gives_one_experiment(replicas):
    a, b = replicas
    names = [f"race-{uuid.uuid4().hex[:8]}" for _ in range(20)]

    def create(server, name, barrier):
        barrier.wait()
        return api(server, "experiments/create", json={"name": name})

    outcomes = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name in names:
            barrier = threading.Barrier(2)
            pair = [pool.submit(create, s, name, barrier) for s in (a, b)]
            outcomes.append([f.result() for f in pair])
    for name, pair in zip(names, outcomes):
        codes = sorted(r.status_code for r in pair)
        assert codes == [200, 400], (name, [r.text for r in pair])
        refused = next(r for r in pair if r.status_code == 400).json()
        assert refused["error_code"] == "RESOURCE_ALREADY_EXISTS"
        assert refused["message"] == f"Experiment(name={name}) already exists."
        listed = api(b, "experiments/search", json={"filter": f"name = '{name}'", "max_results": 10}).json()
        assert len(listed["experiments"]) == 1


def test_postgres_restart_during_ingest_loses_nothing_acknowledged(tmp_path):
    pg = Postgres()
    try:
        server = Server(tmp_path, args=["--backend-store-uri", pg.create_database("restarts")]).start()
        run_id = api(server, "runs/create", json={"experiment_id": "0", "start_time": 1}).json()["run"]["info"]["run_id"]
        acked, refused, stop = [], [], threading.Event()

        def ingest():
            session, step = requests.Session(), 0
            while not stop.is_set():
                metrics = [{"key": "m", "value": float(s), "timestamp": 1, "step": s} for s in range(step, step + 50)]
                started = time.time()
                r = session.post(f"{server.url}/api/2.0/mlflow/runs/log-batch",
                                 json={"run_id": run_id, "metrics": metrics}, timeout=30)
                if r.status_code == 200:
                    acked.extend(range(step, step + 50))
                else:
                    refused.append((r.status_code, r.json(), time.time() - started))
                step += 50

        thread = threading.Thread(target=ingest)
        thread.start()
        time.sleep(1.0)
        pg.crash()
        time.sleep(3.0)
        during = api(server, "runs/get", params={"run_id": run_id})
        pg.start()
        time.sleep(1.0)
        before = len(acked)
        time.sleep(2.0)
        stop.set()
        thread.join()

        # During the outage: a retryable error in MLflow's format, fast.
        assert during.status_code == 503
        assert during.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert refused, "no write was refused while the database was down"
        assert all(code == 503 and body["error_code"] == "TEMPORARILY_UNAVAILABLE" for code, body, _ in refused)
        slowest = max(seconds for *_, seconds in refused)
        print(f"refused {len(refused)} writes, the slowest in {slowest:.2f} s")
        assert slowest < 5, f"a refused write took {slowest:.1f} s"
        # Afterwards: mltrack reconnected by itself and took writes again.
        assert len(acked) > before
        history = requests.get(f"{server.url}/api/2.0/mlflow/metrics/get-history",
                               params={"run_id": run_id, "metric_key": "m"}).json()["metrics"]
        stored = {m["step"] for m in history}
        assert not set(acked) - stored, "acknowledged points were lost"
        server.stop()
    finally:
        pg.stop()


def test_unreachable_database_is_named_and_start_fails(tmp_path):
    port = free_port()
    uri = f"postgresql+psycopg2://ana:s3cret@127.0.0.1:{port}/mlflow"
    out = subprocess.run([BINARY, "ui", "--backend-store-uri", uri, "--port", str(free_port())],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert f"127.0.0.1:{port}" in out.stderr and "Connection refused" in out.stderr, out.stderr
    assert "s3cret" not in out.stderr + out.stdout


def test_db_upgrade_and_a_schema_from_a_newer_mltrack(tmp_path):
    uri = new_postgres_database()
    for _ in range(2):  # idempotent
        out = subprocess.run([BINARY, "db", "upgrade", uri], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"experiments", "runs", "metrics", "latest_metrics", "model_versions", "dashboards"} <= tables
        conn.execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) "
                     "VALUES (29991231000000, 'from the future', true, '\\x00', 0)")
    out = subprocess.run([BINARY, "ui", "--backend-store-uri", uri, "--port", str(free_port())],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "newer mltrack" in out.stderr and "29991231000000" in out.stderr, out.stderr


def test_kill_9_of_one_replica_during_ingest_loses_nothing_the_other_serves(replicas):
    """Both replicas take writes; one is killed mid-ingest. The survivor
    serves every point either of them acknowledged, and goes on taking writes."""
    from test_durability import history_steps, ingest_until_stopped

    a, b = replicas
    r = requests.post(f"{a.url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0", "start_time": 1}, timeout=30)
    run_id = r.json()["run"]["info"]["run_id"]
    stop_a, stop_b = threading.Event(), threading.Event()
    acked = {"via-a-0": [], "via-a-1": [], "via-b": []}
    threads = [
        threading.Thread(target=ingest_until_stopped, args=(a.url, run_id, "via-a-0", acked["via-a-0"], stop_a)),
        threading.Thread(target=ingest_until_stopped, args=(a.url, run_id, "via-a-1", acked["via-a-1"], stop_a)),
        threading.Thread(target=ingest_until_stopped, args=(b.url, run_id, "via-b", acked["via-b"], stop_b)),
    ]
    for t in threads:
        t.start()
    time.sleep(2.0)
    a.kill()
    stop_a.set()
    time.sleep(0.5)
    stop_b.set()
    for t in threads:
        t.join()
    for key, steps in acked.items():
        stored = history_steps(b.url, run_id, key)
        assert set(steps) <= stored, f"{len(set(steps) - stored)} acknowledged points of {key} were lost"
    assert len(acked["via-a-0"]) + len(acked["via-a-1"]) > 500, "replica a acknowledged too little to test anything"
    # The survivor still takes writes to the same run.
    r = requests.post(f"{b.url}/api/2.0/mlflow/runs/log-batch", timeout=30, json={
        "run_id": run_id, "metrics": [{"key": "after", "value": 1.0, "timestamp": 1, "step": 0}]})
    assert r.status_code == 200, r.text
