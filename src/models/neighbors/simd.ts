// WebAssembly SIMD distance kernel for the dense scan: squared euclidean and manhattan distances of one query to a
// run of rows, four float32 lanes at a time with two independent accumulators. The module (≈200 bytes) is
// assembled here from its opcodes, so there is no build step and no binary blob. Float32 accumulation is
// approximate: callers get a relative error bound (`relativeError`) and re-check candidates exactly.
// Cost O(rows · d / 8) vector steps per call.

import type { SearchData } from './kernels.js';

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types; the few members used here:
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** WebAssembly opcodes used below (core and SIMD, https://webassembly.github.io/spec/core/binary/instructions.html). */
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Store: 0x38,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Shl: 0x74,
  f32Add: 0x92,
  simd: 0xfd,
  voidType: 0x40,
} as const;
const SIMD = { load: [0x00], const: [0x0c], extractF32: [0x1f], abs: [0xe0, 0x01], add: [0xe4, 0x01], sub: [0xe5, 0x01], mul: [0xe6, 0x01] } as const;
const I32 = 0x7f;
const V128 = 0x7b;

// Parameters: 0 query address, 1 row address, 2 row count, 3 vectors per row (even), 4 output address.
// Locals: 5 query cursor, 6 row end, 7 and 8 accumulators, 9 and 10 differences.
function kernelBody(manhattan: boolean): number[] {
  const get = (i: number): number[] => [OP.localGet, i];
  const set = (i: number): number[] => [OP.localSet, i];
  const simd = (op: readonly number[]): number[] => [OP.simd, ...op];
  const load = (addrLocal: number, offset: number): number[] => [...get(addrLocal), ...simd(SIMD.load), 4, offset];
  const combine = (diffLocal: number): number[] =>
    manhattan ? simd(SIMD.abs) : [OP.localTee, diffLocal, ...get(diffLocal), ...simd(SIMD.mul)];
  const step = (offset: number, acc: number, diff: number): number[] => [
    ...load(1, offset),
    ...load(5, offset),
    ...simd(SIMD.sub),
    ...combine(diff),
    ...get(acc),
    ...simd(SIMD.add),
    ...set(acc),
  ];
  const zero = [...simd(SIMD.const), ...new Array<number>(16).fill(0)];
  const lane = (i: number): number[] => [...get(7), ...simd(SIMD.extractF32), i];
  const code = [
    OP.block, OP.voidType,
    ...get(2), OP.i32Eqz, OP.brIf, 0,
    OP.loop, OP.voidType,
    ...zero, ...set(7),
    ...zero, ...set(8),
    ...get(0), ...set(5),
    ...get(1), ...get(3), OP.i32Const, 4, OP.i32Shl, OP.i32Add, ...set(6),
    OP.loop, OP.voidType,
    ...step(0, 7, 9),
    ...step(16, 8, 10),
    ...get(1), OP.i32Const, 32, OP.i32Add, ...set(1),
    ...get(5), OP.i32Const, 32, OP.i32Add, ...set(5),
    ...get(1), ...get(6), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(7), ...get(8), ...simd(SIMD.add), ...set(7),
    ...get(4),
    ...lane(0), ...lane(1), OP.f32Add,
    ...lane(2), ...lane(3), OP.f32Add,
    OP.f32Add,
    OP.f32Store, 2, 0,
    ...get(4), OP.i32Const, 4, OP.i32Add, ...set(4),
    ...get(2), OP.i32Const, 1, OP.i32Sub, OP.localTee, 2,
    OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  const locals = [2, 2, I32, 4, V128];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

function moduleBytes(): Uint8Array {
  const bodies = [kernelBody(false), kernelBody(true)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('sq'), 0x00, 0, ...name('l1'), 0x00, 1]),
    ...section(10, [2, ...bodies.flat()]),
  ]);
}

let compiled: object | null | undefined;

function compiledModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null; // no WebAssembly SIMD here: the JavaScript kernel is used
    }
  }
  return compiled;
}

export function simdAvailable(): boolean {
  return compiledModule() !== null && process.env.FLOWSENTRY_NO_SIMD !== '1';
}

