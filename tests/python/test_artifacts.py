"""Artifacts through mltrack's proxy with the real client, on the local
folder and on S3: every call a training script makes, byte for byte."""

import filecmp
import hashlib
import http.client
import json
import os
import uuid
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from backends import start_s3_server


@pytest.fixture(scope="module", params=["local", "s3"])
def backend(request, server, tmp_path_factory):
    if request.param == "local":
        server.kind = "local"
        yield server
        return
    srv = start_s3_server(tmp_path_factory.mktemp("mltrack-s3"))
    srv.kind = "s3"
    yield srv
    srv.stop()
    srv.moto.stop()


@pytest.fixture()
def tracked(backend, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", backend.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(backend.url)
    mlflow.set_experiment(f"artifacts-{uuid.uuid4().hex[:8]}")
    yield backend
    while mlflow.active_run():
        mlflow.end_run()


def write_tree(root: Path):
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "top.txt").write_text("top level\n")
    (root / "nested" / "data.bin").write_bytes(os.urandom(300_000))
    (root / "nested" / "deeper" / "notes with spaces.md").write_text("# Notes\n\nünïcode ✓\n")
    (root / "nested" / "deeper" / "empty.txt").write_bytes(b"")


def test_every_logging_call_round_trips(tracked, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    single = tmp_path / "weights.bin"
    single.write_bytes(os.urandom(1_000_003))
    tree = tmp_path / "tree"
    write_tree(tree)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies/v1")
        mlflow.log_artifacts(str(tree), artifact_path="tree")
        mlflow.log_text("hello, world\n", "texts/hello.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
        mlflow.log_dict({"lr": 0.1}, "config.yaml")
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        mlflow.log_figure(fig, "plots/curve.png")
        plt.close(fig)
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "plots/black.png")
    client = mlflow.MlflowClient()
    run_id = run.info.run_id

    root = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert root == {
        ("weights.bin", False),
        ("copies", True),
        ("tree", True),
        ("texts", True),
        ("config.json", False),
        ("config.yaml", False),
        ("plots", True),
    }
    sizes = {f.path: f.file_size for f in client.list_artifacts(run_id)}
    assert sizes["weights.bin"] == 1_000_003
    assert [f.path for f in client.list_artifacts(run_id, "tree/nested")] == [
        "tree/nested/data.bin",
        "tree/nested/deeper",
    ]
    assert client.list_artifacts(run_id, "weights.bin") == []

    out = Path(client.download_artifacts(run_id, "", str(tmp_path / "down")))
    assert (out / "weights.bin").read_bytes() == single.read_bytes()
    assert (out / "copies" / "v1" / "weights.bin").read_bytes() == single.read_bytes()
    cmp = filecmp.dircmp(tree, out / "tree")
    assert_same_tree(cmp)
    assert (out / "texts" / "hello.txt").read_text() == "hello, world\n"
    assert json.loads((out / "config.json").read_text()) == {"lr": 0.1, "layers": [1, 2]}
    assert (out / "plots" / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/texts/hello.txt") == "hello, world\n"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"lr": 0.1, "layers": [1, 2]}
    assert (out / "config.yaml").read_text().strip() == "lr: 0.1"


def assert_same_tree(cmp):
    assert not cmp.left_only and not cmp.right_only and not cmp.funny_files, cmp.report()
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    assert not mismatch and not errors
    for sub in cmp.subdirs.values():
        assert_same_tree(sub)


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_a_file_over_100_mb_streams_both_ways(tracked, tmp_path):
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for i in range(110):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            f.write(chunk)
    before = rss_kb(tracked.proc.pid)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), "data")
    after_upload = rss_kb(tracked.proc.pid)
    path = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/data/big.bin", dst_path=str(tmp_path / "d"))
    after_download = rss_kb(tracked.proc.pid)
    got = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            got.update(chunk)
    assert got.hexdigest() == digest.hexdigest()
    # Streaming: the server never holds the 110 MB file.
    assert after_upload - before < 64 * 1024, (before, after_upload)
    assert after_download - before < 64 * 1024, (before, after_download)


def test_multipart_upload_through_the_proxy(tracked, tmp_path, monkeypatch):
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    completed = []
    original = HttpArtifactRepository.complete_multipart_upload

    def spy(self, local_file, upload_id, parts=None, artifact_path=None):
        completed.append(len(parts))
        return original(self, local_file, upload_id, parts, artifact_path)

    monkeypatch.setattr(HttpArtifactRepository, "complete_multipart_upload", spy)
    data = os.urandom(12 * 1024 * 1024 + 17)
    src = tmp_path / "parts.bin"
    src.write_bytes(data)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src), "mpu")
    assert completed == [3]
    path = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/mpu/parts.bin", dst_path=str(tmp_path / "d"))
    assert Path(path).read_bytes() == data
    # No parts left behind, and the upload area is not listed.
    listing = requests.get(f"{tracked.url}/api/2.0/mlflow-artifacts/artifacts", timeout=10).json()
    assert all(not f["path"].startswith(".") for f in listing.get("files", []))
    if tracked.kind == "s3":
        assert [k for k in tracked.moto.keys() if "uploads" in k] == []


