// Parallel preparation of a random forest's binned data: instead of binning on the main thread before the tree
// workers even start, the main thread and the workers (while they boot and afterwards) take feature blocks (edges +
// bins, binning.ts fitAndBinColumns) and then row blocks (the row-major copy) from shared atomic counters; each
// worker then lists the sparse columns itself and starts on its trees. Threads write disjoint parts of
// SharedArrayBuffers, so the data equal the serial fitAndBinMatrix + rowMajorBins + sparseColumns.

import type { Matrix } from '../../frame/matrix.js';
import { edgeSample, fitAndBinColumns, MAX_BINS, rowMajorRows, sparseColumns, type BinnedData } from './binning.js';
import type { ClassTreeParams } from './class-tree.js';
import type { ForestShared } from './forest-grow.js';

const FEATURE_BLOCK = 8;
/** Larger matrices are not copied for the workers (memory); the main thread then bins every feature block itself. */
const SHARE_VALUES = 32 * 1024 * 1024;
const ROW_BLOCK = 16_384;
// Slots of SharedPrep.state.
const NEXT_FEATURE = 0;
const FEATURES_DONE = 1;
const NEXT_ROW = 2;
const ROWS_DONE = 3;
const FAILED = 4;

export interface SharedPrep {
  readonly rows: number;
  readonly cols: number;
  readonly maxBins: number;
  /** The training matrix, row-major (shared copy), or null when only the main thread bins. */
  readonly data: Float32Array | null;
  readonly sampleRows: Int32Array | null;
  readonly nBins: Int32Array;
  readonly edges: Float32Array;
  readonly bins: Uint8Array;
  readonly rowBins: Uint8Array;
  /** Block counters (next to take, done) for features and rows, and a failure flag. */
  readonly state: Int32Array;
}

/** What the tree workers receive: the preparation plus everything else growForestTree needs. */
export interface ForestSetup {
  readonly prep: SharedPrep;
  readonly y: Int32Array;
  readonly nClasses: number;
  readonly baseWeight: Float64Array;
  readonly params: ClassTreeParams;
  readonly bootstrap: boolean;
  readonly oob: boolean;
}

export function createPrep(X: Matrix, maxBins: number, seed: number): SharedPrep {
  const { rows, cols } = X;
  let data: Float32Array | null = null;
  if (X.data.length <= SHARE_VALUES) {
    data = new Float32Array(new SharedArrayBuffer(X.data.length * 4));
    data.set(X.data);
  }
  return {
    rows,
    cols,
    maxBins,
    data,
    sampleRows: edgeSample(rows, seed),
    nBins: new Int32Array(new SharedArrayBuffer(cols * 4)),
    edges: new Float32Array(new SharedArrayBuffer(cols * (MAX_BINS - 1) * 4)),
    bins: new Uint8Array(new SharedArrayBuffer(rows * cols)),
    rowBins: new Uint8Array(new SharedArrayBuffer(rows * cols)),
    state: new Int32Array(new SharedArrayBuffer(5 * 4)),
  };
}

/** Main thread (X = the matrix prep was made from): takes feature blocks until none are left. */
export function prepareOnMain(prep: SharedPrep, X: Matrix): void {
  try {
    takeFeatureBlocks(prep, X.data);
  } catch (err) {
    Atomics.store(prep.state, FAILED, 1);
    for (const slot of [FEATURES_DONE, ROWS_DONE]) Atomics.notify(prep.state, slot);
    throw err;
  }
}

/** Worker: helps finish the preparation, waits for it, and returns the data for its trees. */
export function forestFromSetup(setup: ForestSetup): ForestShared {
  const { prep } = setup;
  const { rows, cols, state } = prep;
  if (prep.data) takeFeatureBlocks(prep, prep.data);
  waitUntil(state, FEATURES_DONE, Math.ceil(cols / FEATURE_BLOCK));
  const rowBlocks = Math.ceil(rows / ROW_BLOCK);
  for (let b = Atomics.add(state, NEXT_ROW, 1); b < rowBlocks; b = Atomics.add(state, NEXT_ROW, 1)) {
    rowMajorRows(prep.bins, rows, cols, prep.rowBins, b * ROW_BLOCK, Math.min(rows, (b + 1) * ROW_BLOCK));
    Atomics.add(state, ROWS_DONE, 1);
    Atomics.notify(state, ROWS_DONE);
  }
  waitUntil(state, ROWS_DONE, rowBlocks);
  const binned: BinnedData = { rows, cols, bins: prep.bins, nBins: prep.nBins, edges: prep.edges };
  return {
    data: { ...binned, y: setup.y, nClasses: setup.nClasses, sparse: sparseColumns(binned), rowBins: prep.rowBins },
    baseWeight: setup.baseWeight,
    params: setup.params,
    bootstrap: setup.bootstrap,
    oob: setup.oob,
  };
}

function takeFeatureBlocks(prep: SharedPrep, data: Float32Array): void {
  const { cols, state } = prep;
  const blocks = Math.ceil(cols / FEATURE_BLOCK);
  for (let b = Atomics.add(state, NEXT_FEATURE, 1); b < blocks; b = Atomics.add(state, NEXT_FEATURE, 1)) {
    fitAndBinColumns(data, prep.rows, cols, prep.maxBins, prep.sampleRows, b * FEATURE_BLOCK, Math.min(cols, (b + 1) * FEATURE_BLOCK), prep);
    Atomics.add(state, FEATURES_DONE, 1);
    Atomics.notify(state, FEATURES_DONE);
  }
}

/** Blocks until state[slot] reaches `target` (another thread's failure ends the wait with an error). */
function waitUntil(state: Int32Array, slot: number, target: number): void {
  for (;;) {
    if (Atomics.load(state, FAILED)) throw new Error('rf: preparing the binned data failed');
    const now = Atomics.load(state, slot);
    if (now >= target) return;
    Atomics.wait(state, slot, now);
  }
}
