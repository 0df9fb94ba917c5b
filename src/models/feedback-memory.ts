// Feedback memory of an anomaly detector: the analysts' verdicts on its alerts, kept with the model and applied when it
// scores. Refitting a detector with a few false-positive rows among tens of thousands of normal rows barely moves its
// scores, and a detector fitted on normal rows has no use for confirmed attacks at all, so the verdicts are kept as
// labelled examples and used by the nearest-neighbour rule (Cover & Hart 1967, "Nearest neighbor pattern
// classification"), gated by a radius. In the model's input space (the pipeline's log1p-standardised and one-hot
// columns), a flow whose nearest feedback row lies within `radius`:
//   - is scored no higher than `cap` (below the threshold) when that row is a false positive;
//   - is scored no lower than `floor` (the threshold) when it is a confirmed alert; ties go to the confirmed row.
// Flows farther than `radius` from every feedback row keep the detector's own score. `matches` names the feedback row
// that decides a flow (and the alert it judged), so an alert the memory raised can say so.
// The radius is the median of the normal training rows' distances to their nearest other normal row: "like the
// flow the analyst judged" means as close to it as normal traffic is to itself. It is set from training rows only.

import type { Matrix } from '../frame/matrix.js';
import { UserError } from '../errors.js';
import type { ModelState } from './estimator.js';
import { Rng } from '../util/rng.js';
import { quantileSorted } from '../util/quantile.js';

/** The quantile of the normal rows' nearest-neighbour distances used as the radius. */
export const RADIUS_QUANTILE = 0.5;
/** Normal rows whose nearest-neighbour distance is measured, and the reference rows they are measured against. */
const RADIUS_QUERIES = 1000;
const RADIUS_REFERENCE = 20_000;

export interface FeedbackMemorySummary {
  falsePositives: number;
  confirmed: number;
  radius: number;
  cap: number;
  floor: number;
}

/** The feedback row that decides a flow: its index in the memory, verdict, the alert it judged, and its distance. */
export interface FeedbackMatch {
  row: number;
  benign: boolean;
  /** null in memories written before alert ids were kept. */
  alertId: string | null;
  distance: number;
}

export class FeedbackMemory {
  /**
   * @param rows feedback rows in model input space, row-major (`benign.length` × `cols`)
   * @param benign 1 for a false-positive row, 0 for a confirmed alert
   * @param alertIds the id of the alert each row judged (empty: not known)
   */
  constructor(
    readonly rows: Float32Array,
    readonly benign: Uint8Array,
    readonly cols: number,
    readonly radius: number,
    readonly cap: number,
    readonly floor: number,
    readonly alertIds: readonly string[] = [],
  ) {
    if (rows.length !== benign.length * cols) throw new Error(`feedback memory: ${rows.length} values for ${benign.length} rows of ${cols} columns`);
    if (alertIds.length !== 0 && alertIds.length !== benign.length) throw new Error(`feedback memory: ${alertIds.length} alert ids for ${benign.length} rows`);
    const norms = Float64Array.from({ length: benign.length }, (_, j) => Math.hypot(...rows.subarray(j * cols, (j + 1) * cols)));
    this.byNorm = Int32Array.from({ length: benign.length }, (_, j) => j).sort((a, b) => norms[a] - norms[b]);
    this.sortedNorms = Float64Array.from(this.byNorm, (j) => norms[j]);
  }

  /** Feedback rows in increasing order of their Euclidean norm, and those norms. */
  private readonly byNorm: Int32Array;
  private readonly sortedNorms: Float64Array;

  summary(): FeedbackMemorySummary {
    let falsePositives = 0;
    for (const b of this.benign) falsePositives += b;
    return { falsePositives, confirmed: this.benign.length - falsePositives, radius: this.radius, cap: this.cap, floor: this.floor };
  }

  /** Caps or floors, in place, the scores of the rows of X by their nearest feedback row within the radius. */
  apply(X: Matrix, scores: Float64Array): Float64Array {
    this.checkColumns(X);
    for (let i = 0; i < X.rows; i++) {
      const j = this.nearestWithin(X, i);
      if (j < 0) continue;
      if (this.benign[j] === 1) scores[i] = Math.min(scores[i], this.cap);
      else scores[i] = Math.max(scores[i], this.floor);
    }
    return scores;
  }

