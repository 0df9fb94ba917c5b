// Worker side of FoldSolver (svm-folds.ts): holds the rows, solves the folds of each request, replies with w and b.

import { parentPort, workerData } from 'node:worker_threads';
import { OffsetSparseRows, type OffsetSparseParts } from '../nn/offset-sparse.js';
import { solveDualCd } from './dual-cd.js';
import type { FoldRequest } from './svm-folds.js';

const S = new OffsetSparseRows(workerData as OffsetSparseParts);
parentPort?.on('message', (request: FoldRequest) => {
  try {
    const solutions = request.folds.map((fold) => {
      const { w, b } = solveDualCd(S, fold);
      return { w, b };
    });
    parentPort?.postMessage({ id: request.id, solutions });
  } catch (err) {
    parentPort?.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
});
