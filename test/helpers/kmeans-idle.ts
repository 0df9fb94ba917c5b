// Child process of the k-means idle test (test/models/kmeans.test.ts), run with --expose-gc: fits k-means on two
// threads, waits past IDLE_RELEASE_MS, and prints what the process held at each step as one JSON line, then ends
// without process.exit (the test checks that it does end).

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from '../../src/util/rng.js';
import { KMeansDetector } from '../../src/models/kmeans.js';
import { createKernels, IDLE_RELEASE_MS } from '../../src/models/clustering/kmeans-kernels.js';
import type { Matrix } from '../../src/frame/matrix.js';
import { blobs } from './plain-lloyd.js';

const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
const collectGarbage = (globalThis as { gc?: () => void }).gc;
if (!collectGarbage) throw new Error('run with --expose-gc');

/** The memory the fits used (taken back by these kernels while held), as a weak reference, and its number. */
function fitsMemory(X: Matrix): { memory: WeakRef<object>; arena: number } {
  const kernels = createKernels(X, 1, 1);
  const layout = kernels.layout;
  if (!layout) throw new Error('no WebAssembly kernels');
  kernels.release();
  return { memory: new WeakRef(layout.memory), arena: layout.arena };
}

// From 2^20 values the runs are shared with the helper thread.
const X = blobs(new Rng(21), 2 ** 20 / 16, 16, 5, 1);
const fit = async (): Promise<number[]> => Array.from((await new KMeansDetector({ n_clusters: 5, n_init: 3, random_state: 2 }).fit(X)).centers);

const threadsBefore = threads();
const first = await fit();
const threadsAfterFit = threads();
const held = fitsMemory(X);
const second = await fit();
const heldAgain = fitsMemory(X);
await sleep(IDLE_RELEASE_MS + 500);
collectGarbage();
collectGarbage();
const threadsIdle = threads();
const memoryFreed = held.memory.deref() === undefined;
const third = await fit();
console.log(
  JSON.stringify({
    threadsBefore,
    threadsAfterFit,
    threadsIdle,
    sameMemoryBackToBack: held.arena === heldAgain.arena,
    memoryFreed,
    sameCentres: JSON.stringify(second) === JSON.stringify(first) && JSON.stringify(third) === JSON.stringify(first),
  }),
);
