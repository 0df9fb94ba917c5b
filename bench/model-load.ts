// `npm run bench -- model-load [datasets-dir]`: time to load a saved 100-tree random forest and make its first
// prediction (target: < 200 ms). The forest is trained by `train` on NSL-KDD KDDTrain+ (the bundled sample when the
// shared datasets are absent), saved, then loaded in a fresh Node process, which reports: module import time, then
// load (read + checksum + decode + rebuild pipeline and forest), the first one-row prediction, and then one more row
// predicted with its top-3 explanation (exact tree contributions). Peer: joblib.load of scikit-learn's RandomForestClassifier(100) fitted on the same rows + predict_proba
// of one row, measured the same way in a fresh python process.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/store/model-file.js';
import { readData } from '../src/workflow/data.js';
import { fittedFromDocument, predictBlock } from '../src/workflow/fitted.js';
import { train } from '../src/workflow/train.js';
import { PYTHON, machineLine, markdownTable, runPeer } from './lib/measure.js';

const RUNS = 5;

/** Child mode: `node dist/bench/model-load.js <model> <data>` prints JSON timings. */
async function child(model: string, data: string): Promise<void> {
  const frame = await readData([data]);
  const t0 = performance.now();
  const doc = await loadModel(model);
  const fitted = fittedFromDocument(doc, model);
  const t1 = performance.now();
  const [row] = await predictBlock(fitted, frame, 0, 1, false);
  const t2 = performance.now();
  await predictBlock(fitted, frame, 1, 2, true);
  const t3 = performance.now();
  process.stdout.write(`${JSON.stringify({ load: (t1 - t0) / 1000, first: (t2 - t1) / 1000, explained: (t3 - t2) / 1000, label: row.label })}\n`);
}

const PY_PEER = `
import sys, time, json
t0 = time.perf_counter()
import joblib, numpy as np
t1 = time.perf_counter()
model = joblib.load(sys.argv[1])
t2 = time.perf_counter()
x = np.fromfile(sys.argv[2], dtype='<f4').reshape(1, -1)
p = model.predict_proba(x)
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "first": t3 - t2}))
`;

const PY_FIT = `
import sys, numpy as np, joblib, json
from sklearn.ensemble import RandomForestClassifier
shape = json.load(open(sys.argv[1] + '/shape.json'))
X = np.fromfile(sys.argv[1] + '/X_train.f32', dtype='<f4').reshape(-1, shape['cols'])
y = np.fromfile(sys.argv[1] + '/y_train_binary.i32', dtype='<i4')
joblib.dump(RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0).fit(X, y), sys.argv[2])
X[:1].astype('<f4').tofile(sys.argv[3])
`;

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args[1], args[2]);
  const dir = resolve(args[0] ?? process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
  const full = join(dir, 'nsl-kdd/KDDTrain+.txt');
  const data = existsSync(full) ? full : resolve('samples/nsl-kdd/KDDTrain+_sample.txt');
  const tmp = mkdtempSync(join(tmpdir(), 'fs-bench-load-'));
  try {
    const model = join(tmp, 'rf.fsm');
    console.error(`training a 100-tree forest on ${data}`);
    await train({ files: [data], task: 'binary', models: ['rf'], cv: 2, metric: 'f1', out: model, seed: 0, targetFpr: 0.01 });
    const self = fileURLToPath(import.meta.url);
    const ours: { load: number; first: number; explained: number; total: number; wall: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, [self.replace(/model-load\.js$/, 'run.js'), 'model-load', '--child', model, data], { encoding: 'utf8' });
      const wall = (performance.now() - t0) / 1000;
      if (p.status !== 0) throw new Error(p.stderr);
      const t = JSON.parse(p.stdout.trim().split('\n').pop() as string) as { load: number; first: number; explained: number };
      ours.push({ ...t, total: t.load + t.first, wall });
    }
    const rows: (string | number)[][] = [
      [
        'flowsentry (.fsm, 100 trees, pipeline included)',
        `${(statSync(model).size / 1e6).toFixed(1)} MB`,
        (median(ours.map((o) => o.load)) * 1000).toFixed(1),
        (median(ours.map((o) => o.first)) * 1000).toFixed(1),
        (median(ours.map((o) => o.total)) * 1000).toFixed(1),
        (median(ours.map((o) => o.explained)) * 1000).toFixed(1),
        (median(ours.map((o) => o.wall)) * 1000).toFixed(0),
      ],
    ];
    // scikit-learn peer on the same training rows (one-hot + scaled by bench-data)
    if (existsSync(full)) {
      const { loadBenchData, writeForPython } = await import('./lib/bench-data.js');
      const bench = await loadBenchData('nsl', { datasets: dir });
      await writeForPython(bench, tmp);
      writeFileSync(join(tmp, 'fit.py'), PY_FIT);
      writeFileSync(join(tmp, 'load.py'), PY_PEER);
      const fit = await runPeer(PYTHON, [join(tmp, 'fit.py'), tmp, join(tmp, 'rf.joblib'), join(tmp, 'row.f32')]);
      if (fit.code !== 0) throw new Error(fit.stderr);
      const peer: { load: number; first: number; wall: number }[] = [];
      for (let r = 0; r < RUNS; r++) {
        const p = await runPeer(PYTHON, [join(tmp, 'load.py'), join(tmp, 'rf.joblib'), join(tmp, 'row.f32')]);
        if (p.code !== 0) throw new Error(p.stderr);
        peer.push({ ...(JSON.parse(p.stdout.trim()) as { load: number; first: number }), wall: p.seconds });
      }
      rows.push([
        'scikit-learn 1.2 (joblib, 100 trees, no pipeline)',
        `${(statSync(join(tmp, 'rf.joblib')).size / 1e6).toFixed(1)} MB`,
        (median(peer.map((o) => o.load)) * 1000).toFixed(1),
        (median(peer.map((o) => o.first)) * 1000).toFixed(1),
        (median(peer.map((o) => o.load + o.first)) * 1000).toFixed(1),
        '–',
        (median(peer.map((o) => o.wall)) * 1000).toFixed(0),
      ]);
    }
    console.log(`# Model load + first prediction (median of ${RUNS} fresh processes)\n${machineLine()}\ntrained on ${data}\n`);
    console.log(markdownTable(['model file', 'size', 'load ms', 'first prediction ms', 'load + first ms', 'next row with top-3 explanation ms', 'process wall ms'], rows));
    console.log('\nTarget: load + first prediction < 200 ms for a 100-tree forest.');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
