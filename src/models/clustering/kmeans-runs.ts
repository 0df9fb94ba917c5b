// The best of n_init k-means runs (k-means++ seeding, then Lloyd: lloyd.ts) by inertia, the first run winning a tie.
// Run r seeds from the random stream after the r earlier seedings' draws (each draws a fixed number: one for the
// first centre, then 2 + ⌊ln k⌋ per further centre), so the runs are independent and any thread can do any of them
// with the results of one stream taken in order. On large data with WebAssembly kernels and two or more cores, a
// helper thread shares the padded rows (shared memory) and the runs go to whichever thread is free (a counter in that
// memory); otherwise they run one after the other on the calling thread. The helper is started by the first such fit
// and kept for the later ones while they follow one another (idle, it does not hold the process open; idle for
// IDLE_RELEASE_MS, it is ended): a fresh thread costs 25–30 ms to start and runs its first run unoptimised, more than a
// run of a mid-sized fit.

import { Rng } from '../../util/rng.js';
import { defaultThreads } from '../../util/worker-pool.js';
import { HelperThread } from '../../util/helper-thread.js';
import type { Matrix } from '../../frame/matrix.js';
import { candidateTrials, lloydOn, seedWithAssignment, type Clustering, type Shape } from './lloyd.js';
import { attachKernels, controlWord, createKernels, IDLE_RELEASE_MS, type KernelLayout, type KMeansKernels } from './kmeans-kernels.js';

export interface RunsParams {
  k: number;
  runs: number;
  maxIter: number;
  /** Absolute tolerance on the summed squared centre shift. */
  tol: number;
  seed: number;
}

/** A helper thread's share of the runs: the layout of the rows and the runs' parameters. */
export interface RunsTask extends RunsParams {
  layout: KernelLayout;
  /** The fit's number on the layout's control word. */
  fit: number;
}

export type RunResult = Clustering & { run: number };

/** Rows × columns from which a helper thread takes runs: below it, starting one costs more than it saves. */
const PARALLEL_MIN_VALUES = 1 << 20;

/** The random stream of run `run`: the seed's stream after the earlier runs' seeding draws. */
export function runRng(seed: number, run: number, k: number): Rng {
  const rng = new Rng(seed);
  const draws = run * (1 + (k - 1) * candidateTrials(k));
  for (let i = 0; i < draws; i++) rng.next();
  return rng;
}

export function oneRun(X: Shape, kernels: KMeansKernels, params: RunsParams, run: number): RunResult {
  const seeding = seedWithAssignment(X, params.k, runRng(params.seed, run, params.k), kernels);
  return { run, ...lloydOn(X, seeding.centers, params.maxIter, params.tol, seeding, kernels) };
}

/**
 * The control word: the fit's number in its memory (high bits) and the next run to take (low RUN_BITS bits), so a
 * helper's task left over from an earlier fit on the same (kept) memory takes nothing.
 */
const RUN_BITS = 16;
const RUN_MASK = (1 << RUN_BITS) - 1;

/** Starts a fit on the layout's control word; returns its number (for the helper's task). */
function startFit(control: Int32Array): number {
  const fit = ((Atomics.load(control, 0) >>> RUN_BITS) + 1) & 0x7fff;
  Atomics.store(control, 0, fit << RUN_BITS);
  return fit;
}

/** Takes fit `fit`'s runs from the control word until none is left (either thread). */
export function takeRuns(X: Shape, kernels: KMeansKernels, control: Int32Array, fit: number, params: RunsParams, onRun?: () => void): RunResult[] {
  const results: RunResult[] = [];
  for (;;) {
    const word = Atomics.load(control, 0);
    const run = word & RUN_MASK;
    if (word >>> RUN_BITS !== fit || run >= params.runs) break;
    if (Atomics.compareExchange(control, 0, word, word + 1) !== word) continue;
    results.push(oneRun(X, kernels, params, run));
    onRun?.();
  }
  return results;
}

/** The rows in kernels, and the helper thread that shares them (null: the runs stay on the calling thread). */
export interface PreparedRuns {
  kernels: KMeansKernels;
  helper: HelperThread<RunsTask, RunResult[]> | null;
}

