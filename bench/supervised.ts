// `npm run bench -- supervised [models,...] [nsl,unsw,cic]`: every registered classifier (knn, dt, rf, gbdt, logreg,
// svm, mlp; names not registered yet are skipped) next to its scikit-learn counterpart on the same prepared matrices
// (bench/lib/bench-data.ts, binary labels: attack = 1). Each side fits in its own process, one model at a time, so the
// peak RSS (GNU time) belongs to that model. Both sides write their test scores and labels; this process computes
// accuracy, F1 (attack) and ROC-AUC for both with src/eval: the score is the attack probability (LinearSVC's decision
// value), the labels are each model's predict(). Peers: KNeighborsClassifier(n_jobs=-1),
// DecisionTreeClassifier, RandomForestClassifier(n_estimators=100, n_jobs=-1), HistGradientBoostingClassifier,
// LogisticRegression, LinearSVC, MLPClassifier — all with default parameters, as ours.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchData, writeForPython, BENCH_NAMES, type BenchName } from './lib/bench-data.js';
import { PYTHON, machineLine, markdownTable, runPeer, timed } from './lib/measure.js';
import { getModelSpec, listModels } from '../src/models/index.js';
import type { Classifier } from '../src/models/estimator.js';
import { createMatrix } from '../src/frame/matrix.js';
import { accuracy, binaryScores } from '../src/eval/classification.js';
import { rocAuc } from '../src/eval/curves.js';

const MODELS = ['knn', 'dt', 'rf', 'gbdt', 'logreg', 'svm', 'mlp'];
const PEERS: Record<string, string> = {
  knn: 'KNeighborsClassifier(n_jobs=-1)',
  dt: 'DecisionTreeClassifier',
  rf: 'RandomForestClassifier(100, n_jobs=-1)',
  gbdt: 'HistGradientBoostingClassifier',
  logreg: 'LogisticRegression',
  svm: 'LinearSVC',
  mlp: 'MLPClassifier',
};

interface SideResult {
  fit: number;
  /** CPU seconds of the fit over all threads: a load-independent measure on a shared machine. */
  fitCpu: number;
  predict: number;
  rss: number | undefined;
  accuracy: number;
  f1: number;
  auc: number;
}

interface Shape {
  rows_train: number;
  rows_test: number;
  cols: number;
}

async function readArray<T extends Float64Array | Int32Array>(path: string, ctor: new (b: ArrayBuffer) => T): Promise<T> {
  const buf = await readFile(path);
  return new ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
}

/** Child process: fit one of our models on the folder's matrices, write scores and labels, print timings. */
async function child(dir: string, name: string): Promise<void> {
  const shape = JSON.parse(await readFile(join(dir, 'shape.json'), 'utf8')) as Shape;
  const f32 = async (file: string): Promise<Float32Array> => {
    const buf = await readFile(join(dir, file));
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  };
  const train = createMatrix(shape.rows_train, shape.cols, undefined, await f32('X_train.f32'));
  const test = createMatrix(shape.rows_test, shape.cols, undefined, await f32('X_test.f32'));
  const y = { codes: await readArray(join(dir, 'y_train_binary.i32'), Int32Array), classes: ['normal', 'attack'] };
  const model = getModelSpec(name).create({}) as Classifier;
  const cpuBefore = process.cpuUsage();
  const fit = await timed(() => model.fit(train, y));
  const cpu = process.cpuUsage(cpuBefore);
  const predict = await timed(() => model.predictProba(test));
  const proba = predict.value;
  const score = new Float64Array(proba.rows);
  for (let i = 0; i < proba.rows; i++) score[i] = proba.data[i * 2 + 1];
  // Labels from the model's own predict() (untimed), as the peer's: the largest decision value for svm (LinearSVC),
  // the most probable class for the others.
  const pred = Int32Array.from((await model.predict(test)).codes);
  await writeFile(join(dir, `ours_${name}.score`), new Uint8Array(score.buffer));
  await writeFile(join(dir, `ours_${name}.pred`), new Uint8Array(pred.buffer));
  console.log(JSON.stringify({ fit: fit.seconds, fitCpu: (cpu.user + cpu.system) / 1e6, predict: predict.seconds }));
}

