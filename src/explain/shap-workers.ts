// Exact tree explanations (TreeSHAP: gbdt, iforest, and rf / dt when asked) split by rows over worker threads.
// `predict` explains in blocks of ~1,000 rows, so the workers stay alive per model (the model state is cloned to each
// once) instead of starting per call; they are unref'd while idle so they never keep the process alive.
// The main thread explains the first share of each call itself. A helper that fails (its thread errors or exits)
// gets all of its model's helpers terminated, and its rows, and that model's later calls, are explained on the
// calling thread: the caller gets the same values, or the model's own error, never an idle thread left behind. That
// is said once per model, in one line through the caller's log (the service's), or on stderr.

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

type ExplainHelper = HelperThread<ExplainTask, Float32Array>;

/**
 * Per model, its helpers; the first failure of one of them (a worker error or exit) once that happened: the others
 * are then terminated and that model is explained on the calling thread from then on (a helper that failed once
 * would most likely fail again, and each new pool costs a thread start and a copy of the model).
 */
const pools = new WeakMap<Estimator, ExplainHelper[] | Error>();
/** Models whose move to the calling thread has been logged. */
const announced = new WeakSet<Estimator>();

function helpersOf(model: Estimator, count: number): ExplainHelper[] | Error {
  const known = pools.get(model);
  if (known !== undefined) return known;
  const workerData = { name: model.name, state: model.getState() };
  const pool: ExplainHelper[] = [];
  const end = (err: Error): void => endPool(model, pool, err);
  for (let k = 0; k < count; k++) pool.push(new HelperThread<ExplainTask, Float32Array>(new URL('./shap-worker.js', import.meta.url), workerData, 'explanation worker', end));
  pools.set(model, pool);
  return pool;
}

/** Terminates every helper of a pool one of which failed (idle, each would keep its copy of the model). */
function endPool(model: Estimator, pool: ExplainHelper[], err: Error): void {
  if (pools.get(model) !== pool) return;
  pools.set(model, err);
  for (const helper of pool) void helper.terminate();
}

const toStderr = (line: string): void => void process.stderr.write(`flowsentry: ${line}\n`);

/** Says once per model that its helpers failed and why, the first time its rows are explained here instead. */
function announceFallback(model: Estimator, why: unknown, log: (line: string) => void): void {
  if (announced.has(model)) return;
  announced.add(model);
  const reason = why instanceof Error ? why.message : String(why);
  log(`${model.name} explanations: the helper threads failed (${reason}); explanations continue on the main thread`);
}

/** Whether `explainInParallel` would split this call (a TreeSHAP model, enough rows × nodes, more than one thread). */
export function worthParallel(model: Estimator, rows: number, threads = defaultThreads()): boolean {
  if (threads < 2 || !TREE_SHAP_MODELS.has(model.name) || model.explain === undefined) return false;
  const forest = model.getState().forest as ModelState | undefined;
  return forest !== undefined && rows * forestFromState(forest).feature.length >= PARALLEL_NODE_ROWS;
}

/**
 * `model.explain(X)` with the rows split between the main thread and threads − 1 workers. The rows of a helper that
 * fails are explained on this thread (the same exact values, or the model's own error), and a failed helper ends
 * its pool (see `pools`); `log` hears that once per model (default: a line on stderr).
 */
export async function explainInParallel(model: Estimator, X: Matrix, threads = defaultThreads(), log: (line: string) => void = toStderr): Promise<Matrix> {
  const explain = model.explain?.bind(model);
  if (!explain) throw new Error(`${model.name} has no exact explanation`);
  const pool = helpersOf(model, threads - 1);
  if (pool instanceof Error) {
    announceFallback(model, pool, log);
    return explain(X);
  }
  const parts = pool.length + 1;
  const size = Math.ceil(X.rows / parts);
  const slice = (from: number): Matrix => {
    const to = Math.min(X.rows, from + size);
    return createMatrix(to - from, X.cols, X.columns, X.data.slice(from * X.cols, to * X.cols));
  };
  const requests: Promise<Float32Array>[] = [];
  for (let k = 1; k < parts && k * size < X.rows; k++) {
    const part = slice(k * size);
    requests.push(pool[k - 1].request({ rows: part.rows, cols: part.cols, data: part.data }));
  }
  // settled, so a helper failing while this thread's share throws is no unhandled rejection
  const inWorkers = Promise.allSettled(requests);
  const own = await explain(slice(0));
  const out = createMatrix(X.rows, X.cols, X.columns);
  out.data.set(own.data);
  const settled = await inWorkers;
  for (let k = 0; k < settled.length; k++) {
    const part = settled[k];
    const at = (k + 1) * size;
    if (part.status === 'fulfilled') out.data.set(part.value, at * X.cols);
    else {
      announceFallback(model, part.reason, log);
      out.data.set((await explain(slice(at))).data, at * X.cols);
    }
  }
  return out;
}
