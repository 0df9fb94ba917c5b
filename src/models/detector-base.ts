// Shared behaviour of anomaly detectors: the fitted threshold, 0/1 prediction and the [0, 1] score normalisation.
// Normalisation is the empirical CDF of the training scores (kept as ≤ 1001 sorted quantiles), so a normalised score
// of 0.99 means "more anomalous than 99% of what the detector was fitted on", whatever the raw score scale.
// A benign-feedback memory (feedback-memory.ts), set by `retrain` and saved in the detector's state, caps the scores of
// flows like the analysts' false positives; older states have none.

import type { Matrix } from '../frame/matrix.js';
import { UserError } from '../errors.js';
import type { Detector, FitOptions, ModelState, Params } from './estimator.js';
import { quantileSorted } from '../util/quantile.js';
import { FeedbackMemory } from './feedback-memory.js';

const REFERENCE_POINTS = 1001;

export abstract class DetectorBase implements Detector {
  readonly kind = 'detector' as const;
  abstract readonly name: string;
  abstract readonly params: Readonly<Params>;
  abstract readonly nFeatures: number | undefined;
  threshold = Number.POSITIVE_INFINITY;
  /** Sorted quantiles of the training scores. */
  protected scoreReference: Float64Array = new Float64Array(0);
  /** The analysts' feedback applied when scoring (null: none). */
  feedbackMemory: FeedbackMemory | null = null;

  abstract fit(X: Matrix, options?: FitOptions): Promise<this>;
  abstract scoreSamples(X: Matrix): Promise<Float64Array>;
  abstract getState(): ModelState;

  async predict(X: Matrix): Promise<Uint8Array> {
    const scores = await this.scoreSamples(X);
    const out = new Uint8Array(scores.length);
    for (let i = 0; i < scores.length; i++) out[i] = scores[i] >= this.threshold ? 1 : 0;
    return out;
  }

  normalizeScores(scores: Float64Array): Float64Array {
    const ref = this.scoreReference;
    const out = new Float64Array(scores.length);
    if (ref.length === 0) return out;
    const last = ref.length - 1;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      if (s <= ref[0]) out[i] = 0;
      else if (s >= ref[last]) out[i] = 1;
      else {
        let lo = 0;
        let hi = last;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (ref[mid] <= s) lo = mid;
          else hi = mid;
        }
        const span = ref[hi] - ref[lo];
        out[i] = (lo + (span > 0 ? (s - ref[lo]) / span : 0)) / last;
      }
    }
    return out;
  }

  /**
   * Call at the end of fit with the scores of the training rows. With a numeric contamination the threshold is the
   * (1 - contamination) quantile of those scores; with 'auto' it is the detector's own `autoThreshold`.
   */
  protected calibrate(trainScores: Float64Array, contamination: number | string, autoThreshold: number): void {
    const sorted = Float64Array.from(trainScores).sort();
    const n = sorted.length;
    const ref = new Float64Array(Math.min(REFERENCE_POINTS, n));
    for (let i = 0; i < ref.length; i++) ref[i] = sorted[Math.round((i * (n - 1)) / Math.max(1, ref.length - 1))];
    this.scoreReference = ref;
    this.threshold = contamination === 'auto' ? autoThreshold : quantileSorted(sorted, 1 - Number(contamination));
  }

  /** The median training score: the level of a typical row the detector was fitted on. */
  medianTrainingScore(): number {
    return quantileSorted(this.scoreReference, 0.5);
  }

  /**
   * Scores through the memory from now on. Every detector defines its own scoreSamples, so the memory wraps it on this
   * instance: every caller (predict, evaluate, detect, serve) then sees the capped scores; explanations use `ownScores`.
   */
  useFeedbackMemory(memory: FeedbackMemory): void {
    this.feedbackMemory = memory;
    this.scoreSamples = async (X: Matrix) => memory.apply(X, await this.ownScores(X));
  }

  /** The detector's own scores, without the feedback memory (what its explanations explain). */
  ownScores(X: Matrix): Promise<Float64Array> {
    return (Object.getPrototypeOf(this) as DetectorBase).scoreSamples.call(this, X);
  }

  protected detectorState(): ModelState {
    const state: ModelState = { threshold: this.threshold, scoreReference: this.scoreReference };
    if (this.feedbackMemory) state.feedbackMemory = this.feedbackMemory.state();
    return state;
  }

  protected restoreDetectorState(state: ModelState): void {
    this.threshold = state.threshold as number;
    this.scoreReference = state.scoreReference as Float64Array;
    if (state.feedbackMemory) this.useFeedbackMemory(FeedbackMemory.fromState(state.feedbackMemory as ModelState));
  }
}

/** Contamination must be 'auto' or in (0, 0.5], as in scikit-learn. */
export const contaminationRule = { type: 'float-or-choice', min: 0, max: 0.5, exclusiveMin: true, values: ['auto'] } as const;

/** Semi-supervised detectors need some normal rows; say how many there are when there are too few. */
export function checkEnoughRows(model: string, rows: number, minimum: number): void {
  if (rows < minimum) {
    throw new UserError(`${model}: needs at least ${minimum} training rows (normal rows in anomaly mode), got ${rows}`);
  }
}
