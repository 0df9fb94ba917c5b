// When explanation helper threads fail and a model's explanations move to the calling thread, that is said once per
// model, in one line through the caller's log (the service passes its own), or on stderr by default; the values
// are the exact ones either way. A helper is made to fail by terminating its thread when a block is sent to it.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createMatrix, type Matrix } from '../src/frame/matrix.js';
import { GradientBoosting } from '../src/models/gbdt.js';
import { explainRows, identityGroups } from '../src/explain/index.js';
import { explainInParallel } from '../src/explain/shap-workers.js';
import { Rng } from '../src/util/rng.js';

const realPostMessage = Worker.prototype.postMessage;
const realThreads = process.env.FLOWSENTRY_THREADS;
afterEach(() => {
  Worker.prototype.postMessage = realPostMessage;
  if (realThreads === undefined) delete process.env.FLOWSENTRY_THREADS;
  else process.env.FLOWSENTRY_THREADS = realThreads;
});

/** Every worker a block is sent to is terminated instead. */
function failEveryHelper(): void {
  Worker.prototype.postMessage = function (this: Worker): void {
    void this.terminate();
  };
}

async function model(rows: number): Promise<{ gbdt: GradientBoosting; X: Matrix }> {
  const rng = new Rng(7);
  const X = createMatrix(rows, 6);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 6; j++) X.data[i * 6 + j] = rng.normal();
    codes[i] = X.data[i * 6] + X.data[i * 6 + 1] > 0 ? 1 : 0;
  }
  return { gbdt: await new GradientBoosting({ max_iter: 15 }).fit(X, { codes, classes: ['a', 'b'] }), X };
}

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
