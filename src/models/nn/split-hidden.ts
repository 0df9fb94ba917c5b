// The first hidden layer of a network over two threads, by its units (the model parallelism of Krizhevsky 2014, "One
// weird trick for parallelizing convolutional neural networks", applied to one layer). For sparse rows that layer
// dominates a batch: the products S·W0 and Sᵀ·E, the activations, and the delta E = (D·W1ᵀ) ⊙ f'. Split by hidden
// units, every element is the same sum in the same order as on one thread, and Adam is element-wise, so a split fit
// computes exactly the network a one-thread fit does, bit for bit. Per batch: the trainer hands the batch's rows (and
// the helper's dropout-mask columns) to a helper worker; both compute their units' outputs; the trainer gathers them,
// runs the layers above and the output delta, and hands the helper the delta of the layer above together with the
// next batch's rows; both then compute their units' gradients (W0 columns, b0, W1 rows) and Adam steps, and go on to
// the next batch's outputs. So within an epoch each side waits once per batch: the trainer for the helper's outputs,
// the helper for the delta. Hand-offs use Atomics on a lock-step control block (util/lockstep.ts, as
// trees/boost-parallel.ts does), polled before sleeping; rows, masks, activations, deltas and the helper's parameters
// travel through SharedArrayBuffers (O(batch · units) copies per batch). Between epochs the trainer can take the layer
// back onto one thread (moments) and split it again (resume), by the epochs' times (trainer.ts splitNextEpoch).

import type { Worker } from 'node:worker_threads';
import { ANSWERED, awaitSlot, LOCKSTEP_SLOTS, LockstepCaller, lockstepControl, signalSlot, startHelper } from '../../util/lockstep.js';
import { Adam } from './adam.js';
import { backward, DenseNetwork, forward, Workspace, type BatchInput } from './network.js';
import { OffsetSparseRows, type OffsetSparseParts } from './offset-sparse.js';

type SparseBatch = Extract<BatchInput, { sparse: OffsetSparseRows }>;

/**
 * Control block slots (Int32) after the lock-step ones: a batch is a request (or handed over with the delta of the one
 * before, HANDED_OVER = 1), answered once the helper's Adam step is done unless a next batch was handed over; in
 * between, the helper's outputs are ready at FORWARD_DONE and the delta above at BACKWARD. A failed helper sets FAILED
 * and QUIT.
 */
export const FORWARD_DONE = LOCKSTEP_SLOTS;
export const BACKWARD = LOCKSTEP_SLOTS + 1;
export const COUNT = LOCKSTEP_SLOTS + 2;
export const FAILED = LOCKSTEP_SLOTS + 3;
export const HANDED_OVER = LOCKSTEP_SLOTS + 4;
/** Set (with the Adam step count in STEPS) when the helper is to reload its slice from the shared arrays (resume()). */
export const RELOAD = LOCKSTEP_SLOTS + 5;
export const STEPS = LOCKSTEP_SLOTS + 6;

/** Rows × first-layer weights per epoch from which a helper thread pays for itself (NSL-KDD, 100 units: 1.5e9). */
const SPLIT_WORK = 5e7;
/** Smaller batches or layers are not split: the hand-offs would cost more than the work. */
const MIN_SPLIT_BATCH = 32;
const MIN_SPLIT_UNITS = 16;
/** A half batch takes well under a millisecond; a helper silent for this long is gone. */
const WORKER_PATIENCE_MS = 60_000;

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The parameters of some first-hidden-layer units: W0 columns (cols × units), b0, W1 rows (units × next), b1. */
interface SliceParams {
  W0: Float64Array;
  b0: Float64Array;
  W1: Float64Array;
  b1: Float64Array;
}

/** What the helper reads; the arrays that change per batch are shared. */
export interface SplitShared {
  readonly sparse: OffsetSparseParts;
  readonly sizes: readonly number[];
  readonly hidden: DenseNetwork['hidden'];
  readonly capacity: number;
  readonly dropout: number;
  readonly adam: AdamConfig;
  readonly control: Int32Array;
  readonly alpha: Float64Array;
  readonly rows: Int32Array;
  /** The helper's dropout-mask columns, then its activations (rows × its units). */
  readonly mask: Float64Array;
  readonly act: Float64Array;
  /** The delta of the layer above (rows × next). */
  readonly delta: Float64Array;
  /** The helper's Adam moments (UnitSlice order: W0 columns, W1 rows, b0; m, then v). */
  readonly moments: Float64Array;
  /** The helper's W0 columns, b0 and W1 rows (as of its last Adam step), concatenated. */
  readonly params: Float64Array;
}

