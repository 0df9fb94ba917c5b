// Worker entry of random-forest training: the main thread shares the binned data once (SharedArrayBuffers, see
// util/worker-pool.ts) and hands out one tree seed per task.

import { serveTasks } from '../../util/worker-pool.js';
import { growForestTree, type ForestShared, type ForestTask, type ForestTreeResult } from './forest-grow.js';

serveTasks<ForestTask, ForestTreeResult>((task, shared) => growForestTree(shared as ForestShared, task));
