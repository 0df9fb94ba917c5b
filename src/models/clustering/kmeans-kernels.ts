// The two inner loops of k-means (k-means++ seeding and Lloyd iterations, kmeans.ts): the squared euclidean distance
// of a row to a centre, and the addition of a row to a centroid sum. In WebAssembly SIMD (float64x2) when the
// runtime has it, assembled here from its opcodes (core spec §5.4 and the SIMD proposal's instruction table), with
// a JavaScript twin for runtimes without it: both give the same bits. Column variances (scikit-learn's tol scale) use
// the same loops.
// The distance is summed in eight interleaved partial sums (column j goes to sum j mod 8, columns in increasing
// order), combined as ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)): eight independent additions per step
// instead of one chain. Rows are padded with zero columns to a multiple of eight in WebAssembly memory; a zero
// column adds (0 − 0)² = 0, which leaves a sum of squares unchanged. Centroid sums take the rows one at a time,
// each column in float64 as `sum[j] += row[j]`, so the sums equal the plain loop's.

import { compileOnce, name, section, uleb, wasm, type WasmApi, type WasmMemory } from '../wasm-binary.js';
import type { Matrix } from '../../frame/matrix.js';

/** Squared distance of row `ro` of `data` to the centre at `co` of `centres` (d columns), in the eight-sum order. */
export function sqDistance(data: Float32Array, ro: number, centres: Float64Array, co: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let j = 0;
  for (; j + 8 <= d; j += 8) {
    const e0 = data[ro + j] - centres[co + j];
    const e1 = data[ro + j + 1] - centres[co + j + 1];
    const e2 = data[ro + j + 2] - centres[co + j + 2];
    const e3 = data[ro + j + 3] - centres[co + j + 3];
    const e4 = data[ro + j + 4] - centres[co + j + 4];
    const e5 = data[ro + j + 5] - centres[co + j + 5];
    const e6 = data[ro + j + 6] - centres[co + j + 6];
    const e7 = data[ro + j + 7] - centres[co + j + 7];
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
    s4 += e4 * e4;
    s5 += e5 * e5;
    s6 += e6 * e6;
    s7 += e7 * e7;
  }
  // The last d mod 8 columns, each to its own partial sum.
  const rest = d - j;
  if (rest > 0) s0 += (data[ro + j] - centres[co + j]) ** 2;
  if (rest > 1) s1 += (data[ro + j + 1] - centres[co + j + 1]) ** 2;
  if (rest > 2) s2 += (data[ro + j + 2] - centres[co + j + 2]) ** 2;
  if (rest > 3) s3 += (data[ro + j + 3] - centres[co + j + 3]) ** 2;
  if (rest > 4) s4 += (data[ro + j + 4] - centres[co + j + 4]) ** 2;
  if (rest > 5) s5 += (data[ro + j + 5] - centres[co + j + 5]) ** 2;
  if (rest > 6) s6 += (data[ro + j + 6] - centres[co + j + 6]) ** 2;
  return s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
}

/**
 * The rows of one fit and a set of centre slots (centres, then candidates), with the two inner loops over them.
 * Slot and sum contents are unpadded d-vectors to the caller.
 */
export interface KMeansKernels {
  /** Squared distance of row i to the centre in `slot`. */
  distance(i: number, slot: number): number;
  /** Copies d values from `values` at `offset` into `slot`. */
  setSlot(slot: number, values: Float64Array, offset: number): void;
  /** Copies row i into `out` from `offset`. */
  copyRow(i: number, out: Float64Array, offset: number): void;
  clearSum(c: number): void;
  /** sum c += row i. */
  addRow(c: number, i: number): void;
  /** sum c += (row i − the values in `slot`)², column by column. */
  addSquaredDeviation(c: number, i: number, slot: number): void;
  /** Column j of sum c. */
  sumAt(c: number, j: number): number;
  /** The shared memory and layout for kernels of other threads on the same rows (`attachKernels`), if any. */
  readonly layout: KernelLayout | null;
  /** Done with the rows: their memory may take the next fit's (no kernel call after this). */
  release(): void;
}

/**
 * Shared WebAssembly memory: a control word (the fit's number and next run, for the threads: kmeans-runs.ts), then per
 * thread its slots and sums, then the padded rows.
 */