type Kernel = (query: number, rows: number, count: number, vectors: number, out: number) => void;

const cache = new WeakMap<Float32Array | Int32Array, SimdScan>();

/** The rows of one index, padded and copied into WebAssembly memory once per thread. */
export class SimdScan {
  private readonly kernel: Kernel;
  private readonly metric: SearchData['metric'];
  private readonly memory: WasmMemory;
  /** Floats per padded row. */
  readonly width: number;
  private readonly rowsOffset: number;
  private readonly outOffset: number;
  private readonly queryCapacity: number;
  /** The kernel's output slots. */
  private readonly results: Float32Array;

  /** Relative error bound of the float32 results (rounding of differences, products and lane sums, with margin). */
  readonly relativeError: number;

  private constructor(s: SearchData, queryCapacity: number, maxRun: number, order: Int32Array | null) {
    const api = wasm as WasmApi;
    const module = compiledModule() as object;
    this.width = Math.ceil(s.d / 8) * 8;
    this.queryCapacity = queryCapacity;
    this.outOffset = queryCapacity * this.width * 4;
    this.rowsOffset = this.outOffset + maxRun * 4;
    const bytes = this.rowsOffset + s.n * this.width * 4;
    this.memory = new api.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
    const instance = new api.Instance(module, { env: { memory: this.memory } });
    this.results = new Float32Array(this.memory.buffer, this.outOffset, maxRun);
    this.metric = s.metric;
    this.kernel = (s.metric === 'manhattan' ? instance.exports.l1 : instance.exports.sq) as Kernel;
    const rows = new Float32Array(this.memory.buffer, this.rowsOffset, s.n * this.width);
    for (let i = 0; i < s.n; i++) {
      const row = order ? order[i] : i;
      rows.set(s.data.subarray(row * s.d, (row + 1) * s.d), i * this.width);
    }
    this.relativeError = (this.width / 8 + 8) * 2 ** -22;
  }

  /** The kernel for this index's rows (built on first use in each thread; one per rows array, the latest metric). */
  static for(s: SearchData, queryCapacity: number, maxRun: number): SimdScan {
    let scan = cache.get(s.data);
    if (!scan || scan.queryCapacity < queryCapacity || scan.metric !== s.metric) {
      scan = new SimdScan(s, queryCapacity, maxRun, null);
      cache.set(s.data, scan);
    }
    return scan;
  }

  /**
   * A kernel over the rows in the order `order` (position → row), one query slot, built once per thread and order
   * (`keep` false: built for one use and not cached, so that its memory can go).
   */
  static ordered(s: SearchData, order: Int32Array, maxRun: number, keep = true): SimdScan {
    let scan = keep ? cache.get(order) : undefined;
    if (!scan) {
      scan = new SimdScan(s, 1, maxRun, order);
      if (keep) cache.set(order, scan);
    }
    return scan;
  }

  /** The padded rows in WebAssembly memory (row i at i · width); valid until the next kernel is built. */
  rowsView(): Float32Array {
    return new Float32Array(this.memory.buffer, this.rowsOffset, (this.memory.buffer.byteLength - this.rowsOffset) >> 2);
  }

  /** Copies query rows q0 .. q0+count of `queries` (width d) into the query slots. */
  loadQueries(queries: Float32Array, q0: number, count: number, d: number): void {
    const slots = new Float32Array(this.memory.buffer, 0, this.queryCapacity * this.width);
    slots.fill(0);
    for (let i = 0; i < count; i++) slots.set(queries.subarray((q0 + i) * d, (q0 + i + 1) * d), i * this.width);
  }

  /** Distances of query slot `slot` to rows t0 .. t0+count into out[outOff ..] (squared for euclidean). */
  run(slot: number, t0: number, count: number, out: Float64Array, outOff: number): void {
    this.kernel(slot * this.width * 4, this.rowsOffset + t0 * this.width * 4, count, this.width / 4, this.outOffset);
    const result = this.results;
    for (let i = 0; i < count; i++) out[outOff + i] = result[i];
  }
}
