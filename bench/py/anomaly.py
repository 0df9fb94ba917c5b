#!/usr/bin/python3
"""scikit-learn side of `npm run bench -- anomaly`: fits each peer detector on the NORMAL training rows of a
prepared matrix folder (bench/lib/bench-data.ts writeForPython), scores the test rows, writes the scores
(higher = more anomalous, float64) to <dir>/peer_<name>.f64 and prints one JSON object with the timings.
Usage: /usr/bin/python3 bench/py/anomaly.py <dir> '<json params>' <name>...
Names: iforest (IsolationForest), lof (LocalOutlierFactor novelty=True), kmeans (KMeans: distance to the nearest
centroid), dbscan (DBSCAN: distance to the nearest core sample / eps)."""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.cluster import DBSCAN, KMeans
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

warnings.simplefilter("ignore")
folder, params, names = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
shape = json.load(open(f"{folder}/shape.json"))
cols = shape["cols"]
X_train = np.fromfile(f"{folder}/X_train.f32", dtype="<f4").reshape(-1, cols)
X_test = np.fromfile(f"{folder}/X_test.f32", dtype="<f4").reshape(-1, cols)
y_train = np.fromfile(f"{folder}/y_train_binary.i32", dtype="<i4")
normal = X_train[y_train == 0]


def fit_score(name, p):
    if name == "iforest":
        m = IsolationForest(n_estimators=p.get("n_estimators", 100), random_state=0, n_jobs=-1)
        t = time.perf_counter(); m.fit(normal); fit = time.perf_counter() - t
        t = time.perf_counter(); s = -m.score_samples(X_test); return s, fit, time.perf_counter() - t
    if name == "lof":
        m = LocalOutlierFactor(n_neighbors=p.get("n_neighbors", 20), novelty=True, n_jobs=-1)
        t = time.perf_counter(); m.fit(normal); fit = time.perf_counter() - t
        t = time.perf_counter(); s = -m.score_samples(X_test); return s, fit, time.perf_counter() - t
    if name == "kmeans":
        m = KMeans(n_clusters=p.get("n_clusters", 8), n_init=p.get("n_init", 3), random_state=0)
        t = time.perf_counter(); m.fit(normal); fit = time.perf_counter() - t
        t = time.perf_counter(); s = m.transform(X_test).min(axis=1); return s, fit, time.perf_counter() - t
    if name == "dbscan":
        eps = p["eps"]
        rows = normal[: p.get("max_rows", len(normal))]
        t = time.perf_counter()
        m = DBSCAN(eps=eps, min_samples=p.get("min_samples", 5), n_jobs=-1).fit(rows)
        core = NearestNeighbors(n_neighbors=1, n_jobs=-1).fit(rows[m.core_sample_indices_])
        fit = time.perf_counter() - t
        t = time.perf_counter(); d, _ = core.kneighbors(X_test); return d[:, 0] / eps, fit, time.perf_counter() - t
    raise SystemExit(f"unknown peer {name}")


out = {}
for name in names:
    cpu = time.process_time()  # all threads of this process
    scores, fit, score = fit_score(name, params.get(name, {}))
    cpu = time.process_time() - cpu
    np.asarray(scores, dtype="<f8").tofile(f"{folder}/peer_{name}.f64")
    out[name] = {"fit": fit, "score": score, "cpu": cpu}
print(json.dumps(out))
