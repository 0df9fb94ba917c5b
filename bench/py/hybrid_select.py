#!/usr/bin/python3
"""Hybrid design selection on KDDTrain+ only (issue 4), scikit-learn prototype.

Protocol (no KDDTest+ row is read until the selection is printed):
  * normal KDDTrain+ rows are split 80/20 (seeded); the 80% fit the novelty detectors and the classifier, the 20% are
    held-out normals that calibrate every score and stand in for unseen normal traffic;
  * unseen attacks are simulated by leave-attack-type-out folds: every attack type with >= 100 rows is a fold, the
    small ones are grouped (land; the small R2L types; all U2R types). In a fold the classifier is fitted on the 80%
    normals + every other attack type, and scores the fold's attacks and the held-out normals; one more fold holds out
    a random 20% of all attacks (known attacks, out of sample);
  * novelty detectors see normal rows only, so one fit serves every fold;
  * a candidate = components + ranking rule (+ weights); its weights are fitted on the pooled folds, and it is judged
    by the mean over folds of ROC-AUC(fold attacks vs held-out normals), weights fitted leave-one-fold-out so that the
    judged fold never fitted the weights. The best candidate is the design.
  * only then (--report) every candidate is fitted on all the folds and scored once on KDDTest+.
Usage: /usr/bin/python3 bench/py/hybrid_select.py <nsl-kdd dir> <cache dir> [--report] [--cached-only]
(--cached-only: judge only the classifiers whose fold scores are already in the cache dir)."""
import itertools
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.neural_network import MLPRegressor

DIR, CACHE = sys.argv[1], sys.argv[2]
REPORT = "--report" in sys.argv
CACHED_ONLY = "--cached-only" in sys.argv
os.makedirs(CACHE, exist_ok=True)
CAT = [1, 2, 3]
RNG = np.random.default_rng(0)


def load(name):
    df = pd.read_csv(f"{DIR}/{name}", header=None)
    return df.iloc[:, :41], df.iloc[:, 41].values


def prep(train, test):
    """log1p numeric + standard scaling + one-hot, fitted on train (as flowsentry train does)."""
    num = [c for c in train.columns if c not in CAT]
    a = np.log1p(train[num].values.astype(float).clip(0))
    b = np.log1p(test[num].values.astype(float).clip(0))
    mu, sd = a.mean(0), a.std(0)
    sd[sd == 0] = 1
    parts_a, parts_b = [(a - mu) / sd], [(b - mu) / sd]
    for c in CAT:
        cats = sorted(train[c].unique())
        parts_a.append((train[c].values[:, None] == np.array(cats)[None]).astype(float))
        parts_b.append((test[c].values[:, None] == np.array(cats)[None]).astype(float))
    return np.hstack(parts_a).astype(np.float32), np.hstack(parts_b).astype(np.float32)


def ecod_fit(X):
    cols = [np.sort(X[:, j]) for j in range(X.shape[1])]
    skew = ((X - X.mean(0)) ** 3).mean(0) / (X.std(0) ** 3 + 1e-12)
    return cols, skew


def ecod_score(model, X):
    cols, skew = model
    n = len(cols[0])
    out = np.zeros(len(X))
    for j, c in enumerate(cols):
        left = np.searchsorted(c, X[:, j], side="right") / n
        right = (n - np.searchsorted(c, X[:, j], side="left")) / n
        l, r = -np.log(np.maximum(left, 1 / (n + 1))), -np.log(np.maximum(right, 1 / (n + 1)))
        out += np.maximum.reduce([l, r, l if skew[j] < 0 else r])
    return out


def novelty(Xn_fit, Xs):
    """Novelty scores of every matrix in Xs from detectors fitted on Xn_fit (normal rows only)."""
    res = {}
    slo = np.sign(Xn_fit.min(0)) * np.log1p(np.abs(Xn_fit.min(0)))
    shi = np.sign(Xn_fit.max(0)) * np.log1p(np.abs(Xn_fit.max(0)))
    sspan = np.where(shi > slo, shi - slo, 1)
    mm = lambda X: np.clip((np.sign(X) * np.log1p(np.abs(X)) - slo) / sspan, -1, 2)
    ref = mm(Xn_fit[:20000])
    nn = NearestNeighbors(n_neighbors=5).fit(ref)
    res["nearest"] = [nn.kneighbors(mm(X))[0].mean(1) for X in Xs]
    t = time.time()
    e = ecod_fit(Xn_fit)
    res["ecod"] = [ecod_score(e, X) for X in Xs]
    f = IsolationForest(n_estimators=100, random_state=0).fit(Xn_fit)
    res["iforest"] = [-f.score_samples(X) for X in Xs]
    km = KMeans(n_clusters=8, n_init=3, random_state=0).fit(Xn_fit)
    res["kmeans"] = [km.transform(X).min(1) for X in Xs]
    ae = MLPRegressor(hidden_layer_sizes=(64, 16, 64), max_iter=60, early_stopping=True, random_state=0).fit(Xn_fit, Xn_fit)
    res["autoencoder"] = [((ae.predict(X) - X) ** 2).mean(1) for X in Xs]
    print(f"novelty detectors {time.time() - t:.0f}s", file=sys.stderr)
    return res


