// WebAssembly SIMD distance kernel for the dense scans: squared euclidean and manhattan distances of one query to a
// run of rows, four float32 lanes at a time, four rows at a time (one accumulator each). It lists the groups of four
// rows holding a value at or below a threshold (the top-k heap's), and in its checked variant stops a group early
// once all four partial sums pass the threshold (partial distance search, Bei & Gray, IEEE Trans. Communications
// 1985), over columns ordered by decreasing variance. The module is assembled here from its opcodes, so
// there is no build step and no binary blob. Float32 accumulation is approximate: callers get a relative error
// bound (`relativeError`) and re-check candidates exactly. Cost O(rows · d / 4) vector steps per call at most.

import { compileOnce, name, section, uleb, wasm, type WasmApi, type WasmMemory } from '../wasm-binary.js';
import type { SearchData } from './kernels.js';


/** WebAssembly opcodes used below (core and SIMD, https://webassembly.github.io/spec/core/binary/instructions.html). */
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f64Load: 0x2b,
  i32Store: 0x36,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32And: 0x71,
  i32ShrU: 0x76,
  br: 0x0c,
  select: 0x1b,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  simd: 0xfd,
  voidType: 0x40,
} as const;
const SIMD = {
  load: [0x00],
  store: [0x0b],
  shuffle: [0x0d],
  splatF32: [0x13],
  splatF64: [0x14],
  gtF32: [0x44],
  leF32: [0x45],
  allTrue32: [0xa3, 0x01],
  const: [0x0c],
  anyTrue: [0x53],
  abs: [0xe0, 0x01],
  add: [0xe4, 0x01],
  sub: [0xe5, 0x01],
  mul: [0xe6, 0x01],
  addF64: [0xf0, 0x01],
  mulF64: [0xf2, 0x01],
} as const;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
/** Rows measured together by one kernel step: four independent accumulators hide the float add latency. */
export const ROW_GROUP = 4;

