// Worker entry of parallel forest prediction (see forest-predict.ts): sums leaf values over one block of rows.

import { serveTasks } from '../../util/worker-pool.js';
import { sumLeavesBlock, type PredictShared, type PredictTask } from './forest-predict.js';

serveTasks<PredictTask, Float64Array>((task, shared) => sumLeavesBlock(shared as PredictShared, task));
