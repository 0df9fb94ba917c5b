// Two-thread gradient histograms for boosting: a helper worker fills one half of each leaf's rows while the main
// thread fills the other, and the halves are added. Boosting asks for ~60 histograms per round, so the hand-off
// uses Atomics.wait / notify on a shared control block (microseconds) rather than messages. Every array the worker
// reads (bins, layouts, gradients, row index, sample and feature masks) lives in SharedArrayBuffers.

import type { Worker } from 'node:worker_threads';
import { LOCKSTEP_SLOTS, LockstepCaller, lockstepControl, startHelper } from '../../util/lockstep.js';
import { accumulateHistogram, fillDefaultBins, histogramLayout, type HistogramBuilder, type HistogramContext } from './boost-hist.js';

/** Control block slots (Int32) after the lock-step ones (util/lockstep.ts): the task's row range and root flag. */
export const START = LOCKSTEP_SLOTS;
export const END = LOCKSTEP_SLOTS + 1;
export const ROOT = LOCKSTEP_SLOTS + 2;

export interface BoostWorkerData {
  readonly ctx: HistogramContext;
  readonly control: Int32Array;
  /** The worker's half, histogram-sized. */
  readonly out: Float64Array;
}

export class ParallelHistograms implements HistogramBuilder {
  private readonly binBase: Int32Array;
  private readonly size: number;
  private readonly lockstep: LockstepCaller;

  private constructor(
    private readonly ctx: HistogramContext,
    private readonly worker: Worker,
    control: Int32Array,
    private readonly out: Float64Array,
  ) {
    ({ binBase: this.binBase, size: this.size } = histogramLayout(ctx.nBins));
    this.lockstep = new LockstepCaller(control);
  }

  /** Starts the helper worker; `ctx` arrays that change per tree must already be shared. */
  static async start(ctx: HistogramContext): Promise<ParallelHistograms> {
    const out = new Float64Array(new SharedArrayBuffer(histogramLayout(ctx.nBins).size * 8));
    const control = lockstepControl(3);
    const workerData: BoostWorkerData = { ctx, control, out };
    const worker = await startHelper(new URL('./boost-worker.js', import.meta.url), workerData, 'gbdt: histogram worker');
    return new ParallelHistograms(ctx, worker, control, out);
  }

  build(start: number, end: number, isRoot: boolean, g: number, h: number): Float64Array {
    const { lockstep, out } = this;
    const { control } = lockstep;
    control[START] = start;
    control[END] = end;
    control[ROOT] = isRoot ? 1 : 0;
    const seq = lockstep.request();
    const hist = new Float64Array(this.size);
    accumulateHistogram(this.ctx, this.binBase, hist, start, end, isRoot, 0, 2);
    lockstep.awaitAnswer(seq);
    for (let i = 0; i < hist.length; i++) hist[i] += out[i];
    fillDefaultBins(this.ctx, this.binBase, hist, g, h, end - start);
    return hist;
  }

  async close(): Promise<void> {
    this.lockstep.quit();
    await this.worker.terminate();
  }
}
