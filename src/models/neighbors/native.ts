// The optional native k-NN search (native/neighbors.c, built by native/build.mjs): the dense SIMD k-NN search's whole
// query loop in C (sorted-projection order, a principal-coordinate lower bound, float32 partial distances through
// AVX-512, AVX2+FMA or portable vectors, the float64 re-check), with the same answers as the JavaScript search.
// Loaded once; when it is not built, cannot load or FLOWSENTRY_NO_NATIVE=1 is set, `nativeNeighbors()` says why and
// the JavaScript/WebAssembly search runs.

import { loadNativeAddon } from '../../util/native-addon.js';

declare const indexBrand: unique symbol;
/** The indexed rows as the addon holds them (a copy, freed with the handle). */
export type NativeIndex = { readonly [indexBrand]: true };

/** The float32 kernels: the best this CPU has, or one named (tests; an error where the CPU lacks it). */
export type NativeKernels = 'auto' | 'avx512' | 'avx2' | 'portable';

export interface NativeNeighbors {
  /** Copies and prepares n × d rows (sort order, kernel layout). */
  prepare(data: Float32Array, n: number, d: number, manhattan: boolean): NativeIndex;
  /**
   * The k nearest indexed rows of each of nq query rows into outIdx / outDist (nq × k; ties: lower row first; -1 and
   * Infinity where fewer than k rows exist), on `threads` threads; with excludeSelf the queries are the indexed rows,
   * each left out of its own answer. False, with nothing written, when a query value is too large for float32
   * distances. Throws on bad arguments or out of memory.
   */
  knn(
    index: NativeIndex, queries: Float32Array, nq: number, k: number, excludeSelf: boolean,
    threads: number, kernels: NativeKernels, outIdx: Int32Array, outDist: Float64Array,
  ): boolean;
  /** The best kernels this CPU has. */
  kernels(): Exclude<NativeKernels, 'auto'>;
  /**
   * search.ts's columnModes(X, true) into modes / nonMode (d each) and its float32Safe, in one pass: the majority
   * value of each column and how many values differ from it (NaN and n / 2 without one); true when float32-safe.
   */
  majorityModes(data: Float32Array, n: number, d: number, modes: Float64Array, nonMode: Float64Array): boolean;
  /**
   * lof.ts's local reachability density (into outLrd) and LOF (into outFactors) of `rows` rows from their k neighbours
   * (rows × k indices into kDistance and lrd, and distances), the same float64 operations in the same order; lrd may
   * be outLrd itself (a fit's own rows).
   */
  localOutlierFactors(
    indices: Int32Array, distances: Float64Array, rows: number, k: number, kDistance: Float64Array, lrd: Float64Array,
    outLrd: Float64Array, outFactors: Float64Array,
  ): void;
  /** True when no value is NaN or infinite (checkInput's scan, in one native pass). */
  allFinite(data: Float32Array): boolean;
}

let loaded: { neighbors: NativeNeighbors } | { reason: string } | undefined;

/** The native search, or why there is none. */
export function nativeNeighbors(): { neighbors: NativeNeighbors } | { reason: string } {
  if (process.env.FLOWSENTRY_NO_NATIVE === '1') return { reason: 'FLOWSENTRY_NO_NATIVE=1' };
  if (loaded) return loaded;
  const addon = loadNativeAddon<NativeNeighbors>('neighbors');
  loaded = 'exports' in addon ? { neighbors: addon.exports } : addon;
  return loaded;
}
