// `npm run bench -- anomaly [detectors,...] [nsl,unsw,cic]`: every registered detector trained on the NORMAL rows
// only, next to scikit-learn's IsolationForest, LocalOutlierFactor(novelty=True), KMeans and DBSCAN on the same
// matrices (bench/lib/bench-data.ts), run one after the other, never at the same time:
//   nsl   normal rows of KDDTrain+ → all of KDDTest+
//   unsw  normal rows of the seeded 70% split of UNSW-NB15 part-a → the 30%
//   cic   BENIGN rows of the seeded 70% split of the CIC-IDS2017 sample → the 30%
// Metrics (attack = positive, computed by src/eval for both sides): ROC-AUC, PR-AUC (average precision), detection
// rate at 1% FPR (threshold from the test normal rows' scores), fit and score seconds, time ratio ours / peer.
// DBSCAN (both sides) trains on the first DBSCAN_ROWS normal rows, with eps from suggestEps (k-distance knee) on
// them, because scikit-learn's DBSCAN materialises every eps-neighbourhood and would exhaust memory on 67k rows.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBenchData, writeForPython, BENCH_NAMES, type BenchName } from './lib/bench-data.js';
import { PYTHON, machineLine, markdownTable, runPeer, timed } from './lib/measure.js';
import { listModels } from '../src/models/index.js';
import type { Detector, Params } from '../src/models/estimator.js';
import { takeRows, type Matrix } from '../src/frame/matrix.js';
import { averagePrecision, rocAuc } from '../src/eval/curves.js';
import { ratesAtThreshold, thresholdForFpr } from '../src/eval/threshold.js';
import { suggestEps } from '../src/models/dbscan.js';

const PEERS: Record<string, string> = { iforest: 'IsolationForest', lof: 'LocalOutlierFactor(novelty)', kmeans: 'KMeans', dbscan: 'DBSCAN' };
const DBSCAN_ROWS = 20000;
const DBSCAN_MIN_SAMPLES = 5;

interface Quality {
  auc: number;
  ap: number;
  dr1: number;
}

function quality(isAttack: Int32Array, scores: ArrayLike<number>): Quality {
  const normal: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!isAttack[i]) normal.push(scores[i]);
  const { threshold } = thresholdForFpr(normal, 0.01);
  return { auc: rocAuc(isAttack, scores), ap: averagePrecision(isAttack, scores), dr1: ratesAtThreshold(isAttack, scores, threshold).detectionRate };
}

function normalRows(X: Matrix, binary: Int32Array, limit = Number.POSITIVE_INFINITY): Matrix {
  const rows: number[] = [];
  for (let i = 0; i < binary.length && rows.length < limit; i++) if (binary[i] === 0) rows.push(i);
  return takeRows(X, rows);
}

const fmt = (v: number | undefined, digits = 4): string => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
/** Seconds with three significant digits below 1 s (CIC-IDS2017's LOF takes a few hundredths), two decimals above. */
const secs = (v: number): string => (v < 1 ? v.toPrecision(3) : v.toFixed(2));

