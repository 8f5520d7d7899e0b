"""Fills a fresh mltrack with what the browser tests look at, through the real mlflow client."""

import sys

import mlflow

mlflow.set_tracking_uri(sys.argv[1])
for name in ["e2e-alpha", "e2e-beta"]:
    mlflow.set_experiment(name)
    with mlflow.start_run(run_name=f"{name}-run"):
        mlflow.log_param("lr", 0.01)
        for step in range(100):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
