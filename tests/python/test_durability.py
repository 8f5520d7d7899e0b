"""Acknowledged writes survive `kill -9` and a graceful shutdown."""

import signal
import threading
import time

import requests

from conftest import Server


def ingest_until_stopped(url, run_id, key, acked, stop):
    """Logs batches of 100 points; records the steps of each acknowledged batch."""
    session = requests.Session()
    step = 0
    while not stop.is_set():
        metrics = [{"key": key, "value": float(s), "timestamp": 1_000 + s, "step": s} for s in range(step, step + 100)]
        try:
            r = session.post(f"{url}/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}, timeout=10)
        except requests.RequestException:
            return  # the server is gone; this batch was never acknowledged
        if r.status_code == 200:
            acked.extend(range(step, step + 100))
        step += 100


def history_steps(url, run_id, key):
    r = requests.get(f"{url}/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": key})
    r.raise_for_status()
    return {m["step"] for m in r.json().get("metrics", [])}


def create_run(url):
    r = requests.post(f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0", "start_time": 1})
    r.raise_for_status()
    return r.json()["run"]["info"]["run_id"]


def run_ingest_then(tmp_path, stop_server):
    server = Server(tmp_path).start()
    run_id = create_run(server.url)
    stop = threading.Event()
    acked = {f"k{i}": [] for i in range(4)}
    threads = [
        threading.Thread(target=ingest_until_stopped, args=(server.url, run_id, key, acked[key], stop))
        for key in acked
    ]
    for t in threads:
        t.start()
    time.sleep(2.0)
    code = stop_server(server)
    stop.set()
    for t in threads:
        t.join()
    restarted = Server(tmp_path, args=server.args).start()
    try:
        total = 0
        for key, steps in acked.items():
            stored = history_steps(restarted.url, run_id, key)
            missing = set(steps) - stored
            assert not missing, f"{len(missing)} acknowledged points of {key} were lost"
            total += len(steps)
        assert total > 1000, f"only {total} points were acknowledged: the test did not load the server"
    finally:
        restarted.stop()
    return code


def test_kill_9_during_ingest_loses_no_acknowledged_write(tmp_path):
    code = run_ingest_then(tmp_path, lambda s: s.kill(signal.SIGKILL))
    assert code == -signal.SIGKILL


def test_sigterm_finishes_requests_and_exits_cleanly(tmp_path):
    code = run_ingest_then(tmp_path, lambda s: s.kill(signal.SIGTERM))
    assert code == 0
