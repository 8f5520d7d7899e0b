"""Fills an MLflow server for the import benchmark through the real client:
EXPERIMENTS experiments of RUNS runs, each with 10 params, 3 tags, METRICS
metrics of STEPS points (log_batch, 1000 points a call) and a 1 MB artifact.
Usage: python import_source.py URL EXPERIMENTS RUNS METRICS STEPS"""

import os
import sys
import tempfile
import time

import mlflow
from mlflow.entities import Metric, Param, RunTag

url, experiments, runs, metrics, steps = sys.argv[1], *map(int, sys.argv[2:6])
client = mlflow.MlflowClient(url)
start = int(time.time() * 1000)
with tempfile.TemporaryDirectory() as d:
    blob = os.path.join(d, "weights.bin")
    with open(blob, "wb") as f:
        f.write(os.urandom(1 << 20))
    for e in range(experiments):
        exp = client.create_experiment(f"bench-{e}")
        for r in range(runs):
            run = client.create_run(exp, run_name=f"run-{r}")
            rid = run.info.run_id
            client.log_batch(rid, params=[Param(f"p{i}", str(i * r)) for i in range(10)],
                             tags=[RunTag(f"t{i}", "x") for i in range(3)])
            points = [Metric(f"m{k}", (s * 7 + k) % 101 / 100, start + s, s) for k in range(metrics) for s in range(steps)]
            for i in range(0, len(points), 1000):
                client.log_batch(rid, metrics=points[i : i + 1000])
            client.log_artifact(rid, blob, "model")
            client.set_terminated(rid)
print(f"{experiments * runs} runs, {experiments * runs * metrics * steps} points")
