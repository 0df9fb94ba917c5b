// Row splits: seeded stratified train/test split (as sklearn's StratifiedShuffleSplit: per-class test counts by
// largest remainder, every class of ≥ 2 rows on both sides), stratified k-fold (sklearn's StratifiedKFold
// allocation: the class-sorted rows dealt round-robin to folds, then each class's fold list shuffled when asked), and
// a time-ordered split (the earliest rows train, the latest test), because random row splits put rows of one attack
// burst on both sides and inflate scores. All O(n) apart from the time sort (O(n log n)). Randomness: src/util/rng.ts.

import { UserError } from '../errors.js';
import { readTimestamp } from '../io/csv-timestamp.js';
import { Rng } from '../util/rng.js';
import type { Frame, IdentifierColumn } from './frame.js';
import { textAsCategorical } from './text-column.js';

export interface Split {
  /** Row indices of the training part (in random order for the random splits). */
  readonly train: Int32Array;
  readonly test: Int32Array;
}

function countClasses(codes: ArrayLike<number>): number[] {
  const counts: number[] = [];
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c < 0) throw new UserError(`row ${i} has no label`);
    while (counts.length <= c) counts.push(0);
    counts[c]++;
  }
  return counts;
}

/**
 * A model's own seeded hold-out inside fit (early stopping, validation curves): each class, in class order, is
 * shuffled with `rng` and round(count × fraction) of its rows — at least one when it has two or more — are held out.
 * Returns the kept and held row indices, each ascending.
 */
export function stratifiedHoldout(codes: ArrayLike<number>, nClasses: number, fraction: number, rng: Rng): { kept: Int32Array; held: Int32Array } {
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < codes.length; i++) byClass[codes[i]].push(i);
  const kept: number[] = [];
  const held: number[] = [];
  for (const rows of byClass) {
    rng.shuffle(rows);
    const take = rows.length >= 2 ? Math.max(1, Math.round(rows.length * fraction)) : 0;
    for (let r = 0; r < rows.length; r++) (r < take ? held : kept).push(rows[r]);
  }
  return { kept: Int32Array.from(kept).sort(), held: Int32Array.from(held).sort() };
}

/**
 * Stratified split: `testFraction` of the rows (rounded up, as sklearn) go to test, each class in proportion.
 * Classes with a single row go to train.
 */
export function stratifiedSplit(codes: ArrayLike<number>, testFraction: number, seed = 0): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new UserError(`test fraction must be in (0, 1), got ${testFraction}`);
  const n = codes.length;
  const counts = countClasses(codes);
  const nTest = Math.ceil(testFraction * n);
  if (nTest >= n) throw new UserError(`a test fraction of ${testFraction} leaves no training rows out of ${n}`);
  // largest-remainder allocation of nTest over classes
  const testCounts = counts.map((c) => Math.floor((c * nTest) / n));
  let remaining = nTest - testCounts.reduce((a, b) => a + b, 0);
  const byRemainder = counts
    .map((c, k) => ({ k, r: (c * nTest) / n - testCounts[k], c }))
    .filter((e) => e.c > 0)
    .sort((a, b) => b.r - a.r || b.c - a.c || a.k - b.k);
  for (const e of byRemainder) {
    if (remaining === 0) break;
    if (testCounts[e.k] < e.c) {
      testCounts[e.k]++;
      remaining--;
    }
  }
  // every class of ≥ 2 rows keeps at least one row on each side, when the budget allows moving one
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] < 2) {
      testCounts[k] = 0;
      continue;
    }
    if (testCounts[k] === 0) testCounts[k] = 1;
    if (testCounts[k] === counts[k]) testCounts[k] = counts[k] - 1;
  }
  const rng = new Rng(seed);
  const byClass = rowsByClass(codes, counts);
  const test: number[] = [];
  const train: number[] = [];
  byClass.forEach((rows, k) => {
    rng.shuffle(rows);
    for (let i = 0; i < rows.length; i++) (i < testCounts[k] ? test : train).push(rows[i]);
  });
  return { train: rng.shuffle(Int32Array.from(train)), test: rng.shuffle(Int32Array.from(test)) };
}

function rowsByClass(codes: ArrayLike<number>, counts: readonly number[]): Int32Array[] {
  const byClass = counts.map((c) => new Int32Array(c));
  const fill = new Int32Array(counts.length);
  for (let i = 0; i < codes.length; i++) byClass[codes[i]][fill[codes[i]]++] = i;
  return byClass;
}

/**
 * Test-fold number of every row for stratified k-fold. Without shuffling the assignment equals sklearn's
 * StratifiedKFold exactly; with shuffling the same per-class allocation is shuffled with our seeded generator.
 */
