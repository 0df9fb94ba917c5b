// Pieces of the WebAssembly binary format (core spec, section 5 "Binary Format") for the hand-assembled SIMD modules
// (nn/simd.ts, neighbors/simd.ts): unsigned LEB128 integers, sections and names.

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
