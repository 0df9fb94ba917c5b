// Parallel neighbour search (a self-scheduling loop, Polychronopoulos & Kuck 1987): this thread and helper
// worker_threads take chunks of queries from one shared counter, so the caller's warm thread works from the first
// moment and a helper joins as soon as it has started. Each query's answer depends on its row only, so the results
// are those of one thread, bit for bit. Helpers hold the index in SharedArrayBuffers (sent with their first search)
// and stay alive for a short idle time, so consecutive searches (a LOF fit's self-query, then its scoring) pay one
// start; a helper can be started before its index exists, so that its start overlaps the index build.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SearchData } from './kernels.js';
import { runTask, type SearchShared, type SearchTask } from './search.js';

/** How long an idle helper waits for the next search before it ends. */
const HELPER_IDLE_MS = 2000;

/** One search as a helper receives it. */
export interface HelperJob {
  id: number;
  /** The index, when it differs from the one the helper holds. */
  index?: SearchData;
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
  /** Helpers take a chunk only while every runnable thread has a core, and otherwise wait for one. */
  spareCoresOnly: boolean;
}

export type HelperMessage = { job: number; chunk: number; result: Int32Array | null } | { job: number; error: string };

/**
 * Whether every runnable thread on the machine has a core (the fourth field of /proc/loadavg counts them, the calling
 * thread included). Where /proc is missing, taken as true.
 */
export function coresToSpare(): boolean {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[3].split('/')[0]) <= availableParallelism();
  } catch {
    return true;
  }
}

export function chunkTask(task: SearchTask, chunk: number, chunks: number): SearchTask {
  const nq = task.q1;
  return { ...task, q0: Math.floor((chunk * nq) / chunks), q1: Math.floor(((chunk + 1) * nq) / chunks) };
}

/** How long a helper waits before it looks again for a spare core. */
const SPARE_CORE_WAIT_MS = 5;
const napCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Takes chunks until none is left; `done` receives each chunk's result. A helper of a `spareCoresOnly` job waits,
 * before each chunk, until every runnable thread has a core (on a busy machine a helper measured slower than none).
 */
export function takeChunks(shared: SearchShared, job: HelperJob, helper: boolean, done: (chunk: number, result: Int32Array | null) => void): void {
  for (;;) {
    if (helper && job.spareCoresOnly) {
      while (Atomics.load(job.counter, 0) < job.chunks && !coresToSpare()) Atomics.wait(napCell, 0, 0, SPARE_CORE_WAIT_MS);
    }
    const c = Atomics.add(job.counter, 0, 1);
    if (c >= job.chunks) return;
    done(c, runTask(shared, chunkTask(job.task, c, job.chunks)));
  }
}

export class SearchHelpers {
  private workers: { worker: Worker; index: SearchData | null }[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private nextJob = 0;
  /**
   * Scratch area of the next helper in kernels shared with it (simd.ts). Numbering restarts when idle helpers end,
   * not after a failure, where an ending helper may still be searching.
   */
  private nextSlot = 1;

  /** Starts helpers up to `count` now, idle until a search or HELPER_IDLE_MS. */
  start(count: number): void {
    this.spawn(count);
    this.idle();
  }

  private spawn(count: number): void {
    while (this.workers.length < count) {
      const worker = new Worker(new URL('./search-worker.js', import.meta.url), { workerData: { kernelSlot: this.nextSlot++ } });
      worker.unref();
      this.workers.push({ worker, index: null });
    }
  }

  private idle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.close();
      this.nextSlot = 1;
    }, HELPER_IDLE_MS).unref();
  }

  /**
   * Runs `task` (q0 = 0, q1 = number of queries) in `chunks` chunks on this thread (over `local`, its own copy of
   * the index and queries) and on the first `helpers` workers (started if missing) over `index`, the same data in
   * shared memory. Results in chunk order.
   */
  async run(
    local: SearchShared,
    index: SearchData,
    job: Omit<HelperJob, 'id' | 'counter'>,
    helpers: number,
  ): Promise<(Int32Array | null)[]> {
    clearTimeout(this.idleTimer);
    this.spawn(helpers);
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
    const listeners = this.workers.slice(0, helpers).map((helper) => {
      const w = helper.worker;
      const onMessage = (msg: HelperMessage): void => {
        if (msg.job !== full.id) return;
        if ('error' in msg) fail(new Error(msg.error));
        else record(msg.chunk, msg.result);
      };
      const onError = (err: Error): void => fail(err);
      const onExit = (code: number): void => fail(new Error(`search worker exited with code ${code}`));
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.ref();
      w.postMessage(helper.index === index ? full : { ...full, index });
      helper.index = index;
      return { w, onMessage, onError, onExit };
    });
    try {
      takeChunks(local, full, false, record);
      await allDone;
    } finally {
      for (const { w, onMessage, onError, onExit } of listeners) {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        w.unref();
      }
      this.idle();
    }
    if (failure) {
      this.close();
      throw failure;
    }
    return results;
  }

  /** Helpers that have searched (so are warm) are running, not yet idle for HELPER_IDLE_MS. */
  get warm(): boolean {
    return this.workers.some((w) => w.index !== null);
  }

  close(): void {
    clearTimeout(this.idleTimer);
    for (const { worker } of this.workers) void worker.terminate();
    this.workers = [];
  }
}
