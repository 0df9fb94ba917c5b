// Worker side of LogisticShards: builds its shard, sets the ready flag, then evaluates the shard for each request on
// the lock-step control block (util/lockstep.ts) until told to quit.

import { workerData } from 'node:worker_threads';
import { serveLockstep } from '../../util/lockstep.js';
import { LogisticShard, READY, type ShardWorkerData } from './logistic-shard.js';

const d = workerData as ShardWorkerData;
const shard = new LogisticShard({ rows: d.rows, cols: d.cols, data: new Float32Array(d.data) }, new Int32Array(d.codes), d.weights ? new Float64Array(d.weights) : null, d.k);
const params = new Float64Array(d.params);
const result = new Float64Array(d.result);
Atomics.store(d.control, READY, 1);
serveLockstep(d.control, () => shard.evaluate(params, d.fitIntercept, result));
