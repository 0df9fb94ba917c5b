// A small pool of worker_threads for CPU-bound batches (tree building, neighbour search, scoring).
// Shared inputs travel once as workerData (SharedArrayBuffers are shared, not copied); tasks are handed out one at a
// time to whichever worker is free, and results come back in task order.
//
// Worker side: call `serveTasks(handler)` in the worker module; `handler(task, workerData)` returns the result. The same
// worker side serves a persistent helper thread (helper-thread.ts).

import { Worker, isMainThread, parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

export interface PoolOptions {
  /** Number of workers; defaults to the number of cores, capped by the number of tasks. */
  threads?: number;
  signal?: AbortSignal;
  onResult?: (done: number, total: number) => void;
  /** Receives each result as it arrives (index into tasks), so callers keep finished work when aborted. */
  onTaskResult?: (index: number, result: unknown) => void;
}

export function defaultThreads(): number {
  const env = Number(process.env.FLOWSENTRY_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

export async function runInWorkers<Task, Result>(moduleUrl: URL, shared: unknown, tasks: readonly Task[], options: PoolOptions = {}): Promise<Result[]> {
  const results = new Array<Result>(tasks.length);
  if (tasks.length === 0) return results;
  const threads = Math.max(1, Math.min(options.threads ?? defaultThreads(), tasks.length));
  let next = 0;
  let done = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: unknown): void => {
        if (failed) return;
        failed = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      options.signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
      const feed = (w: Worker): void => {
        if (next < tasks.length) {
          const id = next++;
          w.postMessage({ id, task: tasks[id] });
        }
      };
      for (let t = 0; t < threads; t++) {
        const w = new Worker(moduleUrl, { workerData: shared });
        workers.push(w);
        w.on('message', (msg: { id: number; result?: Result; error?: string }) => {
          if (msg.error !== undefined) return fail(new Error(msg.error));
          results[msg.id] = msg.result as Result;
          options.onTaskResult?.(msg.id, msg.result);
          done++;
          options.onResult?.(done, tasks.length);
          if (done === tasks.length) resolve();
          else feed(w);
        });
        w.on('error', fail);
        w.on('exit', (code) => {
          if (code !== 0 && done < tasks.length) fail(new Error(`worker exited with code ${code}`));
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/** `transfer` lists the buffers of a result to move to the caller instead of copying them. */
export function serveTasks<Task, Result>(handler: (task: Task, shared: unknown) => Result | Promise<Result>, transfer?: (result: Result) => TransferListItem[]): void {
  if (isMainThread || !parentPort) throw new Error('serveTasks must run inside a worker');
  const port = parentPort;
  port.on('message', async (msg: { id: number; task: Task }) => {
    try {
      const result = await handler(msg.task, workerData);
      port.postMessage({ id: msg.id, result }, transfer?.(result));
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
