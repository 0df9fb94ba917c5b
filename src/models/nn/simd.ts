// A WebAssembly SIMD (128-bit, f64x2) kernel for the hot loop of sparse-input layers, hand-assembled (no toolchain):
//   fma4(dst, src, w0, w1, w2, w3, v0, v1, v2, v3, n):  dst[c] = src[c] + (((v0·w0[c] + v1·w1[c]) + v2·w2[c]) + v3·w3[c])
// for c < n, all pointers are byte offsets of Float64 arrays in the kernel's own memory. The association order is the
// one the JavaScript fallback uses, and neither contracts to FMA, so both give bit-identical results. O(n).
// fma4f32 is the same with w0..w3 Float32 arrays, each element promoted exactly to Float64 (half the bytes read).
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

function moduleBytes(): Uint8Array {
  const wide = kernelCode(false);
  const narrow = kernelCode(true);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x0b, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7c, 0x7c, 0x7c, 0x7c, 0x7f, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x02, 0x00, 0x00]),
    ...section(7, [0x02, ...name('fma4'), 0x00, 0x00, ...name('fma4f32'), 0x00, 0x01]),
    ...section(10, [0x02, ...uleb(wide.length), ...wide, ...uleb(narrow.length), ...narrow]),
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

/** A memory, the kernel bound to it, and a bump allocator of 16-byte-aligned Float64Arrays. */
export class SimdArena {
  readonly buffer: ArrayBuffer;
  readonly fma4: Fma4;
  /** fma4 with w0..w3 pointing at Float32 arrays (dst and src stay Float64). */
  readonly fma4f32: Fma4;
  private used = 0;

  private constructor(memory: WasmMemory, fma4: Fma4, fma4f32: Fma4) {
    this.buffer = memory.buffer;
    this.fma4 = fma4;
    this.fma4f32 = fma4f32;
  }

  /** An arena of at least `bytes`, or null when WebAssembly SIMD is unavailable (or FLOWSENTRY_NO_SIMD is set). */
  static create(bytes: number): SimdArena | null {
    const module = simdModule();
    if (!module) return null;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((bytes + 64) / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return new SimdArena(memory, instance.exports.fma4 as Fma4, instance.exports.fma4f32 as Fma4);
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