// Parameters: 0 query address, 1 row address, 2 row count (> 0, rounded up to a multiple of 4 by the caller),
// 3 vectors per row, 4 output address (one float32 per row), 5 group list address, 6 threshold (float32).
// Rows are taken four at a time (one accumulator each); the group numbers whose four sums include one ≤ threshold
// are appended to the group list and their count is returned. A group stops early (unlisted, its
// outputs undefined) once the partial sums of all four rows exceed the threshold: sums of non-negative float32
// terms only grow, so such a group could not be listed.
// Locals: 7 offset in the row, 8 row stride in bytes, 9–11 rows 2–4 of the group, 12 listed groups, 13 group
// number; 14–17 accumulators, 18 query vector then sums, 19 threshold splat, 20 difference; 21 end of the current
// segment of the row, 22 offset of the second check (the first is at half of it).
function kernelBody(manhattan: boolean): number[] {
  const get = (i: number): number[] => [OP.localGet, i];
  const set = (i: number): number[] => [OP.localSet, i];
  const simd = (op: readonly number[]): number[] => [OP.simd, ...op];
  const add = (a: number, b: number, to: number): number[] => [...get(a), ...get(b), OP.i32Add, ...set(to)];
  const load = (base: number): number[] => [...get(base), ...get(7), OP.i32Add, ...simd(SIMD.load), 4, 0];
  const combine = manhattan ? simd(SIMD.abs) : [OP.localTee, 20, ...get(20), ...simd(SIMD.mul)];
  const rowBases = [1, 9, 10, 11];
  const step = (r: number): number[] => [...load(rowBases[r]), ...get(18), ...simd(SIMD.sub), ...combine, ...get(14 + r), ...simd(SIMD.add), ...set(14 + r)];
  const zero = [...simd(SIMD.const), ...new Array<number>(16).fill(0)];
  // Float lanes a (of the first operand) and b (of the second, numbered 4–7) as a byte shuffle.
  const shuffle = (lanes: number[]): number[] => [...simd(SIMD.shuffle), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])];
  // (x0+x2, x1+x3, y0+y2, y1+y3) of two vectors.
  const fold = (x: number, y: number): number[] => [
    ...get(x), ...get(y), ...shuffle([0, 1, 4, 5]),
    ...get(x), ...get(y), ...shuffle([2, 3, 6, 7]),
    ...simd(SIMD.add),
  ];
  // The four sums of the accumulators into local 18 (locals 20 and 18 as scratch).
  const sums = [
    ...fold(14, 15), ...set(20),
    ...fold(16, 17), ...set(18),
    ...get(20), ...get(18), ...shuffle([0, 2, 4, 6]),
    ...get(20), ...get(18), ...shuffle([1, 3, 5, 7]),
    ...simd(SIMD.add), ...set(18),
  ];
  const code = [
    ...get(3), OP.i32Const, 4, OP.i32Shl, ...set(8),
    // Partial sums are checked after a quarter and a half of the row (at least one vector each).
    ...get(8), OP.i32Const, 1, OP.i32ShrU, OP.i32Const, 0x70, OP.i32And, ...set(22),
    ...get(22), OP.i32Const, 16, ...get(22), OP.i32Const, 16, OP.i32GtU, OP.select, ...set(22),
    ...get(6), ...simd(SIMD.splatF32), ...set(19),
    OP.block, OP.voidType,
    ...get(2), OP.i32Eqz, OP.brIf, 0,
    OP.loop, OP.voidType, // group
    ...[14, 15, 16, 17].flatMap((a) => [...zero, ...set(a)]),
    ...add(1, 8, 9), ...add(9, 8, 10), ...add(10, 8, 11),
    OP.i32Const, 0, ...set(7),
    ...get(22), OP.i32Const, 1, OP.i32ShrU, OP.i32Const, 0x70, OP.i32And, ...set(21),
    ...get(21), OP.i32Const, 16, ...get(21), OP.i32Const, 16, OP.i32GtU, OP.select, ...set(21),
    OP.block, OP.voidType, // skip: the group's partial sums all passed the threshold
    OP.block, OP.voidType, // full: the whole row was summed
    OP.loop, OP.voidType, // segment
    OP.loop, OP.voidType, // vector
    ...get(0), ...get(7), OP.i32Add, ...simd(SIMD.load), 4, 0, ...set(18),
    ...step(0), ...step(1), ...step(2), ...step(3),
    ...get(7), OP.i32Const, 16, OP.i32Add, OP.localTee, 7,
    ...get(21), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(7), ...get(8), OP.i32GeU, OP.brIf, 1,
    // Float32 sums of non-negative terms only grow: a partial sum above the threshold stays above it.
    ...sums,
    ...get(18), ...get(19), ...simd(SIMD.gtF32), ...simd(SIMD.allTrue32), OP.brIf, 2,
    ...get(22), ...get(8), ...get(7), ...get(22), OP.i32LtU, OP.select, ...set(21),
    OP.br, 0,
    OP.end,
    OP.end,
    ...sums,
    ...get(4), ...get(18), ...simd(SIMD.store), 4, 0,
    ...get(5), ...get(12), OP.i32Const, 2, OP.i32Shl, OP.i32Add, ...get(13), OP.i32Store, 2, 0,
    ...get(12), ...get(18), ...get(19), ...simd(SIMD.leF32), ...simd(SIMD.anyTrue), OP.i32Add, ...set(12),
    OP.end,
    ...get(13), OP.i32Const, 1, OP.i32Add, ...set(13),
    ...get(4), OP.i32Const, 16, OP.i32Add, ...set(4),
    ...add(11, 8, 1),
    ...get(2), OP.i32Const, ROW_GROUP, OP.i32Sub, OP.localTee, 2,
    OP.i32Const, 0, OP.i32GtS, OP.brIf, 0,
    OP.end,
    OP.end,
    ...get(12),
    OP.end,
  ];
  const locals = [3, 7, I32, 7, V128, 2, I32];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

