"""Live updates: the Server-Sent Events stream of committed changes
(`/api/2.0/mltrack/events`), read as a browser's EventSource reads it,
while the real mlflow client logs."""

import json
import queue
import socket
import threading
import urllib.parse
import time

import mlflow
import requests

from conftest import Server


class Stream:
    """An SSE connection read on a thread: `next()` gives (name, id, data).

    A plain socket speaking HTTP/1.0 (the body is the bare event stream
    until the connection closes), so that closing it is immediate."""

    def __init__(self, url, params=None, headers=None):
        req = requests.Request("GET", url, params=params, headers=headers or {}).prepare()
        parts = urllib.parse.urlsplit(req.url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.0", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in req.headers.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("r", encoding="utf-8", newline="\n")
        status = self.file.readline()
        assert " 200 " in status, status
        head = {}
        while (line := self.file.readline().rstrip("\r\n")) != "":
            k, _, v = line.partition(":")
            head[k.strip().lower()] = v.strip()
        assert head["content-type"].startswith("text/event-stream"), head
        self.queue = queue.Queue()
        # Set when the server ends the stream.
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        name, ident, data = "message", None, []
        try:
            for raw in self.file:
                raw = raw.rstrip("\r\n")
                if raw == "":
                    if data:
                        self.queue.put((name, ident, json.loads("\n".join(data))))
                    name, data = "message", []
                elif raw.startswith("event:"):
                    name = raw[6:].strip()
                elif raw.startswith("id:"):
                    ident = raw[3:].strip()
                elif raw.startswith("data:"):
                    data.append(raw[5:].strip())
        except (OSError, ValueError):  # closed
            pass
        self.ended.set()

    def next(self, timeout=10):
        """The next event after the `ready` each stream starts with."""
        while True:
            event = self.queue.get(timeout=timeout)
            if event[0] != "ready":
                return event
            self.ready_id = event[1]

    def until(self, pred, timeout=10):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                ev = self.next(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            seen.append(ev)
            if pred(ev):
                return ev, seen
        raise AssertionError(f"no matching event; saw {seen}")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def events_url(server):
    return f"{server.url}/api/2.0/mltrack/events"


def test_logged_points_arrive_after_the_commit(tracking, client, experiment_id):
    stream = Stream(events_url(tracking), {"experiment_id": experiment_id})
    try:
        first = stream.queue.get(timeout=10)
        assert first[0] == "ready" and first[1]  # an id to resume from, before anything happened
        run = client.create_run(experiment_id, run_name="live")
        name, _, data = stream.next()
        assert (name, data) == ("run_created", {"run_id": run.info.run_id, "experiment_id": experiment_id})
        sent = time.time()
        client.log_batch(
            run.info.run_id,
            metrics=[mlflow.entities.Metric("loss", 0.5, 1000, 1), mlflow.entities.Metric("loss", float("nan"), 1001, 2)],
        )
        # The batch was acknowledged: its points are committed and on their way.
        name, _, data = stream.next()
        assert time.time() - sent < 5
        assert name == "metrics"
        assert data["run_id"] == run.info.run_id and data["experiment_id"] == experiment_id
        assert data["metrics"] == [
            {"key": "loss", "value": 0.5, "timestamp": 1000, "step": 1},
            {"key": "loss", "value": None, "timestamp": 1001, "step": 2},
        ]
        client.log_param(run.info.run_id, "lr", "0.1")
        assert stream.next()[0] == "run_updated"
        client.set_terminated(run.info.run_id, "FAILED")
        assert stream.next()[0] == "run_updated"
        client.delete_run(run.info.run_id)
        assert stream.next()[0] == "run_deleted"
        # A write that fails (the run is deleted) publishes nothing.
        try:
            client.log_metric(run.info.run_id, "loss", 1.0)
        except mlflow.exceptions.MlflowException:
            pass
        client.restore_run(run.info.run_id)
        assert stream.next()[0] == "run_restored"
    finally:
        stream.close()


def test_streams_carry_only_what_their_page_shows(tracking, client, experiment_id):
    other = client.create_experiment(f"other-{time.time_ns()}")
    mine = client.create_run(experiment_id)
    theirs = client.create_run(other)
    by_run = Stream(events_url(tracking), {"run_id": mine.info.run_id})
    by_exp = Stream(events_url(tracking), [("experiment_id", other), ("experiment_id", "999999")])
    try:
        client.log_metric(theirs.info.run_id, "acc", 0.1, step=0)
        client.log_metric(mine.info.run_id, "acc", 0.2, step=0)
        name, _, data = by_run.next()
        assert name == "metrics" and data["run_id"] == mine.info.run_id
        name, _, data = by_exp.next()
        assert name == "metrics" and data["run_id"] == theirs.info.run_id
        client.log_metric(theirs.info.run_id, "acc", 0.3, step=1)
        client.log_metric(mine.info.run_id, "acc", 0.4, step=1)
        assert by_run.next()[2]["metrics"][0]["value"] == 0.4
        assert by_exp.next()[2]["metrics"][0]["value"] == 0.3
    finally:
        by_run.close()
        by_exp.close()


def test_a_reconnect_resumes_after_its_last_event(tracking, client, experiment_id):
    run = client.create_run(experiment_id)
    stream = Stream(events_url(tracking), {"run_id": run.info.run_id})
    client.log_metric(run.info.run_id, "m", 1.0, step=1)
    _, last_id, _ = stream.next()
    stream.close()
    # Logged while the page was away.
    for step in (2, 3):
        client.log_metric(run.info.run_id, "m", float(step), step=step)
    again = Stream(events_url(tracking), {"run_id": run.info.run_id}, headers={"Last-Event-ID": last_id})
    try:
        steps = [again.next()[2]["metrics"][0]["step"] for _ in range(2)]
        assert steps == [2, 3]
    finally:
        again.close()
    # The same through the query string (a reopened EventSource sends no header).
    again = Stream(events_url(tracking), {"run_id": run.info.run_id, "last_event_id": last_id})
    try:
        assert again.next()[2]["metrics"][0]["step"] == 2
    finally:
        again.close()


def test_an_id_from_before_a_restart_asks_for_a_resync(tmp_path):
    srv = Server(tmp_path).start()
    try:
        stream = Stream(events_url(srv))
        exp = requests.post(f"{srv.url}/api/2.0/mlflow/experiments/create", json={"name": "e"}, timeout=10)
        exp_id = exp.json()["experiment_id"]
        requests.post(f"{srv.url}/api/2.0/mlflow/runs/create", json={"experiment_id": exp_id}, timeout=10)
        name, last_id, _ = stream.next()
        assert name == "run_created" and last_id
        stream.close()
        srv.stop()
        srv.start()
        again = Stream(events_url(srv), headers={"Last-Event-ID": last_id})
        try:
            name, _, data = again.next()
            assert name == "resync" and "reason" in data
        finally:
            again.close()
        # Garbage is a resync too, never an error page.
        again = Stream(events_url(srv), headers={"Last-Event-ID": "nonsense"})
        try:
            assert again.next()[0] == "resync"
        finally:
            again.close()
    finally:
        srv.stop()


def test_large_batches_are_announced_by_range(tracking, client, experiment_id):
    run = client.create_run(experiment_id)
    stream = Stream(events_url(tracking), {"run_id": run.info.run_id})
    try:
        metrics = [mlflow.entities.Metric(k, float(s), 1000 + s, s) for k in ("a", "b") for s in range(75)]
        client.log_batch(run.info.run_id, metrics=metrics)
        name, _, data = stream.next()
        assert name == "metrics_range"
        assert data["metrics"] == [
            {"key": "a", "first_step": 0, "last_step": 74, "count": 75},
            {"key": "b", "first_step": 0, "last_step": 74, "count": 75},
        ]
    finally:
        stream.close()


def test_bad_subscriptions_get_sentences(tracking):
    r = requests.get(events_url(tracking), params=[("run_id", f"r{i}") for i in range(1001)], timeout=10)
    assert r.status_code == 400 and "at most 1000" in r.json()["message"]
    # Ids that name nothing are simply quiet: the stream opens.
    quiet = Stream(events_url(tracking), {"run_id": "no-such-run", "experiment_id": "424242"})
    quiet.close()


def test_a_subscriber_that_never_reads_neither_slows_nor_grows_the_server(tmp_path):
    srv = Server(tmp_path).start()
    try:
        rss = lambda: int(next(l for l in open(f"/proc/{srv.proc.pid}/status") if l.startswith("VmRSS")).split()[1]) // 1024
        exp = requests.post(f"{srv.url}/api/2.0/mlflow/experiments/create", json={"name": "e"}, timeout=10).json()["experiment_id"]
        run_id = requests.post(f"{srv.url}/api/2.0/mlflow/runs/create", json={"experiment_id": exp}, timeout=10).json()["run"]["info"]["run_id"]
        # A socket with a small buffer that is never read.
        stuck = socket.create_connection(("127.0.0.1", srv.port))
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(f"GET /api/2.0/mltrack/events?experiment_id={exp} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        before = rss()
        session = requests.Session()
        started = time.time()
        for b in range(400):  # 400 batches of 50 points: inline events, 20,000 points
            metrics = [{"key": f"m{k}", "value": float(b), "timestamp": 1000 + b, "step": b} for k in range(50)]
            r = session.post(f"{srv.url}/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}, timeout=10)
            assert r.status_code == 200, r.text
        elapsed = time.time() - started
        assert elapsed < 60, f"ingest took {elapsed:.1f} s beside a stuck subscriber"
        assert rss() - before < 100, f"server grew from {before} MB to {rss()} MB"
        stuck.close()
        # The server goes on serving streams.
        s = Stream(f"{srv.url}/api/2.0/mltrack/events", {"run_id": run_id})
        session.post(f"{srv.url}/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": [{"key": "x", "value": 1, "timestamp": 1, "step": 0}]}, timeout=10)
        assert s.next()[0] == "metrics"
        s.close()
    finally:
        srv.stop()
