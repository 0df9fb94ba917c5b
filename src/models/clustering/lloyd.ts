// k-means itself (Lloyd 1982), for the k-means detector (kmeans.ts): greedy k-means++ seeding (Arthur &
// Vassilvitskii 2007, with scikit-learn's 2 + ln k candidates per step), then Lloyd iterations until the centroid
// shift is below tol. The assignment step follows Hamerly, "Making k-means even faster" (SDM 2010): per row an upper
// bound on the distance to its centre and one lower bound on the distance to any other centre, moved by the centres'
// shifts after each update; a row is re-examined only when its upper bound is not below max(lower bound, half the
// distance from its centre to the nearest other centre), and a re-examined row skips the centres the triangle
// inequality puts beyond its best one. The bounds carry a relative margin (BOUND_SLACK) wider than the rounding of the
// computed distances, so a row is skipped only when Lloyd's full scan would give it the same centre: labels,
// centroids and inertia equal plain Lloyd's. The seeding skips candidates by the same triangle inequality (Raff,
// IJCAI 2021) and hands Lloyd its first assignment and bounds. Distances and centroid sums run in
// kmeans-kernels.ts (WebAssembly SIMD).
// Cost O(iterations × n × k × d) at worst (far less once the bounds hold).

import type { Matrix } from '../../frame/matrix.js';
import type { Rng } from '../../util/rng.js';
import { createKernels, type KMeansKernels } from './kmeans-kernels.js';

/** The size of a matrix whose rows are in kernels. */
export type Shape = Pick<Matrix, 'rows' | 'cols'>;

export interface Clustering {
  centers: Float64Array;
  labels: Int32Array;
  /** Squared distance of each row to its centre. */
  sqDist: Float64Array;
  inertia: number;
}

/** The mean over columns of each column's variance: scikit-learn scales `tol` by it. Uses sum 0 and slot 0. */
export function meanVariance(X: Matrix, given?: KMeansKernels): number {
  const kernels = given ?? createKernels(X, 1, 1);
  const { rows: n, cols: d } = X;
  kernels.clearSum(0);
  addAllRows(kernels, n);
  const means = new Float64Array(d);
  for (let j = 0; j < d; j++) means[j] = kernels.sumAt(0, j) / n;
  kernels.setSlot(0, means, 0);
  kernels.clearSum(0);
  addAllSquaredDeviations(kernels, n);
  let total = 0;
  for (let j = 0; j < d; j++) total += kernels.sumAt(0, j) / n;
  if (!given) kernels.release();
  return total / d;
}

function addAllRows(kernels: KMeansKernels, n: number): void {
  for (let i = 0; i < n; i++) kernels.addRow(0, i);
}

function addAllSquaredDeviations(kernels: KMeansKernels, n: number): void {
  for (let i = 0; i < n; i++) kernels.addSquaredDeviation(0, i, 0);
}

/**
 * Relative margin on the bounds. A computed squared distance (d products summed in double precision) is within
 * about d × 2⁻⁵³ of the exact one, far below 1e-9 for any width this tool sees; upper bounds are inflated and lower
 * bounds deflated by it, so a skipped row's centre is strictly nearer than every other by more than the rounding.
 */
const BOUND_SLACK = 1e-9;

/** Candidates per k-means++ step (scikit-learn's 2 + ⌊ln k⌋). */
export const candidateTrials = (k: number): number => 2 + Math.floor(Math.log(k));

/** Kernels with slots for k centres and a step's candidates, and k centroid sums. */
export const kernelsFor = (X: Matrix, k: number): KMeansKernels => createKernels(X, k + candidateTrials(k), k);

/**
 * k-means++ centres, with each row's nearest centre (lowest index on ties), its squared distance and a lower bound
 * on its squared distance to every other centre: Lloyd's first assignment and Hamerly bounds, found on the way.
 */
export interface Seeding {
  centers: Float64Array;
  labels: Int32Array;
  sqDist: Float64Array;
  /** Lower bound on the squared distance to any centre but the row's own (+∞ while there is one centre). */
  otherSqDist: Float64Array;
}

/** Greedy k-means++: each new centre is the best (lowest potential) of 2 + ⌊ln k⌋ D²-weighted candidates. */
export function seedPlusPlus(X: Matrix, k: number, rng: Rng): Float64Array {
  const kernels = kernelsFor(X, k);
  const { centers } = seedWithAssignment(X, k, rng, kernels);
  kernels.release();
  return centers;
}

