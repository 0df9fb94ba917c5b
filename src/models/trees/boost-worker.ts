// Helper thread of boost-parallel.ts: for each request on the shared control block, fills its half of the requested
// leaf histogram into the shared output.

import { parentPort, workerData } from 'node:worker_threads';
import { serveLockstep } from '../../util/lockstep.js';
import { accumulateHistogram, histogramLayout } from './boost-hist.js';
import { END, ROOT, START, type BoostWorkerData } from './boost-parallel.js';

const data = workerData as BoostWorkerData | null;
if (data && parentPort) {
  const { ctx, control, out } = data;
  const { binBase } = histogramLayout(ctx.nBins);
  parentPort.postMessage('ready');
  serveLockstep(control, () => {
    out.fill(0);
    accumulateHistogram(ctx, binBase, out, control[START], control[END], control[ROOT] === 1, 1, 2);
  });
}
