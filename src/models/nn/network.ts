// A fully connected feed-forward network (multi-layer perceptron) with back-propagation (Rumelhart, Hinton & Williams
// 1986), laid out as scikit-learn's MLP: weights[l] is sizes[l] × sizes[l+1] (input-major), Glorot-uniform
// initialisation (Glorot & Bengio 2010), inverted dropout on hidden layers (Srivastava et al. 2014). The first layer
// reads offset-sparse rows (O(nnz · h1)); later layers use the blocked kernels of linear-algebra.ts.
// Forward + backward per batch: O(batch · Σ sizes[l]·sizes[l+1]).

import { sigmoid, softmaxInPlace } from './fit-utils.js';
import { matmul, matmulTransposedAAdd, matmulTransposedB } from './linear-algebra.js';
import type { OffsetSparseRows } from './offset-sparse.js';
import type { Rng } from '../../util/rng.js';
import { SimdArena } from './simd.js';
import { simdMatmul, simdMatmulTransposedAAdd, simdMatmulTransposedB } from './simd-dense.js';

export type Activation = 'relu' | 'tanh' | 'logistic' | 'identity';
/** Output layer: logistic (binary), softmax (multi-class) or identity (regression / reconstruction). */
export type OutputKind = 'logistic' | 'softmax' | 'identity';

/** Where a batch's inputs come from: rows of an offset-sparse matrix, or a dense Float64 block. */
export type BatchInput = { sparse: OffsetSparseRows; idx: Int32Array; start: number } | { dense: Float64Array };

export class DenseNetwork {
  readonly sizes: readonly number[];
  readonly hidden: Activation;
  readonly output: OutputKind;
  readonly weights: Float64Array[];
  readonly biases: Float64Array[];

  constructor(sizes: readonly number[], hidden: Activation, output: OutputKind, weights: Float64Array[], biases: Float64Array[]) {
    this.sizes = sizes;
    this.hidden = hidden;
    this.output = output;
    this.weights = weights;
    this.biases = biases;
  }

  /** Glorot-uniform weights and biases, as scikit-learn: bound √(6 / (fan_in + fan_out)), √2 for logistic. */
  static initialise(sizes: readonly number[], hidden: Activation, output: OutputKind, rng: Rng): DenseNetwork {
    const weights: Float64Array[] = [];
    const biases: Float64Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const factor = hidden === 'logistic' ? 2 : 6;
      const bound = Math.sqrt(factor / (sizes[l] + sizes[l + 1]));
      const W = new Float64Array(sizes[l] * sizes[l + 1]);
      for (let i = 0; i < W.length; i++) W[i] = (2 * rng.next() - 1) * bound;
      const b = new Float64Array(sizes[l + 1]);
      for (let i = 0; i < b.length; i++) b[i] = (2 * rng.next() - 1) * bound;
      weights.push(W);
      biases.push(b);
    }
    return new DenseNetwork(sizes, hidden, output, weights, biases);
  }

  get layers(): number {
    return this.weights.length;
  }

  /** ½‖W‖² over all weight matrices (not biases). */
  halfSquaredWeights(): number {
    let s = 0;
    for (const W of this.weights) for (let i = 0; i < W.length; i++) s += W[i] * W[i];
    return 0.5 * s;
  }

  copyParameters(): Float64Array[] {
    return [...this.weights.map((w) => Float64Array.from(w)), ...this.biases.map((b) => Float64Array.from(b))];
  }

  restoreParameters(saved: Float64Array[]): void {
    this.weights.forEach((w, l) => w.set(saved[l]));
    this.biases.forEach((b, l) => b.set(saved[this.layers + l]));
  }
}

/** Per-batch buffers: activations and deltas of each layer, dropout masks, gradients. */
export class Workspace {
  readonly capacity: number;
  /** act[l] holds layer l's output (l = 1 .. layers); act[0] is empty (inputs come from a BatchInput). */
  readonly act: Float64Array[];
  readonly delta: Float64Array[];
  readonly mask: (Float64Array | null)[];
  readonly gradW: Float64Array[];
  readonly gradB: Float64Array[];
  readonly scratch: Float64Array;
  /** Set when the network's weights and these buffers live in a WebAssembly SIMD arena (see the constructor). */
  readonly simd: SimdArena | null;
  /** Arena scratch for the SIMD products: a transposed weight matrix and a zero row. */
  readonly transposed: Float64Array;
  readonly zero: Float64Array;

