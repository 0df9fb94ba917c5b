// Helper thread of boost-parallel.ts: waits on the shared control block, fills its half of the requested leaf
// histogram into the shared output, and signals completion.

import { parentPort, workerData } from 'node:worker_threads';
import { accumulateHistogram, histogramLayout } from './boost-hist.js';
import { DONE, END, QUIT, ROOT, SEQ, START, type BoostWorkerData } from './boost-parallel.js';

const data = workerData as BoostWorkerData | null;
if (data && parentPort) {
  const { ctx, control, out } = data;
  const { binBase } = histogramLayout(ctx.nBins);
  parentPort.postMessage('ready');
  let seen = 0;
  while (true) {
    Atomics.wait(control, SEQ, seen);
    if (Atomics.load(control, QUIT)) break;
    const seq = Atomics.load(control, SEQ);
    if (seq === seen) continue;
    seen = seq;
    out.fill(0);
    accumulateHistogram(ctx, binBase, out, control[START], control[END], control[ROOT] === 1, 1, 2);
    Atomics.store(control, DONE, seq);
    Atomics.notify(control, DONE);
  }
}
