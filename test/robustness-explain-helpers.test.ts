// Explanation helper threads when one of them fails: every helper of that model is terminated (none left idle with
// its copy of the model), the failed rows are explained on the calling thread (the same exact values), later calls
// stay on the calling thread, and a failure while the caller's own share throws is that one error, not an unhandled
// rejection. A helper is made to fail by terminating its thread at the moment a block is sent to it.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createMatrix, type Matrix } from '../src/frame/matrix.js';
import { GradientBoosting } from '../src/models/gbdt.js';
import { explainInParallel } from '../src/explain/shap-workers.js';
import { Rng } from '../src/util/rng.js';

const realPostMessage = Worker.prototype.postMessage;
afterEach(() => {
  Worker.prototype.postMessage = realPostMessage;
});

/** Records each worker a block is sent to; the `failing`-th distinct one is terminated instead of sent its block. */
function watchWorkers(failing: number): Set<Worker> {
  const seen = new Set<Worker>();
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>): void {
    seen.add(this);
    if (seen.size === failing && [...seen].indexOf(this) === failing - 1) {
      void this.terminate();
      return;
    }
    realPostMessage.apply(this, args);
  };
  return seen;
}

/** Resolves when every worker has stopped; rejects after `ms` naming how many still run. */
async function allStopped(workers: Iterable<Worker>, ms: number): Promise<void> {
  const running = [...workers].filter((w) => w.threadId !== -1);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${running.filter((w) => w.threadId !== -1).length} of ${running.length} helper threads still running`)), ms);
  });
  try {
    await Promise.race([Promise.all(running.map((w) => once(w, 'exit'))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function model(): Promise<{ gbdt: GradientBoosting; X: Matrix }> {
  const rng = new Rng(5);
  const rows = 600;
  const X = createMatrix(rows, 6);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 6; j++) X.data[i * 6 + j] = rng.normal();
    codes[i] = X.data[i * 6] + X.data[i * 6 + 1] > 0 ? 1 : 0;
  }
  return { gbdt: await new GradientBoosting({ max_iter: 15 }).fit(X, { codes, classes: ['a', 'b'] }), X };
}

describe('explanation helpers when one fails', () => {
  it('terminates the other helpers, answers with the exact values, and stays on the calling thread after', async () => {
    const { gbdt, X } = await model();
    const single = await gbdt.explain(X);
    const workers = watchWorkers(2); // of 3 helpers, the second fails
    const parallel = await explainInParallel(gbdt, X, 4);
    assert.equal(workers.size, 3);
    assert.deepEqual(parallel.data, single.data, 'the failed helper rows explained on this thread');
    await allStopped(workers, 5000);
    const again = await explainInParallel(gbdt, X, 4);
    assert.deepEqual(again.data, single.data);
    assert.equal(workers.size, 3, 'no new helper for this model');
  });

  it('a helper failing while the calling thread share throws: that one error, no unhandled rejection', async () => {
    const { gbdt, X } = await model();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const workers = watchWorkers(1);
      gbdt.explain = async () => {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the helper's failure arrives meanwhile
        throw new Error('explain failed on this thread');
      };
      await assert.rejects(explainInParallel(gbdt, X, 3), /explain failed on this thread/);
      await allStopped(workers, 5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('healthy helpers are kept between calls', async () => {
    const { gbdt, X } = await model();
    const single = await gbdt.explain(X);
    const workers = watchWorkers(0);
    for (let call = 0; call < 2; call++) assert.deepEqual((await explainInParallel(gbdt, X, 3)).data, single.data);
    assert.equal(workers.size, 2);
    assert.ok([...workers].every((w) => w.threadId !== -1), 'both helpers still there');
  });
});
