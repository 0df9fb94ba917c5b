// Test helpers: build packets byte by byte (Ethernet, VLAN, IPv4/IPv6, TCP/UDP/ICMP) and write them as pcap or
// pcapng files, so tests know every field's true value.

export function ip4(text: string): number[] {
  return text.split('.').map(Number);
}

export function ip6(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':').filter(Boolean) : [];
  const t = tail ? tail.split(':').filter(Boolean) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

export const be16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

export interface TcpSpec {
  sport: number;
  dport: number;
  flags: number;
  window?: number;
  /** Options bytes (padded to 4 by the caller). */
  options?: number[];
  payload?: number;
}

export function tcp(s: TcpSpec): number[] {
  const opts = s.options ?? [];
  const hl = 20 + opts.length;
  return [
    ...be16(s.sport), ...be16(s.dport), ...be32(1000), ...be32(2000),
    (hl / 4) << 4, s.flags, ...be16(s.window ?? 0), 0, 0, 0, 0,
    ...opts, ...Array<number>(s.payload ?? 0).fill(0x61),
  ];
}

export function udp(sport: number, dport: number, payload: number): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload), 0, 0, ...Array<number>(payload).fill(0x62)];
}

export function icmp(type: number, code: number, payload: number): number[] {
  return [type, code, 0, 0, 0, 1, 0, 1, ...Array<number>(payload).fill(0x63)];
}

export interface Ip4Spec {
  src: string;
  dst: string;
  protocol: number;
  options?: number[];
  /** Fragment offset in 8-byte units and the more-fragments flag. */
  fragOffset?: number;
  moreFragments?: boolean;
}

export function ipv4(s: Ip4Spec, l4: number[]): number[] {
  const opts = s.options ?? [];
  const ihl = 20 + opts.length;
  const flagsFrag = (s.moreFragments ? 0x2000 : 0) | (s.fragOffset ?? 0);
  return [0x40 | (ihl / 4), 0, ...be16(ihl + l4.length), 0, 1, ...be16(flagsFrag), 64, s.protocol, 0, 0, ...ip4(s.src), ...ip4(s.dst), ...opts, ...l4];
}

/** IPv6 with optional extension headers given as [type, bytes] (bytes include next-header and length). */
export function ipv6(src: string, dst: string, protocol: number, l4: number[], ext: [number, number[]][] = []): number[] {
  const chain: number[] = [];
  const firstNext = ext.length > 0 ? ext[0]![0] : protocol;
  ext.forEach(([, bytes], i) => {
    const b = bytes.slice();
    b[0] = i + 1 < ext.length ? ext[i + 1]![0] : protocol;
    chain.push(...b);
  });
  const payloadLen = chain.length + l4.length;
  return [0x60, 0, 0, 0, ...be16(payloadLen), firstNext, 64, ...ip6(src), ...ip6(dst), ...chain, ...l4];
}

export function ethernet(l3: number[], etherType = 0x0800, vlans: number[] = []): number[] {
  const tags = vlans.flatMap((v, i) => [...be16(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100), ...be16(v)]);
  // With tags, the first TPID replaces the EtherType position: dst, src, [TPID, TCI]..., EtherType.
  const out = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  if (vlans.length === 0) return [...out, ...be16(etherType), ...l3];
  return [...out, ...tags, ...be16(etherType), ...l3];
}

export interface Frame {
  /** Seconds since the epoch (fractional). */
  t: number;
  bytes: number[];
  /** pcapng interface id. */
  iface?: number;
  /** Captured length when shorter than the frame (snap length). */
  capLen?: number;
}

/** A pcap file: little or big endian, µs or ns timestamps. */
export function pcapFile(frames: Frame[], opts: { linkType?: number; bigEndian?: boolean; nanos?: boolean } = {}): Buffer {
  const le = !opts.bigEndian;
  const parts: Buffer[] = [];
  const hdr = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number): number => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number): number => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(hdr, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(hdr, 2, 4);
  w16(hdr, 4, 6);
  w32(hdr, 262144, 16);
  w32(hdr, opts.linkType ?? 1, 20);
  parts.push(hdr);
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    const sec = Math.floor(f.t);
    const frac = Math.round((f.t - sec) * (opts.nanos ? 1e9 : 1e6));
    const cap = f.capLen ?? f.bytes.length;
    w32(rec, sec, 0);
    w32(rec, frac, 4);
    w32(rec, cap, 8);
    w32(rec, f.bytes.length, 12);
    parts.push(rec, Buffer.from(f.bytes.slice(0, cap)));
  }
  return Buffer.concat(parts);
}

export interface PcapngInterface {
  linkType: number;
  /** if_tsresol byte (default 6: microseconds). */
  tsresol?: number;
}

/** A pcapng file: one section, the given interfaces, EPBs (or SPBs with `simple`), plus an unknown block. */
export function pcapngFile(frames: Frame[], interfaces: PcapngInterface[], opts: { bigEndian?: boolean; simple?: boolean } = {}): Buffer {
  const le = !opts.bigEndian;
  const block = (type: number, body: Buffer): Buffer => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = Buffer.alloc(len);
    if (le) {
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(len, 4);
      b.writeUInt32LE(len, len - 4);
    } else {
      b.writeUInt32BE(type, 0);
      b.writeUInt32BE(len, 4);
      b.writeUInt32BE(len, len - 4);
    }
    body.copy(b, 8);
    return b;
  };
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  };
  const u16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const parts: Buffer[] = [];
  parts.push(block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])));
  for (const i of interfaces) {
    const opt = i.tsresol !== undefined ? Buffer.concat([u16(9), u16(1), Buffer.from([i.tsresol, 0, 0, 0]), u16(0), u16(0)]) : Buffer.alloc(0);
    parts.push(block(1, Buffer.concat([u16(i.linkType), u16(0), u32(262144), opt])));
  }
  // An unknown (custom) block that readers must skip.
  parts.push(block(0x00000bad, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])));
  for (const f of frames) {
    const data = Buffer.from(f.bytes.slice(0, f.capLen ?? f.bytes.length));
    if (opts.simple) {
      parts.push(block(3, Buffer.concat([u32(f.bytes.length), data])));
      continue;
    }
    const iface = f.iface ?? 0;
    const r = interfaces[iface]!.tsresol ?? 6;
    const unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
    const units = BigInt(Math.round(f.t * 1e6)) * BigInt(unitsPerSec) / 1_000_000n;
    parts.push(
      block(6, Buffer.concat([u32(iface), u32(Number(units >> 32n)), u32(Number(units & 0xffffffffn)), u32(data.length), u32(f.bytes.length), data])),
    );
  }
  return Buffer.concat(parts);
}