async function side(cmd: string, args: string[], dir: string, prefix: string, name: string, yTest: Int32Array): Promise<SideResult> {
  const res = await runPeer(cmd, args);
  if (res.code !== 0) throw new Error(`${prefix} ${name} failed: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const times = JSON.parse(res.stdout.trim().split('\n').pop() as string) as { fit: number; fitCpu: number; predict: number };
  const score = await readArray(join(dir, `${prefix}_${name}.score`), Float64Array);
  const pred = await readArray(join(dir, `${prefix}_${name}.pred`), Int32Array);
  return { fit: times.fit, fitCpu: times.fitCpu, predict: times.predict, rss: res.peakRssMb, accuracy: accuracy(yTest, pred), f1: binaryScores(yTest, pred, 1).f1, auc: rocAuc(yTest, score) };
}

/** The issue-3 goal of a model on NSL-KDD, checked against the peer's numbers from the same run. */
function goal(model: string, o: SideResult, p: SideResult): string {
  const fitRatio = o.fit / p.fit;
  const mark = (ok: boolean, text: string): string => `${ok ? 'met' : 'MISSED'}: ${text}`;
  switch (model) {
    case 'rf':
      return mark(fitRatio <= 0.5 && o.accuracy >= p.accuracy - 0.005 && o.auc >= p.auc - 0.005, 'fit ≤ 0.5×, acc & AUC ≥ peer − 0.005');
    case 'gbdt':
      return mark(fitRatio <= 0.5 && o.auc >= p.auc, 'fit ≤ 0.5×, AUC ≥ peer');
    case 'knn':
      return mark(o.predict / p.predict <= 1 && o.accuracy >= p.accuracy - 0.001, 'predict ≤ 1.0×, same accuracy');
    case 'logreg':
    case 'svm':
    case 'mlp': {
      // "within 0.5 points" guards quality: a result above the peer's by more is met, and said (the peer's own MLP
      // accuracy moves by a point between hosts with the same seed: 0.8019 on AMD EPYC, 0.7919 on Xeon AVX-512)
      const above = o.accuracy - p.accuracy > 0.005 ? ` (${((o.accuracy - p.accuracy) * 100).toFixed(1)} points above)` : '';
      return mark(fitRatio <= 1 && o.accuracy >= p.accuracy - 0.005, `fit ≤ 1.0×, accuracy within 0.005 or above${above}`);
    }
    default:
      return '–';
  }
}

const f = (v: number | undefined, digits: number): string => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') return child(args[1], args[2]);
  const words = args.flatMap((a) => a.split(',')).filter((a) => a !== '');
  const datasets = words.filter((a): a is BenchName => (BENCH_NAMES as readonly string[]).includes(a));
  const asked = words.filter((a) => !(BENCH_NAMES as readonly string[]).includes(a));
  const registered = new Set(listModels('classifier').map((s) => s.name));
  const wanted = asked.length > 0 ? asked : MODELS;
  const skipped = wanted.filter((m) => !registered.has(m));
  if (skipped.length > 0) console.error(`not registered, skipped: ${skipped.join(', ')}`);
  const models = wanted.filter((m) => registered.has(m));
  const runner = join(import.meta.dirname, 'run.js');
  const script = join(import.meta.dirname, '../../bench/py/supervised.py');
  const rows: (string | number)[][] = [];
  console.log(`# Supervised classifiers vs scikit-learn (binary: attack vs normal)\n${machineLine()}\n`);
  for (const name of datasets.length > 0 ? datasets : BENCH_NAMES) {
    const data = await loadBenchData(name);
    const yTest = data.yTest.binary.codes;
    console.error(`${name}: ${data.train.rows} train rows, ${data.test.rows} test rows, ${data.train.cols} columns`);
    const dir = await mkdtemp(join(tmpdir(), `fs-supervised-${name}-`));
    try {
      await writeForPython(data, dir);
      for (const model of models) {
        const o = await side(process.execPath, [runner, 'supervised', '--child', dir, model], dir, 'ours', model, yTest);
        console.error(`  ${model}: fit ${o.fit.toFixed(2)} s (CPU ${o.fitCpu.toFixed(2)} s) predict ${o.predict.toFixed(2)} s acc ${o.accuracy.toFixed(4)} AUC ${o.auc.toFixed(4)}`);
        const p = await side(PYTHON, [script, dir, model], dir, 'peer', model, yTest);
        console.error(`  sklearn ${model}: fit ${p.fit.toFixed(2)} s (CPU ${p.fitCpu.toFixed(2)} s) predict ${p.predict.toFixed(2)} s acc ${p.accuracy.toFixed(4)} AUC ${p.auc.toFixed(4)}`);
        for (const [who, r] of [['flowsentry', o], [PEERS[model], p]] as const) {
          rows.push([name, model, who, f(r.fit, 2), f(r.fitCpu, 2), f(r.predict, 2), f(r.rss, 0), f(r.accuracy, 4), f(r.f1, 4), f(r.auc, 4), who === 'flowsentry' ? `${f(o.fit / p.fit, 2)}× / ${f(o.predict / p.predict, 2)}×` : '', who === 'flowsentry' && name === 'nsl' ? goal(model, o, p) : '']);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(markdownTable(['data', 'model', 'side', 'fit s', 'fit CPU s', 'predict s', 'peak RSS MB', 'accuracy', 'F1', 'ROC-AUC', 'time ratio fit / predict', 'NSL-KDD goal'], rows));
}
