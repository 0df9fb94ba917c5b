#!/usr/bin/python3
"""scikit-learn side of `npm run bench -- supervised`: fits ONE peer classifier on a prepared matrix folder
(bench/lib/bench-data.ts writeForPython, binary labels), predicts the test rows, writes the attack score (probability
of class 1, or LinearSVC's decision function) as float64 to <dir>/peer_<name>.score and the predicted labels as
int32 to <dir>/peer_<name>.pred, and prints one JSON object with the fit and predict seconds (and the fit's CPU
seconds over all threads). One model per process,
so the caller's /usr/bin/time peak RSS belongs to that model.
Usage: /usr/bin/python3 bench/py/supervised.py <dir> <name>
Names: knn, dt, rf, gbdt, logreg, svm, mlp."""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

warnings.simplefilter("ignore")
folder, name = sys.argv[1], sys.argv[2]
shape = json.load(open(f"{folder}/shape.json"))
cols = shape["cols"]
X_train = np.fromfile(f"{folder}/X_train.f32", dtype="<f4").reshape(-1, cols)
X_test = np.fromfile(f"{folder}/X_test.f32", dtype="<f4").reshape(-1, cols)
y_train = np.fromfile(f"{folder}/y_train_binary.i32", dtype="<i4")

PEERS = {
    "knn": lambda: KNeighborsClassifier(n_jobs=-1),
    "dt": lambda: DecisionTreeClassifier(random_state=0),
    "rf": lambda: RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0),
    "gbdt": lambda: HistGradientBoostingClassifier(random_state=0),
    "logreg": lambda: LogisticRegression(),
    "svm": lambda: LinearSVC(random_state=0),
    "mlp": lambda: MLPClassifier(random_state=0),
}
if name not in PEERS:
    raise SystemExit(f"unknown peer {name}")
model = PEERS[name]()
t = time.perf_counter()
c = time.process_time()
model.fit(X_train, y_train)
fit = time.perf_counter() - t
fit_cpu = time.process_time() - c
t = time.perf_counter()
if hasattr(model, "predict_proba"):
    proba = model.predict_proba(X_test)
    score = proba[:, 1]
    pred = proba.argmax(axis=1)
else:
    score = model.decision_function(X_test)
    pred = (score > 0).astype(np.int32)
predict = time.perf_counter() - t
np.asarray(score, dtype="<f8").tofile(f"{folder}/peer_{name}.score")
np.asarray(pred, dtype="<i4").tofile(f"{folder}/peer_{name}.pred")
print(json.dumps({"fit": fit, "fitCpu": fit_cpu, "predict": predict}))
