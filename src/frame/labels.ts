// Labels: class codes plus the class names they index. Models work on codes; names are preserved end to end.

import { UserError } from '../errors.js';
import type { Matrix } from './matrix.js';

export interface Labels {
  /** Class index of each row, into `classes`. */
  readonly codes: Int32Array;
  /** Class names, sorted as sklearn sorts them (lexicographically) unless given otherwise. */
  readonly classes: readonly string[];
}

/** Encodes string labels; classes are sorted unless a fixed class list is given. */
export function encodeLabels(values: readonly string[], classes?: readonly string[]): Labels {
  const cls = classes ?? [...new Set(values)].sort();
  const index = new Map(cls.map((c, i) => [c, i]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const code = index.get(values[i]);
    if (code === undefined) {
      throw new UserError(`label '${values[i]}' (row ${i}) was not seen in training; known labels: ${cls.join(', ')}`);
    }
    codes[i] = code;
  }
  return { codes, classes: cls };
}

export function decodeLabels(labels: Labels): string[] {
  return Array.from(labels.codes, (c) => labels.classes[c]);
}

/** Re-expresses labels in another class list (e.g. test labels in the training classes); unknown labels are an error. */
export function alignLabels(labels: Labels, classes: readonly string[]): Labels {
  if (labels.classes.length === classes.length && labels.classes.every((c, i) => c === classes[i])) return labels;
  const index = new Map(classes.map((c, i) => [c, i]));
  const map = labels.classes.map((c) => index.get(c) ?? -1);
  const codes = new Int32Array(labels.codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = map[labels.codes[i]];
    if (code < 0) {
      throw new UserError(`label '${labels.classes[labels.codes[i]]}' was not seen in training; known labels: ${classes.join(', ')}`);
    }
    codes[i] = code;
  }
  return { codes, classes };
}

export function classCounts(labels: Labels): Float64Array {
  const counts = new Float64Array(labels.classes.length);
  for (let i = 0; i < labels.codes.length; i++) counts[labels.codes[i]]++;
  return counts;
}

/** Arg-max labels of a rows × classes score matrix (the first class wins ties). */
export function argmaxLabels(scores: Matrix, classes: readonly string[]): Labels {
  const { rows, cols, data } = scores;
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < cols; k++) if (data[i * cols + k] > data[i * cols + best]) best = k;
    codes[i] = best;
  }
  return { codes, classes };
}
