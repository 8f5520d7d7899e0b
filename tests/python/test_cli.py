"""The `mltrack` command line: help, environment variables, `db upgrade`."""

import os
import sqlite3
import subprocess

import requests

from conftest import BINARY, Server, free_port


def test_help_explains_each_flag():
    out = subprocess.run([BINARY, "ui", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--host", "--port", "--backend-store-uri", "--default-artifact-root", "--artifacts-destination", "--serve-artifacts"]:
        assert flag in out, flag
    assert "MLTRACK_BACKEND_STORE_URI" in out


def test_db_upgrade_creates_the_schema(tmp_path):
    db = tmp_path / "fresh.db"
    out = subprocess.run([BINARY, "db", "upgrade", f"sqlite:///{db}"], capture_output=True, text=True, check=True)
    assert "up to date" in out.stdout
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"experiments", "runs", "metrics", "latest_metrics", "params", "tags"} <= tables
    # Running it again is harmless.
    subprocess.run([BINARY, "db", "upgrade", f"sqlite:///{db}"], check=True, capture_output=True)


def test_configuration_from_environment(tmp_path):
    port = free_port()
    env = dict(os.environ, MLTRACK_PORT=str(port), MLTRACK_BACKEND_STORE_URI=f"sqlite:///{tmp_path}/env.db",
               MLTRACK_DEFAULT_ARTIFACT_ROOT="s3://bucket/root")
    proc = subprocess.Popen([BINARY, "server"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        srv = Server(tmp_path, port)
        srv.proc = proc
        for _ in range(100):
            try:
                r = requests.post(f"{srv.url}/api/2.0/mlflow/experiments/create", json={"name": "from-env"})
                break
            except requests.ConnectionError:
                __import__("time").sleep(0.05)
        exp = requests.get(f"{srv.url}/api/2.0/mlflow/experiments/get", params={"experiment_id": r.json()["experiment_id"]}).json()
        assert exp["experiment"]["artifact_location"] == f"s3://bucket/root/{r.json()['experiment_id']}"
        assert (tmp_path / "env.db").exists()
    finally:
        proc.terminate()
        proc.wait()


def test_bad_backend_uri_fails_with_a_message(tmp_path):
    out = subprocess.run([BINARY, "ui", "--backend-store-uri", "mysql://nope", "--port", str(free_port())],
                         cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "mysql://nope" in out.stderr
