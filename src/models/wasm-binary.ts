// Pieces of the WebAssembly binary format (core spec, section 5 "Binary Format") for the hand-assembled SIMD modules
// (nn/simd.ts, neighbors/simd.ts, clustering/kmeans-kernels.ts): unsigned LEB128 integers, sections and names; and
// the slice of the WebAssembly API the kernels use, with a module compiled once on first use.

/** Unsigned LEB128: seven bits per byte, low bits first, the high bit set on every byte but the last. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** A section: its id, then its payload's length. */
export const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];

/** A name (import, export): its length, then its (ASCII) characters. */
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types; the few members used:
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The module of `bytes`, compiled on the first call; null without WebAssembly SIMD (the JavaScript twin runs then). */
export function compileOnce(bytes: () => Uint8Array): () => object | null {
  let compiled: object | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        compiled = wasm ? new wasm.Module(bytes()) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled;
  };
}
