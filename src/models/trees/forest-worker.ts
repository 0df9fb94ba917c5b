// Worker entry of random-forest training: the main thread shares the training data once (SharedArrayBuffers, see
// util/worker-pool.ts) and hands out one tree seed per task; the first task of each worker first helps finish and
// waits for the binned data (forest-prep.ts).

import { serveTasks } from '../../util/worker-pool.js';
import { growForestTree, type ForestShared, type ForestTask, type ForestTreeResult } from './forest-grow.js';
import { forestFromSetup, type ForestSetup } from './forest-prep.js';

let shared: ForestShared | undefined;

serveTasks<ForestTask, ForestTreeResult>((task, setup) => growForestTree((shared ??= forestFromSetup(setup as ForestSetup)), task));
