// Exact tree explanations (TreeSHAP: gbdt, iforest, and rf / dt when asked) split by rows over worker threads.
// `predict` explains in blocks of ~1,000 rows, so the workers stay alive per model (the model state is cloned to each
// once) instead of starting per call; they are unref'd while idle so they never keep the process alive.
// The main thread explains the first share of each call itself.

import { createMatrix, type Matrix } from '../frame/matrix.js';
import type { Estimator, ModelState } from '../models/estimator.js';
import { forestFromState } from '../models/trees/flat-tree.js';
import { HelperThread } from '../util/helper-thread.js';
import { defaultThreads } from '../util/worker-pool.js';

/** Models whose `explain()` is TreeSHAP over a flat forest. */
const TREE_SHAP_MODELS = new Set(['gbdt', 'iforest', 'rf', 'dt']);
/**
 * Below this many rows × tree nodes a call stays on the main thread: splitting a block also halves the repeats that
 * TreeSHAP explains once (a 1,024-row block of a 100-tree, 31-leaf gbdt: 6M, faster on one thread).
 */
const PARALLEL_NODE_ROWS = 10_000_000;

/** A block of rows as a helper receives it. */
export interface ExplainTask {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Per model, its helpers (dropped at the first failure of any, so the next call starts new ones). */
const pools = new WeakMap<Estimator, HelperThread<ExplainTask, Float32Array>[]>();

function startHelpers(model: Estimator, count: number): HelperThread<ExplainTask, Float32Array>[] {
  const workerData = { name: model.name, state: model.getState() };
  const drop = (): boolean => pools.delete(model);
  return Array.from({ length: count }, () => new HelperThread<ExplainTask, Float32Array>(new URL('./shap-worker.js', import.meta.url), workerData, 'explanation worker', drop));
}

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
  if (!pool) pools.set(model, (pool = startHelpers(model, threads - 1)));
  const parts = pool.length + 1;
  const size = Math.ceil(X.rows / parts);
  const slice = (from: number): Matrix => {
    const to = Math.min(X.rows, from + size);
    return createMatrix(to - from, X.cols, X.columns, X.data.slice(from * X.cols, to * X.cols));
  };
  const inWorkers: Promise<Float32Array>[] = [];
  for (let k = 1; k < parts && k * size < X.rows; k++) {
    const part = slice(k * size);
    inWorkers.push(pool[k - 1].request({ rows: part.rows, cols: part.cols, data: part.data }));
  }
  const own = await explain(slice(0));
  const out = createMatrix(X.rows, X.cols, X.columns);
  out.data.set(own.data);
  (await Promise.all(inWorkers)).forEach((part, k) => out.data.set(part, (k + 1) * size * X.cols));
  return out;
}