// Sparse dots with a run of columns (float64x2, two columns per step): out[p] = Σ_t vals[t] · M[rows[t]][c0 + p]
// for p < 2 · pairs, over a row-major float64 matrix M (row j at base + j · stride bytes, base pointing at entry c0),
// each sum taken from 0 in the order t = 0, 1, … as the JavaScript loop `out[c] += v * M[j][c]` takes it, so the
// values are the same. Parameters: 0 output address, 1 base, 2 stride (bytes), 3 pairs (> 0), 4 row list address
// (int32), 5 value list address (float64), 6 list length. Locals: 7 byte offset in the output, 8 its end, 9 row
// address, 10 the value splat.
function columnDotsBody(): number[] {
  const get = (i: number): number[] => [OP.localGet, i];
  const set = (i: number): number[] => [OP.localSet, i];
  const simd = (op: readonly number[]): number[] => [OP.simd, ...op];
  const next = (i: number, by: number): number[] => [...get(i), OP.i32Const, by, OP.i32Add, ...set(i)];
  const code = [
    ...get(3), OP.i32Const, 4, OP.i32Shl, ...set(8),
    OP.i32Const, 0, ...set(7),
    OP.loop, OP.voidType,
    ...get(0), ...get(7), OP.i32Add, ...simd(SIMD.const), ...new Array<number>(16).fill(0), ...simd(SIMD.store), 3, 0,
    ...get(7), OP.i32Const, 16, OP.i32Add, OP.localTee, 7, ...get(8), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.block, OP.voidType,
    ...get(6), OP.i32Eqz, OP.brIf, 0,
    OP.loop, OP.voidType, // row of M
    ...get(5), OP.f64Load, 3, 0, ...simd(SIMD.splatF64), ...set(10),
    ...get(1), ...get(4), OP.i32Load, 2, 0, ...get(2), OP.i32Mul, OP.i32Add, ...set(9),
    OP.i32Const, 0, ...set(7),
    OP.loop, OP.voidType, // two columns
    ...get(0), ...get(7), OP.i32Add,
    ...get(0), ...get(7), OP.i32Add, ...simd(SIMD.load), 3, 0,
    ...get(10), ...get(9), ...get(7), OP.i32Add, ...simd(SIMD.load), 3, 0, ...simd(SIMD.mulF64),
    ...simd(SIMD.addF64),
    ...simd(SIMD.store), 3, 0,
    ...get(7), OP.i32Const, 16, OP.i32Add, OP.localTee, 7, ...get(8), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...next(4, 4), ...next(5, 8),
    ...get(6), OP.i32Const, 1, OP.i32Sub, OP.localTee, 6, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  const body = [2, 3, I32, 1, V128, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const bodies = [kernelBody(false), kernelBody(true), columnDotsBody()];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, 7, I32, I32, I32, I32, I32, I32, F32, 1, I32, 0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0]),
    // Shared memory (limits flag 3), 1 to 65,536 pages: rows can be shared between threads.
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x03, 1, ...uleb(65536)]),
    ...section(3, [3, 0, 0, 1]),
    ...section(7, [3, ...name('sq'), 0x00, 0, ...name('l1'), 0x00, 1, ...name('columnDots'), 0x00, 2]),
    ...section(10, [3, ...bodies.flat()]),
  ]);
}

const compiledModule = compileOnce(moduleBytes);

export function simdAvailable(): boolean {
  return compiledModule() !== null && process.env.FLOWSENTRY_NO_SIMD !== '1';
}

/** Columns by decreasing variance over up to 1,024 evenly spaced rows. */
function columnsByVariance(data: Float32Array, n: number, d: number): Int32Array {
  const sample = Math.min(n, 1024);
  const sum = new Float64Array(d);
  const sum2 = new Float64Array(d);
  for (let t = 0; t < sample; t++) {
    const o = Math.floor((t * n) / sample) * d;
    for (let j = 0; j < d; j++) {
      sum[j] += data[o + j];
      sum2[j] += data[o + j] * data[o + j];
    }
  }
  const variance = Float64Array.from(sum2, (s2, j) => s2 / sample - (sum[j] / sample) ** 2);
  return Int32Array.from({ length: d }, (_, j) => j).sort((a, b) => variance[b] - variance[a] || a - b);
}

type Kernel = (query: number, rows: number, count: number, vectors: number, out: number, groups: number, threshold: number) => number;

const cache = new WeakMap<Float32Array | Int32Array, SimdScan>();

/** Scratch areas of a kernel whose rows are shared between threads: one per thread (a helper beyond takes a copy). */
const SHARED_SLOTS = 64;
/** This thread's scratch area in shared kernels (0 in the main thread; helpers are numbered from 1). */
let threadSlot = 0;

/** Sets this thread's scratch area in shared kernels (search helpers, at their start). */
export function useKernelSlot(slot: number): void {
  threadSlot = slot;
}

/**
 * Padded rows in WebAssembly memory, and the scratch areas of the threads that search them (query slots, results,
 * listed groups); shared memory, so that helper threads can search the same rows (`SimdScan.ordered`).
 */
export interface KernelRows {
  memory: WasmMemory;
  metric: SearchData['metric'];
  /** Floats per padded row. */
  width: number;
  /** Column of the data at each kernel column (highest variance first, so partial sums pass thresholds early). */
  columns: Int32Array;
  queryCapacity: number;
  maxGroups: number;
  /** Bytes of one scratch area; area i starts at i · scratchBytes, the rows at slots · scratchBytes. */
  scratchBytes: number;
  slots: number;
}

