// Worker side of ./shap-workers.ts: rebuilds the model from its state once, then explains each block of rows it is sent.

import { parentPort, workerData } from 'node:worker_threads';
import { createMatrix } from '../frame/matrix.js';
import type { ModelState } from '../models/estimator.js';
import { getModelSpec } from '../models/index.js';

const { name, state } = workerData as { name: string; state: ModelState };
const model = getModelSpec(name).fromState(state);
const port = parentPort;
if (!port) throw new Error('shap-worker must run as a worker thread');
port.on('message', (task: { id: number; rows: number; cols: number; data: Float32Array }) => {
  const explain = model.explain?.bind(model);
  if (!explain) {
    port.postMessage({ id: task.id, error: `${name} has no exact explanation` });
    return;
  }
  explain(createMatrix(task.rows, task.cols, undefined, task.data)).then(
    (m) => port.postMessage({ id: task.id, phi: m.data }, [m.data.buffer as ArrayBuffer]),
    (err: unknown) => port.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
