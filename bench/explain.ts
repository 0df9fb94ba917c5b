// `npm run bench -- explain [datasets-dir]`: rows per second explained by exact TreeSHAP for rf and gbdt models trained
// by `train` on UNSW-NB15 part-a and CIC-IDS2017: Lundberg et al.'s Algorithm 2 (the implementation before session 4,
// kept as the tests' reference) against src/explain/tree-shap.ts on one thread and split over worker threads, on the
// same rows (largest difference reported), in blocks of PREDICT_BLOCK_ROWS as `predict` calls it; then the whole
// `flowsentry predict` command with and without explanations (rf: path contributions, its default). Wall and CPU
// seconds (CPU: all threads of the process). Context: the time scikit-learn takes just to predict_proba the same rows
// with the same model family (no explanation).

import { spawnSync } from 'node:child_process';
import { readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMatrix, type Matrix } from '../src/frame/matrix.js';
import { treeShap } from '../src/explain/tree-shap.js';
import { explainInParallel } from '../src/explain/shap-workers.js';
import { forestFromState, treeCount } from '../src/models/trees/flat-tree.js';
import type { ModelState } from '../src/models/estimator.js';
import { loadModel } from '../src/store/model-file.js';
import { readData, taskLabels } from '../src/workflow/data.js';
import { fittedFromDocument } from '../src/workflow/fitted.js';
import { PREDICT_BLOCK_ROWS } from '../src/workflow/predict.js';
import { train } from '../src/workflow/train.js';
import { defaultThreads } from '../src/util/worker-pool.js';
import { treeShapAlgorithm2 } from '../test/explain/tree-shap-algorithm2.js';
import { PYTHON, machineLine, markdownTable, runPeer } from './lib/measure.js';

/** Rows explained by the new code; Algorithm 2 gets as many of them as it explains in about OLD_SECONDS. */
const ROWS_AFTER = { gbdt: 20000, rf: 1000 } as const;
const OLD_SECONDS = 15;

const PY_PREDICT = `
import sys, time, json, numpy as np
from sklearn.ensemble import RandomForestClassifier, HistGradientBoostingClassifier
d, kind, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
X = np.fromfile(d + '/X.f32', dtype='<f4').reshape(rows, cols)
y = np.fromfile(d + '/y.i32', dtype='<i4')
if kind == 'rf':
    model = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0)
else:
    model = HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, early_stopping=False, random_state=0)
model.fit(X, y)
w0, c0 = time.perf_counter(), time.process_time()
model.predict_proba(X)
print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}))
`;

interface Measured {
  wall: number;
  cpu: number;
}

async function measure(fn: () => unknown): Promise<Measured> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Calls `explain` on blocks of PREDICT_BLOCK_ROWS rows, as `predict` does. */
async function inBlocks(X: Matrix, explain: (B: Matrix) => unknown): Promise<void> {
  for (let from = 0; from < X.rows; from += PREDICT_BLOCK_ROWS) {
    const to = Math.min(X.rows, from + PREDICT_BLOCK_ROWS);
    await explain(createMatrix(to - from, X.cols, X.columns, X.data.subarray(from * X.cols, to * X.cols)));
  }
}

/** Wall and CPU seconds of `flowsentry predict` (GNU time), discarding the output. */
function predictCommand(model: string, files: string[], extra: string[], threads: number): Measured {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const p = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, cli, 'predict', ...extra, model, ...files], {
    env: { ...process.env, FLOWSENTRY_THREADS: String(threads) },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (p.status !== 0) throw new Error(p.stderr);
  const [wall, user, sys] = p.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: user + sys };
}

