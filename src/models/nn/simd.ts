// A WebAssembly SIMD (128-bit, f64x2) kernel for the hot loop of sparse-input layers, hand-assembled (no toolchain):
//   fma4(dst, src, w0, w1, w2, w3, v0, v1, v2, v3, n):  dst[c] = src[c] + (((v0·w0[c] + v1·w1[c]) + v2·w2[c]) + v3·w3[c])
// for c < n, all pointers are byte offsets of Float64 arrays in the kernel's own memory. The association order is the
// one the JavaScript fallback uses, and neither contracts to FMA, so both give bit-identical results. O(n).
// fma4f32 is the same with w0..w3 Float32 arrays, each element promoted exactly to Float64 (half the bytes read).
// relu and reluGradient are network.ts's ReLU and its derivative, and add an element-wise sum, two elements at a time
// with the same operations (f64x2 abs / add / mul, min / ceil / mul, add), so again bit-identical to JavaScript.
// Arrays the kernel touches are allocated from an arena inside that memory; allocation is bump-only, one arena per fit.

import { name, section, uleb } from '../wasm-binary.js';

const PAGE = 65536;

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The kernel's code; with `narrowRows` the four rows w0..w3 are Float32 arrays (promoted exactly to Float64). */
function kernelCode(narrowRows: boolean): number[] {
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const v128Load = [0xfd, 0x00, 0x03, 0x00];
  const v128Store = [0xfd, 0x0b, 0x03, 0x00];
  const f64x2Add = [0xfd, 0xf0, 0x01];
  const f64x2Mul = [0xfd, 0xf2, 0x01];
  const f64x2Splat = [0xfd, 0x14];
  const i32Add = [0x6a];
  // params: 0 dst, 1 src, 2..5 w0..w3, 6..9 v0..v3, 10 n; locals: 11 i, 12 end, 13..16 splatted v0..v3
  const I = 11;
  const END = 12;
  const addr = (base: number): number[] => [...get(base), ...get(I), ...i32Add];
  // A row element: its address is base + I (Float64) or base + I/2 (Float32).
  const rowAddr = (base: number): number[] => (narrowRows ? [...get(base), ...get(I), 0x41, 0x01, 0x76, ...i32Add] : addr(base));
  const rowPair = (base: number): number[] => [...rowAddr(base), ...(narrowRows ? [0xfd, 0x5d, 0x03, 0x00, 0xfd, 0x5f] : v128Load)];
  const rowOne = (base: number): number[] => [...rowAddr(base), ...(narrowRows ? [0x2a, 0x02, 0x00, 0xbb] : [0x2b, 0x03, 0x00])];
  const body = [
    ...get(10), 0x41, 0x03, 0x74, ...set(END),
    ...get(6), ...f64x2Splat, ...set(13),
    ...get(7), ...f64x2Splat, ...set(14),
    ...get(8), ...f64x2Splat, ...set(15),
    ...get(9), ...f64x2Splat, ...set(16),
    0x02, 0x40, 0x03, 0x40,
    ...get(I), 0x41, 0x10, ...i32Add, ...get(END), 0x4b, 0x0d, 0x01,
    ...addr(0),
    ...addr(1), ...v128Load,
    ...rowPair(2), ...get(13), ...f64x2Mul,
    ...rowPair(3), ...get(14), ...f64x2Mul, ...f64x2Add,
    ...rowPair(4), ...get(15), ...f64x2Mul, ...f64x2Add,
    ...rowPair(5), ...get(16), ...f64x2Mul, ...f64x2Add,
    ...f64x2Add,
    ...v128Store,
    ...get(I), 0x41, 0x10, ...i32Add, ...set(I),
    0x0c, 0x00,
    0x0b, 0x0b,
    ...get(I), ...get(END), 0x49, 0x04, 0x40,
    ...addr(0),
    ...addr(1), 0x2b, 0x03, 0x00,
    ...rowOne(2), ...get(6), 0xa2,
    ...rowOne(3), ...get(7), 0xa2, 0xa0,
    ...rowOne(4), ...get(8), 0xa2, 0xa0,
    ...rowOne(5), ...get(9), 0xa2, 0xa0,
    0xa0,
    0x39, 0x03, 0x00,
    0x0b,
    0x0b,
  ];
  const locals = [0x02, 0x02, 0x7f, 0x04, 0x7b];
  return [...locals, ...body];
}

/**
 * An element-wise kernel over n Float64s at x (and y): pairs through `pair` (the v128 values of x and y on the stack,
 * the result left there), a last odd element through `single` (f64 values), each stored back to x.
 * params: 0 x, 1 y, 2 n; locals: 3 i, 4 end.
 */
function elementwiseCode(pair: number[], single: number[]): number[] {
  const get = (i: number): number[] => [0x20, i];
  const at = (base: number): number[] => [...get(base), ...get(3), 0x6a];
  const body = [
    ...get(2), 0x41, 0x03, 0x74, 0x21, 0x04,
    0x02, 0x40, 0x03, 0x40,
    ...get(3), 0x41, 0x10, 0x6a, ...get(4), 0x4b, 0x0d, 0x01,
    ...at(0),
    ...at(0), 0xfd, 0x00, 0x03, 0x00,
    ...at(1), 0xfd, 0x00, 0x03, 0x00,
    ...pair,
    0xfd, 0x0b, 0x03, 0x00,
    ...get(3), 0x41, 0x10, 0x6a, 0x21, 0x03,
    0x0c, 0x00,
    0x0b, 0x0b,
    ...get(3), ...get(4), 0x49, 0x04, 0x40,
    ...at(0),
    ...at(0), 0x2b, 0x03, 0x00,
    ...at(1), 0x2b, 0x03, 0x00,
    ...single,
    0x39, 0x03, 0x00,
    0x0b,
    0x0b,
  ];
  return [0x01, 0x02, 0x7f, ...body];
}

