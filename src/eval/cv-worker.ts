// Worker side of cross-validation: receives the fold matrices once (SharedArrayBuffer, shared not copied), then runs
// fold tasks as they are handed out. Models inside a worker run single-threaded (the pool already uses every core).

import { pathToFileURL } from 'node:url';
import { serveTasks } from '../util/worker-pool.js';
import { runFold, type FoldData, type FoldJob, type FoldOutcome } from './fold-task.js';
import type { CvMetric, TaskClasses } from './scoring.js';

process.env.FLOWSENTRY_THREADS = '1';

export interface CvWorkerData {
  /** Indexed by fold number; null for folds not in this batch. */
  readonly folds: readonly (FoldData | null)[];
  readonly columns: readonly string[] | undefined;
  readonly task: TaskClasses;
  readonly metrics: readonly CvMetric[];
  /** Modules that register models (src/models/index.js, plus test-only models). */
  readonly modelModules: readonly string[];
}

let loaded: Promise<unknown> | undefined;

serveTasks<FoldJob, FoldOutcome>(async (job, shared) => {
  const w = shared as CvWorkerData;
  loaded ??= Promise.all(w.modelModules.map((m) => import(m.startsWith('file:') ? m : pathToFileURL(m).href)));
  await loaded;
  return runFold(w.folds[job.fold]!, w.columns, w.task, w.metrics, job);
});
