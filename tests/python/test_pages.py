"""Pages as the server renders them."""

import time

import requests
from mlflow.entities import Metric


def test_the_chart_view_comes_with_its_runs_and_renders_cleanly(server, client, experiment_id):
    now = int(time.time() * 1000)
    names = []
    for i in range(3):
        run = client.create_run(experiment_id, run_name=f"sweep-{i}")
        metrics = [Metric(key, (i + 1) / (s + 1), now + s, s) for key in ("loss", "val/acc") for s in range(20)]
        client.log_batch(run.info.run_id, metrics=metrics)
        names.append(run.info.run_name)
    log = server.workdir / "server.log"
    seen = log.stat().st_size
    for _ in range(30):
        page = requests.get(f"{server.url}/experiments/{experiment_id}?view=charts", timeout=30)
        assert page.status_code == 200
    # The page carries the runs the chart view draws: a panel per metric,
    # and their names and metrics for the controls, without a second request.
    assert 'data-metric="loss"' in page.text and 'data-metric="val/acc"' in page.text
    assert all(name in page.text for name in names)
    assert '<option value="metric:val/acc">' in page.text
    # Rendering them left nothing broken behind (a panic in the log).
    with open(log, "rb") as f:
        f.seek(seen)
        written = f.read().decode(errors="replace")
    assert "panicked" not in written, written[:2000]
