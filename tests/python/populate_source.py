"""Fills an MLflow tracking store (a server URL or file:./mlruns) through the
real mlflow client with what an import must carry over: several
experiments (one deleted), nested runs, a 10,000-step metric, NaN and
infinite values, datasets, artifacts in folders, a deleted run, a failed
run, an sklearn model registered twice with an alias and a stage.

Run as a script (each store gets a fresh client process):
    python populate_source.py TRACKING_URI
prints a JSON summary on its last line."""

import json
import math
import os
import sys
import tempfile
import time

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Metric
from sklearn.linear_model import LogisticRegression

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
client = mlflow.MlflowClient(uri, registry_uri=uri)
out = {}

exp = mlflow.set_experiment("import-vision")
client.set_experiment_tag(exp.experiment_id, "team", "vision")
out["vision"] = exp.experiment_id
now = int(time.time() * 1000)

with mlflow.start_run(run_name="long-curve") as run:
    mlflow.log_params({"lr": 0.01, "optimizer": "adam", "epochs": 10000})
    mlflow.set_tag("mlflow.note.content", "A **long** training run")
    metrics = []
    for s in range(10_000):
        loss = math.exp(-s / 2000) + 0.01 * math.sin(s)
        if s % 1000 == 500:
            loss = float("nan")
        metrics.append(Metric("loss", loss, now + s, s))
    for i in range(0, len(metrics), 1000):
        client.log_batch(run.info.run_id, metrics=metrics[i : i + 1000])
    mlflow.log_metric("best", float("inf"), step=0)
    mlflow.log_metric("worst", float("-inf"), step=0)
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="train", targets="y")
    mlflow.log_input(dataset, context="training", tags={"split": "train"})
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "plots", "deep"))
        with open(os.path.join(d, "plots", "curve.csv"), "w") as f:
            f.write("step,loss\n" + "".join(f"{s},{1/(s+1)}\n" for s in range(100)))
        with open(os.path.join(d, "plots", "deep", "notes.txt"), "w") as f:
            f.write("nested folder\n")
        with open(os.path.join(d, "weights.bin"), "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024 + 17))
        mlflow.log_artifacts(d)
    mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/params.json")
out["long"] = run.info.run_id

with mlflow.start_run(run_name="sweep") as parent:
    mlflow.log_param("sweep", "depth")
    children = []
    for depth in range(3):
        with mlflow.start_run(run_name=f"depth-{depth}", nested=True) as child:
            mlflow.log_params({"depth": depth, "lr": 0.001 * (depth + 1)})
            for s in range(50):
                mlflow.log_metric("val_loss", 1 / (s + 1 + depth), step=s)
                mlflow.log_metric("accuracy", 1 - 1 / (s + 2 + depth), step=s)
            children.append(child.info.run_id)
out["parent"] = parent.info.run_id
out["children"] = children

with mlflow.start_run(run_name="crashed") as failed:
    mlflow.log_metric("loss", 3.0)
client.set_terminated(failed.info.run_id, status="FAILED")
out["failed"] = failed.info.run_id

with mlflow.start_run(run_name="removed") as removed:
    mlflow.log_param("gone", "yes")
    mlflow.log_metric("loss", 1.5)
client.delete_run(removed.info.run_id)
out["deleted_run"] = removed.info.run_id

models = mlflow.set_experiment("import-models")
out["models"] = models.experiment_id
X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]] * 5)
y = np.array([1, 0, 1, 0] * 5)
for c in (1.0, 0.1):
    with mlflow.start_run(run_name=f"logreg-C{c}") as mrun:
        mlflow.log_param("C", c)
        model = LogisticRegression(C=c).fit(X, y)
        mlflow.log_metric("train_acc", float(model.score(X, y)))
        mlflow.sklearn.log_model(model, name="model", registered_model_name="import-classifier", input_example=X[:2])
client.set_registered_model_alias("import-classifier", "champion", "2")
client.set_registered_model_tag("import-classifier", "owner", "vision")
client.update_registered_model("import-classifier", description="Predicts y")
client.set_model_version_tag("import-classifier", "1", "validated", "true")
client.transition_model_version_stage("import-classifier", "1", "Staging")
out["model_run"] = mrun.info.run_id

old = mlflow.set_experiment("import-archived")
with mlflow.start_run(run_name="old-run"):
    mlflow.log_metric("loss", 0.5)
client.delete_experiment(old.experiment_id)
out["deleted_experiment"] = old.experiment_id

print(json.dumps(out))
