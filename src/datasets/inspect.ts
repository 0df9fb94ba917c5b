// `inspect`: what is in a dataset. Per dataset: format, rows, columns and their types, label distribution in every
// view, NaN / +Inf / -Inf counts per column, constant columns, duplicate columns and duplicate rows.
// Duplicates are found by hashing rows (and columns) numerically — 2 × 32-bit hashes of the float bits and category
// codes — and confirming every hash match by exact comparison, so counts are exact. O(rows × columns).

import type { CategoricalColumn, Column, Frame, IdentifierColumn } from '../frame/frame.js';
import { textCounts } from '../frame/text-column.js';
import { assertNotFlowToolOutput, checkReadable, formatFor } from './detect.js';
import { peekDataFile } from './jsonl-peek.js';
import { LABEL_VIEWS, labelColumnProblem, labelView, type LabelViewName } from './label-views.js';
import { loadDataset, type LoadOptions } from './load.js';

export interface ColumnReport {
  readonly name: string;
  readonly role: 'feature' | 'identifier' | 'meta';
  /** 'time': a timestamp identifier, in seconds since the epoch. */
  readonly kind: 'numeric' | 'categorical' | 'time';
  /** NaN (numeric, time) or empty (categorical) cells. */
  readonly missing: number;
  readonly posInf: number;
  readonly negInf: number;
  /** Distinct values (categorical and time columns only). */
  readonly distinct?: number;
  /** Smallest and largest finite values (numeric columns with at least one). */
  readonly min?: number;
  readonly max?: number;
}

export interface DatasetReport {
  readonly files: readonly string[];
  readonly format: string;
  readonly variant?: string;
  readonly rows: number;
  /** Columns in the file (features, identifiers, label-side and dropped columns). */
  readonly columns: number;
  readonly featureTypes: { readonly numeric: number; readonly categorical: number };
  readonly columnReports: readonly ColumnReport[];
  /** Class counts per label view, largest first; absent when the dataset has no label. */
  readonly labels?: Readonly<Record<LabelViewName, readonly { readonly class: string; readonly count: number }[]>>;
  /** Feature columns with one value only (NaN counts as a value). */
  readonly constantColumns: readonly string[];
  /** Groups of feature columns with identical values in every row (the first is kept by prep). */
  readonly duplicateColumns: readonly (readonly string[])[];
  /** Rows equal to an earlier row in all features and the label. */
  readonly duplicateRows: number;
  /** Rows equal to an earlier row in all features (whatever the label). */
  readonly duplicateFeatureRows: number;
  /** Of those, rows whose label differs from an earlier row with the same features. */
  readonly conflictingRows: number;
  readonly dropped: Frame['source']['dropped'];
  /** Why the label column cannot train a model (a column of thousands of numbers), when it cannot. */
  readonly labelProblem?: string;
  readonly skipped: Frame['source']['skipped'];
}

/**
 * Inspects files. Files of a format that ships as several files (CIC: one per class or day; ISCX: one per day) with
 * the same columns form one dataset; any other file (e.g. a train and a test file) is its own dataset.
 */
export async function inspectFiles(files: readonly string[], options: LoadOptions = {}): Promise<DatasetReport[]> {
  const groups = new Map<string, string[]>();
  for (const file of files) {
    assertNotFlowToolOutput(file);
    const peek = await peekDataFile(file);
    checkReadable(peek);
    const format = formatFor(options.format, peek);
    const plan = format.plan(peek, options);
    const key = format.multiFile ? `${format.name}\u0000${plan.columns.map((c) => c.name).join('\u0000')}` : `file\u0000${file}`;
    const group = groups.get(key);
    if (group) group.push(file);
    else groups.set(key, [file]);
  }
  const reports: DatasetReport[] = [];
  for (const group of groups.values()) reports.push(inspectFrame(await loadDataset(group, options)));
  return reports;
}

