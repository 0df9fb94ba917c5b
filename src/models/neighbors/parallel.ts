// Parallel neighbour search (a self-scheduling loop, Polychronopoulos & Kuck 1987): this thread and helper
// worker_threads take chunks of queries from one shared counter, so the caller's warm thread works from the first
// moment and a helper joins as soon as it has started. Each query's answer depends on its row only, so the results
// are those of one thread, bit for bit. Helpers hold the index in SharedArrayBuffers and stay alive for a short
// idle time, so consecutive searches (a LOF fit's self-query, then its scoring) pay one start.

import { Worker } from 'node:worker_threads';
import type { SearchData } from './kernels.js';
import { runTask, type SearchShared, type SearchTask } from './search.js';

/** How long an idle helper waits for the next search before it ends. */
const HELPER_IDLE_MS = 2000;

/** One search as a helper receives it: the index travels once, at the helper's start. */
export interface HelperJob {
  id: number;
  /** Shared query rows, or null to search the indexed rows themselves. */
  queries: Float32Array | null;
  outIdx?: Int32Array;
  outDist?: Float64Array;
  values?: Int32Array;
  /** The task with q0 = 0, q1 = the number of queries; chunk c covers [c · nq / chunks, (c + 1) · nq / chunks). */
  task: SearchTask;
  chunks: number;
  /** counter[0]: next chunk to take. */
  counter: Int32Array;
}

export type HelperMessage = { job: number; chunk: number; result: Int32Array | null } | { job: number; error: string };

export function chunkTask(task: SearchTask, chunk: number, chunks: number): SearchTask {
  const nq = task.q1;
  return { ...task, q0: Math.floor((chunk * nq) / chunks), q1: Math.floor(((chunk + 1) * nq) / chunks) };
}

/** Takes chunks until none is left; `done` receives each chunk's result. */
export function takeChunks(shared: SearchShared, job: HelperJob, done: (chunk: number, result: Int32Array | null) => void): void {
  for (let c = Atomics.add(job.counter, 0, 1); c < job.chunks; c = Atomics.add(job.counter, 0, 1)) {
    done(c, runTask(shared, chunkTask(job.task, c, job.chunks)));
  }
}

export class SearchHelpers {
  private workers: Worker[] = [];
  private index: SearchData | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextJob = 0;

  /**
   * Runs `task` (q0 = 0, q1 = number of queries) in `chunks` chunks on this thread (over `local`, its own copy of
   * the index and queries) and on `helpers` workers over `index`, the same data in shared memory. Results in chunk
   * order.
   */
  async run(
    local: SearchShared,
    index: SearchData,
    job: Omit<HelperJob, 'id' | 'counter'>,
    helpers: number,
  ): Promise<(Int32Array | null)[]> {
    clearTimeout(this.idleTimer);
    if (this.index !== index) this.close();
    this.index = index;
    while (this.workers.length < helpers) this.workers.push(new Worker(new URL('./search-worker.js', import.meta.url), { workerData: index }));
    const full: HelperJob = { ...job, id: this.nextJob++, counter: new Int32Array(new SharedArrayBuffer(4)) };
    const results = new Array<Int32Array | null>(job.chunks);
    let finished = 0;
    let complete: () => void = () => undefined;
    let failure: Error | null = null;
    const allDone = new Promise<void>((resolve) => (complete = resolve));
    const record = (chunk: number, result: Int32Array | null): void => {
      results[chunk] = result;
      if (++finished === job.chunks) complete();
    };
    const fail = (err: Error): void => {
      failure ??= err;
      complete();
    };
    const listeners = this.workers.map((w) => {
      const onMessage = (msg: HelperMessage): void => {
        if (msg.job !== full.id) return;
        if ('error' in msg) fail(new Error(msg.error));
        else record(msg.chunk, msg.result);
      };
      const onError = (err: Error): void => fail(err);
      w.on('message', onMessage);
      w.on('error', onError);
      w.ref();
      w.postMessage(full);
      return { w, onMessage, onError };
    });
    try {
      takeChunks(local, full, record);
      await allDone;
    } finally {
      for (const { w, onMessage, onError } of listeners) {
        w.off('message', onMessage);
        w.off('error', onError);
        w.unref();
      }
      this.idleTimer = setTimeout(() => this.close(), HELPER_IDLE_MS).unref();
    }
    if (failure) {
      this.close();
      throw failure;
    }
    return results;
  }

  /** Helpers are running (started by a recent search and not yet idle for HELPER_IDLE_MS). */
  get alive(): boolean {
    return this.workers.length > 0;
  }

  close(): void {
    clearTimeout(this.idleTimer);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    this.index = null;
  }
}
