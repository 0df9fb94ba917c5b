// Worker entry for parallel neighbour search (parallel.ts): receives the shared index once, then for each search
// takes chunks of queries from the shared counter and posts each chunk's result.

import { parentPort, workerData } from 'node:worker_threads';
import type { SearchData } from './kernels.js';
import { takeChunks, type HelperJob, type HelperMessage } from './parallel.js';

const index = workerData as SearchData;
const port = parentPort;
if (!port) throw new Error('search-worker must run inside a worker');
port.on('message', (job: HelperJob) => {
  const post = (msg: HelperMessage): void => port.postMessage(msg);
  try {
    const shared = { search: index, queries: job.queries ?? index.data, outIdx: job.outIdx, outDist: job.outDist, values: job.values };
    takeChunks(shared, job, (chunk, result) => post({ job: job.id, chunk, result }));
  } catch (err) {
    post({ job: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
