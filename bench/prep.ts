// `npm run bench -- prep`: preprocessing and metrics against scikit-learn 1.2 in the same run.
//   1. NSL-KDD KDDTrain+ → KDDTest+: fit one-hot + standard scaling on train, transform train and test
//      (sklearn: ColumnTransformer(OneHotEncoder(handle_unknown='ignore'), StandardScaler) on the same CSVs,
//      pandas load time excluded on both sides: the frame is loaded before timing starts).
//   2. Live-style batches: transform of 1,000-row batches of the CIC frame (rows/s).
//   3. ROC-AUC + average precision + log loss on 2,000,000 seeded scores (sklearn.metrics on the same numbers).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '../src/datasets/load.js';
import { Pipeline } from '../src/prep/pipeline.js';
import { averagePrecision, rocAuc } from '../src/eval/curves.js';
import { logLoss } from '../src/eval/log-loss.js';
import { Rng } from '../src/util/rng.js';
import { PYTHON, machineLine, markdownTable, runPeer, timed } from './lib/measure.js';

const PY_PREP = `
import sys, time, json, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
tr = pd.read_csv(sys.argv[1], header=None); te = pd.read_csv(sys.argv[2], header=None)
Xtr = tr.iloc[:, :41]; Xte = te.iloc[:, :41]
cat = [1, 2, 3]; num = [c for c in range(41) if c not in cat]
t = time.perf_counter()
ct = ColumnTransformer([('oh', OneHotEncoder(handle_unknown='ignore', sparse_output=False), cat), ('sc', StandardScaler(), num)])
A = ct.fit_transform(Xtr); B = ct.transform(Xte)
print(json.dumps({'seconds': time.perf_counter() - t, 'cols': A.shape[1]}))
`;

const PY_METRICS = `
import sys, time, json, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, log_loss
y = np.fromfile(sys.argv[1], dtype='<i4'); s = np.fromfile(sys.argv[2], dtype='<f8')
t = time.perf_counter()
a = roc_auc_score(y, s); ap = average_precision_score(y, s); ll = log_loss(y, s)
print(json.dumps({'seconds': time.perf_counter() - t, 'auc': a, 'ap': ap, 'logloss': ll}))
`;

export async function run(args: string[]): Promise<void> {
  const datasets = resolve(args[0] ?? process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
  const trainFile = join(datasets, 'nsl-kdd/KDDTrain+.txt');
  const testFile = join(datasets, 'nsl-kdd/KDDTest+.txt');
  console.log(`# Preprocessing and metrics vs scikit-learn\n${machineLine()}\n`);
  const rows: (string | number)[][] = [];

  // 1. NSL-KDD pipeline
  const train = await loadDataset([trainFile]);
  const test = await loadDataset([testFile]);
  const ours = await timed(() => {
    const p = Pipeline.fit(train, { scaleOneHot: false, dropConstant: false, dropDuplicateColumns: false });
    const a = p.transform(train);
    p.transform(test);
    return a.cols;
  });
  const peer = await runPeer(PYTHON, ['-c', PY_PREP, trainFile, testFile]);
  const peerOut = JSON.parse(peer.stdout) as { seconds: number; cols: number };
  rows.push(['NSL-KDD one-hot + standard scaler, fit + transform train & test', `${ours.seconds.toFixed(3)} s (${ours.value} cols)`, `${peerOut.seconds.toFixed(3)} s (${peerOut.cols} cols)`, (peerOut.seconds / ours.seconds).toFixed(1) + '×']);

  // 2. batch transform throughput on CIC
  const cicDir = join(datasets, 'cic-ids2017');
  const cic = await loadDataset(readdirSync(cicDir).filter((f) => f.endsWith('.csv')).map((f) => join(cicDir, f)));
  const pipeline = Pipeline.fit(cic);
  const batch = Int32Array.from({ length: 1000 }, (_, i) => i);
  const out = new Float32Array(1000 * pipeline.columns.length);
  const reps = 200;
  const t = await timed(() => {
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < 1000; i++) batch[i] = (r * 1000 + i) % cic.nRows;
      pipeline.transform(cic, batch, out);
    }
  });
  rows.push([`CIC-IDS2017 transform, 1,000-row batches (${pipeline.columns.length} cols)`, `${Math.round((reps * 1000) / t.seconds).toLocaleString('en')} rows/s`, '-', '-']);

  // 3. metrics on 2M scores
  const n = 2_000_000;
  const rng = new Rng(1);
  const y = new Int32Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.2 ? 1 : 0;
    s[i] = Math.round(1000 / (1 + Math.exp(-(rng.normal() + 1.5 * y[i])))) / 1000;
  }
  const dir = await mkdtemp(join(tmpdir(), 'fs-bench-metrics-'));
  try {
    await writeFile(join(dir, 'y.i32'), new Uint8Array(y.buffer));
    await writeFile(join(dir, 's.f64'), new Uint8Array(s.buffer));
    const mine = await timed(() => {
      const probs = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        probs[2 * i] = 1 - s[i];
        probs[2 * i + 1] = s[i];
      }
      return { auc: rocAuc(y, s), ap: averagePrecision(y, s), ll: logLoss(y, probs, 2) };
    });
    const p = await runPeer(PYTHON, ['-c', PY_METRICS, join(dir, 'y.i32'), join(dir, 's.f64')]);
    const po = JSON.parse(p.stdout) as { seconds: number; auc: number; ap: number; logloss: number };
    const same = Math.abs(po.auc - mine.value.auc) < 1e-9 && Math.abs(po.ap - mine.value.ap) < 1e-9 && Math.abs(po.logloss - mine.value.ll) < 1e-9;
    rows.push([`ROC-AUC + AP + log loss, 2M scores (equal to sklearn: ${same ? 'yes' : 'NO'})`, `${mine.seconds.toFixed(3)} s`, `${po.seconds.toFixed(3)} s`, (po.seconds / mine.seconds).toFixed(1) + '×']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(markdownTable(['task', 'Flowsentry', 'scikit-learn 1.2', 'speed-up'], rows));
}