export function stratifiedFoldAssignment(codes: ArrayLike<number>, k: number, shuffle = true, seed = 0): Int32Array {
  const n = codes.length;
  if (!Number.isInteger(k) || k < 2) throw new UserError(`the number of folds must be an integer ≥ 2, got ${k}`);
  const counts = countClasses(codes);
  if (k > Math.max(...counts)) throw new UserError(`cannot split into ${k} folds: no class has ${k} rows (largest has ${Math.max(...counts)})`);
  if (n < k) throw new UserError(`cannot split ${n} rows into ${k} folds`);
  // sklearn numbers classes by first appearance, then deals the class-sorted rows round-robin to the folds
  const order: number[] = [];
  const rank = new Int32Array(counts.length).fill(-1);
  for (let i = 0; i < n; i++) if (rank[codes[i]] < 0) rank[codes[i]] = order.push(codes[i]) - 1;
  const allocation = Array.from({ length: k }, () => new Int32Array(order.length));
  let pos = 0;
  for (let r = 0; r < order.length; r++) {
    for (let j = 0; j < counts[order[r]]; j++, pos++) allocation[pos % k][r]++;
  }
  const rng = new Rng(seed);
  const fold = new Int32Array(n);
  const next = new Int32Array(order.length);
  const foldsOfClass = order.map((_, r) => {
    const list: number[] = [];
    for (let f = 0; f < k; f++) for (let j = 0; j < allocation[f][r]; j++) list.push(f);
    return shuffle ? rng.shuffle(list) : list;
  });
  for (let i = 0; i < n; i++) {
    const r = rank[codes[i]];
    fold[i] = foldsOfClass[r][next[r]++];
  }
  return fold;
}

/** The k (train, test) pairs of stratified k-fold; indices ascending within each part. */
export function stratifiedKFold(codes: ArrayLike<number>, k: number, shuffle = true, seed = 0): Split[] {
  const fold = stratifiedFoldAssignment(codes, k, shuffle, seed);
  const sizes = new Int32Array(k);
  for (let i = 0; i < fold.length; i++) sizes[fold[i]]++;
  return Array.from({ length: k }, (_, f) => {
    const test = new Int32Array(sizes[f]);
    const train = new Int32Array(fold.length - sizes[f]);
    let t = 0;
    let r = 0;
    for (let i = 0; i < fold.length; i++) {
      if (fold[i] === f) test[t++] = i;
      else train[r++] = i;
    }
    return { train, test };
  });
}

/** Time-ordered split: the earliest `trainFraction` of rows (by time, ties in row order) train, the rest test. */
export function timeOrderedSplit(times: ArrayLike<number>, trainFraction: number): Split {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new UserError(`train fraction must be in (0, 1), got ${trainFraction}`);
  const n = times.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(times[i])) throw new UserError(`row ${i} has no timestamp; a time-ordered split needs one on every row`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => times[a] - times[b] || a - b);
  const nTrain = Math.floor(n * trainFraction);
  return { train: order.slice(0, nTrain), test: order.slice(nTrain) };
}

const TIMESTAMP_NAME = /^(time ?stamp|stime|start ?time|flow ?start.*|first ?seen|ts)$/i;

/** True for the names a timestamp column goes by (Timestamp, stime, Start Time, ...). */
export function isTimestampName(name: string): boolean {
  return TIMESTAMP_NAME.test(name.trim());
}

/**
 * Seconds since the epoch for a timestamp text (the forms the loader reads, src/io/csv-timestamp.ts: seconds, ISO-like
 * 'YYYY-MM-DD hh:mm:ss(.ffffff)', CIC's 'd/m/YYYY h:mm(:ss)( AM|PM)'); NaN for anything else.
 */
export function parseTimestamp(text: string): number {
  const bytes = new TextEncoder().encode(text);
  return readTimestamp(bytes, 0, bytes.length);
}

/** The start time, in epoch milliseconds, of collect's FlowRecord CSV: a numeric identifier whose order is all a split needs. */
export const EPOCH_MS_START = 'startMs';

/**
 * The frame's timestamp column, if any: by name (Timestamp, stime, Start Time, ...), else the first identifier the
 * loader read as a time (the `start` of extract's NetFlow CSV), else collect's `startMs`.
 */
export function findTimestampColumn(frame: Frame): IdentifierColumn | undefined {
  return (
    frame.identifiers.find((c) => isTimestampName(c.name)) ??
    frame.identifiers.find((c) => c.kind === 'time') ??
    frame.identifiers.find((c) => c.kind === 'numeric' && c.name === EPOCH_MS_START) ??
    frame.features.find((c) => isTimestampName(c.name))
  );
}

/** Timestamps of every row in seconds: time columns as loaded, numeric columns as they are, text columns parsed. */
export function frameTimes(frame: Frame, column?: string): Float64Array {
  const col = column === undefined ? findTimestampColumn(frame) : [...frame.identifiers, ...frame.features].find((c) => c.name === column);
  if (!col) {
    throw new UserError(column === undefined ? 'no timestamp column found for a time-ordered split (looked for Timestamp, stime, Start Time, startMs)' : `timestamp column '${column}' does not exist`);
  }
  if (col.kind === 'time') return col.seconds.slice();
  if (col.kind === 'numeric') return Float64Array.from(col.values);
  const text = col.kind === 'text' ? textAsCategorical(col) : col;
  const parsed = text.dictionary.map(parseTimestamp);
  const bad = parsed.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) throw new UserError(`cannot read '${text.dictionary[bad]}' as a timestamp`, { column: text.name });
  return Float64Array.from(text.codes, (c) => (c < 0 ? Number.NaN : parsed[c]));
}
