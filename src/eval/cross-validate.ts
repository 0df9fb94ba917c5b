// Stratified k-fold cross-validation of registered models (by registry name + params), without leakage: the
// preprocessing pipeline is fitted inside each fold on the rows the model trains on, never on validation rows.
// Folds are prepared on the main thread into SharedArrayBuffers, as many at a time as a memory budget allows, and the
// (candidate, fold) tasks run across worker_threads that rebuild each model from the registry. Models with their own
// worker threads (an `n_jobs` parameter, e.g. random forests) run one task at a time on the main thread instead, so
// that 2 cores are never oversubscribed. Abort keeps the finished tasks and marks the result partial.
// Cost: k pipeline fits + candidates × k model fits.

import { UserError } from '../errors.js';
import type { Frame } from '../frame/frame.js';
import { classCounts, type Labels } from '../frame/labels.js';
import type { Matrix } from '../frame/matrix.js';
import { stratifiedKFold, type Split } from '../frame/splits.js';
import type { Params } from '../models/estimator.js';
import { getModelSpec } from '../models/index.js';
import { Pipeline, type PipelineOptions } from '../prep/pipeline.js';
import { Rng } from '../util/rng.js';
import { defaultThreads, runInWorkers } from '../util/worker-pool.js';
import { calibrationRows, runFold, type FoldData, type FoldJob, type FoldOutcome } from './fold-task.js';
import { CV_METRICS, describeClasses, type CvMetric, type TaskClasses } from './scoring.js';
import type { CvWorkerData } from './cv-worker.js';

/** Either a frame with pipeline options (preprocessing fitted per fold) or an already prepared matrix. */
export type CvData = { frame: Frame; pipeline?: PipelineOptions; y: Labels } | { X: Matrix; y: Labels };

export interface Candidate {
  readonly model: string;
  readonly params: Params;
}

export interface CvOptions {
  /** Number of folds (default 5). */
  folds?: number;
  /** Seeds the fold shuffle (default 0). */
  seed?: number;
  /** Metrics to compute (default: all of CV_METRICS). */
  metrics?: readonly CvMetric[];
  /** Worker threads for candidates (default: FLOWSENTRY_THREADS or the number of cores). */
  threads?: number;
  /**
   * 'workers': tasks in parallel across worker threads, each model single-threaded.
   * 'sequential': one task at a time on this thread, each model free to use every core.
   * 'auto' (default): sequential for models that have an `n_jobs` parameter, workers for the others.
   */
  parallel?: 'auto' | 'workers' | 'sequential';
  /** Attack class of a binary task (default: the class not named normal/benign). */
  positiveClass?: number;
  /** Detectors fit on the normal training rows only ('normal', default: semi-supervised) or on all of them. */
  detectorRows?: 'normal' | 'all';
  /**
   * Detectors fitted on normal rows are scored at the threshold the final fit uses: `calibrationFraction` of each
   * fold's normal training rows (seeded shuffle) is held out from the fit and sets the threshold for `targetFpr`; a
   * fold where that is fewer than MIN_CALIBRATION_ROWS (src/eval/fold-task.ts) fails the detector, as the final fit does.
   * Absent: the detector's own threshold (contamination), which the saved model does not use.
   */
  detectorThreshold?: { readonly targetFpr: number; readonly calibrationFraction: number };
  /** Bytes of fold matrices prepared at once (default 1 GiB); more folds at once means more parallel tasks. */
  memoryBudget?: number;
  /** Extra modules that register models, imported by workers (the built-in models are always there). */
  modelModules?: readonly string[];
  onProgress?: (done: number, total: number) => void;
  /** One line before the folds run when a class has fewer rows than folds (scikit-learn warns the same). */
  onWarning?: (line: string) => void;
  signal?: AbortSignal;
}

export interface MetricSummary {
  /** Mean over the folds where the metric is defined. */
  readonly mean: number;
  /** Population standard deviation over the same folds (as sklearn's cv_results_ std). */
  readonly std: number;
  /** Per fold; NaN where undefined or not run. */
  readonly folds: number[];
}

export interface CandidateResult {
  readonly model: string;
  readonly params: Params;
  readonly cv: Record<string, MetricSummary>;
  readonly foldsDone: number;
  /** Mean seconds per fold. */
  readonly fitSeconds: number;
  readonly predictSeconds: number;
  /** First error message when the candidate failed. */
  readonly error?: string;
}

export interface CvResult {
  readonly candidates: CandidateResult[];
  readonly metrics: readonly CvMetric[];
  readonly folds: number;
  /** True when aborted before every task finished. */
  readonly partial: boolean;
  readonly tasksDone: number;
  readonly tasksTotal: number;
}

const BUILTIN_MODELS = new URL('../models/index.js', import.meta.url).href;
const WORKER = new URL('./cv-worker.js', import.meta.url);
const DEFAULT_MEMORY_BUDGET = 2 ** 30;

