// Worker entry for parallel neighbour search (parallel.ts): keeps the shared index sent with its first search (the
// kernel rows shared with it are searched in its own scratch area, workerData.kernelSlot), and for each search takes
// chunks of queries from the shared counter (when asked, only while a core is spare) and posts each chunk's result.

import { parentPort, workerData } from 'node:worker_threads';
import type { SearchData } from './kernels.js';
import { takeChunks, type HelperJob, type HelperMessage } from './parallel.js';
import { useKernelSlot } from './simd.js';

useKernelSlot((workerData as { kernelSlot: number }).kernelSlot);

let index: SearchData | null = null;
const port = parentPort;
if (!port) throw new Error('search-worker must run inside a worker');
port.on('message', (job: HelperJob) => {
  const post = (msg: HelperMessage): void => port.postMessage(msg);
  try {
    index = job.index ?? index;
    if (!index) throw new Error('search-worker: no index');
    const shared = { search: index, queries: job.queries ?? index.data, outIdx: job.outIdx, outDist: job.outDist, values: job.values };
    takeChunks(shared, job, true, (chunk, result) => post({ job: job.id, chunk, result }));
  } catch (err) {
    post({ job: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
