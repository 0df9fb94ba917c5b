// The data term of the logistic-regression objective (Σ_i w_i·logloss_i and its gradient) over shards of rows, so
// L-BFGS can evaluate the shards on two threads and add their partial sums in a fixed order: the result does not
// depend on how many threads ran. The second shard runs in a worker (logistic-worker.ts) woken through Atomics on
// shared memory, ~100 times per fit; until the worker has started (tens of ms) this thread evaluates both shards, so
// the start-up is not waited for. Per evaluation: O(nnz · k) split over the shards. A binary problem on dense data
// (most entries differ from their column's mode, as in flow statistics) instead keeps two Float32 copies of the block
// in a WebAssembly SIMD arena (simd.ts) and evaluates X·w column by column and Xᵀd row by row with its f64x2 kernel:
// O(rows · cols) at two products per instruction instead of O(nnz) scalar gathers.

import { Worker } from 'node:worker_threads';
import type { Matrix } from '../../frame/matrix.js';
import { identityIndex, OffsetSparseRows } from '../nn/offset-sparse.js';
import { softmaxInPlace } from '../nn/fit-utils.js';
import { SimdArena } from '../nn/simd.js';
import { defaultThreads } from '../../util/worker-pool.js';
import { LOCKSTEP_SLOTS, LockstepCaller, lockstepControl } from '../../util/lockstep.js';

/** Below this many rows one shard is evaluated on the calling thread. */
const SHARD_MIN_ROWS = 16384;
/** The dense SIMD form is used from this fraction of entries off their column's mode (at 4× less work per entry)... */
const DENSE_MIN_DENSITY = 0.25;
/** ...and up to this many entries per block (two Float32 copies: 8 bytes per entry). */
const DENSE_MAX_ENTRIES = 1 << 22;
/** Rows at the start of the block the density is estimated on. */
const DENSITY_SAMPLE_ROWS = 256;

/** Two copies of a block (its Float32 values) in a SIMD arena, and the arena's scratch for one binary evaluation. */
interface DenseBlock {
  simd: SimdArena;
  /** cols × rows: z = Σ_j w_j · column_j. */
  columns: Float32Array;
  /** rows × cols: g = Σ_i d_i · row_i. */
  rowMajor: Float32Array;
  zeros: Float64Array;
  z: Float64Array;
  gradient: Float64Array;
}

/** The dense form of a block when the binary objective is cheaper on it (see DENSE_MIN_DENSITY), else null. */
function denseBlock(X: Matrix, k: number): DenseBlock | null {
  const { rows, cols, data } = X;
  const entries = rows * cols;
  if (k !== 1 || entries === 0 || entries > DENSE_MAX_ENTRIES) return null;
  const sample = Math.min(rows, DENSITY_SAMPLE_ROWS);
  if (new OffsetSparseRows({ rows: sample, cols, data: data.subarray(0, sample * cols) }).density < DENSE_MIN_DENSITY) return null;
  const simd = SimdArena.create(4 * 2 * entries + 8 * (2 * rows + cols) + 16 * 6);
  if (!simd) return null;
  const columns = simd.allocFloat32(entries);
  const rowMajor = simd.allocFloat32(entries);
  rowMajor.set(data);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) columns[j * rows + i] = data[i * cols + j];
  return { simd, columns, rowMajor, zeros: simd.alloc(rows), z: simd.alloc(rows), gradient: simd.alloc(cols) };
}

/** One block of rows with its targets and scratch. out = [loss, correct, ∂W (cols·k), ∂b (k)]. */
export class LogisticShard {
  private readonly S: OffsetSparseRows | null;
  private readonly dense: DenseBlock | null;
  private readonly rows: number;
  private readonly cols: number;
  private readonly idx: Int32Array;
  private readonly Z: Float64Array;
  private readonly scratch: Float64Array;

  constructor(
    X: Matrix,
    private readonly codes: Int32Array,
    private readonly weights: Float64Array | null,
    private readonly k: number,
  ) {
    this.rows = X.rows;
    this.cols = X.cols;
    this.dense = denseBlock(X, k);
    this.S = this.dense ? null : new OffsetSparseRows(X);
    this.idx = this.dense ? new Int32Array(0) : identityIndex(X.rows);
    this.Z = this.dense ? this.dense.z : new Float64Array(X.rows * k);
    this.scratch = new Float64Array(k);
  }

