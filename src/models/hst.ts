// `hst`: Half-Space Trees (Tan, Ting & Liu 2011, "Fast Anomaly Detection for Streaming Data", IJCAI), an online
// detector. Features are scaled to [0, 1] with the ranges seen at fit time; each tree is a complete binary tree of
// `height` levels over a randomly perturbed work space (per dimension s ~ U[0,1], range s ± 2·max(s, 1−s)), split
// at the middle of a random dimension. Rows are counted into the `latest` mass profile; every `window_size` rows it
// becomes the `reference` profile that scores use. A row's normal-ness is Σ_trees r(node)·2^depth(node) at the
// deepest node on its path whose reference mass is ≥ size_limit (0.1 · window, as the paper).
// Score: 1 − that sum / (n_trees · window_size · 2^height), in [0, 1]; HIGHER = MORE ANOMALOUS (as River's).
// learnOne / scoreOne: O(trees · height) time, O(trees · 2^height) memory.

import { checkInput, type Matrix } from '../frame/matrix.js';
import { resolveParams, type FitOptions, type ModelState, type ParamRule, SEED_RULE } from './estimator.js';
import type { ModelSpec } from './registry.js';
import { checkEnoughRows, contaminationRule, DetectorBase } from './detector-base.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../errors.js';
import { notFitted } from './trees/common.js';

const DEFAULTS = {
  n_trees: 25,
  height: 10,
  window_size: 250,
  contamination: 0.1 as string | number,
  random_state: 0,
};
export type HalfSpaceTreesParams = typeof DEFAULTS;

const RULES: { [K in keyof HalfSpaceTreesParams]: ParamRule } = {
  n_trees: { type: 'int', min: 1 },
  height: { type: 'int', min: 1, max: 20 },
  window_size: { type: 'int', min: 1 },
  contamination: contaminationRule,
  random_state: SEED_RULE,
};

/** Contamination used for the fitted threshold when 'auto' is asked for (HST has no natural cut-off). */
const AUTO_CONTAMINATION = 0.1;

export class HalfSpaceTrees extends DetectorBase {
  readonly name = 'hst';
  readonly params: Readonly<HalfSpaceTreesParams>;
  nFeatures: number | undefined;
  /** Per-feature minimum and 1 / range of the fit data. */
  private offset: Float32Array = new Float32Array(0);
  private scale: Float32Array = new Float32Array(0);
  /** Per tree, complete binary tree in heap order (children of i: 2i+1, 2i+2): split dimension and value. */
  private splitFeature: Int32Array = new Int32Array(0);
  private splitValue: Float32Array = new Float32Array(0);
  private reference: Float32Array = new Float32Array(0);
  private latest: Float32Array = new Float32Array(0);
  /** Rows counted into `latest` since the last window swap. */
  private inWindow = 0;
  private windowsDone = 0;
  private readonly nodesPerTree: number;

  constructor(params: Partial<HalfSpaceTreesParams> = {}) {
    super();
    this.params = resolveParams('hst', DEFAULTS, RULES, params);
    this.nodesPerTree = 2 ** (this.params.height + 1) - 1;
  }

  /** Fixes the feature ranges from X, builds the trees, learns every row of X in order, and fits the threshold. */
  async fit(X: Matrix, options?: FitOptions): Promise<this> {
    checkInput(X, undefined, 'hst');
    checkEnoughRows('hst', X.rows, 2);
    this.initialise(X);
    for (let i = 0; i < X.rows; i++) {
      this.learnOne(X.data.subarray(i * X.cols, (i + 1) * X.cols));
      if (options?.onProgress && (i + 1) % 10_000 === 0) options.onProgress(i + 1, X.rows);
    }
    // Fewer rows than one window: the rows seen so far are the reference.
    if (this.windowsDone === 0) this.swapWindows();
    const c = this.params.contamination;
    const scores = await this.scoreSamples(X);
    this.calibrate(scores, c === 'auto' ? AUTO_CONTAMINATION : c, 0);
    return this;
  }

  private initialise(X: Matrix): void {
    const { cols, rows, data } = X;
    this.nFeatures = cols;
    this.offset = new Float32Array(cols).fill(Infinity);
    const max = new Float32Array(cols).fill(-Infinity);
    for (let i = 0; i < rows; i++) {
      for (let f = 0; f < cols; f++) {
        const v = data[i * cols + f];
        if (v < this.offset[f]) this.offset[f] = v;
        if (v > max[f]) max[f] = v;
      }
    }
    this.scale = new Float32Array(cols);
    for (let f = 0; f < cols; f++) this.scale[f] = max[f] > this.offset[f] ? 1 / (max[f] - this.offset[f]) : 1;
    const { n_trees: trees, height, random_state } = this.params;
    const rng = new Rng(random_state);
    const total = trees * this.nodesPerTree;
    this.splitFeature = new Int32Array(total);
    this.splitValue = new Float32Array(total);
    this.reference = new Float32Array(total);
    this.latest = new Float32Array(total);
    this.inWindow = 0;
    this.windowsDone = 0;
    const lo = new Float64Array(cols);
    const hi = new Float64Array(cols);
    for (let t = 0; t < trees; t++) {
      for (let f = 0; f < cols; f++) {
        const s = rng.next();
        const half = 2 * Math.max(s, 1 - s);
        lo[f] = s - half;
        hi[f] = s + half;
      }
      this.buildNode(t * this.nodesPerTree, 0, 0, height, lo, hi, rng);
    }
  }

