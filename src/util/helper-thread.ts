// A persistent helper worker_thread that answers requests, one reply each, for work a model splits between the
// calling thread and a helper that keeps its state (rows, a model) between calls. The worker side is `serveTasks`
// (worker-pool.ts): messages { id, task } in, { id, result } or { id, error } out.
//
// Failures are uniform: an error reply rejects its request; a worker error or exit rejects every pending request and
// every later one. An idle helper never keeps the process alive (unref'd while nothing is pending).

import { Worker, type TransferListItem } from 'node:worker_threads';

interface Pending<Result> {
  resolve: (result: Result) => void;
  reject: (err: Error) => void;
}

export class HelperThread<Task, Result> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending<Result>>();
  private nextId = 0;
  private failure: Error | undefined;

  /** `name` starts every error message (e.g. "svm: calibration fold worker"); `onFailure` hears the first failure. */
  constructor(moduleUrl: URL, workerData: unknown, private readonly name: string, private readonly onFailure?: (err: Error) => void) {
    this.worker = new Worker(moduleUrl, { workerData });
    this.worker.unref();
    this.worker.on('message', (reply: { id: number; result?: Result; error?: string }) => this.settle(reply));
    this.worker.on('error', (err: Error) => this.fail(new Error(`${name} failed: ${err.message}`)));
    this.worker.on('exit', (code: number) => this.fail(new Error(`${name} exited with code ${code}`)));
  }

  /** The helper's reply to `task`; `transfer` lists buffers moved to the helper instead of copied. */
  request(task: Task, transfer?: readonly TransferListItem[]): Promise<Result> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, task }, transfer);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private settle(reply: { id: number; result?: Result; error?: string }): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error !== undefined) pending.reject(new Error(`${this.name} failed: ${reply.error}`));
    else pending.resolve(reply.result as Result);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailure?.(err);
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
    this.worker.unref();
  }
}
