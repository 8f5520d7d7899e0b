"""Fills an experiment with many runs and columns through the REST API (as
the mlflow client's log_batch does), for end2end/tti.mjs.
Usage: python end2end/tti.py URL [runs] [metrics] [params]"""

import concurrent.futures
import sys

import requests

url, runs, n_metrics, n_params = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
api = f"{url}/api/2.0/mlflow"
session = requests.Session()
exp = session.post(f"{api}/experiments/create", json={"name": f"tti-{runs}"}).json()["experiment_id"]


def one(i):
    s = requests.Session()
    run = s.post(f"{api}/runs/create", json={"experiment_id": exp, "run_name": f"run-{i:05d}", "start_time": 1_700_000_000_000 + i}).json()
    rid = run["run"]["info"]["run_id"]
    metrics = [{"key": f"m{k:03d}", "value": (i * 7 + k) % 101 / 100, "timestamp": 1_700_000_000_000, "step": 0} for k in range(n_metrics)]
    params = [{"key": f"p{k:03d}", "value": str((i + k) % 13)} for k in range(n_params)]
    for j in range(0, n_params, 100):
        s.post(f"{api}/runs/log-batch", json={"run_id": rid, "metrics": metrics if j == 0 else [], "params": params[j : j + 100]}).raise_for_status()
    if n_params == 0:
        s.post(f"{api}/runs/log-batch", json={"run_id": rid, "metrics": metrics}).raise_for_status()


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(one, range(runs)))
print(exp)
