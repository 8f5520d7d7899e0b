"""The wheel as a user installs it.

`scripts/wheel.sh` writes `dist/mltrack_server-*.whl`; these tests install
it into a fresh virtual environment with pip allowed no registry at all,
then use the `mltrack` command it put on that environment's PATH from an
empty directory: its version, a server the real `mlflow` client logs to,
and the web UI with its wasm bundle and plotly.js, all served from inside
the binary.
"""

import re
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]


def the_wheel() -> Path:
    wheels = sorted((ROOT / "dist").glob("mltrack_server-*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"expected one wheel in dist/, found {[w.name for w in wheels]}: run scripts/wheel.sh")
    return wheels[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mltrack(tmp_path_factory) -> Path:
    """The `mltrack` command of a fresh venv the wheel was installed into offline."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    out = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-index", "--disable-pip-version-check", str(the_wheel())],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    command = venv / "bin" / "mltrack"
    assert command.exists(), "the wheel put no mltrack command on the venv's PATH"
    return command


def test_the_wheel_is_a_manylinux_binary_wheel_named_mltrack_server():
    wheel = the_wheel()
    assert wheel.name.startswith(f"mltrack_server-{VERSION}-py3-none-")
    if sys.platform == "linux":
        # A plain `linux` tag would be refused by PyPI and by pip on other distributions.
        assert re.search(r"-manylinux_2_\d+_\w+\.whl$", wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(f"mltrack_server-{VERSION}.dist-info/METADATA").decode()
    assert f"mltrack_server-{VERSION}.data/scripts/mltrack" in names
    assert "Name: mltrack-server" in metadata and f"Version: {VERSION}" in metadata


def test_version_is_the_workspace_version(mltrack):
    out = subprocess.run([str(mltrack), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"mltrack {VERSION}"


@pytest.mark.skipif(sys.platform != "linux", reason="reads the ELF's libraries with ldd")
def test_the_binary_needs_no_system_openssl_or_sqlite(mltrack):
    libraries = subprocess.run(["ldd", str(mltrack)], capture_output=True, text=True, check=True).stdout
    assert "libssl" not in libraries and "libcrypto" not in libraries, libraries
    assert "libsqlite3" not in libraries, libraries


def test_server_from_an_empty_directory_takes_the_mlflow_client_and_serves_the_ui(mltrack, tmp_path, monkeypatch):
    workdir = tmp_path / "empty"
    workdir.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([str(mltrack), "server", "--port", str(port)], cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline, "the wheel's mltrack did not become healthy"
            time.sleep(0.05)

        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(url)
        experiment_id = mlflow.create_experiment("from-the-wheel")
        with mlflow.start_run(experiment_id=experiment_id, run_name="pip-installed") as run:
            mlflow.log_param("lr", "0.01")
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.log_text("hello", "notes/hello.txt")
        client = MlflowClient(url)
        stored = client.get_run(run.info.run_id)
        assert stored.data.params == {"lr": "0.01"}
        assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
        assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/hello.txt") == "hello"
        # The embedded default: a SQLite file and an artifact folder in the working directory.
        assert (workdir / "mltrack.db").exists() and (workdir / "mlartifacts").is_dir()

        page = requests.get(f"{url}/experiments/{experiment_id}", timeout=10)
        assert page.status_code == 200 and "pip-installed" in page.text
        assets = set(re.findall(r"""["'](/[^"']+\.(?:wasm|js|css))["']""", page.text))
        wasm = [a for a in assets if a.endswith(".wasm")]
        assert wasm, f"the page names no wasm bundle: {sorted(assets)}"
        for asset in sorted(assets) + ["/vendor/plotly.min.js"]:
            r = requests.get(url + asset, timeout=10)
            assert r.status_code == 200, asset
            assert len(r.content) > 1000, asset
        bundle = requests.get(url + wasm[0], timeout=10)
        assert bundle.headers["content-type"] == "application/wasm"
        assert bundle.content[:4] == b"\0asm"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
