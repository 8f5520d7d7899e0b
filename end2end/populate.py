"""Fills a fresh mltrack with what the browser tests look at, through the
real mlflow client: two experiments, a sweep with nested runs, a failed
run, a 100,000-step metric, artifacts of every previewed kind, an sklearn
model registered twice with an alias. Prints the ids the tests need as JSON."""

import json
import math
import os
import random
import sys
import tempfile
import time

import mlflow
from mlflow.entities import Metric

url = sys.argv[1]
mlflow.set_tracking_uri(url)
client = mlflow.MlflowClient(url)
rng = random.Random(7)
ids = {}

mlflow.set_experiment("e2e-beta")
with mlflow.start_run(run_name="e2e-beta-run"):
    mlflow.log_param("lr", 0.01)
    for step in range(100):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)

exp = mlflow.set_experiment("e2e-alpha")
ids["experiment"] = exp.experiment_id
client.set_experiment_tag(exp.experiment_id, "mlflow.note.content", "Sweep of **lr** and the optimizer.<script>window.pwned = 1</script>")
client.set_experiment_tag(exp.experiment_id, "team", "vision")
now = int(time.time() * 1000)


def curve(run_id, lr, depth, steps=300, fail_at=None):
    metrics = []
    for s in range(steps if fail_at is None else fail_at):
        base = math.exp(-s * lr * 10) + 0.05 * depth
        train = base + rng.gauss(0, 0.01)
        val = base * 1.1 + rng.gauss(0, 0.015) + (0.4 if s == 120 else 0.0)
        t = now + s * 1000
        metrics += [Metric("train_loss", train, t, s), Metric("val_loss", val, t, s), Metric("accuracy", 1 - val / 2, t, s)]
    for i in range(0, len(metrics), 900):
        client.log_batch(run_id, metrics=metrics[i : i + 900])


for i, (lr, opt) in enumerate([(0.001, "adam"), (0.003, "adam"), (0.01, "sgd"), (0.03, "sgd")]):
    with mlflow.start_run(run_name=f"run-{i:02d}") as run:
        mlflow.log_params({"lr": lr, "optimizer": opt, "batch_size": 32 * (i + 1), "dropout": 0.1})
        mlflow.set_tag("team", "vision")
        curve(run.info.run_id, lr, 0.1 * i)
        # A final score, logged once.
        mlflow.log_metric("test_accuracy", 0.9 - 0.05 * i)
        # Samples as images at some steps (the last run only at its start),
        # each step a different shade, for the dashboards' image grid.
        import numpy as np

        for s in (0, 150, 299) if i < 3 else (0,):
            shade = np.full((24, 32, 3), (40 + s // 2, 80 + 40 * i, 120), dtype=np.uint8)
            mlflow.log_image(shade, key="samples", step=s)
    ids.setdefault("runs", []).append(run.info.run_id)

with mlflow.start_run(run_name="hp-sweep-depth") as parent:
    mlflow.log_param("sweep", "depth")
    for depth in range(3):
        with mlflow.start_run(run_name=f"depth-{depth}", nested=True) as child:
            mlflow.log_params({"lr": 0.01, "optimizer": "adam", "depth": depth})
            curve(child.info.run_id, 0.01, depth)
ids["parent"] = parent.info.run_id

failed = client.create_run(exp.experiment_id, run_name="run-failed")
client.log_param(failed.info.run_id, "lr", 0.1)
curve(failed.info.run_id, 0.1, 0, fail_at=43)
client.set_terminated(failed.info.run_id, "FAILED")
ids["failed"] = failed.info.run_id

# The artifact run: one file of each previewed kind, a model, a description,
# and a 100,000-step metric.
with mlflow.start_run(run_name="artifacts-and-long-metric") as run:
    mlflow.set_tag("mlflow.note.content", "# Baseline\n\nA run with **artifacts**.\n\n- one\n- two")
    mlflow.log_params({"lr": 0.02, "optimizer": "adam"})
    with tempfile.TemporaryDirectory() as d:
        files = {
            "notes.txt": "plain text\nsecond line\n",
            "logs/train.log": "".join(f"step {i} loss {1 / (i + 1):.4f}\n" for i in range(2000)),
            "config.json": json.dumps({"lr": 0.02, "layers": [64, 32], "name": "baseline"}),
            "config.yaml": "lr: 0.02\nlayers:\n  - 64\n  - 32\n",
            "eval/predictions.csv": "id,label,score\n" + "".join(f"{i},{i % 2},{rng.random():.3f}\n" for i in range(500)),
            "eval/confusion.tsv": "actual\tpredicted\tcount\ncat\tcat\t40\ncat\tdog\t3\n",
            "README.md": "# Model card\n\nTrained on **synthetic** data.\n\n- accuracy 0.93\n",
            "plots/curve.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60"><path d="M0 60 L60 10 L120 30" stroke="blue" fill="none"/></svg>',
            "big/large.txt": "x" * 400_000 + "\n",
        }
        for name, text in files.items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        mlflow.log_artifacts(d)
    import numpy as np

    mlflow.log_image(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))[:, :, None].repeat(3, axis=2), "plots/gradient.png")
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 60, 60)).save(os.path.join(tempfile.gettempdir(), "red.jpg"))
    mlflow.log_artifact(os.path.join(tempfile.gettempdir(), "red.jpg"), "plots")
    Image.new("P", (20, 20), 3).save(os.path.join(tempfile.gettempdir(), "tiny.gif"))
    mlflow.log_artifact(os.path.join(tempfile.gettempdir(), "tiny.gif"), "plots")

    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model", input_example=X[:2])
    long = [Metric("long_metric", math.sin(s / 500) + (5.0 if s == 77_777 else 0.0), now + s, s) for s in range(100_000)]
    for i in range(0, len(long), 1000):
        client.log_batch(run.info.run_id, metrics=long[i : i + 1000])
ids["artifact_run"] = run.info.run_id
ids["model_id"] = info.model_id

mlflow.register_model(f"runs:/{run.info.run_id}/model", "e2e-classifier")
v2 = mlflow.register_model(info.model_uri, "e2e-classifier")
client.set_registered_model_alias("e2e-classifier", "champion", v2.version)
client.update_registered_model("e2e-classifier", description="Classifier for the browser tests")
print(json.dumps(ids))