/** `count` rows spread evenly over X. */
function spread(X: Matrix, count: number): Matrix {
  const k = Math.min(count, X.rows);
  const out = createMatrix(k, X.cols, X.columns);
  for (let i = 0; i < k; i++) {
    const r = Math.floor((i * X.rows) / k);
    out.data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols);
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const dir = resolve(args[0] ?? process.env.FLOWSENTRY_DATASETS ?? '../shared/datasets');
  const cicDir = join(dir, 'cic-ids2017');
  const datasets: [string, string[]][] = [
    ['UNSW-NB15 part-a', [join(dir, 'unsw-nb15/UNSW_NB15_part-a.csv')]],
    ['CIC-IDS2017 (16 files)', readdirSync(cicDir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(cicDir, f))],
  ];
  const tmp = mkdtempSync(join(tmpdir(), 'fs-bench-explain-'));
  const table: (string | number)[][] = [];
  const loadStart = loadavg()[0];
  try {
    for (const [name, files] of datasets) {
      const frame = await readData(files);
      for (const kind of ['gbdt', 'rf'] as const) {
        const out = join(tmp, `${kind}.fsm`);
        console.error(`${name}: training ${kind}`);
        await train({ files, task: 'binary', models: [kind], cv: 2, metric: 'f1', out, seed: 0, targetFpr: 0.01 });
        const fitted = fittedFromDocument(await loadModel(out), out);
        const X = fitted.pipeline.transform(frame);
        const forest = forestFromState(fitted.model.getState().forest as ModelState);
        // rf: the mean probability of class 1; gbdt (binary): the log-odds of class 1.
        const [output, scale] = kind === 'rf' ? [1, 1 / treeCount(forest)] : [0, 1];
        const after = spread(X, ROWS_AFTER[kind]);
        const probe = await measure(() => treeShapAlgorithm2(forest, spread(X, 20), output, scale));
        const before = spread(X, Math.max(20, Math.min(after.rows, Math.round((OLD_SECONDS * 20) / probe.cpu))));
        const reference = new Float64Array(before.rows * X.cols);
        const fast = new Float64Array(before.rows * X.cols);
        let done = 0;
        const old = await measure(() =>
          inBlocks(before, (B) => {
            reference.set(treeShapAlgorithm2(forest, B, output, scale).phi, done * X.cols);
            done += B.rows;
          }),
        );
        done = 0;
        const same = await measure(() =>
          inBlocks(before, (B) => {
            fast.set(treeShap(forest, B, output, scale).phi, done * X.cols);
            done += B.rows;
          }),
        );
        let worst = 0;
        for (let i = 0; i < before.rows; i++) {
          let rowScale = 0;
          for (let j = 0; j < X.cols; j++) rowScale = Math.max(rowScale, Math.abs(reference[i * X.cols + j]));
          for (let j = 0; j < X.cols; j++) worst = Math.max(worst, Math.abs(fast[i * X.cols + j] - reference[i * X.cols + j]) / rowScale);
        }
        const one = await measure(() => inBlocks(after, (B) => treeShap(forest, B, output, scale)));
        const threads = defaultThreads();
        const parallel = await measure(() => inBlocks(after, (B) => explainInParallel(fitted.model, B, threads)));
        const explainedOne = predictCommand(out, files, [], 1);
        const explainedAll = predictCommand(out, files, [], threads);
        const unexplained = predictCommand(out, files, ['--no-explain'], threads);

        const labels = taskLabels(frame, 'binary');
        writeFileSync(join(tmp, 'X.f32'), X.data);
        writeFileSync(join(tmp, 'y.i32'), labels.codes);
        writeFileSync(join(tmp, 'predict.py'), PY_PREDICT);
        const py = await runPeer(PYTHON, [join(tmp, 'predict.py'), tmp, kind, String(X.rows), String(X.cols)]);
        if (py.code !== 0) throw new Error(py.stderr);
        const sk = JSON.parse(py.stdout.trim()) as Measured;

        let maxDepth = 0;
        const depth = (node: number, d: number): void => {
          if (forest.feature[node] < 0) maxDepth = Math.max(maxDepth, d);
          else [forest.left[node], forest.right[node]].forEach((c) => depth(c, d + 1));
        };
        for (let t = 0; t < treeCount(forest); t++) depth(forest.treeStart[t], 0);
        const perSecond = (rows: number, m: Measured): string => `${Math.round(rows / m.wall)} / ${Math.round(rows / m.cpu)}`;
        table.push([
          name,
          `${kind} (${treeCount(forest)} trees, ${forest.feature.length} nodes, depth ≤ ${maxDepth})`,
          `${perSecond(before.rows, old)} (${before.rows} rows)`,
          `${perSecond(after.rows, one)} (${after.rows} rows)`,
          (old.cpu / same.cpu).toFixed(1),
          perSecond(after.rows, parallel),
          `${explainedOne.wall.toFixed(1)} / ${explainedOne.cpu.toFixed(1)}; ${explainedAll.wall.toFixed(1)} / ${explainedAll.cpu.toFixed(1)}; ${unexplained.wall.toFixed(1)} / ${unexplained.cpu.toFixed(1)}`,
          worst.toExponential(1),
          `${perSecond(X.rows, sk)} (${X.rows} rows)`,
        ]);
        console.error(`${table[table.length - 1].join(' | ')}`);
      }
    }
    console.log(`# Exact TreeSHAP, rows explained per second (wall / CPU)\n${machineLine()}; load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end; ${defaultThreads()} threads\n`);
    console.log(
      markdownTable(
        [
          'data',
          'model',
          'Algorithm 2 (before)',
          'now, 1 thread',
          'CPU speed-up, same rows',
          `now, ${defaultThreads()} threads (workers started in the first block)`,
          `predict s, wall / CPU: explained 1 thread; ${defaultThreads()} threads; --no-explain`,
          'largest |Δφ| / row max |φ|',
          'scikit-learn predict_proba only',
        ],
        table,
      ),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