/** Whether a fit's first hidden layer is worth splitting over two threads. */
export function splitWorthwhile(rows: number, batchSize: number, sizes: readonly number[]): boolean {
  return sizes.length > 2 && Math.min(batchSize, rows) >= MIN_SPLIT_BATCH && sizes[1] >= MIN_SPLIT_UNITS && rows * sizes[0] * sizes[1] >= SPLIT_WORK;
}

/**
 * One thread's units of the first hidden layer, as the network cols → units → next in a SIMD arena, with its Adam
 * (over W0, b0, W1, and b1 only where `ownsB1`: b1's gradient is the same in every slice).
 */
export class UnitSlice {
  readonly net: DenseNetwork;
  readonly ws: Workspace;
  readonly adam: Adam;
  private readonly params: Float64Array[];
  private readonly grads: Float64Array[];

  constructor(p: SliceParams, hidden: DenseNetwork['hidden'], capacity: number, dropout: number, adam: AdamConfig, ownsB1: boolean, moments?: Float64Array) {
    const units = p.b0.length;
    this.net = new DenseNetwork([p.W0.length / units, units, p.b1.length], hidden, 'identity', [p.W0, p.W1], [p.b0, p.b1]);
    this.ws = new Workspace(this.net, capacity, dropout, true);
    const { net, ws } = this;
    this.params = [net.weights[0], net.weights[1], net.biases[0], ...(ownsB1 ? [net.biases[1]] : [])];
    this.grads = [ws.gradW[0], ws.gradW[1], ws.gradB[0], ...(ownsB1 ? [ws.gradB[1]] : [])];
    this.adam = new Adam(this.params, adam.learningRate, adam.beta1, adam.beta2, adam.epsilon, moments);
  }

  /** These units' outputs (activated, masks from ws.mask[1] applied) into ws.act[1]. */
  forward(input: SparseBatch, count: number, dropout: number): void {
    forward(this.net, this.ws, input, count, dropout, 0, 1);
  }

  /** Gradients from the delta above in ws.delta[2], then one Adam step. */
  backward(input: SparseBatch, count: number, alpha: number): void {
    backward(this.net, this.ws, input, count, alpha);
    this.adam.step(this.params, this.grads);
  }
}

/** The trainer's side: its own units' slice, and the helper's through the shared buffers. */
export class SplitHidden {
  private readonly lockstep: LockstepCaller;
  private closing: Promise<void> | null = null;
  /** The helper holds the next batch (handed over by backward()). */
  private nextHandedOver = false;

  private constructor(
    private readonly own: UnitSlice,
    private readonly shared: SplitShared,
    private readonly worker: Worker,
  ) {
    this.lockstep = new LockstepCaller(shared.control);
  }

  /** Starts the helper with the last half of `net`'s first hidden units (their current parameters). */
  static async start(net: DenseNetwork, S: OffsetSparseRows, batchSize: number, dropout: number, adam: AdamConfig): Promise<SplitHidden> {
    const [cols, units, next] = net.sizes;
    const ownUnits = 2 * Math.round(units / 4); // even, so rows stay 16-byte aligned for the SIMD kernel
    const helperUnits = units - ownUnits;
    const capacity = Math.max(1, Math.min(batchSize, S.rows));
    const slice = (from: number, n: number): SliceParams => {
      const W0 = new Float64Array(cols * n);
      for (let j = 0; j < cols; j++) W0.set(net.weights[0].subarray(j * units + from, j * units + from + n), j * n);
      return { W0, b0: net.biases[0].slice(from, from + n), W1: net.weights[1].slice(from * next, (from + n) * next), b1: net.biases[1].slice() };
    };
    const helper = slice(ownUnits, helperUnits);
    const shared: SplitShared = {
      sparse: S.parts(),
      sizes: [cols, helperUnits, next],
      hidden: net.hidden,
      capacity,
      dropout,
      adam,
      control: lockstepControl(7),
      alpha: sharedFloats(1),
      rows: new Int32Array(new SharedArrayBuffer(capacity * 4)),
      mask: sharedFloats(dropout > 0 ? capacity * helperUnits : 0),
      act: sharedFloats(capacity * helperUnits),
      delta: sharedFloats(capacity * next),
      params: sharedFloats((cols + 1 + next) * helperUnits),
      moments: sharedFloats(2 * (cols + 1 + next) * helperUnits),
    };
    shared.params.set(helper.W0);
    shared.params.set(helper.b0, cols * helperUnits);
    shared.params.set(helper.W1, (cols + 1) * helperUnits);
    const own = new UnitSlice(slice(0, ownUnits), net.hidden, capacity, dropout, adam, true);
    const worker = await startHelper(new URL('./split-hidden-worker.js', import.meta.url), { ...shared, b1: helper.b1 }, 'mlp: first-layer worker');
    return new SplitHidden(own, shared, worker);
  }

