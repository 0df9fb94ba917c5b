// One bootstrapped random-forest tree on the binned training data (Breiman 2001): bootstrap counts become row
// weights, the rows left out are routed to their leaves (while the tree grows) for the out-of-bag score. Runs in worker threads
// (forest-worker.ts) or, for small inputs, in the main thread, so results do not depend on where a tree was grown.
// Cost: O(rows) for the sample plus one tree (class-tree.ts).

import { Rng } from '../../util/rng.js';
import { buildClassTree, type ClassTreeData, type ClassTreeParams } from './class-tree.js';
import type { FlatTree } from './flat-tree.js';

export interface ForestShared {
  readonly data: ClassTreeData;
  /** Class weight × sample weight per row. */
  readonly baseWeight: Float64Array;
  readonly params: ClassTreeParams;
  readonly bootstrap: boolean;
}

export interface ForestTask {
  readonly seed: number;
}

export interface ForestTreeResult {
  readonly tree: FlatTree;
  readonly importance: Float64Array;
  /** Rows left out of this tree's bootstrap sample (in no particular order), and the leaf each one reaches. */
  readonly oobRows: Int32Array;
  readonly oobLeaves: Int32Array;
}

export function growForestTree(shared: ForestShared, task: ForestTask): ForestTreeResult {
  const { data, baseWeight, params, bootstrap } = shared;
  const n = data.rows;
  const rng = new Rng(task.seed);
  let weight = baseWeight;
  let oobRows = new Int32Array(0);
  if (bootstrap) {
    const counts = new Int32Array(n);
    for (let i = 0; i < n; i++) counts[rng.int(n)]++;
    weight = new Float64Array(n);
    const left = new Int32Array(n);
    let oob = 0;
    for (let i = 0; i < n; i++) {
      weight[i] = baseWeight[i] * counts[i];
      left[oob] = i;
      oob += counts[i] === 0 ? 1 : 0;
    }
    oobRows = left.slice(0, oob);
  }
  const importance = new Float64Array(data.cols);
  const oobLeaves = new Int32Array(oobRows.length);
  const tree = buildClassTree(data, weight, params, rng, importance, { rows: oobRows, leaves: oobLeaves });
  return { tree, importance, oobRows, oobLeaves };
}
