// Drift: the population stability index (PSI; Yurdakul 2018 for its statistics) of live feature values and scores
// against the training reference kept in the model file. The reference stores histogram edges from training
// quantiles; live values are counted into the same bins over a sliding window of recent flows.
// PSI = Σ (live% − ref%) · ln(live% / ref%); < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant drift.

import type { DriftReference } from '../store/model-file.js';
import { binOf } from '../workflow/reference.js';

export type DriftLevel = 'stable' | 'moderate' | 'significant' | 'insufficient-data';

export interface DriftStatus {
  readonly level: DriftLevel;
  readonly windowFlows: number;
  readonly scorePsi: number;
  /** Features by PSI, largest first. */
  readonly features: readonly { name: string; psi: number }[];
}

const EPSILON = 1e-4;
const MIN_FLOWS = 200;

export function psi(reference: ArrayLike<number>, live: ArrayLike<number>): number {
  let refTotal = 0;
  let liveTotal = 0;
  for (let i = 0; i < reference.length; i++) {
    refTotal += reference[i];
    liveTotal += live[i];
  }
  if (refTotal === 0 || liveTotal === 0) return 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(EPSILON, reference[i] / refTotal);
    const l = Math.max(EPSILON, live[i] / liveTotal);
    sum += (l - r) * Math.log(l / r);
  }
  return sum;
}

export function levelOf(value: number): DriftLevel {
  return value < 0.1 ? 'stable' : value < 0.25 ? 'moderate' : 'significant';
}

/** Counts live values into the reference bins over a window of the most recent `window` flows. */
export class DriftMonitor {
  private readonly featureBins: { name: string; column: number; edges: Float64Array; ref: Float64Array; counts: Float64Array; ring: Int16Array }[];
  private readonly scoreCounts: Float64Array;
  private readonly scoreRing: Int16Array;
  private seen = 0;

  /**
   * @param columnOf maps a reference feature name to its column in the rows passed to `observe` (or -1 to skip)
   */
  constructor(private readonly reference: DriftReference, columnOf: (name: string) => number, private readonly window = 10_000) {
    this.featureBins = [];
    for (const f of reference.features) {
      const column = columnOf(f.name);
      if (column < 0 || !f.edges || !f.counts || f.edges.length < 3) continue;
      this.featureBins.push({ name: f.name, column, edges: f.edges, ref: f.counts, counts: new Float64Array(f.counts.length), ring: new Int16Array(window).fill(-1) });
    }
    this.scoreCounts = new Float64Array(reference.score.counts.length);
    this.scoreRing = new Int16Array(window).fill(-1);
  }

  /** Adds one flow: its raw feature row (in the caller's column order) and its score. */
  observe(row: ArrayLike<number>, score: number): void {
    const slot = this.seen % this.window;
    for (const f of this.featureBins) {
      const old = f.ring[slot];
      if (old >= 0) f.counts[old]--;
      const v = row[f.column];
      const bin = Number.isFinite(v) ? binOf(f.edges, v) : -1;
      if (bin >= 0) f.counts[bin]++;
      f.ring[slot] = bin;
    }
    const edges = this.reference.score.edges;
    if (edges.length >= 3) {
      const old = this.scoreRing[slot];
      if (old >= 0) this.scoreCounts[old]--;
      const bin = Number.isFinite(score) ? binOf(edges, score) : -1;
      if (bin >= 0) this.scoreCounts[bin]++;
      this.scoreRing[slot] = bin;
    }
    this.seen++;
  }

  status(): DriftStatus {
    const windowFlows = Math.min(this.seen, this.window);
    const features = this.featureBins.map((f) => ({ name: f.name, psi: psi(f.ref, f.counts) })).sort((a, b) => b.psi - a.psi);
    const scorePsi = psi(this.reference.score.counts, this.scoreCounts);
    if (windowFlows < MIN_FLOWS) return { level: 'insufficient-data', windowFlows, scorePsi, features };
    return { level: levelOf(Math.max(scorePsi, features[0]?.psi ?? 0)), windowFlows, scorePsi, features };
  }
}
