#!/usr/bin/python3
"""scikit-learn side of `npm run bench -- hybrid`: the hybrid rule of src/models/hybrid.ts rebuilt from scikit-learn
parts on a prepared matrix folder (bench/lib/bench-data.ts writeForPython, binary labels). 20% of the normal training
rows (seeded) are held out; HistGradientBoostingClassifier is fitted on the other rows, the novelty score is the mean
distance to the 5 nearest of the remaining normal rows (<= 20,000; signed-log, min-max scaled, NearestNeighbors);
each score is turned into a normal-tail score on the held-out rows, the two are weighted 0.34 / 0.66, and the alert
threshold is the 98th percentile of that on the held-out rows. Also writes the classifier alone.
Outputs <dir>/peer_hybrid.score, <dir>/peer_hybrid.pred, <dir>/peer_gbdt.score, <dir>/peer_gbdt.pred and prints one
JSON object with wall and CPU seconds (fit, predict).
Usage: /usr/bin/python3 bench/py/hybrid_peer.py <dir>"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import NearestNeighbors

folder = sys.argv[1]
cols = json.load(open(f"{folder}/shape.json"))["cols"]
X_train = np.fromfile(f"{folder}/X_train.f32", dtype="<f4").reshape(-1, cols)
X_test = np.fromfile(f"{folder}/X_test.f32", dtype="<f4").reshape(-1, cols)
y_train = np.fromfile(f"{folder}/y_train_binary.i32", dtype="<i4")


def tail(cal_sorted, s):
    n = len(cal_sorted)
    top, q99 = cal_sorted[-1], np.quantile(cal_sorted, 0.99)
    scale = top - q99 if top > q99 else (top - cal_sorted[0] if top > cal_sorted[0] else 1.0)
    above = n - np.searchsorted(cal_sorted, s, side="left")
    return -np.log10((above + 1) / (n + 1)) + np.where(s > top, (s - top) / scale, 0.0)


signed_log = lambda X: np.sign(X) * np.log1p(np.abs(X))
t, c = time.perf_counter(), time.process_time()
normal = np.flatnonzero(y_train == 0)
perm = np.random.default_rng(0).permutation(normal)
cal = perm[: len(perm) // 5]
fit_normal = perm[len(perm) // 5 :][:20000]
rest = np.setdiff1d(np.arange(len(y_train)), cal)
clf = HistGradientBoostingClassifier(random_state=0).fit(X_train[rest], y_train[rest])
L = signed_log(X_train)
lo, hi = L.min(0), L.max(0)
span = np.where(hi > lo, hi - lo, 1)
scale = lambda X: np.clip((signed_log(X) - lo) / span, -1, 2)
nn = NearestNeighbors(n_neighbors=5).fit(scale(X_train[fit_normal]))
novelty = lambda X: nn.kneighbors(scale(X))[0].mean(1)
cal_p = np.sort(clf.predict_proba(X_train[cal])[:, 1])
cal_n = np.sort(novelty(X_train[cal]))
W = 0.34
threshold = np.quantile(W * tail(cal_p, cal_p) + (1 - W) * tail(cal_n, cal_n), 0.98)
fit, fit_cpu = time.perf_counter() - t, time.process_time() - c

t, c = time.perf_counter(), time.process_time()
p = clf.predict_proba(X_test)[:, 1]
r = (W * tail(cal_p, p) + (1 - W) * tail(cal_n, novelty(X_test))) / threshold
predict, predict_cpu = time.perf_counter() - t, time.process_time() - c
(r / (1 + r)).astype("<f8").tofile(f"{folder}/peer_hybrid.score")
(r >= 1).astype("<i4").tofile(f"{folder}/peer_hybrid.pred")
p.astype("<f8").tofile(f"{folder}/peer_gbdt.score")
(p >= 0.5).astype("<i4").tofile(f"{folder}/peer_gbdt.pred")
print(json.dumps({"fit": fit, "fitCpu": fit_cpu, "predict": predict, "predictCpu": predict_cpu}))