/**
 * seedPlusPlus's centres and rng draws, plus the assignment (Seeding). The candidates of a step are all drawn first
 * (the draws depend only on the potential before the step) and measured in one pass over the rows. A row whose
 * nearest centre a is at least twice its own distance from a candidate (BOUND_SLACK margin) skips that candidate: by
 * the triangle inequality the candidate is farther, so min(candidate distance, own distance) is the own distance
 * either way (Raff, "Exact acceleration of k-means++ and k-means‖", IJCAI 2021), and 2·(half gap) − own distance is
 * kept as a lower bound for otherSqDist. The potentials are summed over the rows in order, as one candidate at a
 * time would sum them.
 */
export function seedWithAssignment(X: Shape, k: number, rng: Rng, kernels: KMeansKernels): Seeding {
  const { rows: n, cols: d } = X;
  const centers = new Float64Array(k * d);
  const trials = candidateTrials(k);
  kernels.copyRow(rng.int(n), centers, 0);
  kernels.setSlot(0, centers, 0);
  const labels = new Int32Array(n);
  const closest = new Float64Array(n);
  const otherSqDist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let potential = distancesToSlot(kernels, n, 0, closest);
  const candidates = new Float64Array(trials * d);
  /** Half the distance from candidate t to centre a at [t × k + a], deflated by BOUND_SLACK. */
  const halfGap = new Float64Array(trials * k);
  /** Squared distance of row i to candidate t at [t × n + i], or a lower bound on it not below the row's own. */
  const trialSqDist = new Float64Array(trials * n);
  const trialPotential = new Float64Array(trials);
  for (let c = 1; c < k; c++) {
    for (let t = 0; t < trials; t++) {
      const row = potential > 0 ? sampleByWeight(closest, potential, rng) : rng.int(n);
      kernels.copyRow(row, candidates, t * d);
      kernels.setSlot(k + t, candidates, t * d);
      for (let a = 0; a < c; a++) halfGap[t * k + a] = (Math.sqrt(plainSqDist(candidates, t * d, centers, a * d, d)) * (1 - BOUND_SLACK)) / 2;
    }
    measureCandidates(kernels, k, closest, labels, halfGap, trialSqDist, trialPotential);
    let best = 0;
    for (let t = 1; t < trials; t++) if (trialPotential[t] < trialPotential[best]) best = t;
    centers.set(candidates.subarray(best * d, best * d + d), c * d);
    kernels.setSlot(c, centers, c * d);
    acceptCandidate(c, trialSqDist.subarray(best * n, best * n + n), closest, otherSqDist, labels);
    potential = trialPotential[best];
  }
  return { centers, labels, sqDist: closest, otherSqDist };
}

// The row loops are functions of their own, called once per step or iteration: each is optimised once, on the
// type feedback of the earlier calls, instead of a large function re-optimised at every loop it reaches.

/** out[i] = squared distance of row i to `slot`; returns their sum in row order. */
function distancesToSlot(kernels: KMeansKernels, n: number, slot: number, out: Float64Array): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    out[i] = kernels.distance(i, slot);
    total += out[i];
  }
  return total;
}

function plainSqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const diff = a[ao + j] - b[bo + j];
    s += diff * diff;
  }
  return s;
}

/** One k-means++ step's pass: each candidate's distance (or skip bound) for every row, and its potential. */
function measureCandidates(kernels: KMeansKernels, k: number, closest: Float64Array, labels: Int32Array, halfGap: Float64Array, trialSqDist: Float64Array, trialPotential: Float64Array): void {
  const n = closest.length;
  const trials = trialPotential.length;
  for (let i = 0; i < n; i++) {
    const ownUp = Math.sqrt(closest[i]) * (1 + BOUND_SLACK);
    const a = labels[i];
    for (let t = 0; t < trials; t++) {
      const half = halfGap[t * k + a];
      if (half >= ownUp) {
        const bound = 2 * half - ownUp;
        trialSqDist[t * n + i] = bound * bound;
      } else trialSqDist[t * n + i] = kernels.distance(i, k + t);
    }
  }
  for (let t = 0; t < trials; t++) trialPotential[t] = potentialWith(trialSqDist.subarray(t * n, t * n + n), closest);
}

/** Σ min(candidate, own) over the rows in order: the potential with the candidate added. */
function potentialWith(candidate: Float64Array, closest: Float64Array): number {
  let total = 0;
  for (let i = 0; i < closest.length; i++) total += candidate[i] < closest[i] ? candidate[i] : closest[i];
  return total;
}

/** Centre c (the step's best candidate, squared distances `chosen`) joins the rows' assignment and bounds. */
function acceptCandidate(c: number, chosen: Float64Array, closest: Float64Array, otherSqDist: Float64Array, labels: Int32Array): void {
  for (let i = 0; i < chosen.length; i++) {
    const s = chosen[i];
    if (s < closest[i]) {
      if (closest[i] < otherSqDist[i]) otherSqDist[i] = closest[i];
      closest[i] = s;
      labels[i] = c;
    } else if (s < otherSqDist[i]) otherSqDist[i] = s;
  }
}