export interface KernelLayout {
  memory: WasmMemory;
  /** The memory's number in this process, and whether it is kept for later fits (helpers keep their instance too). */
  arena: number;
  keep: boolean;
  rows: number;
  cols: number;
  slots: number;
  sums: number;
  regions: number;
}

class ScriptKernels implements KMeansKernels {
  readonly layout = null;
  release(): void {}
  private readonly data: Float32Array;
  private readonly d: number;
  private readonly slots: Float64Array;
  private readonly sums: Float64Array;

  constructor(X: Matrix, slots: number, sums: number) {
    this.data = X.data;
    this.d = X.cols;
    this.slots = new Float64Array(slots * X.cols);
    this.sums = new Float64Array(sums * X.cols);
  }

  distance(i: number, slot: number): number {
    return sqDistance(this.data, i * this.d, this.slots, slot * this.d, this.d);
  }

  setSlot(slot: number, values: Float64Array, offset: number): void {
    this.slots.set(values.subarray(offset, offset + this.d), slot * this.d);
  }

  copyRow(i: number, out: Float64Array, offset: number): void {
    const d = this.d;
    for (let j = 0; j < d; j++) out[offset + j] = this.data[i * d + j];
  }

  clearSum(c: number): void {
    this.sums.fill(0, c * this.d, (c + 1) * this.d);
  }

  addRow(c: number, i: number): void {
    const { d, data, sums } = this;
    const so = c * d;
    const ro = i * d;
    for (let j = 0; j < d; j++) sums[so + j] += data[ro + j];
  }

  addSquaredDeviation(c: number, i: number, slot: number): void {
    const { d, data, sums, slots } = this;
    const so = c * d;
    const ro = i * d;
    const mo = slot * d;
    for (let j = 0; j < d; j++) {
      const diff = data[ro + j] - slots[mo + j];
      sums[so + j] += diff * diff;
    }
  }

  sumAt(c: number, j: number): number {
    return this.sums[c * this.d + j];
  }
}


const OP = { loop: 0x03, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22, i32Const: 0x41, i32LtU: 0x49, i32Add: 0x6a, f64Add: 0xa0, simd: 0xfd, voidType: 0x40 } as const;
const SIMD = {
  load: [0x00],
  store: [0x0b],
  load64Zero: [0x5d],
  promoteLow: [0x5f],
  extractLaneF64: [0x21],
  addF64: [0xf0, 0x01],
  subF64: [0xf1, 0x01],
  mulF64: [0xf2, 0x01],
} as const;
const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

const get = (i: number): number[] => [OP.localGet, i];
const set = (i: number): number[] => [OP.localSet, i];
const simd = (op: readonly number[], ...immediates: number[]): number[] => [OP.simd, ...op, ...immediates];
/** memarg: alignment exponent, then the constant offset. */
const at = (align: number, offset: number): number[] => [align, ...uleb(offset)];
/** Signed LEB128 of a small non-negative constant (i32.const's immediate). */
const sleb = (n: number): number[] => (n < 64 ? [n] : [(n & 0x7f) | 0x80, ...sleb(n >> 7)]);
const advance = (local: number, bytes: number): number[] => [...get(local), OP.i32Const, ...sleb(bytes), OP.i32Add, ...set(local)];

// distance(row address, centre address, row end address) → f64. Per step eight columns: four float32 pairs, each
// promoted to float64x2 and subtracted from the centre's pair; the squares go to accumulators (s0, s1), (s2, s3),
// (s4, s5), (s6, s7) in locals 3–6; local 7 is scratch.
function distanceBody(): number[] {
  const pair = (p: number): number[] => [
    ...get(0), ...simd(SIMD.load64Zero, ...at(3, 8 * p)), ...simd(SIMD.promoteLow),
    ...get(1), ...simd(SIMD.load, ...at(3, 16 * p)), ...simd(SIMD.subF64),
    OP.localTee, 7, ...get(7), ...simd(SIMD.mulF64),
    ...get(3 + p), ...simd(SIMD.addF64), ...set(3 + p),
  ];
  const code = [
    OP.loop, OP.voidType,
    ...pair(0), ...pair(1), ...pair(2), ...pair(3),
    ...advance(0, 32), ...advance(1, 64),
    ...get(0), ...get(2), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(3), ...get(4), ...simd(SIMD.addF64), ...get(5), ...get(6), ...simd(SIMD.addF64), ...simd(SIMD.addF64), OP.localTee, 7,
    ...simd(SIMD.extractLaneF64, 0), ...get(7), ...simd(SIMD.extractLaneF64, 1), OP.f64Add,
    OP.end,
  ];
  const body = [1, 5, V128, ...code];
  return [...uleb(body.length), ...body];
}

