// Forest prediction split across worker threads by row blocks when the input is large: the forest and the rows go
// to the workers once (SharedArrayBuffer for the rows), each block comes back as summed leaf values.
// Cost: O(rows · trees · depth / threads) plus worker start-up (~30 ms), so small inputs stay on the main thread.

import type { Matrix } from '../../frame/matrix.js';
import { defaultThreads, runInWorkers } from '../../util/worker-pool.js';
import { accumulateLeaves, treeCount, type FlatForest } from './flat-tree.js';

/** Below this many row × tree visits the main thread is faster than starting workers. */
const PARALLEL_VISITS = 4_000_000;

export interface PredictShared {
  readonly forest: FlatForest;
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export interface PredictTask {
  readonly from: number;
  readonly to: number;
}

/** Rows [from, to): Σ over trees of the leaf values (rows × nOutputs). */
export function sumLeavesBlock(shared: PredictShared, task: PredictTask): Float64Array {
  const { forest, data, cols } = shared;
  const rows = task.to - task.from;
  const out = new Float64Array(rows * forest.nOutputs);
  accumulateLeaves(forest, { rows, cols, data: data.subarray(task.from * cols, task.to * cols) }, out, 1);
  return out;
}

/**
 * Σ over trees of leaf values for every row of X (rows × nOutputs), in parallel when rows × trees ≥ minVisits
 * (deep trees pay off earlier than shallow ones).
 */
export async function sumLeaves(forest: FlatForest, X: Matrix, threads = defaultThreads(), minVisits = PARALLEL_VISITS): Promise<Float64Array> {
  const shared: PredictShared = { forest, data: X.data, rows: X.rows, cols: X.cols };
  if (threads < 2 || X.rows * treeCount(forest) < minVisits) return sumLeavesBlock(shared, { from: 0, to: X.rows });
  const data = new Float32Array(new SharedArrayBuffer(X.data.byteLength));
  data.set(X.data);
  const blocks = threads * 4;
  const size = Math.ceil(X.rows / blocks);
  const tasks: PredictTask[] = [];
  for (let from = 0; from < X.rows; from += size) tasks.push({ from, to: Math.min(X.rows, from + size) });
  const parts = await runInWorkers<PredictTask, Float64Array>(new URL('./forest-predict-worker.js', import.meta.url), { ...shared, data }, tasks, { threads });
  const out = new Float64Array(X.rows * forest.nOutputs);
  tasks.forEach((t, j) => out.set(parts[j], t.from * forest.nOutputs));
  return out;
}