  evaluate(x: Float64Array, fitIntercept: boolean, out: Float64Array): void {
    const { S, dense, idx, Z, codes, weights, k, rows } = this;
    const nW = this.cols * k;
    const W = x.subarray(0, nW);
    if (dense) this.denseScores(dense, W, fitIntercept ? x[nW] : 0);
    else (S as OffsetSparseRows).multiply(idx, 0, rows, W, k, fitIntercept ? x.subarray(nW, nW + k) : null, Z, this.scratch);
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < rows; i++) {
      const w = weights ? weights[i] : 1;
      const yi = codes[i];
      if (k === 1) {
        const z = Z[i];
        const t = yi === 1 ? 1 : 0;
        const e = Math.exp(-Math.abs(z));
        loss += w * ((z > 0 ? z : 0) + Math.log1p(e) - t * z);
        Z[i] = w * ((z >= 0 ? 1 : e) / (1 + e) - t);
        if ((z > 0 ? 1 : 0) === t) correct++;
      } else {
        const o = i * k;
        let best = 0;
        for (let c = 1; c < k; c++) if (Z[o + c] > Z[o + best]) best = c;
        if (best === yi) correct++;
        const zy = Z[o + yi];
        loss += w * (softmaxInPlace(Z, o, k) - zy);
        Z[o + yi] -= 1;
        if (w !== 1) for (let c = 0; c < k; c++) Z[o + c] *= w;
      }
    }
    out[0] = loss;
    out[1] = correct;
    const gW = out.subarray(2, 2 + nW);
    const gB = out.subarray(2 + nW, 2 + nW + k);
    if (dense) {
      gB[0] = this.denseGradient(dense, gW);
    } else if (k === 1) {
      gB[0] = (S as OffsetSparseRows).multiplyTransposedAll(Z, gW);
    } else {
      gW.fill(0);
      (S as OffsetSparseRows).multiplyTransposedAdd(idx, 0, rows, Z, k, gW, gB);
    }
  }

  /** z = X·w + bias, four columns per kernel call (a short last group is padded with zero weights). */
  private denseScores(dense: DenseBlock, w: Float64Array, bias: number): void {
    const { simd, columns, zeros, z } = dense;
    const { rows, cols } = this;
    const colBytes = rows * 4;
    const at = (j: number): number => columns.byteOffset + Math.min(j, cols - 1) * colBytes;
    let src = zeros.byteOffset;
    for (let j = 0; j < cols; j += 4) {
      simd.fma4f32(z.byteOffset, src, at(j), at(j + 1), at(j + 2), at(j + 3), w[j], j + 1 < cols ? w[j + 1] : 0, j + 2 < cols ? w[j + 2] : 0, j + 3 < cols ? w[j + 3] : 0, rows);
      src = z.byteOffset;
    }
    if (bias !== 0) for (let i = 0; i < rows; i++) z[i] += bias;
  }

  /** gW = Xᵀd with d in z, four rows per kernel call; returns Σd. */
  private denseGradient(dense: DenseBlock, gW: Float64Array): number {
    const { simd, rowMajor, z, gradient } = dense;
    const { rows, cols } = this;
    const rowBytes = cols * 4;
    gradient.fill(0);
    const g = gradient.byteOffset;
    let sum = 0;
    let i = 0;
    for (let row = rowMajor.byteOffset; i + 4 <= rows; i += 4, row += 4 * rowBytes) {
      sum += z[i] + z[i + 1] + z[i + 2] + z[i + 3];
      simd.fma4f32(g, g, row, row + rowBytes, row + 2 * rowBytes, row + 3 * rowBytes, z[i], z[i + 1], z[i + 2], z[i + 3], cols);
    }
    if (i < rows) {
      // The last 1-3 rows, padded with zero coefficients on the last row.
      const last = rowMajor.byteOffset + (rows - 1) * rowBytes;
      const at = (r: number): number => (r < rows ? rowMajor.byteOffset + r * rowBytes : last);
      const d = (r: number): number => (r < rows ? z[r] : 0);
      sum += d(i) + d(i + 1) + d(i + 2);
      simd.fma4f32(g, g, at(i), at(i + 1), at(i + 2), last, d(i), d(i + 1), d(i + 2), 0, cols);
    }
    gW.set(gradient);
    return sum;
  }
}

/** What the worker receives: its block of rows and the shared buffers. */
export interface ShardWorkerData {
  rows: number;
  cols: number;
  k: number;
  fitIntercept: boolean;
  data: SharedArrayBuffer;
  codes: SharedArrayBuffer;
  weights: SharedArrayBuffer | null;
  /** Current parameters, Float64 × (cols·k + k). */
  params: SharedArrayBuffer;
  /** Float64 × (2 + cols·k + k). */
  result: SharedArrayBuffer;
  /** The lock-step control block (util/lockstep.ts) and READY. */
  control: Int32Array;
}

/** Slot of the control block the worker sets to 1 once its shard is built. */
export const READY = LOCKSTEP_SLOTS;