  /**
   * With `simd` (and WebAssembly SIMD available), moves the network's weights and biases into a new arena together
   * with every buffer the products touch (values are kept; call detachSimd after use).
   */
  constructor(net: DenseNetwork, capacity: number, dropout: number, simd = false) {
    this.capacity = capacity;
    const sizes = net.sizes;
    const maxSize = Math.max(...sizes);
    const maxWeights = Math.max(...net.weights.map((w) => w.length));
    let doubles = 2 * maxSize + maxWeights;
    for (let l = 0; l < sizes.length; l++) doubles += 2 * capacity * sizes[l] + 2 * sizes[l];
    for (const w of net.weights) doubles += 2 * w.length;
    const arena = simd ? SimdArena.create(8 * doubles + 16 * (6 * sizes.length + 8)) : null;
    this.simd = arena;
    const alloc = (n: number): Float64Array => (arena ? arena.alloc(n) : new Float64Array(n));
    if (arena) {
      const move = (a: Float64Array): Float64Array => {
        const moved = arena.alloc(a.length);
        moved.set(a);
        return moved;
      };
      net.weights.forEach((w, l) => (net.weights[l] = move(w)));
      net.biases.forEach((b, l) => (net.biases[l] = move(b)));
    }
    this.act = sizes.map((s, l) => alloc(l === 0 ? 0 : capacity * s));
    this.delta = sizes.map((s, l) => alloc(l === 0 ? 0 : capacity * s));
    this.mask = sizes.map((s, l) => (dropout > 0 && l > 0 && l < sizes.length - 1 ? new Float64Array(capacity * s) : null));
    this.gradW = net.weights.map((w) => alloc(w.length));
    this.gradB = net.biases.map((b) => alloc(b.length));
    this.scratch = alloc(maxSize);
    this.zero = alloc(maxSize);
    this.transposed = alloc(arena ? maxWeights : 0);
  }
}

/** Moves weights and biases out of a SIMD arena into ordinary arrays (so the model does not hold the arena). */
export function detachSimd(net: DenseNetwork): void {
  net.weights.forEach((w, l) => (net.weights[l] = Float64Array.from(w)));
  net.biases.forEach((b, l) => (net.biases[l] = Float64Array.from(b)));
}

/** Draws the inverted-dropout masks of a batch's hidden layers (layer by layer, row-major) into ws.mask. */
export function drawDropoutMasks(ws: Workspace, count: number, dropout: number, rng: Rng): void {
  const keep = 1 / (1 - dropout);
  for (const mask of ws.mask) {
    if (!mask) continue;
    const n = (count * mask.length) / ws.capacity;
    for (let i = 0; i < n; i++) mask[i] = rng.next() < dropout ? 0 : keep;
  }
}

/**
 * Forward pass of `count` rows; the output is ws.act[layers]. With `dropout` > 0, hidden units are multiplied by the
 * masks in ws.mask (drawn by drawDropoutMasks). Only layers [from, to) run: from > 0 takes ws.act[from] as given
 * (split-hidden.ts computes the first layer elsewhere), to < layers stops at a hidden layer.
 */
export function forward(net: DenseNetwork, ws: Workspace, input: BatchInput, count: number, dropout = 0, from = 0, to = net.layers): void {
  const L = net.layers;
  for (let l = from; l < to; l++) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const out = ws.act[l + 1];
    if (l === 0 && 'sparse' in input) input.sparse.multiply(input.idx, input.start, count, net.weights[0], nOut, net.biases[0], out, ws.scratch, ws.simd);
    else if (ws.simd && l > 0 && nOut > 1) simdMatmul(ws.simd, ws.act[l], net.weights[l], net.biases[l], out, count, nIn, nOut);
    else matmul(l === 0 && 'dense' in input ? input.dense : ws.act[l], net.weights[l], net.biases[l], out, count, nIn, nOut);
    const n = count * nOut;
    if (l < L - 1) {
      if (net.hidden === 'relu' && ws.simd?.holds(out)) ws.simd.relu(out.byteOffset, out.byteOffset, n);
      else activate(net.hidden, out, n);
      const mask = ws.mask[l + 1];
      if (mask && dropout > 0) for (let i = 0; i < n; i++) out[i] *= mask[i];
    } else if (net.output === 'logistic') {
      for (let i = 0; i < n; i++) out[i] = sigmoid(out[i]);
    } else if (net.output === 'softmax') {
      for (let r = 0; r < count; r++) softmaxInPlace(out, r * nOut, nOut);
    }
  }
}

