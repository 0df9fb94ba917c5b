// Worker side of ./shap-workers.ts: rebuilds the model from its state once, then explains each block of rows it is sent.

import { workerData } from 'node:worker_threads';
import { createMatrix } from '../frame/matrix.js';
import type { ModelState } from '../models/estimator.js';
import { getModelSpec } from '../models/index.js';
import { serveTasks } from '../util/worker-pool.js';
import type { ExplainTask } from './shap-workers.js';

const { name, state } = workerData as { name: string; state: ModelState };
const model = getModelSpec(name).fromState(state);
serveTasks<ExplainTask, Float32Array>(
  async (task) => {
    if (!model.explain) throw new Error(`${name} has no exact explanation`);
    return (await model.explain(createMatrix(task.rows, task.cols, undefined, task.data))).data;
  },
  (phi) => [phi.buffer as ArrayBuffer],
);