const f64Const = (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
const f64x2Const = (v: number): number[] => [...f64Const(v), 0xfd, 0x14];

/** x = (x + |x|) · 0.5, the branch-free ReLU of network.ts (y unused: its own value is dropped). */
const reluCode = elementwiseCode(
  [0x1a, 0x22, 0x05, 0x20, 0x05, 0xfd, 0xec, 0x01, 0xfd, 0xf0, 0x01, ...f64x2Const(0.5), 0xfd, 0xf2, 0x01],
  [0x1a, 0x22, 0x06, 0x20, 0x06, 0x99, 0xa0, ...f64Const(0.5), 0xa2],
);
/** x = x · ceil(min(y, 1)), the ReLU derivative of network.ts from the activations y. */
const reluGradientCode = elementwiseCode(
  [...f64x2Const(1), 0xfd, 0xf4, 0x01, 0xfd, 0x74, 0xfd, 0xf2, 0x01],
  [...f64Const(1), 0xa4, 0x9b, 0xa2],
);

/** x = x + y. */
const addCode = elementwiseCode([0xfd, 0xf0, 0x01], [0xa0]);

function moduleBytes(): Uint8Array {
  const wide = kernelCode(false);
  const narrow = kernelCode(true);
  // The ReLU kernel keeps x in a v128 local (5) and an f64 local (6) beyond elementwiseCode's locals.
  const relu = [0x03, 0x02, 0x7f, 0x01, 0x7b, 0x01, 0x7c, ...reluCode.slice(3)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x02, 0x60, 0x0b, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7c, 0x7c, 0x7c, 0x7c, 0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x05, 0x00, 0x00, 0x01, 0x01, 0x01]),
    ...section(7, [0x05, ...name('fma4'), 0x00, 0x00, ...name('fma4f32'), 0x00, 0x01, ...name('relu'), 0x00, 0x02, ...name('reluGradient'), 0x00, 0x03, ...name('add'), 0x00, 0x04]),
    ...section(10, [0x05, ...uleb(wide.length), ...wide, ...uleb(narrow.length), ...narrow, ...uleb(relu.length), ...relu, ...uleb(reluGradientCode.length), ...reluGradientCode, ...uleb(addCode.length), ...addCode]),
  ];
  return Uint8Array.from(bytes);
}

let compiled: object | null | undefined;

function simdModule(): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = process.env.FLOWSENTRY_NO_SIMD || !WebAssembly.validate(bytes) ? null : new WebAssembly.Module(bytes);
  }
  return compiled;
}

export type Fma4 = (dst: number, src: number, w0: number, w1: number, w2: number, w3: number, v0: number, v1: number, v2: number, v3: number, n: number) => void;
/** An element-wise kernel over n Float64s at byte offset x (reading y alongside), results back to x. */
export type Elementwise = (x: number, y: number, n: number) => void;

/** A memory, the kernel bound to it, and a bump allocator of 16-byte-aligned Float64Arrays. */
export class SimdArena {
  readonly buffer: ArrayBuffer;
  readonly fma4: Fma4;
  /** fma4 with w0..w3 pointing at Float32 arrays (dst and src stay Float64). */
  readonly fma4f32: Fma4;
  /** relu(x, x, n): x = (x + |x|) · 0.5. */
  readonly relu: Elementwise;
  /** reluGradient(e, a, n): e = e · ceil(min(a, 1)), from the ReLU's outputs a. */
  readonly reluGradient: Elementwise;
  /** add(x, y, n): x = x + y. */
  readonly add: Elementwise;
  private used = 0;

  private constructor(memory: WasmMemory, exports: Record<string, unknown>) {
    this.buffer = memory.buffer;
    this.fma4 = exports.fma4 as Fma4;
    this.fma4f32 = exports.fma4f32 as Fma4;
    this.relu = exports.relu as Elementwise;
    this.reluGradient = exports.reluGradient as Elementwise;
    this.add = exports.add as Elementwise;
  }

  /** An arena of at least `bytes`, or null when WebAssembly SIMD is unavailable (or FLOWSENTRY_NO_SIMD is set). */
  static create(bytes: number): SimdArena | null {
    const module = simdModule();
    if (!module) return null;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((bytes + 64) / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return new SimdArena(memory, instance.exports);
  }

  alloc(length: number): Float64Array {
    return new Float64Array(this.buffer, this.reserve(length * 8), length);
  }

  /** A 16-byte-aligned Float32Array in the arena. */
  allocFloat32(length: number): Float32Array {
    return new Float32Array(this.buffer, this.reserve(length * 4), length);
  }

  /** Start of `bytes` more bytes in the arena, rounded up so the next array stays 16-byte aligned. */
  private reserve(bytes: number): number {
    const start = this.used;
    const end = start + ((bytes + 15) & ~15);
    if (end > this.buffer.byteLength) throw new Error('SIMD arena exhausted');
    this.used = end;
    return start;
  }

  /** True when every array lives in this arena's memory. */
  holds(...arrays: Float64Array[]): boolean {
    return arrays.every((a) => a.buffer === this.buffer);
  }
}