  private buildNode(base: number, node: number, depth: number, height: number, lo: Float64Array, hi: Float64Array, rng: Rng): void {
    if (depth >= height) {
      this.splitFeature[base + node] = -1;
      return;
    }
    const f = rng.int(lo.length);
    const mid = (lo[f] + hi[f]) / 2;
    this.splitFeature[base + node] = f;
    this.splitValue[base + node] = mid;
    const savedHi = hi[f];
    hi[f] = mid;
    this.buildNode(base, 2 * node + 1, depth + 1, height, lo, hi, rng);
    hi[f] = savedHi;
    const savedLo = lo[f];
    lo[f] = mid;
    this.buildNode(base, 2 * node + 2, depth + 1, height, lo, hi, rng);
    lo[f] = savedLo;
  }

  /** Counts one row into the latest window; every window_size rows the latest profile becomes the reference. */
  learnOne(x: Float32Array): void {
    this.checkRow(x);
    const { n_trees: trees } = this.params;
    for (let t = 0; t < trees; t++) {
      const base = t * this.nodesPerTree;
      let node = 0;
      while (true) {
        this.latest[base + node]++;
        const f = this.splitFeature[base + node];
        if (f < 0) break;
        node = (x[f] - this.offset[f]) * this.scale[f] <= this.splitValue[base + node] ? 2 * node + 1 : 2 * node + 2;
      }
    }
    if (++this.inWindow >= this.params.window_size) this.swapWindows();
  }

  /** Anomaly score of one row against the reference window: higher = more anomalous, in [0, 1]. */
  scoreOne(x: Float32Array): number {
    this.checkRow(x);
    const { n_trees: trees, window_size: window, height } = this.params;
    const sizeLimit = 0.1 * window;
    let mass = 0;
    for (let t = 0; t < trees; t++) {
      const base = t * this.nodesPerTree;
      let node = 0;
      let depth = 0;
      while (true) {
        const f = this.splitFeature[base + node];
        if (f < 0 || this.reference[base + node] < sizeLimit) break;
        node = (x[f] - this.offset[f]) * this.scale[f] <= this.splitValue[base + node] ? 2 * node + 1 : 2 * node + 2;
        depth++;
      }
      mass += this.reference[base + node] * 2 ** depth;
    }
    return 1 - mass / (trees * window * 2 ** height);
  }

  async scoreSamples(X: Matrix): Promise<Float64Array> {
    if (this.nFeatures === undefined) throw notFitted('hst');
    checkInput(X, this.nFeatures, 'hst');
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) out[i] = this.scoreOne(X.data.subarray(i * X.cols, (i + 1) * X.cols));
    return out;
  }

  private swapWindows(): void {
    this.reference.set(this.latest);
    this.latest.fill(0);
    this.inWindow = 0;
    this.windowsDone++;
  }

  private checkRow(x: Float32Array): void {
    if (this.nFeatures === undefined) throw notFitted('hst');
    if (x.length !== this.nFeatures) throw new UserError(`hst: row has ${x.length} features, but the model was fitted on ${this.nFeatures}`);
    for (let f = 0; f < x.length; f++) {
      if (!Number.isFinite(x[f])) throw new UserError(`hst: feature #${f} is ${x[f]}; impute NaN/Infinity before learning or scoring`);
    }
  }

  getState(): ModelState {
    if (this.nFeatures === undefined) throw notFitted('hst');
    return {
      params: { ...this.params },
      nFeatures: this.nFeatures,
      offset: this.offset,
      scale: this.scale,
      splitFeature: this.splitFeature,
      splitValue: this.splitValue,
      reference: this.reference,
      latest: this.latest,
      inWindow: this.inWindow,
      windowsDone: this.windowsDone,
      ...this.detectorState(),
    };
  }

  static fromState(state: ModelState): HalfSpaceTrees {
    const m = new HalfSpaceTrees(state.params as Partial<HalfSpaceTreesParams>);
    m.nFeatures = state.nFeatures as number;
    m.offset = state.offset as Float32Array;
    m.scale = state.scale as Float32Array;
    m.splitFeature = state.splitFeature as Int32Array;
    m.splitValue = state.splitValue as Float32Array;
    m.reference = state.reference as Float32Array;
    m.latest = state.latest as Float32Array;
    m.inWindow = state.inWindow as number;
    m.windowsDone = state.windowsDone as number;
    m.restoreDetectorState(state);
    return m;
  }
}

export const spec: ModelSpec<HalfSpaceTrees> = {
  name: 'hst',
  kind: 'detector',
  title: 'Half-Space Trees (Tan, Ting & Liu 2011), online',
  create: (params) => new HalfSpaceTrees(params as Partial<HalfSpaceTreesParams>),
  fromState: (state) => HalfSpaceTrees.fromState(state),
  searchSpace: { n_trees: [25, 50], height: [8, 10, 12], window_size: [250, 1000] },
  testParams: { window_size: 100 },
};
