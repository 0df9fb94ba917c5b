// Exact tree explanations (TreeSHAP: gbdt, iforest, and rf / dt when asked) split by rows over worker threads.
// `predict` explains in blocks of ~1,000 rows, so the workers stay alive per model (the model state is cloned to each
// once) instead of starting per call; they are unref'd while idle so they never keep the process alive.
// The main thread explains the first share of each call itself.

import { Worker } from 'node:worker_threads';
import { createMatrix, type Matrix } from '../frame/matrix.js';
import type { Estimator } from '../models/estimator.js';
import { defaultThreads } from '../util/worker-pool.js';

/** Models whose `explain()` is TreeSHAP over a flat forest. */
const TREE_SHAP_MODELS = new Set(['gbdt', 'iforest', 'rf', 'dt']);
/** Below this many rows a call stays on the main thread (a worker round trip costs ~1 ms). */
const PARALLEL_ROWS = 256;

interface Reply {
  id: number;
  phi?: Float32Array;
  error?: string;
}

class ExplainWorkers {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (phi: Float32Array) => void; reject: (err: Error) => void }>();
  private nextId = 0;

  constructor(model: Estimator, threads: number) {
    const workerData = { name: model.name, state: model.getState() };
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./shap-worker.js', import.meta.url), { workerData });
      worker.unref();
      worker.on('message', (reply: Reply) => this.settle(reply));
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`explanation worker exited with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  run(worker: number, X: Matrix): Promise<Float32Array> {
    const id = this.nextId++;
    const w = this.workers[worker];
    if (this.waiting.size === 0) for (const each of this.workers) each.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, rows: X.rows, cols: X.cols, data: X.data });
    });
  }

  get size(): number {
    return this.workers.length;
  }

  private settle(reply: Reply): void {
    const pending = this.waiting.get(reply.id);
    if (!pending) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) for (const each of this.workers) each.unref();
    if (reply.error !== undefined) pending.reject(new Error(reply.error));
    else pending.resolve(reply.phi as Float32Array);
  }

  private failAll(err: Error): void {
    for (const pending of this.waiting.values()) pending.reject(err);
    this.waiting.clear();
    for (const each of this.workers) each.unref();
  }
}

const pools = new WeakMap<Estimator, ExplainWorkers>();

/** Whether `explainInParallel` would split this call (a TreeSHAP model, enough rows, more than one thread). */
export function worthParallel(model: Estimator, rows: number, threads = defaultThreads()): boolean {
  return threads > 1 && rows >= PARALLEL_ROWS && TREE_SHAP_MODELS.has(model.name) && model.explain !== undefined;
}

/** `model.explain(X)` with the rows split between the main thread and threads − 1 workers. */
export async function explainInParallel(model: Estimator, X: Matrix, threads = defaultThreads()): Promise<Matrix> {
  const explain = model.explain?.bind(model);
  if (!explain) throw new Error(`${model.name} has no exact explanation`);
  let pool = pools.get(model);
  if (!pool) pools.set(model, (pool = new ExplainWorkers(model, threads - 1)));
  const parts = pool.size + 1;
  const size = Math.ceil(X.rows / parts);
  const slice = (from: number): Matrix => {
    const to = Math.min(X.rows, from + size);
    return createMatrix(to - from, X.cols, X.columns, X.data.slice(from * X.cols, to * X.cols));
  };
  const inWorkers: Promise<Float32Array>[] = [];
  for (let k = 1; k < parts && k * size < X.rows; k++) inWorkers.push(pool.run(k - 1, slice(k * size)));
  const own = await explain(slice(0));
  const out = createMatrix(X.rows, X.cols, X.columns);
  out.data.set(own.data);
  (await Promise.all(inWorkers)).forEach((part, k) => out.data.set(part, (k + 1) * size * X.cols));
  return out;
}