function sampleByWeight(weights: Float64Array, total: number, rng: Rng): number {
  let target = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    target -= weights[i];
    if (target < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return 0;
}

/** Each row's nearest centre (lowest index on ties) and squared distance to it, every centre measured. */
export function assign(X: Matrix, centers: Float64Array, k: number): { labels: Int32Array; sqDist: Float64Array } {
  const kernels = createKernels(X, k, 0);
  for (let c = 0; c < k; c++) kernels.setSlot(c, centers, c * X.cols);
  const labels = new Int32Array(X.rows);
  const sqDist = new Float64Array(X.rows);
  nearestOfAll(kernels, k, labels, sqDist);
  kernels.release();
  return { labels, sqDist };
}

function nearestOfAll(kernels: KMeansKernels, k: number, labels: Int32Array, sqDist: Float64Array): void {
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const s = kernels.distance(i, c);
      if (s < bestD) {
        bestD = s;
        best = c;
      }
    }
    labels[i] = best;
    sqDist[i] = bestD;
  }
}

/**
 * Row i against every centre, in Lloyd's order (the lowest index wins a tie), starting from centre a at squared
 * distance `own`; sets the row's label and bounds. Centre c is skipped when half its distance from the best centre
 * so far (halfGap, deflated) is more than the row's distance to that centre (inflated): by the triangle inequality c
 * is then strictly farther, and 2·halfGap − that distance bounds its distance from below. Strictly more: a row on
 * two coinciding centres (both gaps and distances 0) is measured, so the lower index wins the tie.
 */
function scanRow(kernels: KMeansKernels, k: number, halfGap: Float64Array, i: number, a: number, own: number, labels: Int32Array, upper: Float64Array, lower: Float64Array): void {
  let best = a;
  let bestD = own;
  let bestUp = Math.sqrt(own) * (1 + BOUND_SLACK);
  /** Lower bound on the distance (not squared) to every centre but the best. */
  let second = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    if (c === a) continue;
    const half = halfGap[best * k + c];
    if (half > bestUp) {
      const bound = 2 * half - bestUp;
      if (bound < second) second = bound;
      continue;
    }
    const s = kernels.distance(i, c);
    if (s < bestD || (s === bestD && c < best)) {
      const previous = Math.sqrt(bestD);
      if (previous < second) second = previous;
      bestD = s;
      best = c;
      bestUp = Math.sqrt(s) * (1 + BOUND_SLACK);
    } else {
      const distance = Math.sqrt(s);
      if (distance < second) second = distance;
    }
  }
  labels[i] = best;
  upper[i] = bestUp;
  lower[i] = second * (1 - BOUND_SLACK);
}

/** Half the distance between every two centres (k × k), deflated by BOUND_SLACK; `nearest` gets each row's minimum. */
function centreGaps(centers: Float64Array, k: number, halfGap: Float64Array, nearest: Float64Array): void {
  const d = centers.length / k;
  nearest.fill(Number.POSITIVE_INFINITY);
  for (let c = 0; c < k; c++) {
    halfGap[c * k + c] = 0;
    for (let o = c + 1; o < k; o++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = centers[c * d + j] - centers[o * d + j];
        s += diff * diff;
      }
      const half = (Math.sqrt(s) * (1 - BOUND_SLACK)) / 2;
      halfGap[c * k + o] = halfGap[o * k + c] = half;
      if (half < nearest[c]) nearest[c] = half;
      if (half < nearest[o]) nearest[o] = half;
    }
  }
}

/**
 * Lloyd iterations with Hamerly's bounds (same result as assigning every row to its nearest centre, lowest index
 * on ties, each iteration); an emptied cluster is re-seeded at the row farthest from its centre.
 */
export function lloyd(X: Matrix, centers: Float64Array, maxIter: number, tol: number): Clustering {
  const kernels = kernelsFor(X, centers.length / X.cols);
  const result = lloydOn(X, centers, maxIter, tol, undefined, kernels);
  kernels.release();
  return result;
}

