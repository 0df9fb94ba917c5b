// One cross-validation task: fit one candidate on one fold's training rows and score it on the fold's validation
// rows. Runs in a worker thread (src/eval/cv-worker.ts) or on the main thread; the model is rebuilt from the
// registry by name, so nothing but plain data crosses threads.

import { ParameterError } from '../errors.js';
import { createMatrix } from '../frame/matrix.js';
import { argmaxLabels } from '../frame/labels.js';
import type { Classifier, Detector, Params } from '../models/estimator.js';
import { getModelSpec } from '../models/registry.js';
import { isAttack, scoreClassifier, scoreDetector, type CvMetric, type TaskClasses } from './scoring.js';
import { conformalThreshold } from '../models/calibration.js';

/**
 * A fold's rows, laid out [rows the model fits on | calibration rows | other training rows | validation rows],
 * row-major.
 */
export interface FoldData {
  readonly data: Float32Array;
  readonly cols: number;
  /** Rows the model is fitted on (all training rows, or only the normal ones for detectors). */
  readonly nFit: number;
  /**
   * Detectors: normal training rows held out from the fit, right after the fit rows, whose scores set the threshold
   * for `targetFpr` — the rule the final model is saved with; absent: the detector's own threshold.
   */
  readonly calibration?: { readonly rows: number; readonly targetFpr: number };
  readonly nTrain: number;
  /** Labels of the training rows, in layout order. */
  readonly yTrain: Int32Array;
  readonly yVal: Int32Array;
}

/** Held-out normal rows a detector's threshold needs: in every CV fold as in the final fit (src/workflow/train.ts). */
export const MIN_CALIBRATION_ROWS = 5;

/** The normal rows held out to set a detector's threshold, of `normalRows` (the final fit and every fold alike). */
export const calibrationRows = (normalRows: number, fraction: number): number => Math.floor(normalRows * fraction);

export interface FoldJob {
  readonly candidate: number;
  readonly fold: number;
  readonly model: string;
  readonly params: Params;
}

export interface FoldOutcome {
  readonly candidate: number;
  readonly fold: number;
  readonly scores: Record<string, number>;
  readonly fitSeconds: number;
  readonly predictSeconds: number;
  /** Set when the candidate failed on this fold (e.g. a parameter combination the model rejects). */
  readonly error?: string;
}

/** Fits and scores; model errors are returned in `error`, never thrown, so one bad candidate does not stop a search. */
export async function runFold(fold: FoldData, columns: readonly string[] | undefined, task: TaskClasses, metrics: readonly CvMetric[], job: FoldJob, signal?: AbortSignal): Promise<FoldOutcome> {
  const { data, cols, nFit, nTrain } = fold;
  const nVal = fold.yVal.length;
  const fitX = createMatrix(nFit, cols, columns, data.subarray(0, nFit * cols));
  const valX = createMatrix(nVal, cols, columns, data.subarray(nTrain * cols, (nTrain + nVal) * cols));
  let created = false;
  try {
    const spec = getModelSpec(job.model);
    const model = spec.create(job.params);
    created = true;
    const t0 = performance.now();
    if (model.kind === 'classifier') {
      await (model as Classifier).fit(fitX, { codes: fold.yTrain.subarray(0, nFit), classes: task.classes }, { signal });
      const t1 = performance.now();
      const proba = await (model as Classifier).predictProba(valX);
      const t2 = performance.now();
      const scores = scoreClassifier(fold.yVal, argmaxLabels(proba, []).codes, proba.data, task, metrics);
      return { candidate: job.candidate, fold: job.fold, scores, fitSeconds: (t1 - t0) / 1000, predictSeconds: (t2 - t1) / 1000 };
    }
    const detector = model as Detector;
    if (fold.calibration && fold.calibration.rows < MIN_CALIBRATION_ROWS) {
      const error = `${job.model}: needs ${MIN_CALIBRATION_ROWS} held-out normal rows to set its threshold; cross-validation fold ${job.fold + 1} has ${nFit + fold.calibration.rows} normal training rows, which give ${fold.calibration.rows}`;
      return { candidate: job.candidate, fold: job.fold, scores: {}, fitSeconds: 0, predictSeconds: 0, error };
    }
    await detector.fit(fitX, { signal });
    let threshold = detector.threshold;
    if (fold.calibration) {
      const calX = createMatrix(fold.calibration.rows, cols, columns, data.subarray(nFit * cols, (nFit + fold.calibration.rows) * cols));
      threshold = conformalThreshold(await detector.scoreSamples(calX), fold.calibration.targetFpr);
    }
    const t1b = performance.now();
    const scores = await detector.scoreSamples(valX);
    const t2 = performance.now();
    const flagged = Uint8Array.from(scores, (s) => (s >= threshold ? 1 : 0));
    const attack = isAttack(fold.yVal, task.normal);
    return { candidate: job.candidate, fold: job.fold, scores: scoreDetector(attack, scores, flagged, metrics), fitSeconds: (t1b - t0) / 1000, predictSeconds: (t2 - t1b) / 1000 };
  } catch (err) {
    if (signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // a fold fits on part of the training rows: "exceeds the 300 training rows" must not read as the whole data; the
    // params themselves (unknown or out of range) are no fold matter
    const error = !created || err instanceof ParameterError ? message : `${message} (cross-validation fold ${job.fold + 1}: fitted on ${nFit} of the training rows)`;
    return { candidate: job.candidate, fold: job.fold, scores: {}, fitSeconds: 0, predictSeconds: 0, error };
  }
}
