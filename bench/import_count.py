"""Counts what a tracking server holds (runs, metric points, artifact bytes)
through the mlflow client, to check that each import copied everything.
Usage: python import_count.py URL"""

import sys

import mlflow
from mlflow.entities import ViewType

client = mlflow.MlflowClient(sys.argv[1])
runs = points = size = 0
for e in client.search_experiments(view_type=ViewType.ALL):
    if not e.name.startswith("bench-"):
        continue
    for r in client.search_runs([e.experiment_id], max_results=1000):
        runs += 1
        for key in r.data.metrics:
            points += len(client.get_metric_history(r.info.run_id, key))
        size += sum(f.file_size or 0 for f in client.list_artifacts(r.info.run_id, "model"))
print(f"{runs} runs, {points} points, {size} artifact bytes")