export async function run(args: string[]): Promise<void> {
  const registered = listModels('detector').map((s) => s.name);
  const datasets = args.flatMap((a) => a.split(',')).filter((a): a is BenchName => (BENCH_NAMES as readonly string[]).includes(a));
  const asked = args.flatMap((a) => a.split(',')).filter((a) => !(BENCH_NAMES as readonly string[]).includes(a) && a !== '');
  const detectors = asked.length > 0 ? asked.filter((d) => registered.includes(d)) : registered;
  const skipped = asked.filter((d) => !registered.includes(d));
  if (skipped.length > 0) console.error(`not registered, skipped: ${skipped.join(', ')}`);
  if (asked.length > 0 && detectors.length === 0) {
    console.error(`no registered detector asked for (registered: ${registered.join(', ')}; datasets: ${BENCH_NAMES.join(', ')})`);
    process.exitCode = 2;
    return;
  }
  const rows: (string | number)[][] = [];
  console.log(`# Anomaly detectors trained on normal rows only\n${machineLine()}\n`);
  for (const name of datasets.length > 0 ? datasets : BENCH_NAMES) {
    const data = await loadBenchData(name);
    const isAttack = data.yTest.binary.codes;
    const normal = normalRows(data.train, data.yTrain.binary.codes);
    const dbscanRows = normalRows(data.train, data.yTrain.binary.codes, DBSCAN_ROWS);
    const eps = detectors.includes('dbscan') ? (await suggestEps(dbscanRows, DBSCAN_MIN_SAMPLES - 1)).eps : 1;
    const params: Record<string, Params> = {
      iforest: { n_estimators: 100 },
      lof: { n_neighbors: 20 },
      kmeans: { n_clusters: 8, n_init: 3 },
      dbscan: { eps, min_samples: DBSCAN_MIN_SAMPLES },
    };
    console.error(`${name}: ${normal.rows} normal training rows, ${data.test.rows} test rows, ${data.test.cols} columns`);
    const ours: Record<string, { q: Quality; fit: number; score: number; cpu: number }> = {};
    for (const det of detectors) {
      const spec = listModels('detector').find((s) => s.name === det);
      if (!spec) continue;
      const model = spec.create(params[det] ?? {}) as Detector;
      const cpuBefore = process.cpuUsage();
      const fit = await timed(() => model.fit(det === 'dbscan' ? dbscanRows : normal));
      const score = await timed(() => model.scoreSamples(data.test));
      const used = process.cpuUsage(cpuBefore);
      ours[det] = { q: quality(isAttack, score.value), fit: fit.seconds, score: score.seconds, cpu: (used.user + used.system) / 1e6 };
      console.error(`  ${det}: AUC ${fmt(ours[det].q.auc)} fit ${secs(fit.seconds)} s score ${secs(score.seconds)} s (CPU ${secs(ours[det].cpu)} s)`);
    }
    const peerNames = detectors.filter((d) => d in PEERS);
    const peer: Record<string, { q: Quality; fit: number; score: number; cpu: number }> = {};
    if (peerNames.length > 0) {
      const dir = await mkdtemp(join(tmpdir(), `fs-anomaly-${name}-`));
      try {
        await writeForPython(data, dir);
        const peerParams = { ...params, dbscan: { ...params.dbscan, max_rows: DBSCAN_ROWS } };
        const res = await runPeer(PYTHON, [fileURLToPath(new URL('../../bench/py/anomaly.py', import.meta.url)), dir, JSON.stringify(peerParams), ...peerNames]);
        if (res.code !== 0) throw new Error(`anomaly.py failed: ${res.stderr}`);
        const times = JSON.parse(res.stdout) as Record<string, { fit: number; score: number; cpu: number }>;
        for (const p of peerNames) {
          const buf = await readFile(join(dir, `peer_${p}.f64`));
          const scores = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
          peer[p] = { q: quality(isAttack, scores), ...times[p] };
          console.error(`  sklearn ${p}: AUC ${fmt(peer[p].q.auc)} fit ${secs(times[p].fit)} s score ${secs(times[p].score)} s (CPU ${secs(times[p].cpu)} s)`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    for (const det of detectors) {
      const o = ours[det];
      if (!o) continue;
      const p = peer[det];
      const ratio = p ? (o.fit + o.score) / (p.fit + p.score) : Number.NaN;
      rows.push([
        name,
        det,
        fmt(o.q.auc),
        fmt(o.q.ap),
        fmt(o.q.dr1, 3),
        secs(o.fit),
        secs(o.score),
        p ? PEERS[det] : '–',
        fmt(p?.q.auc),
        fmt(p?.q.ap),
        fmt(p?.q.dr1, 3),
        p ? secs(p.fit) : '–',
        p ? secs(p.score) : '–',
        p ? `${ratio.toFixed(2)}×` : '–',
        secs(o.cpu),
        p ? secs(p.cpu) : '–',
      ]);
    }
    if (detectors.includes('dbscan')) console.log(`${name}: dbscan eps = ${eps.toPrecision(4)} (k-distance knee on ${dbscanRows.rows} normal rows)`);
  }
  console.log(
    '\n' +
      markdownTable(
        ['data', 'detector', 'ROC-AUC', 'PR-AUC', 'DR@1%FPR', 'fit s', 'score s', 'sklearn peer', 'peer ROC-AUC', 'peer PR-AUC', 'peer DR@1%FPR', 'peer fit s', 'peer score s', 'time ours/peer', 'CPU s (fit+score)', 'peer CPU s'],
        rows,
      ),
  );
}