/** The report of a loaded frame. */
export function inspectFrame(frame: Frame): DatasetReport {
  const columnReports: ColumnReport[] = [
    ...frame.features.map((c) => columnReport(c, 'feature')),
    ...frame.identifiers.map((c) => columnReport(c, 'identifier')),
    ...(frame.meta ?? []).map((c) => columnReport(c, 'meta')),
  ];
  const featureReports = columnReports.slice(0, frame.features.length);
  const constantColumns = frame.features.filter((c) => isConstant(c, frame.nRows)).map((c) => c.name);
  const rowHashes = hashRows(frame.features, frame.nRows);
  const featureDuplicates = duplicateRowFlags(rowHashes, frame.nRows, undefined);
  const fullDuplicates = frame.label ? duplicateRowFlags(rowHashes, frame.nRows, frame.label) : featureDuplicates;
  let duplicateFeatureRows = 0;
  let duplicateRows = 0;
  for (let i = 0; i < frame.nRows; i++) {
    duplicateFeatureRows += featureDuplicates[i];
    duplicateRows += fullDuplicates[i];
  }
  return {
    files: frame.source.files,
    format: frame.source.format,
    ...(frame.source.variant ? { variant: frame.source.variant } : {}),
    rows: frame.nRows,
    columns: frame.features.length + frame.source.dropped.length,
    featureTypes: {
      numeric: featureReports.filter((c) => c.kind === 'numeric').length,
      categorical: featureReports.filter((c) => c.kind === 'categorical').length,
    },
    columnReports,
    ...(frame.label ? { labels: labelDistributions(frame) } : {}),
    ...(labelColumnProblem(frame) ? { labelProblem: labelColumnProblem(frame) } : {}),
    constantColumns,
    duplicateColumns: duplicateColumnGroups(frame.features, frame.nRows),
    duplicateRows,
    duplicateFeatureRows,
    conflictingRows: duplicateFeatureRows - duplicateRows,
    dropped: frame.source.dropped,
    skipped: frame.source.skipped,
  };
}

function labelDistributions(frame: Frame): Record<LabelViewName, { class: string; count: number }[]> {
  const out = {} as Record<LabelViewName, { class: string; count: number }[]>;
  for (const view of LABEL_VIEWS) {
    const labels = labelView(frame, view);
    const counts = new Float64Array(labels.classes.length);
    for (let i = 0; i < labels.codes.length; i++) counts[labels.codes[i]]++;
    out[view] = labels.classes.map((c, i) => ({ class: c, count: counts[i] })).sort((a, b) => b.count - a.count || (a.class < b.class ? -1 : 1));
  }
  return out;
}

function columnReport(column: IdentifierColumn, role: ColumnReport['role']): ColumnReport {
  if (column.kind === 'time') {
    const present = column.seconds.filter((t) => t === t).sort();
    let distinct = 0;
    for (let i = 0; i < present.length; i++) if (i === 0 || present[i] !== present[i - 1]) distinct++;
    const range = present.length > 0 ? { min: present[0], max: present[present.length - 1] } : {};
    return { name: column.name, role, kind: 'time', missing: column.seconds.length - present.length, posInf: 0, negInf: 0, distinct, ...range };
  }
  if (column.kind === 'categorical') {
    let missing = 0;
    const seen = new Uint8Array(column.dictionary.length);
    for (let i = 0; i < column.codes.length; i++) {
      const c = column.codes[i];
      if (c < 0) missing++;
      else seen[c] = 1;
    }
    let distinct = 0;
    for (let i = 0; i < seen.length; i++) distinct += seen[i];
    return { name: column.name, role, kind: 'categorical', missing, posInf: 0, negInf: 0, distinct };
  }
  // A text identifier is categorical data held as bytes (no dictionary): the same counts, from its bytes.
  if (column.kind === 'text') {
    const { missing, distinct } = textCounts(column);
    return { name: column.name, role, kind: 'categorical', missing, posInf: 0, negInf: 0, distinct };
  }
  let missing = 0;
  let posInf = 0;
  let negInf = 0;
  let min = Infinity;
  let max = -Infinity;
  const v = column.values;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x !== x) missing++;
    else if (x === Infinity) posInf++;
    else if (x === -Infinity) negInf++;
    else {
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return { name: column.name, role, kind: 'numeric', missing, posInf, negInf, ...(min <= max ? { min, max } : {}) };
}

function isConstant(column: Column, nRows: number): boolean {
  if (nRows === 0) return true;
  if (column.kind === 'categorical') {
    const first = column.codes[0];
    for (let i = 1; i < nRows; i++) if (column.codes[i] !== first) return false;
    return true;
  }
  const bits = canonicalBits(column.values);
  const first = bits[0];
  for (let i = 1; i < nRows; i++) if (bits[i] !== first) return false;
  return true;
}

/** Float bits with every NaN made one NaN and -0 made +0, so equal values have equal bits. */
function canonicalBits(values: Float32Array): Uint32Array {
  const raw = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    out[i] = x !== x ? 0x7fc00000 : x === 0 ? 0 : raw[i];
  }
  return out;
}