  /** The feedback row that decides each row of X (its nearest within the radius), or null where none does. */
  matches(X: Matrix): (FeedbackMatch | null)[] {
    this.checkColumns(X);
    return Array.from({ length: X.rows }, (_, i) => {
      const j = this.nearestWithin(X, i);
      if (j < 0) return null;
      let d = 0;
      for (let c = 0; c < this.cols; c++) d += (X.data[i * this.cols + c] - this.rows[j * this.cols + c]) ** 2;
      return { row: j, benign: this.benign[j] === 1, alertId: this.alertIds[j] ?? null, distance: Math.sqrt(d) };
    });
  }

  private checkColumns(X: Matrix): void {
    if (X.cols !== this.cols) throw new Error(`feedback memory: input has ${X.cols} columns, the memory ${this.cols}`);
  }

  /** The index of row i's nearest feedback row within the radius (ties: a confirmed one), or -1. */
  private nearestWithin(X: Matrix, i: number): number {
    const { rows, benign, cols, byNorm, sortedNorms, radius } = this;
    const base = i * cols;
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += X.data[base + c] * X.data[base + c];
    norm = Math.sqrt(norm);
    // | |x| - |f| | <= |x - f|: only feedback rows whose norm is within the radius of the row's can be near it
    // (widened by a rounding margin)
    const reach = radius * (1 + 1e-9) + 1e-12;
    // partial sums stop as soon as they exceed the best distance so far
    let best = radius * radius;
    let nearest = -1;
    for (let k = lowerBound(sortedNorms, norm - reach); k < byNorm.length && sortedNorms[k] <= norm + reach; k++) {
      const j = byNorm[k];
      const off = j * cols;
      let d = 0;
      for (let c = 0; c < cols && d <= best; c++) {
        const diff = X.data[base + c] - rows[off + c];
        d += diff * diff;
      }
      if (d > best) continue;
      // a tie: the confirmed alert wins
      if (nearest < 0 || d < best || benign[j] === 0) nearest = j;
      best = d;
    }
    return nearest;
  }

  state(): ModelState {
    const state: ModelState = { rows: this.rows, benign: this.benign, cols: this.cols, radius: this.radius, cap: this.cap, floor: this.floor };
    if (this.alertIds.length > 0) state.alertIds = [...this.alertIds];
    return state;
  }

  /** Memories written before alert ids were kept have no `alertIds`. */
  static fromState(state: ModelState): FeedbackMemory {
    const { rows, benign, cols, radius, cap, floor, alertIds = [] } = state;
    const numbers = [cols, radius, cap, floor].every((v) => typeof v === 'number');
    const ids = Array.isArray(alertIds) && alertIds.every((id) => typeof id === 'string') && (alertIds.length === 0 || (benign instanceof Uint8Array && alertIds.length === benign.length));
    if (!(rows instanceof Float32Array) || !(benign instanceof Uint8Array) || !numbers || !ids || rows.length !== benign.length * (cols as number)) {
      throw new UserError("the model's feedback memory is not in this build's layout (rows, benign, cols, radius, cap, floor, alertIds): the file was edited or written by another build; retrain again with this version");
    }
    return new FeedbackMemory(rows, benign, cols as number, radius as number, cap as number, floor as number, alertIds as string[]);
  }
}

/** The first index of a sorted array whose value is >= v. */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The RADIUS_QUANTILE quantile of the distances from a seeded sample of normal rows to their nearest other row among
 * (a seeded sample of) the normal rows; exact duplicates count as distance 0.
 */
export function normalNeighbourRadius(normal: Matrix, seed: number): number {
  const rng = new Rng(seed);
  const pick = (k: number): Int32Array => {
    const order = Int32Array.from({ length: normal.rows }, (_, i) => i);
    if (k < normal.rows) rng.shuffle(order);
    return order.slice(0, Math.min(k, normal.rows)).sort();
  };
  const reference = pick(RADIUS_REFERENCE);
  const queries = pick(RADIUS_QUERIES);
  const { cols, data } = normal;
  const distances = new Float64Array(queries.length);
  queries.forEach((q, k) => {
    let best = Number.POSITIVE_INFINITY;
    for (const r of reference) {
      if (r === q) continue;
      let d = 0;
      for (let c = 0; c < cols && d < best; c++) {
        const diff = data[q * cols + c] - data[r * cols + c];
        d += diff * diff;
      }
      if (d < best) best = d;
    }
    distances[k] = Math.sqrt(best);
  });
  return quantileSorted(distances.sort(), RADIUS_QUANTILE);
}
