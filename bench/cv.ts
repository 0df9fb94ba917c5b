// `npm run bench -- cv [datasets-dir]`: cross-validation and grid search end to end against scikit-learn 1.2 in the
// same run, on NSL-KDD KDDTrain+ (binary: normal vs attack), pipeline (one-hot + standard scaling) fitted inside every
// fold on both sides, logistic regression (lbfgs, C=1, max_iter=100), stratified 5-fold, 2 workers:
//   1. cross-validate one candidate (sklearn: cross_validate(Pipeline, n_jobs=2));
//   2. grid search over C ∈ {0.01, 0.1, 1, 10, 100} (sklearn: GridSearchCV(n_jobs=2)).
// Data loading is excluded on both sides (timed after the frame / DataFrame is in memory).

import { join, resolve } from 'node:path';
import { loadDataset } from '../src/datasets/load.js';
import type { Labels } from '../src/frame/labels.js';
import { crossValidate } from '../src/eval/cross-validate.js';
import { search } from '../src/eval/search.js';
import '../src/models/index.js';
import { PYTHON, machineLine, markdownTable, runPeer, timed } from './lib/measure.js';

const PY = `
import sys, time, json, numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate, GridSearchCV
df = pd.read_csv(sys.argv[1], header=None)
X = df.iloc[:, :41]; y = (df[41] != 'normal').astype(int).values
cat = [1, 2, 3]; num = [c for c in range(41) if c not in cat]
pipe = make_pipeline(ColumnTransformer([('oh', OneHotEncoder(handle_unknown='ignore'), cat), ('sc', StandardScaler(), num)]), LogisticRegression(max_iter=100))
cv = StratifiedKFold(5, shuffle=True, random_state=0)
t = time.perf_counter()
r = cross_validate(pipe, X, y, cv=cv, scoring=['accuracy', 'f1', 'roc_auc'], n_jobs=2)
t1 = time.perf_counter()
g = GridSearchCV(pipe, {'logisticregression__C': [0.01, 0.1, 1, 10, 100]}, cv=cv, scoring='f1', n_jobs=2).fit(X, y)
t2 = time.perf_counter()
print(json.dumps({'cv': t1 - t, 'grid': t2 - t1, 'f1': float(np.mean(r['test_f1'])), 'auc': float(np.mean(r['test_roc_auc'])), 'best': g.best_params_['logisticregression__C'], 'bestF1': g.best_score_}))
`;

export async function run(args: string[]): Promise<void> {
  const datasets = resolve(args[0] ?? process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
  const file = join(datasets, 'nsl-kdd/KDDTrain+.txt');
  console.log(`# Cross-validation and grid search vs scikit-learn\n${machineLine()}\n`);
  const frame = await loadDataset([file]);
  const label = frame.label!;
  const normal = label.dictionary.indexOf('normal');
  const y: Labels = { codes: Int32Array.from(label.codes, (c) => (c === normal ? 0 : 1)), classes: ['normal', 'attack'] };
  const data = { frame, y };
  const options = { folds: 5, seed: 0, threads: 2, parallel: 'workers' as const };
  const cv = await timed(() => crossValidate(data, 'logreg', { C: 1, max_iter: 100 }, options));
  const grid = await timed(() => search(data, ['logreg'], { ...options, metric: 'f1', spaces: { logreg: { C: [0.01, 0.1, 1, 10, 100] } }, baseParams: { logreg: { max_iter: 100 } } }));
  const peer = await runPeer(PYTHON, ['-c', PY, file]);
  if (peer.code !== 0) throw new Error(peer.stderr);
  const p = JSON.parse(peer.stdout) as { cv: number; grid: number; f1: number; auc: number; best: number; bestF1: number };
  const rows = [
    ['5-fold CV, logreg, pipeline per fold', `${cv.seconds.toFixed(2)} s`, `${p.cv.toFixed(2)} s`, (p.cv / cv.seconds).toFixed(1) + '×', `F1 ${cv.value.cv.f1.mean.toFixed(4)} / AUC ${cv.value.cv.roc_auc.mean.toFixed(4)}`, `F1 ${p.f1.toFixed(4)} / AUC ${p.auc.toFixed(4)}`],
    ['grid search C × 5 folds (25 fits)', `${grid.seconds.toFixed(2)} s`, `${p.grid.toFixed(2)} s`, (p.grid / grid.seconds).toFixed(1) + '×', `best C=${grid.value.best?.params.C} F1 ${grid.value.best?.cv.f1.mean.toFixed(4)}`, `best C=${p.best} F1 ${p.bestF1.toFixed(4)}`],
  ];
  console.log(markdownTable(['task', 'Flowsentry', 'scikit-learn 1.2', 'speed-up', 'Flowsentry score', 'sklearn score'], rows));
}
