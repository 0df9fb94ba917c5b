// Hand-built NetFlow v5 / v9 / IPFIX datagrams for the decoder tests, written field by field from the formats
// (Cisco v5 layout, RFC 3954, RFC 7011) so the expected values are known exactly; and the fixture file reader.

import { readFileSync } from 'node:fs';

/** Splits a fixture file of [u32 length][datagram] entries (test/fixtures/netflow/capture.mjs writes them). */
export function readDatagrams(path: string): Buffer[] {
  const file = readFileSync(path);
  const out: Buffer[] = [];
  for (let off = 0; off + 4 <= file.length; ) {
    const n = file.readUInt32BE(off);
    out.push(file.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return out;
}

/** Big-endian byte writer. */
export class Bytes {
  private readonly parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 255);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(Math.floor(v / 65536)).u16(v % 65536);
  }
  u64(v: number): this {
    return this.u32(Math.floor(v / 4294967296)).u32(v % 4294967296);
  }
  ipv4(text: string): this {
    for (const p of text.split('.')) this.u8(Number(p));
    return this;
  }
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.u8(bytes[i]);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  buffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** A set or FlowSet: id, length including the 4-byte header, body. */
export function set(id: number, body: Buffer): Buffer {
  return new Bytes().u16(id).u16(body.length + 4).raw(body).buffer();
}

export function ipfixMessage(exportSeconds: number, domain: number, sets: Buffer[], sequence = 0): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([new Bytes().u16(10).u16(16 + body.length).u32(exportSeconds).u32(sequence).u32(domain).buffer(), body]);
}

export function v9Packet(sysUptime: number, unixSecs: number, sourceId: number, flowSets: Buffer[], count = 1): Buffer {
  return Buffer.concat([new Bytes().u16(9).u16(count).u32(sysUptime).u32(unixSecs).u32(0).u32(sourceId).buffer(), ...flowSets]);
}

/** A field specifier: [id, length] or [id, length, enterprise]. */
export type Field = [number, number] | [number, number, number];

/** Template record body (IPFIX: enterprise bit and number for enterprise fields). */
export function templateRecord(id: number, fields: Field[], scopeCount?: number): Buffer {
  const b = new Bytes().u16(id).u16(fields.length);
  if (scopeCount !== undefined) b.u16(scopeCount);
  for (const [ie, len, pen] of fields) {
    if (pen !== undefined) b.u16(ie | 0x8000).u16(len).u32(pen);
    else b.u16(ie).u16(len);
  }
  return b.buffer();
}
