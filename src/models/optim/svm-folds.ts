// The calibration folds of the linear SVM (linear-svm.ts) on two threads: after the full solve, the fold problems
// (each a dual coordinate descent warm-started from the full solution, dual-cd.ts) are independent, so a helper worker
// solves every second fold while the calling thread solves the others. The worker is started before the full solve,
// so its start-up overlaps with it. A fold's result does not depend on the thread that solved it.

import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { OffsetSparseParts } from '../nn/offset-sparse.js';
import type { OffsetSparseRows } from '../nn/offset-sparse.js';
import { solveDualCd, type DualCdOptions } from './dual-cd.js';

/** What a fold solve needs besides the rows (functions and signals stay on the calling thread). */
export type FoldOptions = Omit<DualCdOptions, 'onEpoch' | 'signal'>;

export interface FoldSolution {
  w: Float64Array;
  b: number;
}

/** One request to the worker: solve these folds; `id` pairs the reply with the request. */
export interface FoldRequest {
  id: number;
  folds: FoldOptions[];
}

export class FoldSolver {
  private requests = 0;

  private constructor(
    private readonly S: OffsetSparseRows,
    private readonly worker: Worker | null,
  ) {}

  /** A helper worker over S's rows when `parallel`, else a solver on the calling thread only. */
  static start(S: OffsetSparseRows, parallel: boolean): FoldSolver {
    const parts: OffsetSparseParts = S.parts();
    return new FoldSolver(S, parallel ? new Worker(new URL('./svm-folds-worker.js', import.meta.url), { workerData: parts }) : null);
  }

  /** Solutions of the folds, in order. */
  async solve(folds: FoldOptions[], signal: AbortSignal | undefined): Promise<FoldSolution[]> {
    const out = new Array<FoldSolution>(folds.length);
    const here = (f: number): void => {
      if (signal?.aborted) throw new Error('aborted');
      const { w, b } = solveDualCd(this.S, folds[f]);
      out[f] = { w, b };
    };
    if (!this.worker || folds.length < 2) {
      for (let f = 0; f < folds.length; f++) here(f);
      return out;
    }
    const away = folds.map((_, f) => f).filter((f) => f % 2 === 1);
    const request: FoldRequest = { id: ++this.requests, folds: away.map((f) => folds[f]) };
    // a worker that exits (out of memory, terminated) is an error, not a reply awaited forever
    const listening = new AbortController();
    const exited = once(this.worker, 'exit', { signal: listening.signal }).then(([code]) => {
      throw new Error(`svm: calibration fold worker exited with code ${String(code)}`);
    });
    const reply = Promise.race([once(this.worker, 'message', { signal: listening.signal }), exited]);
    reply.catch(() => undefined); // settled below, or abandoned when a fold here throws
    this.worker.postMessage(request);
    let message: { id: number; solutions?: FoldSolution[]; error?: string };
    try {
      for (let f = 0; f < folds.length; f += 2) here(f);
      [message] = (await reply) as [typeof message];
    } finally {
      listening.abort();
    }
    if (message.error !== undefined || message.id !== request.id || !message.solutions) throw new Error(`svm: calibration fold worker failed: ${message.error ?? 'unexpected reply'}`);
    away.forEach((f, t) => (out[f] = (message.solutions as FoldSolution[])[t]));
    return out;
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
