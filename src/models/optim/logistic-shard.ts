// The data term of the logistic-regression objective (Σ_i w_i·logloss_i and its gradient) over shards of rows, so
// L-BFGS can evaluate the shards on two threads and add their partial sums in a fixed order: the result does not
// depend on how many threads ran. The second shard runs in a worker (logistic-worker.ts) woken through Atomics on
// shared memory, ~100 times per fit. Per evaluation: O(nnz · k) split over the shards.

import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { Matrix } from '../../frame/matrix.js';
import { identityIndex, OffsetSparseRows } from '../nn/offset-sparse.js';
import { softmaxInPlace } from '../nn/fit-utils.js';
import { defaultThreads } from '../../util/worker-pool.js';

/** Below this many rows one shard is evaluated on the calling thread. */
const SHARD_MIN_ROWS = 40000;

/** One block of rows with its targets and scratch. out = [loss, correct, ∂W (cols·k), ∂b (k)]. */
export class LogisticShard {
  private readonly S: OffsetSparseRows;
  private readonly idx: Int32Array;
  private readonly Z: Float64Array;
  private readonly scratch: Float64Array;

  constructor(
    X: Matrix,
    private readonly codes: Int32Array,
    private readonly weights: Float64Array | null,
    private readonly k: number,
  ) {
    this.S = new OffsetSparseRows(X);
    this.idx = identityIndex(X.rows);
    this.Z = new Float64Array(X.rows * k);
    this.scratch = new Float64Array(k);
  }

  evaluate(x: Float64Array, fitIntercept: boolean, out: Float64Array): void {
    const { S, idx, Z, codes, weights, k } = this;
    const rows = S.rows;
    const nW = S.cols * k;
    const W = x.subarray(0, nW);
    S.multiply(idx, 0, rows, W, k, fitIntercept ? x.subarray(nW, nW + k) : null, Z, this.scratch);
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
    if (k === 1) {
      gB[0] = S.multiplyTransposedAll(Z, gW);
    } else {
      gW.fill(0);
      S.multiplyTransposedAdd(idx, 0, rows, Z, k, gW, gB);
    }
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
  /** Int32 × 3: [request generation, done generation, stop]. */
  control: SharedArrayBuffer;
}

/** The sharded objective: shard 0 on this thread, shard 1 in a worker (or here when threads are unavailable). */
export class LogisticShards {
  private readonly local: LogisticShard[];
  private readonly outputs: Float64Array[];
  private readonly worker: Worker | null;
  private readonly params: Float64Array | null;
  private readonly result: Float64Array | null;
  private readonly control: Int32Array | null;
  private generation = 0;

  private constructor(local: LogisticShard[], outputs: Float64Array[], worker: Worker | null, params: Float64Array | null, result: Float64Array | null, control: Int32Array | null) {
    this.local = local;
    this.outputs = outputs;
    this.worker = worker;
    this.params = params;
    this.result = result;
    this.control = control;
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
      control: shared(12),
    };
    // Start the worker first, so its start-up and its shard's preparation overlap with shard 0's.
    const worker = new Worker(new URL('./logistic-worker.js', import.meta.url), { workerData });
    const ready = once(worker, 'message');
    const shard0 = new LogisticShard(first.X, first.codes, first.weights, k);
    await ready;
    return new LogisticShards([shard0], [new Float64Array(size)], worker, new Float64Array(workerData.params), new Float64Array(workerData.result), new Int32Array(workerData.control));
  }

  /** Sums the shards' [loss, correct, gradient...] into `total` (same layout), shard by shard in order. */
  evaluate(x: Float64Array, fitIntercept: boolean, total: Float64Array): void {
    const { worker, control, params, result } = this;
    if (worker && control && params && result) {
      params.set(x.subarray(0, params.length));
      this.generation++;
      Atomics.store(control, 0, this.generation);
      Atomics.notify(control, 0);
    }
    this.local.forEach((shard, s) => shard.evaluate(x, fitIntercept, this.outputs[s]));
    total.set(this.outputs[0]);
    for (let s = 1; s < this.outputs.length; s++) for (let i = 0; i < total.length; i++) total[i] += this.outputs[s][i];
    if (worker && control && result) {
      for (;;) {
        const done = Atomics.load(control, 1);
        if (done === this.generation) break;
        if (Atomics.wait(control, 1, done, 120000) === 'timed-out') throw new Error('logreg: worker thread stopped responding');
      }
      for (let i = 0; i < total.length; i++) total[i] += result[i];
    }
  }

  async close(): Promise<void> {
    if (!this.worker || !this.control) return;
    Atomics.store(this.control, 2, 1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await this.worker.terminate();
  }
}
