// Exact tree explanations (TreeSHAP: gbdt, iforest, and rf / dt when asked) split by rows over worker threads.
// `predict` explains in blocks of ~1,000 rows, so the workers stay alive per model (the model state is cloned to each
// once) instead of starting per call; they are unref'd while idle so they never keep the process alive.
// The main thread explains the first share of each call itself.

import { Worker } from 'node:worker_threads';
import { createMatrix, type Matrix } from '../frame/matrix.js';
import type { Estimator, ModelState } from '../models/estimator.js';
import { forestFromState } from '../models/trees/flat-tree.js';
import { defaultThreads } from '../util/worker-pool.js';

/** Models whose `explain()` is TreeSHAP over a flat forest. */
const TREE_SHAP_MODELS = new Set(['gbdt', 'iforest', 'rf', 'dt']);
/**
 * Below this many rows × tree nodes a call stays on the main thread: splitting a block also halves the repeats that
 * TreeSHAP explains once (a 1,024-row block of a 100-tree, 31-leaf gbdt: 6M, faster on one thread).
 */
const PARALLEL_NODE_ROWS = 10_000_000;

interface Reply {
  id: number;
  phi?: Float32Array;
  error?: string;
}

class ExplainWorkers {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (phi: Float32Array) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  /** Set once a worker failed: the pool is dropped and every later call rejects. */
  private failure: Error | undefined;

  constructor(model: Estimator, threads: number, private readonly onFailure: () => void) {
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
    if (this.failure) return Promise.reject(this.failure);
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
    this.failure ??= err;
    this.onFailure();
    for (const pending of this.waiting.values()) pending.reject(err);
    this.waiting.clear();
    for (const each of this.workers) each.unref();
  }
}

const pools = new WeakMap<Estimator, ExplainWorkers>();

/** Whether `explainInParallel` would split this call (a TreeSHAP model, enough rows × nodes, more than one thread). */
export function worthParallel(model: Estimator, rows: number, threads = defaultThreads()): boolean {
  if (threads < 2 || !TREE_SHAP_MODELS.has(model.name) || model.explain === undefined) return false;
  const forest = model.getState().forest as ModelState | undefined;
  return forest !== undefined && rows * forestFromState(forest).feature.length >= PARALLEL_NODE_ROWS;
}

/** `model.explain(X)` with the rows split between the main thread and threads − 1 workers. */
export async function explainInParallel(model: Estimator, X: Matrix, threads = defaultThreads()): Promise<Matrix> {
  const explain = model.explain?.bind(model);
  if (!explain) throw new Error(`${model.name} has no exact explanation`);
  let pool = pools.get(model);
  if (!pool) pools.set(model, (pool = new ExplainWorkers(model, threads - 1, () => pools.delete(model))));
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
