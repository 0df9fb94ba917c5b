// Two-thread gradient histograms for boosting: a helper worker fills one half of each leaf's rows while the main
// thread fills the other, and the halves are added. Boosting asks for ~60 histograms per round, so the hand-off
// uses Atomics.wait / notify on a shared control block (microseconds) rather than messages. Every array the worker
// reads (bins, layouts, gradients, row index, sample and feature masks) lives in SharedArrayBuffers.

import { Worker } from 'node:worker_threads';
import { accumulateHistogram, fillDefaultBins, histogramLayout, type HistogramBuilder, type HistogramContext } from './boost-hist.js';

/** Control block slots (Int32): task sequence number, finished sequence number, task range, root flag, quit. */
export const SEQ = 0;
export const DONE = 1;
export const START = 2;
export const END = 3;
export const ROOT = 4;
export const QUIT = 5;

export interface BoostWorkerData {
  readonly ctx: HistogramContext;
  readonly control: Int32Array;
  /** The worker's half, histogram-sized. */
  readonly out: Float64Array;
}

export class ParallelHistograms implements HistogramBuilder {
  private readonly binBase: Int32Array;
  private readonly size: number;
  private seq = 0;

  private constructor(
    private readonly ctx: HistogramContext,
    private readonly worker: Worker,
    private readonly control: Int32Array,
    private readonly out: Float64Array,
  ) {
    ({ binBase: this.binBase, size: this.size } = histogramLayout(ctx.nBins));
  }

  /** Starts the helper worker; `ctx` arrays that change per tree must already be shared. */
  static async start(ctx: HistogramContext): Promise<ParallelHistograms> {
    const out = new Float64Array(new SharedArrayBuffer(histogramLayout(ctx.nBins).size * 8));
    const control = new Int32Array(new SharedArrayBuffer(8 * 4));
    const workerData: BoostWorkerData = { ctx, control, out };
    const worker = new Worker(new URL('./boost-worker.js', import.meta.url), { workerData });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new ParallelHistograms(ctx, worker, control, out);
  }

  build(start: number, end: number, isRoot: boolean, g: number, h: number): Float64Array {
    const { control, out } = this;
    const seq = ++this.seq;
    control[START] = start;
    control[END] = end;
    control[ROOT] = isRoot ? 1 : 0;
    Atomics.store(control, SEQ, seq);
    Atomics.notify(control, SEQ);
    const hist = new Float64Array(this.size);
    accumulateHistogram(this.ctx, this.binBase, hist, start, end, isRoot, 0, 2);
    while (Atomics.load(control, DONE) !== seq) Atomics.wait(control, DONE, seq - 1);
    for (let i = 0; i < hist.length; i++) hist[i] += out[i];
    fillDefaultBins(this.ctx, this.binBase, hist, g, h, end - start);
    return hist;
  }

  async close(): Promise<void> {
    Atomics.store(this.control, QUIT, 1);
    Atomics.store(this.control, SEQ, -1);
    Atomics.notify(this.control, SEQ);
    await this.worker.terminate();
  }
}