function copyRows(s: SearchData, queryCapacity: number, maxRun: number, order: Int32Array | null, slots: number): KernelRows {
  const width = Math.ceil(s.d / 4) * 4;
  const maxGroups = Math.ceil(maxRun / ROW_GROUP);
  // Whole cache lines (and a spare one), so that threads writing their own areas never share a line.
  const scratchBytes = Math.ceil((queryCapacity * width * 4 + maxGroups * (ROW_GROUP + 1) * 4) / 64) * 64 + 64;
  const rowsOffset = slots * scratchBytes;
  // ROW_GROUP − 1 zero rows after the last one: a run's last group may read past it.
  const pages = Math.ceil((rowsOffset + (s.n + ROW_GROUP) * width * 4) / 65536) + 1;
  const memory = new (wasm as WasmApi).Memory({ initial: pages, maximum: pages, shared: true });
  const rows = new Float32Array(memory.buffer, rowsOffset, s.n * width);
  // Early exits pay when the columns come by decreasing variance.
  const columns = columnsByVariance(s.data, s.n, s.d);
  for (let i = 0; i < s.n; i++) copyRow(rows, i * width, s.data, (order ? order[i] : i) * s.d, columns);
  return { memory, metric: s.metric, width, columns, queryCapacity, maxGroups, scratchBytes, slots };
}

function copyRow(rows: Float32Array, to: number, data: Float32Array, from: number, columns: Int32Array): void {
  for (let j = 0; j < columns.length; j++) rows[to + j] = data[from + columns[j]];
}

/** The rows of one index in WebAssembly memory (copied once per thread, or shared), and one thread's kernel on them. */
export class SimdScan {
  private readonly kernel: Kernel;
  private readonly metric: SearchData['metric'];
  private readonly memory: WasmMemory;
  /** Floats per padded row. */
  readonly width: number;
  private readonly queryOffset: number;
  private readonly rowsOffset: number;
  private readonly outOffset: number;
  private readonly groupsOffset: number;
  private readonly queryCapacity: number;
  /** The kernel's output slots: one float32 per row of the last run. */
  readonly results: Float32Array;
  /** Groups (of ROW_GROUP rows, numbered from the run's first row) listed by the last `runBelow`. */
  readonly groups: Int32Array;

  /** Relative error bound of the float32 results (rounding of differences, products and lane sums, with margin). */
  readonly relativeError: number;

  private readonly columns: Int32Array;

  private constructor(
    /** The rows, for helper threads to share. */
    readonly rows: KernelRows,
    slot: number,
  ) {
    const api = wasm as WasmApi;
    this.memory = rows.memory;
    this.width = rows.width;
    this.queryCapacity = rows.queryCapacity;
    this.columns = rows.columns;
    this.metric = rows.metric;
    this.queryOffset = slot * rows.scratchBytes;
    this.outOffset = this.queryOffset + rows.queryCapacity * rows.width * 4;
    this.groupsOffset = this.outOffset + rows.maxGroups * ROW_GROUP * 4;
    this.rowsOffset = rows.slots * rows.scratchBytes;
    const instance = new api.Instance(compiledModule() as object, { env: { memory: this.memory } });
    this.results = new Float32Array(this.memory.buffer, this.outOffset, rows.maxGroups * ROW_GROUP);
    this.groups = new Int32Array(this.memory.buffer, this.groupsOffset, rows.maxGroups);
    this.kernel = instance.exports[rows.metric === 'manhattan' ? 'l1' : 'sq'] as Kernel;
    // Each lane sums width / 4 rounded terms in sequence, then two pairwise additions: (width / 4 + 4) units of
    // 2^-24, taken with a factor 4 of margin.
    this.relativeError = (this.width / 4 + 4) * 2 ** -22;
  }

  /** The kernel for this index's rows (built on first use in each thread; one per rows array, the latest metric). */
  static for(s: SearchData, queryCapacity: number, maxRun: number): SimdScan {
    let scan = cache.get(s.data);
    if (!scan || scan.queryCapacity < queryCapacity || scan.metric !== s.metric) {
      scan = new SimdScan(copyRows(s, queryCapacity, maxRun, null, 1), 0);
      cache.set(s.data, scan);
    }
    return scan;
  }

  /**
   * A kernel over the rows in the order `order` (position → row), one query slot, once per thread and order (it
   * goes with `order`): on `shared` rows (another thread's kernel's `rows` for the same order) when given and this
   * thread has a scratch area there, else on a copy of its own.
   */
  static ordered(s: SearchData, order: Int32Array, maxRun: number, shared?: KernelRows): SimdScan {
    let scan = cache.get(order);
    if (!scan) {
      scan = shared && threadSlot < shared.slots ? new SimdScan(shared, threadSlot) : new SimdScan(copyRows(s, 1, maxRun, order, SHARED_SLOTS), 0);
      cache.set(order, scan);
    }
    return scan;
  }