// addRow(sum address, row address, row end address): sum[j] += row[j] in float64, eight columns per step.
function addRowBody(): number[] {
  const pair = (p: number): number[] => [
    ...get(0),
    ...get(0), ...simd(SIMD.load, ...at(3, 16 * p)),
    ...get(1), ...simd(SIMD.load64Zero, ...at(3, 8 * p)), ...simd(SIMD.promoteLow),
    ...simd(SIMD.addF64),
    ...simd(SIMD.store, ...at(3, 16 * p)),
  ];
  const code = [
    OP.loop, OP.voidType,
    ...pair(0), ...pair(1), ...pair(2), ...pair(3),
    ...advance(0, 64), ...advance(1, 32),
    ...get(1), ...get(2), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
  ];
  const body = [0, ...code];
  return [...uleb(body.length), ...body];
}

// addSquaredDeviation(sum address, row address, row end address, values address): sum[j] += (row[j] − values[j])²
// in float64, eight columns per step; local 4 is scratch.
function addSquaredDeviationBody(): number[] {
  const pair = (p: number): number[] => [
    ...get(0),
    ...get(1), ...simd(SIMD.load64Zero, ...at(3, 8 * p)), ...simd(SIMD.promoteLow),
    ...get(3), ...simd(SIMD.load, ...at(3, 16 * p)), ...simd(SIMD.subF64),
    OP.localTee, 4, ...get(4), ...simd(SIMD.mulF64),
    ...get(0), ...simd(SIMD.load, ...at(3, 16 * p)), ...simd(SIMD.addF64),
    ...simd(SIMD.store, ...at(3, 16 * p)),
  ];
  const code = [
    OP.loop, OP.voidType,
    ...pair(0), ...pair(1), ...pair(2), ...pair(3),
    ...advance(0, 64), ...advance(1, 32), ...advance(3, 64),
    ...get(1), ...get(2), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
  ];
  const body = [1, 1, V128, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const bodies = [distanceBody(), addRowBody(), addSquaredDeviationBody()];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [3, 0x60, 3, I32, I32, I32, 1, F64, 0x60, 3, I32, I32, I32, 0, 0x60, 4, I32, I32, I32, I32, 0]),
    // Shared memory (limits flag 3), 1 to 65,536 pages: the rows are shared between threads.
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, 1, ...uleb(65536)]),
    ...section(3, [3, 0, 1, 2]),
    ...section(7, [3, ...name('distance'), 0x00, 0, ...name('addRow'), 0x00, 1, ...name('addSquaredDeviation'), 0x00, 2]),
    ...section(10, [3, ...bodies.flat()]),
  ]);
}

const compiledModule = compileOnce(moduleBytes);

const PAGE = 65536;
/** Largest WebAssembly memory asked for (bytes); larger data runs on the JavaScript twin. */
const MAX_BYTES = 2 ** 31;

/** Bytes before the first region: the control word, on a cache line of its own. */
const CONTROL_BYTES = 64;

class SimdKernels implements KMeansKernels {
  private readonly d: number;
  private readonly rows: Float32Array;
  private readonly slotValues: Float64Array;
  private readonly sumValues: Float64Array;
  /** Bytes of a padded row (float32) and of a padded slot or sum (float64). */
  private readonly rowBytes: number;
  private readonly slotBytes: number;
  private readonly slotsBase: number;
  private readonly sumsBase: number;
  private readonly rowsBase: number;
  private readonly distanceAt: (row: number, centre: number, end: number) => number;
  private readonly addRowAt: (sum: number, row: number, end: number) => void;
  private readonly addSquaredDeviationAt: (sum: number, row: number, end: number, values: number) => void;