interface Group {
  /** Candidate indices. */
  readonly members: number[];
  readonly normalOnly: boolean;
  readonly sequential: boolean;
}

function groupCandidates(candidates: readonly Candidate[], options: CvOptions): Group[] {
  const groups = new Map<string, Group>();
  candidates.forEach((c, i) => {
    const spec = getModelSpec(c.model);
    const normalOnly = spec.kind === 'detector' && (options.detectorRows ?? 'normal') === 'normal';
    const threaded = 'n_jobs' in spec.create().params;
    const mode = options.parallel ?? 'auto';
    const sequential = mode === 'sequential' || (mode === 'auto' && threaded);
    const key = `${normalOnly}/${sequential}`;
    if (!groups.has(key)) groups.set(key, { members: [], normalOnly, sequential });
    groups.get(key)!.members.push(i);
  });
  return [...groups.values()];
}

/** Row order of a fold: [rows the model fits on | calibration rows | other training rows | validation rows]. */
function foldOrder(
  split: Split,
  y: Int32Array,
  normalOnly: boolean,
  normal: number,
  calibration: CvOptions['detectorThreshold'],
  seed: number,
): { order: Int32Array; nFit: number; nCalibration: number } {
  if (!normalOnly) return { order: Int32Array.from([...split.train, ...split.test]), nFit: split.train.length, nCalibration: 0 };
  const normalRows = split.train.filter((i) => y[i] === normal);
  if (normalRows.length === 0) throw new UserError('a fold has no normal training rows to fit the detector on');
  const rest = split.train.filter((i) => y[i] !== normal);
  const nCalibration = calibration ? calibrationRows(normalRows.length, calibration.calibrationFraction) : 0;
  // as the final fit holds them out (src/workflow/train.ts fitCandidate): a seeded shuffle, the first ones calibrate
  if (nCalibration > 0) new Rng(seed).shuffle(normalRows);
  const held = normalRows.slice(0, nCalibration);
  const fit = nCalibration > 0 ? normalRows.slice(nCalibration).sort((a, b) => a - b) : normalRows;
  return { order: Int32Array.from([...fit, ...held, ...rest, ...split.test]), nFit: fit.length, nCalibration };
}

function prepareFold(
  data: CvData,
  split: Split,
  normalOnly: boolean,
  normal: number,
  options: CvOptions,
): { fold: FoldData; columns: readonly string[] | undefined } {
  const y = data.y.codes;
  const { order, nFit, nCalibration } = foldOrder(split, y, normalOnly, normal, options.detectorThreshold, options.seed ?? 0);
  const nTrain = split.train.length;
  let cols: number;
  let buffer: Float32Array;
  let columns: readonly string[] | undefined;
  if ('frame' in data) {
    const pipeline = Pipeline.fit(data.frame, data.pipeline, order.subarray(0, nFit));
    cols = pipeline.columns.length;
    buffer = new Float32Array(new SharedArrayBuffer(order.length * cols * 4));
    pipeline.transform(data.frame, order, buffer);
    columns = pipeline.columns;
  } else {
    cols = data.X.cols;
    buffer = new Float32Array(new SharedArrayBuffer(order.length * cols * 4));
    for (let r = 0; r < order.length; r++) buffer.set(data.X.data.subarray(order[r] * cols, (order[r] + 1) * cols), r * cols);
    columns = data.X.columns;
  }
  const yTrain = Int32Array.from(order.subarray(0, nTrain), (i) => y[i]);
  const yVal = Int32Array.from(order.subarray(nTrain), (i) => y[i]);
  // fewer than MIN_CALIBRATION_ROWS fail the candidate's fold (src/eval/fold-task.ts), as they fail the final fit
  const calibration = normalOnly && options.detectorThreshold ? { rows: nCalibration, targetFpr: options.detectorThreshold.targetFpr } : undefined;
  return { fold: { data: buffer, cols, nFit, nTrain, yTrain, yVal, ...(calibration ? { calibration } : {}) }, columns };
}

function estimateFoldBytes(data: CvData): number {
  const rows = 'frame' in data ? data.frame.nRows : data.X.rows;
  const cols = 'frame' in data ? data.frame.features.reduce((s, c) => s + (c.kind === 'numeric' ? 1 : Math.min(128, c.dictionary.length)), 0) : data.X.cols;
  return rows * cols * 4;
}

function summarise(values: number[]): MetricSummary {
  const defined = values.filter((v) => !Number.isNaN(v));
  if (defined.length === 0) return { mean: Number.NaN, std: Number.NaN, folds: values };
  const mean = defined.reduce((a, b) => a + b, 0) / defined.length;
  const variance = defined.reduce((a, b) => a + (b - mean) ** 2, 0) / defined.length;
  return { mean, std: Math.sqrt(variance), folds: values };
}