/**
 * Back-propagation. On entry ws.delta[layers] holds ∂loss/∂(output pre-activation) per row (already divided by the
 * batch size). Writes weight and bias gradients (plus the L2 term alpha·W / batch) into ws.gradW / ws.gradB, for
 * layers from `firstLayer` up (ws.delta[firstLayer] is written when firstLayer > 0).
 */
export function backward(net: DenseNetwork, ws: Workspace, input: BatchInput, count: number, alpha: number, firstLayer = 0): void {
  const L = net.layers;
  for (let l = L - 1; l >= firstLayer; l--) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const D = ws.delta[l + 1];
    const gW = ws.gradW[l];
    const gB = ws.gradB[l];
    const W = net.weights[l];
    const decay = alpha / count;
    for (let i = 0; i < gW.length; i++) gW[i] = decay * W[i];
    if (l === 0 && 'sparse' in input) {
      input.sparse.multiplyTransposedAdd(input.idx, input.start, count, D, nOut, gW, gB, ws.simd);
    } else {
      if (ws.simd && l > 0 && nOut > 1) simdMatmulTransposedAAdd(ws.simd, ws.act[l], D, gW, count, nIn, nOut);
      else matmulTransposedAAdd(l === 0 && 'dense' in input ? input.dense : ws.act[l], D, gW, count, nIn, nOut);
      gB.fill(0);
      for (let r = 0; r < count; r++) for (let c = 0; c < nOut; c++) gB[c] += D[r * nOut + c];
    }
    if (l > 0) {
      const E = ws.delta[l];
      if (ws.simd && nOut > 1) simdMatmulTransposedB(ws.simd, D, W, ws.transposed, ws.zero, E, count, nIn, nOut);
      else matmulTransposedB(D, W, E, count, nIn, nOut);
      const mask = ws.mask[l];
      if (mask) {
        // out = f(z)·m: the gradient picks up m, and f' is evaluated on the unscaled activation a / m.
        const a = ws.act[l];
        for (let i = 0; i < count * nIn; i++) {
          const m = mask[i];
          E[i] *= m;
          a[i] = m === 0 ? 0 : a[i] / m;
        }
      }
      const a = ws.act[l];
      if (net.hidden === 'relu' && ws.simd?.holds(E, a)) ws.simd.reluGradient(E.byteOffset, a.byteOffset, count * nIn);
      else derivative(net.hidden, a, E, count * nIn);
    }
  }
}

function activate(kind: Activation, a: Float64Array, n: number): void {
  switch (kind) {
    case 'relu':
      // Branch-free (signs are random, so a branch mispredicts half the time): (v + |v|) / 2 is exactly max(v, 0).
      for (let i = 0; i < n; i++) {
        const v = a[i];
        a[i] = (v + Math.abs(v)) * 0.5;
      }
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) a[i] = Math.tanh(a[i]);
      break;
    case 'logistic':
      for (let i = 0; i < n; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
      break;
    case 'identity':
      break;
  }
}

/** E ⊙= f'(z), written in terms of the activation a = f(z). */
function derivative(kind: Activation, a: Float64Array, E: Float64Array, n: number): void {
  switch (kind) {
    case 'relu':
      // a ≥ 0, so ceil(min(a, 1)) is exactly the indicator a > 0, without a branch.
      for (let i = 0; i < n; i++) E[i] *= Math.ceil(Math.min(a[i], 1));
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) E[i] *= 1 - a[i] * a[i];
      break;
    case 'logistic':
      for (let i = 0; i < n; i++) E[i] *= a[i] * (1 - a[i]);
      break;
    case 'identity':
      break;
  }
}
