// Worker side of the parallel k-means runs (kmeans-runs.ts): takes runs from the shared counter until none is left
// and replies with their clusterings.

import { serveTasks } from '../../util/worker-pool.js';
import { serveRuns, type RunResult, type RunsTask } from './kmeans-runs.js';

serveTasks<RunsTask, RunResult[]>(serveRuns, (results) => results.flatMap((r) => [r.centers.buffer as ArrayBuffer, r.labels.buffer as ArrayBuffer, r.sqDist.buffer as ArrayBuffer]));