let helperThread: HelperThread<RunsTask, RunResult[]> | null = null;
/** Helper requests not answered yet. */
let pendingRequests = 0;
/** Ends the helper once idle; armed (or re-armed) whenever it has nothing left to answer. Unref'd. */
let idleEnd: NodeJS.Timeout | null = null;

/** The process's run helper, started on first use, again after a failure and after an idle end. */
function runHelper(): HelperThread<RunsTask, RunResult[]> {
  if (!helperThread) {
    const helper = new HelperThread<RunsTask, RunResult[]>(new URL('./kmeans-worker.js', import.meta.url), null, 'kmeans: run worker', () => {
      if (helperThread === helper) helperThread = null;
    });
    helperThread = helper;
  }
  return helperThread;
}

function armIdleEnd(): void {
  if (idleEnd) idleEnd.refresh();
  else idleEnd = setTimeout(endIdleHelper, IDLE_RELEASE_MS).unref();
}

/** Ends an idle helper: its thread, and with it its instance on the kept WebAssembly memory. */
function endIdleHelper(): void {
  if (pendingRequests > 0 || !helperThread) return;
  const helper = helperThread;
  helperThread = null;
  void helper.terminate();
}

/**
 * The rows in kernels for k centres (with a k-means++ step's candidates) and k sums, laid out for a helper thread
 * when the data is large enough and a second core and WebAssembly are there. The helper is asked for first, so that
 * a first start overlaps the copy of the rows.
 */
export function prepareRuns(X: Matrix, params: RunsParams): PreparedRuns {
  const parallel = params.runs > 1 && params.runs <= RUN_MASK && X.rows * X.cols >= PARALLEL_MIN_VALUES && defaultThreads() > 1 && process.env.FLOWSENTRY_NO_SIMD !== '1';
  const helper = parallel ? runHelper() : null;
  const kernels = createKernels(X, params.k + candidateTrials(params.k), params.k, parallel ? 2 : 1);
  // No layout to share (rows beyond WebAssembly's memory, or no WebAssembly): one thread.
  if (helper && !kernels.layout) {
    armIdleEnd();
    return { kernels, helper: null };
  }
  return { kernels, helper };
}

/** The run of lowest inertia (the first on a tie), of `params.runs` runs on the prepared rows; releases the kernels. */
export async function bestOfRuns(X: Shape, prepared: PreparedRuns, params: RunsParams, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<Clustering> {
  const { kernels, helper } = prepared;
  const results: RunResult[] = [];
  let done = 0;
  const progress = (): void => {
    onProgress?.(++done, params.runs);
    signal?.throwIfAborted();
  };
  const layout = kernels.layout;
  if (helper && layout) {
    const control = controlWord(layout);
    const fit = startFit(control);
    pendingRequests++;
    const theirs = helper.request({ ...params, layout, fit });
    // After an abort the helper may be inside a run on these rows: they are released once it has answered.
    const answered = (): void => {
      kernels.release();
      if (--pendingRequests === 0) armIdleEnd();
    };
    void theirs.then(answered, answered);
    signal?.throwIfAborted();
    results.push(...takeRuns(X, kernels, control, fit, params, progress));
    if (results.length < params.runs) {
      for (const result of await theirs) {
        results.push(result);
        progress();
      }
    }
    // Every run is done; a helper task still queued finds a later fit's number, or none left, and takes nothing.
    kernels.release();
  } else {
    try {
      signal?.throwIfAborted();
      for (let run = 0; run < params.runs; run++) {
        results.push(oneRun(X, kernels, params, run));
        progress();
      }
    } finally {
      kernels.release();
    }
  }
  results.sort((a, b) => a.run - b.run);
  let best = results[0];
  for (const result of results) if (result.inertia < best.inertia) best = result;
  return best;
}

/** The worker side: region 1 of the task's layout. */
export function serveRuns(task: RunsTask): RunResult[] {
  const kernels = attachKernels(task.layout, 1);
  return takeRuns({ rows: task.layout.rows, cols: task.layout.cols }, kernels, controlWord(task.layout), task.fit, task);
}
