// Worker side of LogisticShards: builds its shard, sets the ready flag, then evaluates the shard each time the request
// generation changes and publishes the generation it finished. Exits when the stop flag is set.

import { workerData } from 'node:worker_threads';
import { LogisticShard, READY, type ShardWorkerData } from './logistic-shard.js';

const d = workerData as ShardWorkerData;
const shard = new LogisticShard({ rows: d.rows, cols: d.cols, data: new Float32Array(d.data) }, new Int32Array(d.codes), d.weights ? new Float64Array(d.weights) : null, d.k);
const params = new Float64Array(d.params);
const result = new Float64Array(d.result);
const control = new Int32Array(d.control);
Atomics.store(control, READY, 1);
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  if (Atomics.load(control, 2) === 1) break;
  seen = Atomics.load(control, 0);
  shard.evaluate(params, d.fitIntercept, result);
  Atomics.store(control, 1, seen);
  Atomics.notify(control, 1);
}
