"""`mltrack import` and `mltrack export` against real MLflow data.

The sources are filled once per module by `populate_source.py` through the
real mlflow client: a real `mlflow server` (its SQLite database and artifact
folder double as the database source) and a real `mlruns` folder. Each test
imports into a fresh mltrack and compares both sides through the mlflow
client, field by field and point by point.
"""

import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests
from mlflow.entities import ViewType

from conftest import BINARY, Server, free_port

HERE = Path(__file__).resolve().parent
POPULATED = ["Default", "import-vision", "import-models", "import-archived"]


def run_populate(uri, env=None):
    out = subprocess.run(
        [sys.executable, str(HERE / "populate_source.py"), uri],
        capture_output=True,
        text=True,
        env={**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", **(env or {})},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_healthy(url, proc, log):
    deadline = time.time() + 120
    while True:
        try:
            if requests.get(url + "/health", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.time() < deadline, "mlflow server did not start"
        time.sleep(0.2)


class Sources:
    """A running MLflow server and an mlruns folder, both populated."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = root / "mlflow.db"
        self.artifacts = root / "mlartifacts"
        self.mlruns = root / "mlruns"
        log = open(root / "mlflow-server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--backend-store-uri", f"sqlite:///{self.db}", "--artifacts-destination", str(self.artifacts),
             "--workers", "1"],
            cwd=root, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_healthy(self.url, self.proc, root / "mlflow-server.log")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    src = Sources(tmp_path_factory.mktemp("mlflow-source"))
    with ThreadPoolExecutor(2) as pool:
        server_ids = pool.submit(run_populate, src.url)
        file_ids = pool.submit(run_populate, f"file://{src.mlruns}", {"MLFLOW_ALLOW_FILE_STORE": "true"})
        src.server_ids, src.file_ids = server_ids.result(), file_ids.result()
    yield src
    src.stop()


@pytest.fixture(autouse=True)
def private_cwd(tmp_path, monkeypatch):
    """The mlflow client makes ./mlflow.db when it falls back to its default
    store; keep that out of the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture()
def mltrack(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop()


def mltrack_cmd(server, *args, timeout=300, check=True):
    out = subprocess.run([str(BINARY), *args], cwd=server.workdir, capture_output=True, text=True, timeout=timeout,
                         env=server.store_env())
    if check:
        assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def import_from(server, source, *args, check=True):
    return mltrack_cmd(server, "import", "--from", str(source), *args, check=check)


def list_files(client, run_id=None, path=None, model_id=None):
    out = []
    entries = client.list_artifacts(run_id, path) if model_id is None else client.list_logged_model_artifacts(model_id, path)
    for f in entries:
        if f.is_dir:
            out += list_files(client, run_id, f.path, model_id)
        else:
            out.append((f.path, f.file_size))
    return sorted(out)


def value(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else v


def snapshot(uri, names=POPULATED, histories=True):
    """Everything an import must carry, as plain data, read with the mlflow client."""
    # The client resolves logged models' mlflow-artifacts:/ URIs with the global tracking URI.
    saved = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        return read_snapshot(uri, names, histories)
    finally:
        mlflow.set_tracking_uri(saved)


def read_snapshot(uri, names, histories):
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    snap = {"experiments": {}, "registry": {}}
    for e in client.search_experiments(view_type=ViewType.ALL):
        if e.name not in names:
            continue
        runs = {}
        for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
            info = r.info
            run = {
                "info": (info.run_name, info.experiment_id, info.status, info.start_time, info.end_time,
                         info.lifecycle_stage, info.user_id),
                "params": r.data.params,
                "tags": r.data.tags,
                "latest": {k: value(v) for k, v in r.data.metrics.items()},
                "datasets": sorted(
                    (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema,
                     d.dataset.profile, sorted((t.key, t.value) for t in d.tags))
                    for d in r.inputs.dataset_inputs
                ),
                "artifacts": list_files(client, info.run_id),
            }
            # The file store refuses history reads of deleted runs. It also keeps
            # a point logged twice twice; mltrack, like MLflow's SQL stores, once.
            if histories and info.lifecycle_stage == "active":
                run["history"] = {
                    k: sorted({(m.step, m.timestamp, value(m.value)) for m in client.get_metric_history(info.run_id, k)})
                    for k in r.data.metrics
                }
            runs[info.run_id] = run
        models = {}
        for m in client.search_logged_models(experiment_ids=[e.experiment_id]):
            models[m.model_id] = {
                "fields": (m.name, m.status, m.source_run_id, m.creation_timestamp, m.model_type or ""),
                "params": m.params,
                "tags": {k: v for k, v in m.tags.items()},
                "metrics": sorted((x.key, x.step, value(x.value)) for x in (m.metrics or [])),
                "artifacts": list_files(client, model_id=m.model_id),
            }
        snap["experiments"][e.name] = {
            "id": e.experiment_id,
            "stage": e.lifecycle_stage,
            "tags": e.tags,
            "creation_time": e.creation_time,
            "runs": runs,
            "models": models,
        }
    for rm in client.search_registered_models():
        versions = {}
        for found in client.search_model_versions(f"name='{rm.name}'"):
            # MLflow's search leaves aliases out; get fills them in.
            v = client.get_model_version(rm.name, found.version)
            versions[str(v.version)] = (v.current_stage, v.run_id, v.status, v.tags, v.description, v.creation_timestamp,
                                   sorted(v.aliases), (v.source or "").startswith("models:/"))
        snap["registry"][rm.name] = {
            "description": rm.description,
            "tags": rm.tags,
            "aliases": rm.aliases,
            "versions": versions,
        }
    return snap


def assert_same(source, imported):
    """Compares two snapshots part by part, so a failure names what differs."""
    assert sorted(source["experiments"]) == sorted(imported["experiments"])
    for name, exp in source["experiments"].items():
        got = imported["experiments"][name]
        for field in ("id", "stage", "tags", "creation_time"):
            assert got[field] == exp[field], (name, field)
        assert sorted(got["runs"]) == sorted(exp["runs"]), name
        for run_id, run in exp["runs"].items():
            for field, want in run.items():
                assert got["runs"][run_id][field] == want, (name, run_id, field)
        assert got["models"] == exp["models"], name
    assert imported["registry"] == source["registry"]


def history_count(snap):
    return sum(len(h) for e in snap["experiments"].values() for r in e["runs"].values() for h in r.get("history", {}).values())


@pytest.fixture(scope="module")
def server_snapshot(sources):
    return snapshot(sources.url)


def test_import_from_mlflow_server_is_complete_and_idempotent(sources, server_snapshot, mltrack):
    first = import_from(mltrack, sources.url)
    assert "10 runs (10 new" in first.stdout, first.stdout
    imported = snapshot(mltrack.url)
    assert_same(server_snapshot, imported)
    assert history_count(imported) >= 10_000
    long_run = server_snapshot["experiments"]["import-vision"]["runs"][sources.server_ids["long"]]
    assert len(long_run["history"]["loss"]) == 10_000
    assert long_run["history"]["loss"][500][2] == "nan"

    # Artifacts byte for byte, and the registered model loads and predicts from mltrack.
    for path in ("weights.bin", "plots/deep/notes.txt", "config/params.json"):
        src = requests.get(f"{sources.url}/get-artifact", params={"run_uuid": sources.server_ids["long"], "path": path})
        dst = requests.get(f"{mltrack.url}/get-artifact", params={"run_uuid": sources.server_ids["long"], "path": path})
        assert src.ok and dst.ok and src.content == dst.content, path
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])

    def predictions(uri, model_uri):
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        return list(mlflow.pyfunc.load_model(model_uri).predict(X))

    saved = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        for model_uri in ("models:/import-classifier@champion", "models:/import-classifier/1"):
            assert predictions(mltrack.url, model_uri) == predictions(sources.url, model_uri), model_uri
    finally:
        mlflow.set_tracking_uri(saved[0])
        mlflow.set_registry_uri(saved[1])

    # A second import finds everything in place: nothing new, nothing doubled.
    again = import_from(mltrack, sources.url)
    assert "0 new, 0 updated, 10 unchanged" in again.stdout, again.stdout
    assert " 0 metric points" in again.stdout and "0 artifact files" in again.stdout, again.stdout
    assert_same(server_snapshot, snapshot(mltrack.url))


def test_import_from_mlflow_sqlite_database(sources, server_snapshot, mltrack):
    out = import_from(mltrack, f"sqlite:///{sources.db}", "--source-artifacts", str(sources.artifacts))
    assert "schema revision" in out.stderr
    assert_same(server_snapshot, snapshot(mltrack.url))
    assert "10 unchanged" in import_from(mltrack, f"sqlite:///{sources.db}", "--source-artifacts", str(sources.artifacts)).stdout


def test_import_from_mlruns_folder(sources, mltrack):
    env_uri = f"file://{sources.mlruns}"
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        source = snapshot(env_uri)
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    out = import_from(mltrack, sources.mlruns)
    assert "failed" not in out.stdout, out.stdout
    assert_same(source, snapshot(mltrack.url))
    # The deleted experiment came over deleted, its run's artifacts from .trash.
    assert source["experiments"]["import-archived"]["stage"] == "deleted"
    assert "0 metric points" in import_from(mltrack, sources.mlruns).stdout


def dashboards_api(server, path, **kw):
    r = requests.post(f"{server.url}/api/2.0/mltrack/dashboards/{path}", timeout=30, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def test_export_then_import_reproduces_everything(sources, mltrack, tmp_path):
    import_from(mltrack, sources.url)
    # Dashboards travel too, ids, versions and notes kept: one over an
    # experiment (edited once, so at version 2) and one pinned to a run.
    vision = mlflow.MlflowClient(mltrack.url).get_experiment_by_name("import-vision").experiment_id
    over = dashboards_api(mltrack, "create", json={"name": "vision sweep", "experiment_ids": [vision],
                                                   "panels": [{"type": "line", "metrics": ["loss"]}]})["dashboard"]
    dashboards_api(mltrack, "update", json={"dashboard_id": over["dashboard_id"], "version": 1,
                                            "panels": [{"type": "note", "text": "why we dropped **adamw**"}]})
    pinned = dashboards_api(mltrack, "create", json={"name": "the long run", "run_ids": [sources.server_ids["long"]],
                                                     "panels": [{"type": "bar", "metric": "loss"}]})["dashboard"]
    ids = [over["dashboard_id"], pinned["dashboard_id"]]

    def dashboards(server):
        return [requests.get(f"{server.url}/api/2.0/mltrack/dashboards/get", params={"dashboard_id": i},
                             timeout=30).json() for i in ids]

    archive = tmp_path / "everything.mltrack"
    out = mltrack_cmd(mltrack, "export", "--to", str(archive))
    assert "exported" in out.stdout and archive.is_file()
    assert "2 dashboards" in out.stdout, out.stdout
    names = subprocess.run(["tar", "tf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert "mltrack-export.json" in names and "weights.bin" in names

    other = Server(tmp_path / "restored")
    (tmp_path / "restored").mkdir()
    other.start()
    try:
        out = import_from(other, archive)
        assert "2 dashboards" in out.stdout, out.stdout
        assert_same(snapshot(mltrack.url), snapshot(other.url))
        restored = dashboards(other)
        assert restored == dashboards(mltrack)
        assert restored[0]["dashboard"]["version"] == 2
        assert restored[0]["dashboard"]["panels"] == [{"type": "note", "text": "why we dropped **adamw**"}]
        # Importing the same file again leaves them as they are, and an
        # edit made here since is never undone by the older export.
        import_from(other, archive)
        assert dashboards(other) == restored
        dashboards_api(other, "update", json={"dashboard_id": ids[1], "version": 1, "name": "renamed here"})
        out = import_from(other, archive)
        assert f"dashboard {ids[1]} 'the long run': mltrack has version 2, newer than the source's 1; kept" in out.stdout
        assert dashboards(other)[1]["dashboard"]["name"] == "renamed here"
        assert dashboards(other)[0] == restored[0]
        # Same ids, same artifact URIs: the two mltracks are interchangeable.
        run_id = sources.server_ids["long"]
        a = requests.get(f"{mltrack.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()
        b = requests.get(f"{other.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()
        assert a == b
    finally:
        other.stop()


def test_dry_run_lists_and_changes_nothing(sources, mltrack):
    out = import_from(mltrack, sources.url, "--dry-run")
    assert "would import" in out.stdout
    assert f"run {sources.server_ids['long']} (new)" in out.stdout
    experiments = requests.post(f"{mltrack.url}/api/2.0/mlflow/experiments/search",
                                json={"max_results": 100, "view_type": "ALL"}).json()["experiments"]
    assert [e["name"] for e in experiments] == ["Default"]
    assert not list((mltrack.workdir / "mlartifacts").rglob("*.bin"))


def test_experiment_filter_and_skip_deleted(sources, mltrack):
    out = import_from(mltrack, sources.url, "--experiment", "import-vision", "--skip-deleted")
    assert "run " + sources.server_ids["deleted_run"] + ": deleted (--skip-deleted)" in out.stdout
    client = mlflow.MlflowClient(mltrack.url, registry_uri=mltrack.url)
    names = {e.name for e in client.search_experiments(view_type=ViewType.ALL)}
    assert names == {"Default", "import-vision"}
    runs = client.search_runs([sources.server_ids["vision"]], run_view_type=ViewType.ALL)
    assert sources.server_ids["deleted_run"] not in {r.info.run_id for r in runs}
    assert len(runs) == 6
    # No registered model has a version from that experiment.
    assert client.search_registered_models() == []
    out = import_from(mltrack, sources.url, "--experiment", "no-such-experiment", check=False)
    assert out.returncode == 1 and "no-such-experiment" in out.stdout


@pytest.mark.parametrize("mode", ["merge", "rename", "skip"])
def test_name_conflicts(sources, mltrack, mode):
    client = mlflow.MlflowClient(mltrack.url)
    taken = client.create_experiment("import-vision")  # id 1 is the same as the source's, so make it differ:
    client.create_experiment("mine")
    if taken == sources.server_ids["vision"]:
        client.rename_experiment(taken, "mine-first")
        taken = client.create_experiment("import-vision")
    mine = client.create_run(taken, run_name="already-here").info.run_id
    out = import_from(mltrack, sources.url, "--on-conflict", mode)
    assert f"--on-conflict {mode}" in out.stdout, out.stdout
    long_run = sources.server_ids["long"]
    if mode == "merge":
        runs = {r.info.run_id for r in client.search_runs([taken], run_view_type=ViewType.ALL)}
        assert {mine, long_run} <= runs
    elif mode == "rename":
        renamed = client.get_experiment_by_name("import-vision (imported)")
        assert client.get_run(long_run).info.experiment_id == renamed.experiment_id
        assert [r.info.run_id for r in client.search_runs([taken])] == [mine]
    else:
        with pytest.raises(mlflow.exceptions.MlflowException):
            client.get_run(long_run)
        assert [r.info.run_id for r in client.search_runs([taken])] == [mine]
    assert client.get_run(mine).info.run_name == "already-here"


def make_big_database(sources, path, runs=24, points=20_000):
    """A copy of the server's database with `runs` more runs of `points` points
    each, written straight into MLflow's tables (the client would take minutes)."""
    shutil.copy(sources.db, path)
    db = sqlite3.connect(path)
    template = sources.server_ids["failed"]
    columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
    ids = []
    for i in range(runs):
        run_id = uuid.uuid4().hex
        values = [f"'{run_id}'" if c == "run_uuid" else f"'bulk-{i}'" if c == "name" else
                  "'FINISHED'" if c == "status" else c for c in columns]
        db.execute(f"INSERT INTO runs ({', '.join(columns)}) SELECT {', '.join(values)} FROM runs WHERE run_uuid = ?",
                   (template,))
        rows = [("bulk", math.sin(s / 100), 1_700_000_000_000 + s, s, 0, run_id) for s in range(points)]
        db.executemany("INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)",
                   ("bulk", rows[-1][1], rows[-1][2], rows[-1][3], run_id))
        ids.append(run_id)
    db.commit()
    db.close()
    return ids


def test_interrupted_import_completes_on_the_next_run(sources, server_snapshot, mltrack, tmp_path):
    big = tmp_path / "big.db"
    bulk = make_big_database(sources, big)
    source = f"sqlite:///{big}"
    args = [str(BINARY), "import", "--from", source, "--source-artifacts", str(sources.artifacts)]
    proc = subprocess.Popen(args, cwd=mltrack.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=mltrack.store_env())
    client = mlflow.MlflowClient(mltrack.url)
    seen = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            seen = sum(1 for r in client.search_runs([sources.server_ids["vision"]], max_results=1000)
                       if r.info.run_name.startswith("bulk-"))
        except mlflow.exceptions.MlflowException:
            seen = 0
        if seen >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be interrupted"
    assert 3 <= seen < len(bulk)

    out = import_from(mltrack, source, "--source-artifacts", str(sources.artifacts))
    assert "failed" not in out.stdout
    for run_id in bulk:
        history = client.get_metric_history(run_id, "bulk")
        assert len(history) == 20_000, run_id
        assert len({(m.step, m.timestamp) for m in history}) == 20_000
    # And the rest of the source is there as if nothing had happened.
    imported = snapshot(mltrack.url)
    for run_id in bulk:
        del imported["experiments"]["import-vision"]["runs"][run_id]
    assert_same(server_snapshot, imported)
    again = import_from(mltrack, source, "--source-artifacts", str(sources.artifacts))
    assert " 0 metric points" in again.stdout


def test_watch_mirrors_a_run_while_it_is_logging(sources, mltrack):
    client = mlflow.MlflowClient(sources.url)
    exp = client.create_experiment(f"import-watch-{uuid.uuid4().hex[:6]}")
    watcher = subprocess.Popen(
        [str(BINARY), "import", "--from", sources.url, "--watch", "--interval", "0.5", "--experiment", exp],
        cwd=mltrack.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=mltrack.store_env(),
    )
    mirror = mlflow.MlflowClient(mltrack.url)

    def wait_for(check, what, limit=15.0):
        start = time.time()
        while time.time() - start < limit:
            try:
                if check():
                    return time.time() - start
            except mlflow.exceptions.MlflowException:
                pass
            time.sleep(0.1)
        watcher.kill()
        raise AssertionError(f"{what} was not mirrored within {limit} s:\n{watcher.stdout.read()}")

    try:
        run = client.create_run(exp, run_name="live")
        run_id = run.info.run_id
        lags = []
        for step in range(0, 30, 10):
            for s in range(step, step + 10):
                client.log_metric(run_id, "loss", 1.0 / (s + 1), step=s)
            lags.append(wait_for(lambda: mirror.get_run(run_id).data.metrics.get("loss") == 1.0 / (step + 10),
                                 f"step {step + 9}"))
        assert mirror.get_run(run_id).info.status == "RUNNING"
        client.log_text(run_id, "late artifact", "notes/late.txt")
        client.set_terminated(run_id)
        wait_for(lambda: mirror.get_run(run_id).info.status == "FINISHED", "the FINISHED status")
        wait_for(lambda: [f.path for f in mirror.list_artifacts(run_id, "notes")] == ["notes/late.txt"], "the artifact")
        history = mirror.get_metric_history(run_id, "loss")
        assert sorted(m.step for m in history) == list(range(30))
        print(f"watch: each burst mirrored after {[round(x, 2) for x in lags]} s")
        assert max(lags) < 5.0, lags
    finally:
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, out + err
    assert "pass " in out and "lag at most" in out


def test_bad_sources_are_explained(sources, mltrack, tmp_path):
    before = requests.post(f"{mltrack.url}/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()

    out = import_from(mltrack, f"http://127.0.0.1:{free_port()}", check=False)
    assert out.returncode != 0 and "could not reach" in out.stderr, out.stderr
    out = import_from(mltrack, "ftp://example.com/mlruns", check=False)
    assert out.returncode != 0 and "unsupported source 'ftp://example.com/mlruns'" in out.stderr, out.stderr
    out = import_from(mltrack, tmp_path / "nothing-here", check=False)
    assert out.returncode != 0 and "does not exist" in out.stderr

    unknown = tmp_path / "future.db"
    shutil.copy(sources.db, unknown)
    with sqlite3.connect(unknown) as db:
        db.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")
    out = import_from(mltrack, f"sqlite:///{unknown}", check=False)
    assert out.returncode != 0 and "schema revision abcdef123456" in out.stderr, out.stderr
    after = requests.post(f"{mltrack.url}/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()
    assert after == before

    # A damaged mlruns folder: one run's meta.yaml, another run's metric file,
    # a third run's artifacts gone. The rest still comes over.
    broken = tmp_path / "mlruns"
    shutil.copytree(sources.mlruns, broken)
    vision = next(p for p in broken.iterdir() if (p / "meta.yaml").exists() and "import-vision" in (p / "meta.yaml").read_text())
    ids = sources.file_ids
    (vision / ids["children"][0] / "meta.yaml").write_text("run_id: [unclosed\n  : :")
    with open(vision / ids["children"][1] / "metrics" / "val_loss", "a") as f:
        f.write("1700000000000 not-a-number 51\n")
    shutil.rmtree(vision / ids["long"] / "artifacts")
    out = import_from(mltrack, broken, check=False)
    assert out.returncode == 1, out.stdout
    assert f"{ids['children'][0]}/meta.yaml" in out.stdout
    assert "val_loss line 51" in out.stdout and ids["children"][1] in out.stdout
    assert f"run {ids['long']}" in out.stdout and "artifacts" in out.stdout
    client = mlflow.MlflowClient(mltrack.url)
    assert client.get_run(ids["parent"]).info.run_name == "sweep"
    assert client.get_run(ids["children"][2]).data.params["depth"] == "2"
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_run(ids["children"][0])
    # The run with the bad metric file was left out whole, not half-written.
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_run(ids["children"][1])
    # Once fixed, the next import brings what was missing.
    shutil.copytree(sources.mlruns / vision.name / ids["long"] / "artifacts", vision / ids["long"] / "artifacts")
    out = import_from(mltrack, broken, check=False)
    assert ids["long"] not in out.stdout
    assert [f.path for f in client.list_artifacts(ids["long"], "plots/deep")] == ["plots/deep/notes.txt"]


def test_artifact_uris_outside_the_source_are_not_followed(sources, mltrack, tmp_path):
    """A source's artifact URIs are its data: one naming a local folder
    elsewhere or another HTTP host is reported and not read, so an import
    cannot copy this machine's files or fetch from internal addresses."""
    import socket
    import threading

    secret = tmp_path / "not-the-source"
    secret.mkdir()
    (secret / "id_rsa").write_text("private key")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    knocks = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                knocks.append(listener.accept())
            except OSError:
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    internal = f"http://127.0.0.1:{listener.getsockname()[1]}/api/2.0/mlflow-artifacts/artifacts/x"

    db = tmp_path / "mlflow.db"
    shutil.copy(sources.db, db)
    local_run, http_run = sources.server_ids["children"][:2]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?", (secret.as_uri(), local_run))
        conn.execute("UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?", (internal, http_run))
    out = import_from(mltrack, f"sqlite:///{db}", "--source-artifacts", str(sources.artifacts), check=False)
    done.set()
    watcher.join(timeout=5)
    listener.close()
    assert out.returncode == 1, out.stdout
    assert local_run in out.stdout and http_run in out.stdout
    assert out.stdout.count("it was not read") >= 2, out.stdout
    assert knocks == []
    client = mlflow.MlflowClient(mltrack.url)
    # The runs come over without the artifacts that were not read.
    for run_id in (local_run, http_run):
        assert client.list_artifacts(run_id) == []
    assert not list((mltrack.workdir / "mlartifacts").rglob("id_rsa"))
    # Everything else came over.
    assert client.get_run(sources.server_ids["children"][2]).data.params["depth"] == "2"


def test_import_from_mlflow_postgres_database(mltrack, tmp_path):
    from backends import Postgres

    pg = Postgres()
    try:
        uri = pg.create_database("mlflow")
        source = Sources.__new__(Sources)
        source.root, source.port = tmp_path, free_port()
        source.url = f"http://127.0.0.1:{source.port}"
        source.artifacts = tmp_path / "pg-artifacts"
        source.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(source.port),
             "--backend-store-uri", uri, "--artifacts-destination", str(source.artifacts), "--workers", "1"],
            stdout=open(tmp_path / "mlflow-pg.log", "ab"), stderr=subprocess.STDOUT,
        )
        wait_healthy(source.url, source.proc, tmp_path / "mlflow-pg.log")
        client = mlflow.MlflowClient(source.url, registry_uri=source.url)
        exp = client.create_experiment("pg-experiment", tags={"db": "postgres"})
        run = client.create_run(exp, run_name="pg-run", tags={"team": "db"})
        run_id = run.info.run_id
        client.log_batch(run_id, params=[mlflow.entities.Param("lr", "0.1")], metrics=[
            mlflow.entities.Metric("loss", float("nan") if s == 7 else 1 / (s + 1), 1_700_000_000_000 + s, s)
            for s in range(1000)
        ])
        client.log_text(run_id, "hello", "notes/hello.txt")
        child = client.create_run(exp, run_name="pg-child", tags={"mlflow.parentRunId": run_id}).info.run_id
        client.set_terminated(child, "KILLED")
        client.set_terminated(run_id)
        client.create_registered_model("pg-model", tags={"k": "v"}, description="on postgres")
        version = client.create_model_version("pg-model", f"runs:/{run_id}/notes", run_id=run_id)
        client.set_registered_model_alias("pg-model", "prod", version.version)

        out = import_from(mltrack, uri, "--source-artifacts", str(source.artifacts))
        assert "schema revision" in out.stderr and "postgresql://postgres@127.0.0.1" in out.stderr
        names = ["Default", "pg-experiment"]
        want, got = snapshot(source.url, names), snapshot(mltrack.url, names)
        assert_same(want, got)
        assert len(got["experiments"]["pg-experiment"]["runs"][run_id]["history"]["loss"]) == 1000
        assert got["registry"]["pg-model"]["aliases"] == {"prod": "1"}
        assert "0 metric points" in import_from(mltrack, uri, "--source-artifacts", str(source.artifacts)).stdout
    finally:
        if "source" in locals():
            source.stop()
        pg.stop()
