// Gradient histograms for boosting trees: (gradient, hessian, rows) per bin of every feature over one leaf's rows.
// Root: column by column, and a mostly-constant feature visits only its non-default rows (binning.ts
// sparseColumns). Other leaves, whose rows are scattered: row by row over the dense features plus each row's own
// non-default entries (binning.ts rowLayout, LightGBM's row-wise mode). The default bin of a sparse feature is the
// leaf's totals minus its other bins. The work splits into `parts` disjoint row (or entry) ranges, so two threads
// can each fill half and the halves add up (boost-parallel.ts). Cost: O(rows · (dense features + non-default
// entries per row)) per leaf.

import type { RowLayout, SparseColumns } from './binning.js';

export interface HistogramContext {
  readonly rows: number;
  readonly cols: number;
  /** Column-major bins. */
  readonly bins: Uint8Array;
  readonly nBins: Int32Array;
  readonly sparse?: SparseColumns;
  readonly layout?: RowLayout;
  /** Per-row gradient and hessian of the current tree. */
  readonly grad: Float32Array;
  readonly hess: Float32Array;
  /** The tree's rows, each leaf's rows contiguous. */
  readonly index: Int32Array;
  /** 1 for rows in the current tree's sample. */
  readonly sampled: Uint8Array;
  /** 1 for features the current tree may split on. */
  readonly active: Uint8Array;
}

/** Offsets of each feature's first bin in a histogram (3 values per bin), and the histogram length. */
export function histogramLayout(nBins: Int32Array): { binBase: Int32Array; size: number } {
  const binBase = new Int32Array(nBins.length);
  let total = 0;
  for (let f = 0; f < nBins.length; f++) {
    binBase[f] = total * 3;
    total += nBins[f];
  }
  return { binBase, size: total * 3 };
}

/** Part `part` of `parts` of the histogram of index[start, end) added into `hist` (default bins not filled). */
export function accumulateHistogram(ctx: HistogramContext, binBase: Int32Array, hist: Float64Array, start: number, end: number, isRoot: boolean, part: number, parts: number): void {
  const { rows, cols, bins, nBins, sparse, layout, grad, hess, index, sampled, active } = ctx;
  const slice = (lo: number, hi: number): [number, number] => [lo + Math.floor(((hi - lo) * part) / parts), lo + Math.floor(((hi - lo) * (part + 1)) / parts)];
  if (!isRoot && sparse && layout) {
    const { dense, denseBins, rowStart, rowFeature, rowBin } = layout;
    const nd = dense.length;
    const denseBase = new Int32Array(nd);
    for (let j = 0; j < nd; j++) denseBase[j] = binBase[dense[j]];
    const [from, to] = slice(start, end);
    for (let r = from; r < to; r++) {
      const i = index[r];
      const gi = grad[i];
      const hi = hess[i];
      const src = i * nd;
      for (let j = 0; j < nd; j++) {
        const o = denseBase[j] + denseBins[src + j] * 3;
        hist[o] += gi;
        hist[o + 1] += hi;
        hist[o + 2] += 1;
      }
      for (let k = rowStart[i]; k < rowStart[i + 1]; k++) {
        const o = binBase[rowFeature[k]] + rowBin[k] * 3;
        hist[o] += gi;
        hist[o + 1] += hi;
        hist[o + 2] += 1;
      }
    }
    return;
  }
  const [from, to] = slice(start, end);
  const identity = end - start === rows;
  for (let f = 0; f < cols; f++) {
    if (!active[f] || nBins[f] < 2) continue;
    const base = binBase[f];
    if (sparse && sparse.defaultBin[f] >= 0) {
      const { rows: nzRows, bins: nzBins } = sparse;
      const [k0, k1] = slice(sparse.start[f], sparse.start[f + 1]);
      for (let k = k0; k < k1; k++) {
        const i = nzRows[k];
        if (!sampled[i]) continue;
        const o = base + nzBins[k] * 3;
        hist[o] += grad[i];
        hist[o + 1] += hess[i];
        hist[o + 2] += 1;
      }
      continue;
    }
    const col = f * rows;
    for (let r = from; r < to; r++) {
      const i = identity ? r : index[r];
      const o = base + bins[col + i] * 3;
      hist[o] += grad[i];
      hist[o + 1] += hess[i];
      hist[o + 2] += 1;
    }
  }
}

/** Sets each sparse feature's default bin to the leaf totals minus its other bins. */
export function fillDefaultBins(ctx: HistogramContext, binBase: Int32Array, hist: Float64Array, g: number, h: number, size: number): void {
  const { sparse, nBins, cols } = ctx;
  if (!sparse) return;
  for (let f = 0; f < cols; f++) {
    const d = sparse.defaultBin[f];
    if (d < 0) continue;
    const base = binBase[f];
    let sg = 0;
    let sh = 0;
    let sc = 0;
    for (let b = 0; b < nBins[f]; b++) {
      if (b === d) continue;
      const o = base + b * 3;
      sg += hist[o];
      sh += hist[o + 1];
      sc += hist[o + 2];
    }
    const o = base + d * 3;
    hist[o] = g - sg;
    hist[o + 1] = h - sh;
    hist[o + 2] = size - sc;
  }
}

/** Builds a leaf's full histogram: serially, or over threads (boost-parallel.ts). */
export interface HistogramBuilder {
  build(start: number, end: number, isRoot: boolean, g: number, h: number): Float64Array;
}

export class SerialHistograms implements HistogramBuilder {
  private readonly binBase: Int32Array;
  private readonly size: number;
  constructor(private readonly ctx: HistogramContext) {
    ({ binBase: this.binBase, size: this.size } = histogramLayout(ctx.nBins));
  }

  build(start: number, end: number, isRoot: boolean, g: number, h: number): Float64Array {
    const hist = new Float64Array(this.size);
    accumulateHistogram(this.ctx, this.binBase, hist, start, end, isRoot, 0, 1);
    fillDefaultBins(this.ctx, this.binBase, hist, g, h, end - start);
    return hist;
  }
}