  /**
   * The first hidden layer's outputs for the batch into ws.act[1] (half of the units from the helper), and the current
   * W1 and b1 into `net`. The batch's dropout masks are in ws.mask[1].
   */
  forward(input: SparseBatch, count: number, net: DenseNetwork, ws: Workspace): void {
    const { act, dropout } = this.shared;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    const k = a + b;
    const full = ws.mask[1];
    const ownMask = this.own.ws.mask[1];
    if (dropout > 0 && full && ownMask) {
      for (let r = 0; r < count; r++) for (let c = 0; c < a; c++) ownMask[r * a + c] = full[r * k + c];
    }
    let seq: number;
    if (this.nextHandedOver) {
      seq = this.lockstep.handedOver();
      this.nextHandedOver = false;
    } else {
      this.handOver(input, count, full);
      seq = this.lockstep.request();
    }
    this.own.forward(input, count, dropout);
    this.wait(FORWARD_DONE, seq);
    const mine = this.own.ws.act[1];
    const out = ws.act[1];
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < a; c++) out[r * k + c] = mine[r * a + c];
      for (let c = 0; c < b; c++) out[r * k + a + c] = act[r * b + c];
    }
    this.gatherAbove(net);
  }

  /**
   * Both threads' gradients and Adam steps for the first hidden layer, from the delta above (rows × next). `next`, the
   * following batch of the epoch (its dropout masks already drawn into next.mask), goes to the helper with the delta:
   * it computes its outputs right after its Adam step, and the next forward() only waits for them.
   */
  backward(input: SparseBatch, count: number, delta: Float64Array, alpha: number, next: { input: SparseBatch; count: number; mask: Float64Array | null } | null): void {
    const { control } = this.shared;
    const n = count * this.shared.sizes[2];
    this.shared.delta.set(delta.subarray(0, n));
    this.own.ws.delta[2].set(delta.subarray(0, n));
    this.shared.alpha[0] = alpha;
    if (next) this.handOver(next.input, next.count, next.mask);
    control[HANDED_OVER] = next ? 1 : 0;
    this.nextHandedOver = next !== null;
    signalSlot(control, BACKWARD, this.lockstep.last);
    this.own.backward(input, count, alpha);
  }

  /** ½‖W‖² of the whole network (W0 from both threads), summed in the one-thread order; W1 as gathered. */
  halfSquaredWeights(net: DenseNetwork): number {
    const W = this.own.net.weights[0];
    const V = this.shared.params;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    let s = 0;
    for (let j = 0; j < net.sizes[0]; j++) {
      for (let c = 0; c < a; c++) s += W[j * a + c] * W[j * a + c];
      for (let c = 0; c < b; c++) s += V[j * b + c] * V[j * b + c];
    }
    for (let l = 1; l < net.layers; l++) {
      const U = net.weights[l];
      for (let i = 0; i < U.length; i++) s += U[i] * U[i];
    }
    return 0.5 * s;
  }

  /** Waits for the helper's last step and writes both threads' first-hidden-layer parameters into `net`. */
  collect(net: DenseNetwork): void {
    if (this.lockstep.last > 0) this.wait(ANSWERED, this.lockstep.last);
    const W = this.own.net.weights[0];
    const V = this.shared.params;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    const cols = net.sizes[0];
    for (let j = 0; j < cols; j++) {
      net.weights[0].set(W.subarray(j * a, (j + 1) * a), j * (a + b));
      net.weights[0].set(V.subarray(j * b, (j + 1) * b), j * (a + b) + a);
    }
    net.biases[0].set(this.own.net.biases[0]);
    net.biases[0].set(V.subarray(cols * b, (cols + 1) * b), a);
    this.gatherAbove(net);
  }

  /**
   * After collect(): the first layers' Adam moments of the whole network as a one-thread fit lays them out (W0, W1,
   * b0, b1), both threads' units joined; their step count is the trainer's.
   */
  moments(net: DenseNetwork): { m: Float64Array[]; v: Float64Array[]; t: number } {
    const [cols, units, next] = net.sizes;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    const helperLength = (cols + 1 + next) * b;
    const joined = (own: Float64Array[], at: number): Float64Array[] => {
      const H = this.shared.moments.subarray(at, at + helperLength);
      const W0 = new Float64Array(cols * units);
      joinColumns(W0, own[0], H, cols, a, b);
      const W1 = new Float64Array(units * next);
      W1.set(own[1]);
      W1.set(H.subarray(cols * b, (cols + next) * b), a * next);
      const b0 = new Float64Array(units);
      b0.set(own[2]);
      b0.set(H.subarray((cols + next) * b), a);
      return [W0, W1, b0, own[3].slice()];
    };
    return { m: joined(this.own.adam.m, 0), v: joined(this.own.adam.v, helperLength), t: this.own.adam.t };
  }

  /**
   * Splits the network's first layers again after one-thread batches: both threads' parameters from `net`, their Adam
   * moments from the whole network's (laid out as moments() returns them) at step count t. The helper reloads its
   * slice at the next request.
   */
  resume(net: DenseNetwork, m: readonly Float64Array[], v: readonly Float64Array[], t: number): void {
    const [cols, units, next] = net.sizes;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    const own = this.own.net;
    splitColumns(net.weights[0], own.weights[0], this.shared.params, cols, a, b);
    own.biases[0].set(net.biases[0].subarray(0, a));
    own.weights[1].set(net.weights[1].subarray(0, a * next));
    own.biases[1].set(net.biases[1]);
    this.shared.params.set(net.biases[0].subarray(a), cols * b);
    this.shared.params.set(net.weights[1].subarray(a * next), (cols + 1) * b);
    const helperLength = (cols + 1 + next) * b;
    const split = (full: readonly Float64Array[], mine: Float64Array[], at: number): void => {
      const H = this.shared.moments.subarray(at, at + helperLength);
      splitColumns(full[0], mine[0], H, cols, a, b);
      mine[1].set(full[1].subarray(0, a * next));
      H.set(full[1].subarray(a * next, units * next), cols * b);
      mine[2].set(full[2].subarray(0, a));
      H.set(full[2].subarray(a), (cols + next) * b);
      mine[3].set(full[3]);
    };
    split(m, this.own.adam.m, 0);
    split(v, this.own.adam.v, helperLength);
    this.own.adam.t = t;
    this.shared.control[STEPS] = t;
    this.shared.control[RELOAD] = 1;
  }

  /** Stops the worker (safe to call more than once, also after a failure). */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.lockstep.quit();
    Atomics.notify(this.shared.control, BACKWARD);
    await this.worker.terminate();
  }

  /** A batch's rows and the helper's columns of its dropout masks (from the full masks) into the shared arrays. */
  private handOver(input: SparseBatch, count: number, full: Float64Array | null): void {
    const { control, rows, mask, dropout } = this.shared;
    const a = this.own.net.sizes[1];
    const b = this.shared.sizes[1];
    const k = a + b;
    rows.set(input.idx.subarray(input.start, input.start + count));
    if (dropout > 0 && full) {
      for (let r = 0; r < count; r++) for (let c = 0; c < b; c++) mask[r * b + c] = full[r * k + a + c];
    }
    control[COUNT] = count;
  }

  /** W1 (own rows, then the helper's as of its last step) and b1 into `net`. */
  private gatherAbove(net: DenseNetwork): void {
    const own = this.own.net;
    const [cols, b] = this.shared.sizes;
    net.weights[1].set(own.weights[1]);
    net.weights[1].set(this.shared.params.subarray((cols + 1) * b), own.weights[1].length);
    net.biases[1].set(own.biases[1]);
  }

  private wait(slot: number, seq: number): void {
    const { control } = this.shared;
    if (!awaitSlot(control, slot, seq, WORKER_PATIENCE_MS)) throw new Error(`mlp: the first-layer worker stopped answering for ${WORKER_PATIENCE_MS / 1000} s`);
    if (Atomics.load(control, FAILED)) throw new Error('mlp: first-layer worker failed');
  }
}

/** Columns [0, a) of the cols × (a + b) matrix `full` into `left` (cols × a), the others into `right` (cols × b). */
function splitColumns(full: Float64Array, left: Float64Array, right: Float64Array, cols: number, a: number, b: number): void {
  for (let j = 0; j < cols; j++) {
    left.set(full.subarray(j * (a + b), j * (a + b) + a), j * a);
    right.set(full.subarray(j * (a + b) + a, (j + 1) * (a + b)), j * b);
  }
}

/** The inverse of splitColumns. */
function joinColumns(full: Float64Array, left: Float64Array, right: Float64Array, cols: number, a: number, b: number): void {
  for (let j = 0; j < cols; j++) {
    full.set(left.subarray(j * a, (j + 1) * a), j * (a + b));
    full.set(right.subarray(j * b, (j + 1) * b), j * (a + b) + a);
  }
}

function sharedFloats(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
}