  /** Copies query rows q0 .. q0+count of `queries` (width d) into the query slots. */
  loadQueries(queries: Float32Array, q0: number, count: number, d: number): void {
    const slots = new Float32Array(this.memory.buffer, this.queryOffset, this.queryCapacity * this.width);
    slots.fill(0);
    const columns = this.columns;
    for (let i = 0; i < count; i++) {
      const src = (q0 + i) * d;
      for (let j = 0; j < d; j++) slots[i * this.width + j] = queries[src + columns[j]];
    }
  }

  /** Distances of query slot `slot` to rows t0 .. t0+count into out[outOff ..] (squared for euclidean). */
  run(slot: number, t0: number, count: number, out: Float64Array, outOff: number): void {
    this.runBelow(slot, t0, count, Number.POSITIVE_INFINITY);
    const result = this.results;
    for (let i = 0; i < count; i++) out[outOff + i] = result[i];
  }

  /**
   * Distances of query slot `slot` to rows t0 .. t0+count into `results` (squared for euclidean; entries from
   * `count` to the next multiple of ROW_GROUP are other rows'); returns how many groups of ROW_GROUP results hold
   * a value ≤ `threshold` (float32 comparison) and lists them in `groups`, ascending.
   */
  runBelow(slot: number, t0: number, count: number, threshold: number): number {
    if (count === 0) return 0;
    const rounded = Math.ceil(count / ROW_GROUP) * ROW_GROUP;
    return this.kernel(this.queryOffset + slot * this.width * 4, this.rowsOffset + t0 * this.width * 4, rounded, this.width / 4, this.outOffset, this.groupsOffset, threshold);
  }
}

const dotsCache = new WeakMap<Float64Array, SparseDots>();

/**
 * A row-major float64 matrix (rows × columns) copied into WebAssembly memory once per thread, and dots of one sparse
 * vector over its rows with runs of its columns (the cluster search's query-to-centre products, one column per centre).
 */
export class SparseDots {
  private readonly kernel: (out: number, base: number, stride: number, pairs: number, rows: number, vals: number, count: number) => void;
  private readonly rowsOffset: number;
  private readonly valsOffset: number;
  private readonly matrixOffset: number;
  private readonly rowList: Int32Array;
  private readonly valueList: Float64Array;
  private count = 0;
  /** Results of the last `run`: out[p] for columns c0 + p. */
  readonly out: Float64Array;

  private constructor(
    matrix: Float64Array,
    rows: number,
    private readonly columns: number,
  ) {
    const api = wasm as WasmApi;
    const outBytes = Math.ceil(columns / 2) * 16 + 16;
    this.rowsOffset = outBytes;
    this.valsOffset = this.rowsOffset + Math.ceil(rows / 4) * 16;
    this.matrixOffset = this.valsOffset + Math.ceil(rows / 2) * 16;
    // One float64 of padding: a run of odd length reads one entry past its last column.
    const bytes = this.matrixOffset + (rows * columns + 2) * 8;
    const pages = Math.ceil(bytes / 65536);
    const memory = new api.Memory({ initial: pages, maximum: pages, shared: true });
    const instance = new api.Instance(compiledModule() as object, { env: { memory } });
    this.kernel = instance.exports.columnDots as SparseDots['kernel'];
    this.out = new Float64Array(memory.buffer, 0, outBytes / 8);
    this.rowList = new Int32Array(memory.buffer, this.rowsOffset, rows);
    this.valueList = new Float64Array(memory.buffer, this.valsOffset, rows);
    new Float64Array(memory.buffer, this.matrixOffset, rows * columns).set(matrix);
  }

  /** The copy of `matrix` (rows × columns) for this thread. */
  static for(matrix: Float64Array, rows: number, columns: number): SparseDots {
    let dots = dotsCache.get(matrix);
    if (!dots) {
      dots = new SparseDots(matrix, rows, columns);
      dotsCache.set(matrix, dots);
    }
    return dots;
  }

  /** The sparse vector: values[t] in row rows[t], for t < count. */
  load(rows: Int32Array, values: Float64Array, count: number): void {
    this.rowList.set(rows.subarray(0, count));
    this.valueList.set(values.subarray(0, count));
    this.count = count;
  }

  /** out[p] = the dot of the loaded vector with column c0 + p, for c0 + p < c1 (c1 > c0). */
  run(c0: number, c1: number): Float64Array {
    this.kernel(0, this.matrixOffset + c0 * 8, this.columns * 8, Math.ceil((c1 - c0) / 2), this.rowsOffset, this.valsOffset, this.count);
    return this.out;
  }
}
