// The calibration folds of the linear SVM (linear-svm.ts) on two threads: after the full solve, the fold problems
// (each a dual coordinate descent warm-started from the full solution, dual-cd.ts) are independent, so a helper worker
// solves every second fold while the calling thread solves the others. The worker is started before the full solve,
// so its start-up overlaps with it. A fold's result does not depend on the thread that solved it.

import type { OffsetSparseParts, OffsetSparseRows } from '../nn/offset-sparse.js';
import { HelperThread } from '../../util/helper-thread.js';
import { solveDualCd, type DualCdOptions } from './dual-cd.js';

/** What a fold solve needs besides the rows (functions and signals stay on the calling thread). */
export type FoldOptions = Omit<DualCdOptions, 'onEpoch' | 'signal'>;

export interface FoldSolution {
  w: Float64Array;
  b: number;
}

export class FoldSolver {
  private constructor(
    private readonly S: OffsetSparseRows,
    private readonly helper: HelperThread<FoldOptions[], FoldSolution[]> | null,
  ) {}

  /** A helper worker over S's rows when `parallel`, else a solver on the calling thread only. */
  static start(S: OffsetSparseRows, parallel: boolean): FoldSolver {
    const parts: OffsetSparseParts = S.parts();
    return new FoldSolver(S, parallel ? new HelperThread(new URL('./svm-folds-worker.js', import.meta.url), parts, 'svm: calibration fold worker') : null);
  }

  /** Solutions of the folds, in order. */
  async solve(folds: FoldOptions[], signal: AbortSignal | undefined): Promise<FoldSolution[]> {
    const out = new Array<FoldSolution>(folds.length);
    const here = (f: number): void => {
      if (signal?.aborted) throw new Error('aborted');
      const { w, b } = solveDualCd(this.S, folds[f]);
      out[f] = { w, b };
    };
    if (!this.helper || folds.length < 2) {
      for (let f = 0; f < folds.length; f++) here(f);
      return out;
    }
    const away = folds.map((_, f) => f).filter((f) => f % 2 === 1);
    const reply = this.helper.request(away.map((f) => folds[f]));
    reply.catch(() => undefined); // awaited below, or abandoned when a fold here throws
    for (let f = 0; f < folds.length; f += 2) here(f);
    const solutions = await reply;
    away.forEach((f, t) => (out[f] = solutions[t]));
    return out;
  }

  async close(): Promise<void> {
    await this.helper?.terminate();
  }
}
