// Worker side of FoldSolver (svm-folds.ts): holds the rows, solves the folds of each request, replies with w and b.

import { workerData } from 'node:worker_threads';
import { OffsetSparseRows, type OffsetSparseParts } from '../nn/offset-sparse.js';
import { serveTasks } from '../../util/worker-pool.js';
import { solveDualCd } from './dual-cd.js';
import type { FoldOptions, FoldSolution } from './svm-folds.js';

const S = new OffsetSparseRows(workerData as OffsetSparseParts);
serveTasks<FoldOptions[], FoldSolution[]>((folds) =>
  folds.map((fold) => {
    const { w, b } = solveDualCd(S, fold);
    return { w, b };
  }),
);
