// Matrix: the dense row-major Float32Array that every model consumes.

import { UserError } from '../errors.js';

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major: element (i, j) is data[i * cols + j]. */
  readonly data: Float32Array;
  /** Optional feature names, length `cols`. */
  readonly columns?: readonly string[];
}

export function createMatrix(rows: number, cols: number, columns?: readonly string[], data?: Float32Array): Matrix {
  const buf = data ?? new Float32Array(rows * cols);
  if (buf.length !== rows * cols) throw new Error(`matrix data length ${buf.length} != ${rows}x${cols}`);
  return columns ? { rows, cols, data: buf, columns } : { rows, cols, data: buf };
}

/** Builds a matrix from nested arrays (tests, small inputs). */
export function matrixFromRows(rows: readonly (readonly number[])[], columns?: readonly string[]): Matrix {
  const cols = rows.length > 0 ? rows[0].length : (columns?.length ?? 0);
  const m = createMatrix(rows.length, cols, columns);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new UserError(`row ${i} has ${r.length} values, expected ${cols}`);
    m.data.set(r, i * cols);
  });
  return m;
}

/** Copies the given rows into a new matrix, in the given order. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = createMatrix(indices.length, m.cols, m.columns);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * m.cols;
    out.data.set(m.data.subarray(src, src + m.cols), i * m.cols);
  }
  return out;
}

/** A view of row i (no copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/**
 * Validates model input: the width the model was fitted on, and finite values only.
 * `who` names the model in the message; `allFinite`, a faster test of every value (the native addon's), spares the
 * scan when it passes (the scan still names the first bad value when it does not).
 */
export function checkInput(m: Matrix, expectedCols: number | undefined, who: string, allFinite?: (data: Float32Array) => boolean): void {
  if (expectedCols !== undefined && m.cols !== expectedCols) {
    throw new UserError(`${who}: input has ${m.cols} features, but the model was fitted on ${expectedCols}`);
  }
  if (allFinite?.(m.data)) return;
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) {
      const r = Math.floor(i / m.cols);
      const c = i % m.cols;
      const name = m.columns?.[c] ?? `#${c}`;
      throw new UserError(`${who}: input row ${r}, feature ${name} is ${v}; impute NaN/Infinity before fitting or predicting`);
    }
  }
}
