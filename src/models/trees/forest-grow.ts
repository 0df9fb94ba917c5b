// One bootstrapped random-forest tree on the binned training data (Breiman 2001): bootstrap counts become row
// weights, the rows left out are routed to their leaves (while the tree grows) for the out-of-bag score. Runs in worker threads
// (forest-worker.ts) or, for small inputs, in the main thread, so results do not depend on where a tree was grown.
// Cost: O(rows) for the sample plus one tree (class-tree.ts).

import { Rng } from '../../util/rng.js';
import { buildClassTree, TreeScratch, type ClassTreeData, type ClassTreeParams } from './class-tree.js';
import type { FlatTree } from './flat-tree.js';

export interface ForestShared {
  readonly data: ClassTreeData;
  /** Class weight × sample weight per row. */
  readonly baseWeight: Float64Array;
  readonly params: ClassTreeParams;
  readonly bootstrap: boolean;
  /** Route the out-of-bag rows to their leaves (for the out-of-bag score). */
  readonly oob: boolean;
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

/** Work arrays of the last tree grown on this thread, reused by the next one of the same size (less allocation and GC). */
let reusable: { scratch: TreeScratch; counts: Int32Array; weight: Float64Array; left: Int32Array } | undefined;

function workArrays(n: number): NonNullable<typeof reusable> {
  if (reusable?.scratch.rows !== n) {
    reusable = { scratch: new TreeScratch(n), counts: new Int32Array(n), weight: new Float64Array(n), left: new Int32Array(n) };
  }
  return reusable;
}

/** Drops the reused work arrays (the main thread calls it after growing a forest itself). */
export function releaseForestWork(): void {
  reusable = undefined;
}

export function growForestTree(shared: ForestShared, task: ForestTask): ForestTreeResult {
  const { data, baseWeight, params, bootstrap, oob: routeOob } = shared;
  const n = data.rows;
  const rng = new Rng(task.seed);
  const work = workArrays(n);
  let weight = baseWeight;
  let oobRows = new Int32Array(0);
  if (bootstrap) {
    const { counts, left } = work;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[rng.int(n)]++;
    weight = work.weight;
    let oob = 0;
    for (let i = 0; i < n; i++) {
      weight[i] = baseWeight[i] * counts[i];
      left[oob] = i;
      oob += counts[i] === 0 ? 1 : 0;
    }
    if (routeOob) oobRows = left.slice(0, oob);
  }
  const importance = new Float64Array(data.cols);
  const oobLeaves = new Int32Array(oobRows.length);
  const tree = buildClassTree(data, weight, params, rng, importance, { rows: oobRows, leaves: oobLeaves }, work.scratch);
  return { tree, importance, oobRows, oobLeaves };
}
