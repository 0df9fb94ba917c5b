// Explanation helper threads when one of them fails: every helper of that model is terminated (none left idle with
// its copy of the model), the failed rows are explained on the calling thread (the same exact values), later calls
// stay on the calling thread, and a failure while the caller's own share throws is that one error, not an unhandled
// rejection; the move to the calling thread is said once per model, in one line through the caller's log (the
// service passes its own), or on stderr by default. A helper is made to fail by terminating its thread at the moment a
// block is sent to it.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createMatrix, type Matrix } from '../../src/frame/matrix.js';
import { GradientBoosting } from '../../src/models/gbdt.js';
import { explainRows, identityGroups } from '../../src/explain/index.js';
import { explainInParallel } from '../../src/explain/shap-workers.js';
import { Rng } from '../../src/util/rng.js';

const realPostMessage = Worker.prototype.postMessage;
const realThreads = process.env.FLOWSENTRY_THREADS;
afterEach(() => {
  Worker.prototype.postMessage = realPostMessage;
  if (realThreads === undefined) delete process.env.FLOWSENTRY_THREADS;
  else process.env.FLOWSENTRY_THREADS = realThreads;
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

/** Every worker a block is sent to is terminated instead. */
function failEveryHelper(): void {
  Worker.prototype.postMessage = function (this: Worker): void {
    void this.terminate();
  };
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

async function model(rows = 600): Promise<{ gbdt: GradientBoosting; X: Matrix }> {
  const rng = new Rng(5);
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

const LINE = /^gbdt explanations: the helper threads failed \(explanation worker exited with code \d+\); explanations continue on the main thread$/;

describe('explanation helpers failing: one line per model', () => {
  it('through the given log, once per model, with the exact values', async () => {
    const first = await model(400);
    const second = await model(400);
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(line);
    failEveryHelper();
    const single = await first.gbdt.explain(first.X);
    for (let call = 0; call < 3; call++) assert.deepEqual((await explainInParallel(first.gbdt, first.X, 3, log)).data, single.data);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, LINE);
    await explainInParallel(second.gbdt, second.X, 3, log);
    await explainInParallel(second.gbdt, second.X, 3, log);
    assert.equal(lines.length, 2, 'the other model says it once too');
    assert.match(lines[1]!, LINE);
  });

  it('without a log: one line on stderr, prefixed as the commands print', async () => {
    const { gbdt, X } = await model(400);
    const written: string[] = [];
    const realWrite = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      failEveryHelper();
      await explainInParallel(gbdt, X, 2);
      await explainInParallel(gbdt, X, 2);
    } finally {
      process.stderr.write = realWrite;
    }
    assert.equal(written.length, 1, written.join(''));
    assert.match(written[0]!, /^flowsentry: gbdt explanations: the helper threads failed \(.*\); explanations continue on the main thread\n$/);
  });

  it('explainRows passes its context log on (as the service scorer does)', async () => {
    // enough rows × tree nodes for explainRows to split the work over helpers (shap-workers' PARALLEL_NODE_ROWS)
    const { gbdt, X } = await model(12_000);
    process.env.FLOWSENTRY_THREADS = '2';
    const lines: string[] = [];
    failEveryHelper();
    const contrib = await explainRows(X, { model: gbdt, reference: new Float32Array(6), groups: identityGroups(6), log: (line) => void lines.push(line) });
    assert.deepEqual(contrib.data, (await gbdt.explain(X)).data);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, LINE);
  });
});
