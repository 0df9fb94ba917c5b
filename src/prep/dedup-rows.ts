// Row de-duplication: keeps the first occurrence of every distinct row (feature values, and the label when given),
// as pandas' drop_duplicates does. NaN equals NaN, −0 equals 0. Open-addressing hash table over row indices, so no
// object or string per row: O(n·d) expected.

import type { Frame } from '../frame/frame.js';

const CANONICAL_NAN = 0x7fc00000;

/** 32-bit views of every feature column (float bits with NaN and −0 normalised at hashing time, or category codes). */
function columnWords(frame: Frame): Int32Array[] {
  return frame.features.map((c) => (c.kind === 'numeric' ? new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length) : c.codes));
}

function normalisedWord(words: Int32Array, isFloat: boolean, i: number): number {
  const w = words[i];
  if (!isFloat) return w;
  if ((w & 0x7f800000) === 0x7f800000 && (w & 0x007fffff) !== 0) return CANONICAL_NAN;
  return w === (0x80000000 | 0) ? 0 : w;
}

/** Indices (ascending) of the rows to keep. `labels` (codes per row) makes rows with different labels distinct. */
export function uniqueRows(frame: Frame, labels?: Int32Array): Int32Array {
  const n = frame.nRows;
  const cols = columnWords(frame);
  const isFloat = frame.features.map((c) => c.kind === 'numeric');
  if (labels) {
    cols.push(labels);
    isFloat.push(false);
  }
  const hashOf = (i: number): number => {
    let h = 0x811c9dc5;
    for (let j = 0; j < cols.length; j++) {
      h = Math.imul(h ^ normalisedWord(cols[j], isFloat[j], i), 0x01000193);
      h ^= h >>> 15;
    }
    return Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  };
  const same = (a: number, b: number): boolean => {
    for (let j = 0; j < cols.length; j++) if (normalisedWord(cols[j], isFloat[j], a) !== normalisedWord(cols[j], isFloat[j], b)) return false;
    return true;
  };
  let size = 16;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1);
  const keep = new Int32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    let slot = hashOf(i) & (size - 1);
    let duplicate = false;
    while (table[slot] >= 0) {
      if (same(table[slot], i)) {
        duplicate = true;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
    if (!duplicate) {
      table[slot] = i;
      keep[kept++] = i;
    }
  }
  return keep.slice(0, kept);
}