/** Cross-validates every candidate on the same stratified folds. */
export async function evaluateCandidates(data: CvData, candidates: readonly Candidate[], options: CvOptions = {}): Promise<CvResult> {
  const k = options.folds ?? 5;
  const metrics = options.metrics ?? CV_METRICS;
  const y = data.y;
  const rows = 'frame' in data ? data.frame.nRows : data.X.rows;
  if (y.codes.length !== rows) throw new UserError(`labels have ${y.codes.length} rows but the data has ${rows}`);
  if (y.classes.length < 2) throw new UserError(`cross-validation needs at least two classes, got ${y.classes.join(', ') || 'none'}`);
  const task: TaskClasses = describeClasses(y.classes, options.positiveClass);
  const splits = stratifiedKFold(y.codes, k, true, options.seed ?? 0);
  const sizes = classCounts(y);
  const few = y.classes.map((name, c) => ({ name, rows: sizes[c] })).filter((c) => c.rows > 0 && c.rows < k);
  if (few.length > 0) {
    const list = few.map((c) => `${c.name} (${c.rows})`).join(', ');
    options.onWarning?.(`classes with fewer rows than the ${k} cross-validation folds: ${list}; some folds validate without them, so their scores and the macro averages vary from fold to fold`);
  }
  const groups = groupCandidates(candidates, options);
  if (groups.some((g) => g.normalOnly) && task.normal < 0) {
    throw new UserError(`detectors train on normal rows, but no class is named normal or benign (classes: ${y.classes.join(', ')})`);
  }
  const outcomes: (FoldOutcome | undefined)[][] = candidates.map(() => new Array<FoldOutcome | undefined>(k));
  const total = candidates.length * k;
  let done = 0;
  const record = (o: FoldOutcome): void => {
    outcomes[o.candidate][o.fold] = o;
    done++;
    options.onProgress?.(done, total);
  };
  const signal = options.signal;
  const threads = Math.max(1, options.threads ?? defaultThreads());
  const foldsPerBatch = Math.max(1, Math.min(k, Math.floor((options.memoryBudget ?? DEFAULT_MEMORY_BUDGET) / Math.max(1, estimateFoldBytes(data)))));
  const modelModules = [BUILTIN_MODELS, ...(options.modelModules ?? [])];

  outer: for (const group of groups) {
    for (let first = 0; first < k; first += foldsPerBatch) {
      if (signal?.aborted) break outer;
      const batch = Array.from({ length: Math.min(foldsPerBatch, k - first) }, (_, b) => first + b);
      const folds: (FoldData | null)[] = new Array<FoldData | null>(k).fill(null);
      let columns: readonly string[] | undefined;
      for (const f of batch) {
        const prepared = prepareFold(data, splits[f], group.normalOnly, task.normal, options);
        folds[f] = prepared.fold;
        columns = prepared.columns;
      }
      // candidate-major, so that candidates finish one after another (useful partial results on abort)
      const jobs: FoldJob[] = group.members.flatMap((c) => batch.map((f) => ({ candidate: c, fold: f, model: candidates[c].model, params: candidates[c].params })));
      if (group.sequential || threads === 1 || jobs.length === 1) {
        for (const job of jobs) {
          if (signal?.aborted) break outer;
          try {
            record(await runFold(folds[job.fold]!, columns, task, metrics, job, signal));
          } catch (err) {
            if (signal?.aborted) break outer;
            throw err;
          }
        }
      } else {
        const shared: CvWorkerData = { folds, columns, task, metrics, modelModules };
        try {
          await runInWorkers<FoldJob, FoldOutcome>(WORKER, shared, jobs, {
            threads,
            signal,
            onTaskResult: (_i, result) => record(result as FoldOutcome),
          });
        } catch (err) {
          if (signal?.aborted) break outer;
          throw err;
        }
      }
    }
  }

  const results = candidates.map((c, i): CandidateResult => {
    const got = outcomes[i].filter((o): o is FoldOutcome => o !== undefined);
    const ok = got.filter((o) => o.error === undefined);
    const cv: Record<string, MetricSummary> = {};
    for (const m of metrics) cv[m] = summarise(outcomes[i].map((o) => (o && o.error === undefined ? (o.scores[m] ?? Number.NaN) : Number.NaN)));
    const mean = (f: (o: FoldOutcome) => number): number => (ok.length === 0 ? Number.NaN : ok.reduce((s, o) => s + f(o), 0) / ok.length);
    const error = got.find((o) => o.error !== undefined)?.error;
    const base = { model: c.model, params: c.params, cv, foldsDone: ok.length, fitSeconds: mean((o) => o.fitSeconds), predictSeconds: mean((o) => o.predictSeconds) };
    return error === undefined ? base : { ...base, error };
  });
  return { candidates: results, metrics, folds: k, partial: done < total, tasksDone: done, tasksTotal: total };
}

/** Cross-validates one model. */
export async function crossValidate(data: CvData, model: string, params: Params = {}, options: CvOptions = {}): Promise<CandidateResult & { partial: boolean }> {
  const result = await evaluateCandidates(data, [{ model, params }], options);
  return { ...result.candidates[0], partial: result.partial };
}
