// Encodes model state (JSON values plus typed arrays) as a JSON header and one binary section, so large arrays are
// stored compactly and loaded without parsing text. The result is data only: decoding never evaluates code.
// Layout: u32 header length | header JSON (utf-8) | padding to 8 | array bytes (each 8-aligned).

import type { ModelState, StateValue, TypedArray } from '../models/estimator.js';

const ARRAY_TYPES = {
  f32: Float32Array,
  f64: Float64Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
} as const;
type ArrayTag = keyof typeof ARRAY_TYPES;

function tagOf(a: TypedArray): ArrayTag {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int8Array) return 'i8';
  if (a instanceof Int16Array) return 'i16';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  return 'u32';
}

interface ArrayRef {
  $array: ArrayTag;
  offset: number;
  length: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeState(state: ModelState): Buffer {
  const arrays: TypedArray[] = [];
  let offset = 0;
  const walk = (v: StateValue): unknown => {
    if (ArrayBuffer.isView(v)) {
      const a = v as TypedArray;
      const ref: ArrayRef = { $array: tagOf(a), offset, length: a.length };
      offset = align8(offset + a.byteLength);
      arrays.push(a);
      return ref;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  };
  const header = Buffer.from(JSON.stringify(walk(state)), 'utf8');
  const headerEnd = align8(4 + header.length);
  const out = Buffer.alloc(headerEnd + offset);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let pos = headerEnd;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, pos);
    pos = align8(pos + a.byteLength);
  }
  return out;
}

export function decodeState(buf: Buffer): ModelState {
  if (buf.length < 4) throw new Error('state section is truncated');
  const headerLength = buf.readUInt32LE(0);
  if (4 + headerLength > buf.length) throw new Error('state section is truncated');
  const base = align8(4 + headerLength);
  const parsed: unknown = JSON.parse(buf.toString('utf8', 4, 4 + headerLength));
  const walk = (v: unknown): StateValue => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$array === 'string' && o.$array in ARRAY_TYPES) {
        const ctor = ARRAY_TYPES[o.$array as ArrayTag];
        const start = base + (o.offset as number);
        const bytes = (o.length as number) * ctor.BYTES_PER_ELEMENT;
        if (start + bytes > buf.length) throw new Error('state section is truncated');
        const copy = new Uint8Array(bytes);
        copy.set(buf.subarray(start, start + bytes));
        return new ctor(copy.buffer) as TypedArray;
      }
      if (typeof o.$number === 'string') return Number(o.$number);
      const out: Record<string, StateValue> = {};
      for (const [k, x] of Object.entries(o)) out[k] = walk(x);
      return out;
    }
    return v as StateValue;
  };
  return walk(parsed) as ModelState;
}
