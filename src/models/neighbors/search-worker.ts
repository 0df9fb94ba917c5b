// Worker entry for parallel neighbour search: runs search tasks over the shared index (see search.ts).

import { serveTasks } from '../../util/worker-pool.js';
import { runTask, type SearchShared, type SearchTask } from './search.js';

serveTasks<SearchTask, Int32Array | null>((task, shared) => runTask(shared as SearchShared, task));