/** A helper silent for this long (an evaluation takes milliseconds) is gone. */
const WORKER_PATIENCE_MS = 120_000;

/** The sharded objective: shard 0 on this thread, shard 1 in a worker once it is ready (before that, or when threads
 * are unavailable, here). */
export class LogisticShards {
  private readonly local: LogisticShard[];
  private readonly outputs: Float64Array[];
  private readonly worker: Worker | null;
  private readonly params: Float64Array | null;
  private readonly result: Float64Array | null;
  private readonly lockstep: LockstepCaller | null;
  private failure: Error | null = null;

  private constructor(local: LogisticShard[], outputs: Float64Array[], worker: Worker | null, params: Float64Array | null, result: Float64Array | null, control: Int32Array | null) {
    this.local = local;
    this.outputs = outputs;
    this.worker = worker;
    this.params = params;
    this.result = result;
    this.lockstep = control ? new LockstepCaller(control) : null;
    worker?.on('error', (err: Error) => (this.failure = err));
  }

  static async create(X: Matrix, codes: Int32Array, weights: Float64Array | null, k: number, fitIntercept: boolean): Promise<LogisticShards> {
    const { rows, cols } = X;
    const size = 2 + cols * k + k;
    const block = (from: number, to: number): { X: Matrix; codes: Int32Array; weights: Float64Array | null } => ({
      X: { rows: to - from, cols, data: X.data.subarray(from * cols, to * cols) },
      codes: codes.subarray(from, to),
      weights: weights ? weights.subarray(from, to) : null,
    });
    if (rows < SHARD_MIN_ROWS) {
      const b = block(0, rows);
      return new LogisticShards([new LogisticShard(b.X, b.codes, b.weights, k)], [new Float64Array(size)], null, null, null, null);
    }
    const half = rows >> 1;
    const first = block(0, half);
    const second = block(half, rows);
    if (defaultThreads() < 2) {
      const shard0 = new LogisticShard(first.X, first.codes, first.weights, k);
      const shard1 = new LogisticShard(second.X, second.codes, second.weights, k);
      return new LogisticShards([shard0, shard1], [new Float64Array(size), new Float64Array(size)], null, null, null, null);
    }
    const shared = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
    const data = shared(second.X.data.byteLength);
    new Float32Array(data).set(second.X.data);
    const codeBuf = shared(second.codes.byteLength);
    new Int32Array(codeBuf).set(second.codes);
    let weightBuf: SharedArrayBuffer | null = null;
    if (second.weights) {
      weightBuf = shared(second.weights.byteLength);
      new Float64Array(weightBuf).set(second.weights);
    }
    const workerData: ShardWorkerData = {
      rows: second.X.rows,
      cols,
      k,
      fitIntercept,
      data,
      codes: codeBuf,
      weights: weightBuf,
      params: shared(8 * (cols * k + k)),
      result: shared(8 * size),
      control: lockstepControl(1),
    };
    const worker = new Worker(new URL('./logistic-worker.js', import.meta.url), { workerData });
    const shard0 = new LogisticShard(first.X, first.codes, first.weights, k);
    const shard1 = new LogisticShard(second.X, second.codes, second.weights, k);
    return new LogisticShards([shard0, shard1], [new Float64Array(size), new Float64Array(size)], worker, new Float64Array(workerData.params), new Float64Array(workerData.result), workerData.control);
  }

  /** Sums the shards' [loss, correct, gradient...] into `total` (same layout), shard by shard in order. */
  evaluate(x: Float64Array, fitIntercept: boolean, total: Float64Array): void {
    const { lockstep, params, result } = this;
    if (this.failure) throw new Error(`logreg: worker thread failed: ${this.failure.message}`);
    const remote = lockstep !== null && params !== null && Atomics.load(lockstep.control, READY) === 1;
    let seq = 0;
    if (remote) {
      params.set(x.subarray(0, params.length));
      seq = lockstep.request();
    }
    const localShards = remote ? 1 : this.local.length;
    for (let s = 0; s < localShards; s++) this.local[s].evaluate(x, fitIntercept, this.outputs[s]);
    total.set(this.outputs[0]);
    for (let s = 1; s < localShards; s++) for (let i = 0; i < total.length; i++) total[i] += this.outputs[s][i];
    if (remote && result) {
      if (!lockstep.awaitAnswer(seq, WORKER_PATIENCE_MS)) throw new Error('logreg: worker thread stopped responding');
      for (let i = 0; i < total.length; i++) total[i] += result[i];
    }
  }

  async close(): Promise<void> {
    if (!this.worker || !this.lockstep) return;
    this.lockstep.quit();
    await this.worker.terminate();
  }
}
