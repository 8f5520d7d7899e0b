"""Integration tests: the real `mlflow` client against the real `mltrack` binary.

Each test session starts mltrack on a free port in a temporary working
directory (its SQLite file and artifacts live there). Set MLTRACK_BIN to test
another build than target/debug/mltrack.

With MLTRACK_TEST_POSTGRES set to a PostgreSQL server's base URI
(`postgresql://user@host:port`, as tests/pg-cluster.sh prints), every
server the tests start stores its runs in a fresh database there instead.
"""

import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import mlflow
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("MLTRACK_BIN", ROOT / "target" / "debug" / "mltrack"))
POSTGRES = os.environ.get("MLTRACK_TEST_POSTGRES", "").rstrip("/")

on_postgres = pytest.mark.skipif(not POSTGRES, reason="needs MLTRACK_TEST_POSTGRES")
sqlite_only = pytest.mark.skipif(bool(POSTGRES), reason="about the SQLite file itself")


def new_postgres_database() -> str:
    """A fresh, empty database on the test PostgreSQL server; its URI."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{POSTGRES}/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running mltrack process in its own working directory."""

    def __init__(self, workdir: Path, port: int | None = None, args=(), env=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = list(args)
        if POSTGRES and "--backend-store-uri" not in self.args:
            # Made once: a restarted server finds its runs again.
            self.args += ["--backend-store-uri", new_postgres_database()]
        self.env = {**os.environ, **(env or {})}
        self.proc = None

    def start(self):
        log = open(self.workdir / "server.log", "ab")
        self.proc = subprocess.Popen(
            [str(BINARY), "ui", "--port", str(self.port), *self.args],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mltrack exited with {self.proc.returncode}: see {self.workdir}/server.log")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("mltrack did not become healthy")

    def store_env(self):
        """The environment for a CLI command (import, export) on this server's store."""
        env = dict(os.environ)
        if "--backend-store-uri" in self.args:
            env["MLTRACK_BACKEND_STORE_URI"] = self.args[self.args.index("--backend-store-uri") + 1]
        return env

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run scripts/build.sh first")
    srv = Server(tmp_path_factory.mktemp("mltrack")).start()
    yield srv
    srv.stop()


@pytest.fixture()
def tracking(server, monkeypatch):
    """Points the mlflow client at the session's server."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    # Fail fast on errors instead of retrying for minutes.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(server.url)
    yield server
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture()
def client(tracking):
    return mlflow.MlflowClient(tracking.url)


@pytest.fixture()
def experiment_id(client):
    return client.create_experiment(f"exp-{uuid.uuid4().hex[:10]}")


@pytest.fixture()
def api(server):
    """Raw REST calls: `api.post("runs/create", json=…)`."""

    class Api:
        def url(self, path, prefix="api"):
            return f"{server.url}/{prefix}/2.0/mlflow/{path}"

        def get(self, path, **kw):
            return requests.get(self.url(path), timeout=30, **kw)

        def post(self, path, **kw):
            return requests.post(self.url(path), timeout=30, **kw)

    return Api()