/**
 * Per-row value ids of a column: canonical float bits, or category codes (exact within a column). With `byText`,
 * categories get text hashes instead, comparable across columns with different dictionaries.
 */
function cellIds(column: Column, byText = false): Uint32Array {
  if (column.kind === 'numeric') return canonicalBits(column.values);
  if (!byText) return Uint32Array.from(column.codes, (c) => c >>> 0);
  const textHash = Uint32Array.from(column.dictionary, hashText);
  return Uint32Array.from(column.codes, (c) => (c < 0 ? 0x9e3779b9 : textHash[c]));
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mix(h: number, v: number, seed: number): number {
  let k = Math.imul(v ^ seed, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

interface RowHashes {
  readonly h1: Int32Array;
  readonly h2: Int32Array;
  readonly ids: Uint32Array[];
}

function hashRows(columns: readonly Column[], nRows: number): RowHashes {
  const h1 = new Int32Array(nRows);
  const h2 = new Int32Array(nRows).fill(0x5bd1e995);
  const ids = columns.map((c) => cellIds(c));
  for (const col of ids) {
    for (let i = 0; i < nRows; i++) {
      h1[i] = mix(h1[i], col[i], 0x3c6ef372);
      h2[i] = mix(h2[i], col[i], 0x7f4a7c15);
    }
  }
  return { h1, h2, ids };
}

/** 1 for each row equal (features, and the label if given) to an earlier row. Exact: hash hits are compared. */
function duplicateRowFlags(hashes: RowHashes, nRows: number, label: CategoricalColumn | undefined): Uint8Array {
  const flags = new Uint8Array(nRows);
  const labelIds = label ? cellIds(label) : undefined;
  let size = 1;
  while (size < nRows * 2) size <<= 1;
  const slots = new Int32Array(Math.max(size, 2)).fill(-1);
  const mask = slots.length - 1;
  const { h1, h2, ids } = hashes;
  for (let i = 0; i < nRows; i++) {
    const a = labelIds ? mix(h1[i], labelIds[i], 0x1234567) : h1[i];
    for (let s = a & mask; ; s = (s + 1) & mask) {
      const j = slots[s];
      if (j < 0) {
        slots[s] = i;
        break;
      }
      const b = labelIds ? mix(h1[j], labelIds[j], 0x1234567) : h1[j];
      if (a === b && h2[i] === h2[j] && (!labelIds || labelIds[i] === labelIds[j]) && sameRow(ids, i, j)) {
        flags[i] = 1;
        break;
      }
    }
  }
  return flags;
}

function sameRow(ids: readonly Uint32Array[], i: number, j: number): boolean {
  for (const col of ids) if (col[i] !== col[j]) return false;
  return true;
}

function duplicateColumnGroups(columns: readonly Column[], nRows: number): string[][] {
  const ids = columns.map((c) => cellIds(c, true));
  const byHash = new Map<string, number[]>();
  ids.forEach((col, c) => {
    let a = 0;
    let b = 0x5bd1e995;
    for (let i = 0; i < nRows; i++) {
      a = mix(a, col[i], 0x3c6ef372);
      b = mix(b, col[i], 0x7f4a7c15);
    }
    const key = `${a}:${b}`;
    const list = byHash.get(key);
    if (list) list.push(c);
    else byHash.set(key, [c]);
  });
  const groups: string[][] = [];
  for (const members of byHash.values()) {
    if (members.length < 2) continue;
    // Confirm exactly: split the candidates into classes of truly equal columns.
    const remaining = [...members];
    while (remaining.length > 1) {
      const head = remaining.shift() as number;
      const same = remaining.filter((c) => equalColumns(columns[head], columns[c], ids[head], ids[c]));
      if (same.length > 0) groups.push([head, ...same].map((c) => columns[c].name));
      for (const c of same) remaining.splice(remaining.indexOf(c), 1);
    }
  }
  return groups;
}

function equalColumns(x: Column, y: Column, a: Uint32Array, b: Uint32Array): boolean {
  if (x.kind !== y.kind) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  if (x.kind === 'numeric' || y.kind === 'numeric') return true;
  for (let i = 0; i < x.codes.length; i++) {
    const p = x.codes[i];
    const q = y.codes[i];
    if ((p < 0) !== (q < 0) || (p >= 0 && x.dictionary[p] !== y.dictionary[q])) return false;
  }
  return true;
}