  constructor(
    readonly layout: KernelLayout,
    region: number,
    exports: Record<string, unknown>,
    private readonly onRelease: () => void,
  ) {
    const { memory, rows, cols: d, slots, sums, regions } = layout;
    const width = Math.ceil(d / 8) * 8;
    this.d = d;
    this.rowBytes = width * 4;
    this.slotBytes = width * 8;
    const regionBytes = (slots + sums) * this.slotBytes;
    this.slotsBase = CONTROL_BYTES + region * regionBytes;
    this.sumsBase = this.slotsBase + slots * this.slotBytes;
    this.rowsBase = CONTROL_BYTES + regions * regionBytes;
    this.slotValues = new Float64Array(memory.buffer, this.slotsBase, slots * width);
    this.sumValues = new Float64Array(memory.buffer, this.sumsBase, sums * width);
    this.rows = new Float32Array(memory.buffer, this.rowsBase, rows * width);
    this.distanceAt = exports.distance as (row: number, centre: number, end: number) => number;
    this.addRowAt = exports.addRow as (sum: number, row: number, end: number) => void;
    this.addSquaredDeviationAt = exports.addSquaredDeviation as (sum: number, row: number, end: number, values: number) => void;
  }

  private released = false;

  /** Once: a later call (a helper's late answer) must not free the memory of the fit that took it next. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }

  /** Pads X's rows into the layout's memory, and zeroes every thread's slots and sums (a kept memory holds the last fit's). */
  fill(X: Matrix): void {
    const d = this.d;
    const width = this.rowBytes / 4;
    new Uint8Array(this.rows.buffer, CONTROL_BYTES, this.rowsBase - CONTROL_BYTES).fill(0);
    for (let i = 0; i < X.rows; i++) {
      this.rows.set(X.data.subarray(i * d, i * d + d), i * width);
      if (width > d) this.rows.fill(0, i * width + d, (i + 1) * width);
    }
  }

  distance(i: number, slot: number): number {
    const row = this.rowsBase + i * this.rowBytes;
    return this.distanceAt(row, this.slotsBase + slot * this.slotBytes, row + this.rowBytes);
  }

  setSlot(slot: number, values: Float64Array, offset: number): void {
    this.slotValues.set(values.subarray(offset, offset + this.d), (slot * this.slotBytes) / 8);
  }

  copyRow(i: number, out: Float64Array, offset: number): void {
    const from = (i * this.rowBytes) / 4;
    for (let j = 0; j < this.d; j++) out[offset + j] = this.rows[from + j];
  }

  clearSum(c: number): void {
    const from = (c * this.slotBytes) / 8;
    this.sumValues.fill(0, from, from + this.slotBytes / 8);
  }

  addRow(c: number, i: number): void {
    const row = this.rowsBase + i * this.rowBytes;
    this.addRowAt(this.sumsBase + c * this.slotBytes, row, row + this.rowBytes);
  }

  addSquaredDeviation(c: number, i: number, slot: number): void {
    const row = this.rowsBase + i * this.rowBytes;
    this.addSquaredDeviationAt(this.sumsBase + c * this.slotBytes, row, row + this.rowBytes, this.slotsBase + slot * this.slotBytes);
  }

  sumAt(c: number, j: number): number {
    return this.sumValues[(c * this.slotBytes) / 8 + j];
  }
}

/**
 * A memory and the kernels' instance on it, kept from fit to fit (grown when a fit needs more): the instance's
 * functions are new objects with each instance, and a new one deoptimises every caller optimised on the last one
 * (V8: "wrong call target"; 20–30 ms a fit). Held only while k-means is in use: a memory cannot shrink, so one idle
 * for IDLE_RELEASE_MS (or grown past KEEP_BYTES) is let go to the garbage collector, and taken back by the next fit
 * if no collection has freed it yet (a second memory would then sit beside it until one).
 */
interface Arena {
  readonly id: number;
  readonly memory: WasmMemory;
  readonly exports: Record<string, unknown>;
  busy: boolean;
}