def test_delete_and_rest_listing(tracked, tmp_path):
    tree = tmp_path / "tree"
    write_tree(tree)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tree))
    run_id = run.info.run_id
    listed = requests.get(
        f"{tracked.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "nested"}, timeout=10
    ).json()
    assert listed["root_uri"] == run.info.artifact_uri
    assert listed["files"] == [
        {"path": "nested/data.bin", "is_dir": False, "file_size": 300_000},
        {"path": "nested/deeper", "is_dir": True},
    ]
    download = requests.get(f"{tracked.url}/get-artifact", params={"run_uuid": run_id, "path": "top.txt"}, timeout=10)
    assert download.status_code == 200 and download.text == "top level\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    repo = get_artifact_repository(run.info.artifact_uri)
    repo.delete_artifacts("nested")
    client = mlflow.MlflowClient()
    assert [f.path for f in client.list_artifacts(run_id)] == ["top.txt"]
    missing = requests.get(f"{tracked.url}/get-artifact", params={"run_uuid": run_id, "path": "nested/data.bin"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def raw(server, method, path, body=b""):
    """One request with the path sent exactly as written (no client-side
    normalisation of `..` or percent-escapes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


TRAVERSALS = [
    "../../../../tmp/mltrack-evil",
    "1/../../../tmp/mltrack-evil",
    "..%2f..%2f..%2ftmp%2fmltrack-evil",
    "%2e%2e/%2e%2e/tmp/mltrack-evil",
    "..%252f..%252ftmp%252fmltrack-evil",
    "%252e%252e%252f%252e%252e%252ftmp%252fmltrack-evil",
    "..%5c..%5ctmp%5cmltrack-evil",
    "x%00y",
    "%2ftmp%2fmltrack-evil",
    "file:%2f%2f%2ftmp%2fmltrack-evil",
    "a%23/../../b",
]


@pytest.mark.parametrize("attack", TRAVERSALS)
def test_path_traversal_is_refused_everywhere(tracked, attack):
    base = "/api/2.0/mlflow-artifacts"
    for method, path in [
        ("PUT", f"{base}/artifacts/{attack}"),
        ("GET", f"{base}/artifacts/{attack}"),
        ("DELETE", f"{base}/artifacts/{attack}"),
        ("GET", f"{base}/artifacts?path={attack}"),
        ("POST", f"{base}/mpu/create/{attack}"),
        ("GET", f"/get-artifact?run_uuid=0&path={attack}"),
    ]:
        body = json.dumps({"path": "f.bin", "num_parts": 1}).encode() if "mpu" in path else b"evil"
        status, data = raw(tracked, method, path, body)
        assert status == 400, (method, path, status, data)
        assert json.loads(data)["error_code"] == "INVALID_PARAMETER_VALUE", (method, path, data)
    assert not Path("/tmp/mltrack-evil").exists()


def test_mpu_file_name_cannot_escape(tracked):
    status, data = raw(
        tracked, "POST", "/api/2.0/mlflow-artifacts/mpu/create/1/x", json.dumps({"path": "/tmp/..", "num_parts": 1}).encode()
    )
    assert status == 400 and json.loads(data)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, data = raw(tracked, "PUT", "/api/2.0/mlflow-artifacts/mpu/part/..%2f..%2fetc/1", b"x")
    assert status in (400, 404), data


def test_experiment_artifact_locations_cannot_point_outside(tracked):
    client = mlflow.MlflowClient()
    for location in [
        "mlflow-artifacts:/../../../../etc",
        "mlflow-artifacts:/%2e%2e/%2e%2e/etc",
        "http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/#/../../../../etc",
        "http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/x?path=../../etc",
        "runs:/abc/model",
    ]:
        with pytest.raises(mlflow.exceptions.MlflowException) as err:
            client.create_experiment(f"evil-{uuid.uuid4().hex[:6]}", artifact_location=location)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE", location


def test_symlinks_in_the_artifact_folder_are_not_followed(tracked, tmp_path):
    if tracked.kind != "local":
        pytest.skip("object storage has no symbolic links")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve me")
    with mlflow.start_run() as run:
        mlflow.log_text("ok", "ok.txt")
    run_dir = tracked.workdir / "mlartifacts" / run.info.experiment_id / run.info.run_id / "artifacts"
    assert (run_dir / "ok.txt").exists()
    os.symlink(tmp_path, run_dir / "link")
    rel = f"{run.info.experiment_id}/{run.info.run_id}/artifacts/link/secret.txt"
    status, data = raw(tracked, "GET", f"/api/2.0/mlflow-artifacts/artifacts/{rel}")
    assert status == 400 and b"symbolic link" in data
    status, data = raw(tracked, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{rel}", b"overwrite")
    assert status == 400
    assert secret.read_text() == "do not serve me"


def test_artifacts_survive_bad_requests(tracked):
    with mlflow.start_run() as run:
        mlflow.log_text("keep me", "keep.txt")
    for attack in TRAVERSALS[:3]:
        raw(tracked, "DELETE", f"/api/2.0/mlflow-artifacts/artifacts/{attack}")
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/keep.txt") == "keep me"