SUPERVISED = {
    "gbdt": lambda: HistGradientBoostingClassifier(random_state=0),
    "rf": lambda: RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0),
}

FAMILY = {}
for fam, names in {
    "dos": "back land neptune pod smurf teardrop apache2 mailbomb processtable udpstorm worm",
    "probe": "ipsweep nmap portsweep satan mscan saint",
    "r2l": "ftp_write guess_passwd imap multihop phf spy warezclient warezmaster httptunnel named sendmail snmpgetattack snmpguess xlock xsnoop",
    "u2r": "buffer_overflow loadmodule perl rootkit ps sqlattack xterm",
}.items():
    for n in names.split():
        FAMILY[n] = fam


def main():
    Xtr_raw, ltr = load("KDDTrain+.txt")
    Xte_raw, lte = load("KDDTest+.txt")
    Xtr, Xte = prep(Xtr_raw, Xte_raw)
    normal = np.flatnonzero(ltr == "normal")
    perm = RNG.permutation(normal)
    hold = np.sort(perm[: len(perm) // 5])
    nfit = np.sort(perm[len(perm) // 5 :])
    attacks = np.flatnonzero(ltr != "normal")
    counts = pd.Series(ltr[attacks]).value_counts()
    folds = [[t] for t in counts.index if counts[t] >= 100]
    small = [t for t in counts.index if counts[t] < 100]
    for fam in ["dos", "r2l", "u2r", "probe"]:
        g = [t for t in small if FAMILY[t] == fam]
        if g:
            folds.append(g)
    known = np.sort(RNG.permutation(attacks)[: len(attacks) // 5])
    print("folds:", folds, file=sys.stderr)

    cache = f"{CACHE}/components.npz"
    if os.path.exists(cache):
        C = dict(np.load(cache, allow_pickle=True))
    else:
        C = {}
        nov = novelty(Xtr[nfit], [Xtr[hold], Xtr[attacks], Xte])
        for k, (h, a, te) in nov.items():
            C[f"nov_{k}_hold"], C[f"nov_{k}_att"], C[f"nov_{k}_test"] = h, a, te
        np.savez(cache, **C)
    for sname, make in SUPERVISED.items():
        path = f"{CACHE}/sup_{sname}.npz"
        if os.path.exists(path) or CACHED_ONLY:
            continue
        t = time.time()
        S = {}
        for fi, f in enumerate(folds + ["known"]):
            out = known if f == "known" else np.flatnonzero(np.isin(ltr, f))
            train = np.concatenate([nfit, np.setdiff1d(attacks, out)])
            m = make().fit(Xtr[train], (ltr[train] != "normal").astype(int))
            S[f"f{fi}_hold"] = m.predict_proba(Xtr[hold])[:, 1]
            S[f"f{fi}_att"] = m.predict_proba(Xtr[out])[:, 1]
        m = make().fit(Xtr[np.concatenate([nfit, attacks])], (ltr[np.concatenate([nfit, attacks])] != "normal").astype(int))
        S["final_hold"] = m.predict_proba(Xtr[hold])[:, 1]
        S["final_test"] = m.predict_proba(Xte)[:, 1]
        np.savez(path, **S)
        print(f"supervised {sname}: {time.time() - t:.0f}s", file=sys.stderr)

    att_pos = {a: i for i, a in enumerate(attacks)}
    fold_rows = [known if f == "known" else np.flatnonzero(np.isin(ltr, f)) for f in folds + ["known"]]
    select(C, fold_rows, att_pos, folds, ltr, lte)


def tail(hold_sorted, s):
    """-log10 of the normal tail probability of s among held-out normal scores, continued beyond the largest one by
    the standardised excess over the top-1% normal scores (so that rows past every normal still rank)."""
    n = len(hold_sorted)
    above = n - np.searchsorted(hold_sorted, s, side="left")
    u = -np.log10((above + 1) / (n + 1))
    q99 = hold_sorted[int(0.99 * (n - 1))]
    top = hold_sorted[-1]
    scale = max(top - q99, 1e-12)
    return u + np.where(s > top, (s - top) / scale, 0.0)


def features(sup_hold, sup_rows, C, comp, rows, split):
    """Calibrated score columns: supervised tail score + each novelty's tail score on held-out normals."""
    hs = np.sort(sup_hold)
    cols_h, cols_r = [tail(hs, sup_hold)], [tail(hs, sup_rows)]
    for c in comp:
        h = C[f"nov_{c}_hold"]
        r = C[f"nov_{c}_{split}"] if split == "test" else C[f"nov_{c}_att"][rows]
        hs = np.sort(h)
        cols_h.append(tail(hs, h))
        cols_r.append(tail(hs, r))
    return np.column_stack(cols_h), np.column_stack(cols_r)


def fit_weights(blocks):
    """Non-negative weights w (sum 1) maximising the mean over folds of a smooth (logistic) pairwise AUC surrogate."""
    k = blocks[0][0].shape[1]
    subs = []
    rng = np.random.default_rng(1)
    for h, a in blocks:
        hi = rng.choice(len(h), min(len(h), 800), replace=False)
        ai = rng.choice(len(a), min(len(a), 200), replace=False)
        subs.append((h[hi], a[ai]))

    def loss(w):
        tot, grad = 0.0, np.zeros(k)
        for h, a in subs:
            d = (a @ w)[:, None] - (h @ w)[None, :]
            tot += np.logaddexp(0, -d).mean()
            g = 1 / (1 + np.exp(d))
            grad -= (g.sum(1) @ a - g.sum(0) @ h) / g.size
        return tot / len(subs), grad / len(subs)

    r = minimize(loss, np.ones(k), jac=True, method="L-BFGS-B", bounds=[(0, 20)] * k)
    return r.x / r.x.sum()


RULES = ["max", "mean", "stack"]


def combine(rule, w, M):
    if rule == "max":
        return M.max(1)
    if rule == "mean":
        return M.mean(1)
    return M @ w


def select(C, fold_rows, att_pos, folds, ltr, lte):
    comps = ["nearest", "ecod", "autoencoder", "iforest", "kmeans"]
    cands = []
    for sname in SUPERVISED:
        if not os.path.exists(f"{CACHE}/sup_{sname}.npz"):
            continue
        S = dict(np.load(f"{CACHE}/sup_{sname}.npz"))
        for r in range(0, 4):
            for comp in itertools.combinations(comps, r):
                for rule in RULES if comp else ["none"]:
                    if rule == "stack" and len(comp) == 0:
                        continue
                    cands.append((sname, comp, rule, S))
    judged_path = f"{CACHE}/judged.json"
    judged = json.load(open(judged_path)) if os.path.exists(judged_path) else {}
    results = []
    for sname, comp, rule, S in cands:
        key = f"{sname}|{'+'.join(comp)}|{rule}"
        if key in judged:
            results.append((judged[key][0], judged[key][1], sname, comp, rule, judged[key][2]))
            continue
        blocks = []
        for fi, rows in enumerate(fold_rows):
            arows = np.array([att_pos[i] for i in rows])
            blocks.append(features(S[f"f{fi}_hold"], S[f"f{fi}_att"], C, comp, arows, "att"))
        aucs = []
        for fi, (h, a) in enumerate(blocks):
            w = fit_weights([b for j, b in enumerate(blocks) if j != fi]) if rule == "stack" else None
            M = np.vstack([h, a])
            y = np.r_[np.zeros(len(h)), np.ones(len(a))]
            aucs.append(roc_auc_score(y, M[:, 0] if rule == "none" else combine(rule, w, M)))
        results.append((np.mean(aucs[:-1]), aucs[-1], sname, comp, rule, aucs))
        judged[key] = [results[-1][0], aucs[-1], aucs]
        json.dump(judged, open(judged_path, "w"))
        print(f"{sname:12s} {'+'.join(comp) or '-':34s} {rule:5s} unseen {np.mean(aucs[:-1]):.4f} known {aucs[-1]:.4f}", file=sys.stderr, flush=True)
    results.sort(key=lambda r: -r[0])
    # pre-registered rule: the best mean unseen-fold AUC; within 0.001 of it the simplest candidate (fewest novelty
    # components, then a fixed rule over learned weights), as long as known attacks keep AUC >= 0.999
    ok = [r for r in results if r[1] >= 0.999]
    near = [r for r in ok if r[0] >= ok[0][0] - 0.001]
    best = min(near, key=lambda r: (len(r[3]), r[4] == "stack", -r[0]))
    print(json.dumps({"selected": {"supervised": best[2], "components": best[3], "rule": best[4], "unseen_auc": best[0]}}))
    if not REPORT:
        return
    yte = (lte != "normal").astype(int)
    print("\n| supervised | novelty | rule | weights | LOTO unseen AUC | known AUC | KDDTest+ ROC-AUC |")
    print("|---|---|---|---|---|---|---|")
    for mean_auc, known_auc, sname, comp, rule, _ in results:
        S = dict(np.load(f"{CACHE}/sup_{sname}.npz"))
        blocks = []
        for fi, rows in enumerate(fold_rows):
            arows = np.array([att_pos[i] for i in rows])
            blocks.append(features(S[f"f{fi}_hold"], S[f"f{fi}_att"], C, comp, arows, "att"))
        w = fit_weights(blocks) if rule == "stack" else None
        _, Mt = features(S["final_hold"], S["final_test"], C, comp, None, "test")
        score = Mt[:, 0] if rule == "none" else combine(rule, w, Mt)
        ws = "" if w is None else " ".join(f"{x:.2f}" for x in w)
        print(f"| {sname} | {'+'.join(comp) or '-'} | {rule} | {ws} | {mean_auc:.4f} | {known_auc:.4f} | {roc_auc_score(yte, score):.4f} |", flush=True)


main()