/** An arena larger than this is let go when its fit is done, not held for the next. */
const KEEP_BYTES = 2 ** 26;
/**
 * Milliseconds without k-means work after which its held resources are let go (this memory; the run helper thread,
 * kmeans-runs.ts): long enough for the fits of n_init runs, a search or cross-validation to follow one another.
 */
export const IDLE_RELEASE_MS = 2000;
let keptArena: Arena | null = null;
/** The arena last let go, until the garbage collector frees it. */
let releasedArena: WeakRef<Arena> | null = null;
let arenas = 0;
/** Lets the kept arena go once idle; armed (or re-armed) by every release. Unref'd: it never holds the process open. */
let idleTimer: NodeJS.Timeout | null = null;

/** The kept (or let go, not yet freed) arena, grown to `bytes`, or a new one while it is in use; marked in use. */
function takeArena(bytes: number): Arena {
  const pages = Math.ceil(bytes / PAGE);
  keptArena ??= releasedArena?.deref() ?? null;
  releasedArena = null;
  let arena = keptArena;
  if (!arena || arena.busy) {
    const memory = new (wasm as WasmApi).Memory({ initial: pages, maximum: MAX_BYTES / PAGE, shared: true });
    arena = { id: ++arenas, memory, exports: new (wasm as WasmApi).Instance(compiledModule() as object, { env: { memory } }).exports, busy: false };
    keptArena ??= arena;
  }
  const have = arena.memory.buffer.byteLength / PAGE;
  if (have < pages) arena.memory.grow(pages - have);
  arena.busy = true;
  return arena;
}

function releaseArena(arena: Arena): void {
  arena.busy = false;
  if (arena !== keptArena) return;
  if (arena.memory.buffer.byteLength > KEEP_BYTES) letKeptArenaGo();
  else if (idleTimer) idleTimer.refresh();
  else idleTimer = setTimeout(releaseIdleArena, IDLE_RELEASE_MS).unref();
}

function letKeptArenaGo(): void {
  if (keptArena) releasedArena = new WeakRef(keptArena);
  keptArena = null;
}

/** A kept arena still in use (a fit waiting for its helper) stays: its release re-arms the timer. */
function releaseIdleArena(): void {
  if (keptArena && !keptArena.busy) letKeptArenaGo();
}

/**
 * Kernels over X's rows with `slots` centre slots and `sums` centroid sums, in memory laid out for `regions` threads
 * (this one uses region 0); FLOWSENTRY_NO_SIMD=1 forces the JavaScript twin, which has no layout to share.
 */
export function createKernels(X: Matrix, slots: number, sums: number, regions = 1): KMeansKernels {
  const module = process.env.FLOWSENTRY_NO_SIMD === '1' ? null : compiledModule();
  const width = Math.ceil(X.cols / 8) * 8;
  const bytes = CONTROL_BYTES + regions * (slots + sums) * width * 8 + X.rows * width * 4;
  if (!module || !wasm || bytes > MAX_BYTES) return new ScriptKernels(X, slots, sums);
  const arena = takeArena(bytes);
  const layout = { memory: arena.memory, arena: arena.id, keep: arena === keptArena && arena.memory.buffer.byteLength <= KEEP_BYTES, rows: X.rows, cols: X.cols, slots, sums, regions };
  const kernels = new SimdKernels(layout, 0, arena.exports, () => releaseArena(arena));
  kernels.fill(X);
  return kernels;
}

/** A helper thread's instance on a kept arena (one at a time). */
let helperArena: { id: number; exports: Record<string, unknown> } | null = null;

/** Kernels of another thread on a shared layout's rows, with slots and sums of their own (`region`). */
export function attachKernels(layout: KernelLayout, region: number): KMeansKernels {
  const exports = helperArena?.id === layout.arena ? helperArena.exports : new (wasm as WasmApi).Instance(compiledModule() as object, { env: { memory: layout.memory } }).exports;
  // A memory the calling thread no longer keeps (grown past KEEP_BYTES) is not held here either.
  helperArena = layout.keep ? { id: layout.arena, exports } : null;
  return new SimdKernels(layout, region, exports, () => undefined);
}

/** The layout's control word, as an Int32Array of length 1 for Atomics. */
export function controlWord(layout: KernelLayout): Int32Array {
  return new Int32Array(layout.memory.buffer, 0, 1);
}