/** lloyd on the rows in `kernels`; `start`, the seeding's assignment to these centres, replaces the first full scan. */
export function lloydOn(X: Shape, centers: Float64Array, maxIter: number, tol: number, start: Seeding | undefined, kernels: KMeansKernels): Clustering {
  const { rows: n, cols: d } = X;
  const k = centers.length / d;
  for (let c = 0; c < k; c++) kernels.setSlot(c, centers, c * d);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const sqDist = new Float64Array(n);
  const half = new Float64Array(k);
  const halfGap = new Float64Array(k * k);
  const moved = new Float64Array(k);
  if (start) {
    labels.set(start.labels);
    startBounds(start, upper, lower);
  } else {
    centreGaps(centers, k, halfGap, half);
    for (let i = 0; i < n; i++) scanRow(kernels, k, halfGap, i, 0, kernels.distance(i, 0), labels, upper, lower);
  }
  const counts = new Float64Array(k);
  // A cluster whose members did not change keeps its sums (the same rows added in the same order) and its centre.
  const changed = new Uint8Array(k).fill(1);
  for (let iter = 0; iter < maxIter; iter++) {
    // No member changed anywhere: every centre stays, and so does every label (Lloyd's last iteration, shift 0).
    if (!changed.includes(1)) break;
    sumChangedClusters(kernels, labels, changed, counts);
    // Re-seeding needs every row's distance to its centre before any centre moves.
    if (counts.includes(0)) distancesToOwn(kernels, labels, sqDist);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      moved[c] = 0;
      if (!changed[c]) continue;
      changed[c] = 0;
      if (counts[c] === 0) {
        let far = 0;
        for (let i = 1; i < n; i++) if (sqDist[i] > sqDist[far]) far = i;
        kernels.clearSum(c);
        kernels.addRow(c, far);
        counts[c] = 1;
        sqDist[far] = 0;
        changed[c] = 1;
      }
      let own = 0;
      for (let j = 0; j < d; j++) {
        const v = kernels.sumAt(c, j) / counts[c];
        const step = (v - centers[c * d + j]) ** 2;
        shift += step;
        own += step;
        centers[c * d + j] = v;
      }
      moved[c] = Math.sqrt(own) * (1 + BOUND_SLACK);
      kernels.setSlot(c, centers, c * d);
    }
    moveBounds(labels, moved, upper, lower);
    centreGaps(centers, k, halfGap, half);
    assignRows(kernels, k, half, halfGap, labels, upper, lower, changed);
    if (shift <= tol) break;
  }
  const inertia = distancesToOwn(kernels, labels, sqDist);
  return { centers, labels, sqDist, inertia };
}

function startBounds(start: Seeding, upper: Float64Array, lower: Float64Array): void {
  for (let i = 0; i < upper.length; i++) {
    upper[i] = Math.sqrt(start.sqDist[i]) * (1 + BOUND_SLACK);
    lower[i] = Math.sqrt(start.otherSqDist[i]) * (1 - BOUND_SLACK);
  }
}

/** Sums and counts, from scratch, of the clusters marked changed. */
function sumChangedClusters(kernels: KMeansKernels, labels: Int32Array, changed: Uint8Array, counts: Float64Array): void {
  for (let c = 0; c < counts.length; c++) {
    if (!changed[c]) continue;
    counts[c] = 0;
    kernels.clearSum(c);
  }
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!changed[c]) continue;
    counts[c]++;
    kernels.addRow(c, i);
  }
}

/** sqDist[i] = squared distance of row i to its centre; returns their sum in row order (the inertia). */
function distancesToOwn(kernels: KMeansKernels, labels: Int32Array, sqDist: Float64Array): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    sqDist[i] = kernels.distance(i, labels[i]);
    total += sqDist[i];
  }
  return total;
}

/** Bounds follow the centres: the own centre moved at most moved[a], any other at most the largest other shift. */
function moveBounds(labels: Int32Array, moved: Float64Array, upper: Float64Array, lower: Float64Array): void {
  let most = 0;
  let mostAt = -1;
  let runnerUp = 0;
  for (let c = 0; c < moved.length; c++) {
    if (moved[c] > most) {
      runnerUp = most;
      most = moved[c];
      mostAt = c;
    } else if (moved[c] > runnerUp) runnerUp = moved[c];
  }
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i];
    upper[i] += moved[a];
    lower[i] -= a === mostAt ? runnerUp : most;
  }
}

/** The assignment step: rows whose bounds no longer hold are measured, and rescanned if still in doubt. */
function assignRows(kernels: KMeansKernels, k: number, half: Float64Array, halfGap: Float64Array, labels: Int32Array, upper: Float64Array, lower: Float64Array, changed: Uint8Array): void {
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i];
    const bound = half[a] > lower[i] ? half[a] : lower[i];
    if (upper[i] < bound) continue;
    const own = kernels.distance(i, a);
    upper[i] = Math.sqrt(own) * (1 + BOUND_SLACK);
    if (upper[i] < bound) continue;
    scanRow(kernels, k, halfGap, i, a, own, labels, upper, lower);
    if (labels[i] !== a) changed[a] = changed[labels[i]] = 1;
  }
}
