// Synthetic export datagrams for warming the collector's code before its socket is bound: NetFlow v5 (Cisco v5
// layout), NetFlow v9 (RFC 3954) and IPFIX (RFC 7011, with RFC 5103 reverse counters and an options record carrying
// systemInitTimeMilliseconds), shaped like a typical exporter's (softflowd's templates: IPv4 and IPv6, TCP, UDP and
// ICMP records, full ~1.4 kB datagrams). Decoding them makes V8 compile the decoders before the first burst arrives;
// they must go to a scratch TemplateStore / DecodeStats, never the user's. Built in code: no file is needed.

const V5_RECORDS = 30;
const V9_RECORDS = 30;
const IPFIX_RECORDS = 20;
/** Flow records of the synthetic exporter start in this range of addresses (both above and below 2^31). */
const ADDRESSES = [0x0a000001, 0xc0a80001, 0xac100001, 0xc6336401];
const PROTOCOLS = [6, 17, 6, 1, 6, 17];

/** Big-endian writer over a fixed buffer. */
class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  u8(v: number): this {
    this.buf[this.pos++] = v & 255;
    return this;
  }
  u16(v: number): this {
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  u64(v: number): this {
    return this.u32(Math.floor(v / 4294967296)).u32(v % 4294967296);
  }
  ipv6(seed: number): this {
    this.u32(0x20010db8).u32(0).u32(seed >>> 16).u32(seed & 0xffff);
    return this;
  }
  /** Writes the length of the set that started at `start` into its header. */
  endSet(start: number): void {
    this.buf.writeUInt16BE(this.pos - start, start + 2);
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

interface FlowSpec {
  src: number;
  dst: number;
  protocol: number;
  srcPort: number;
  dstPort: number;
  packets: number;
  bytes: number;
  flags: number;
  /** ms before the export time. */
  startAgo: number;
  endAgo: number;
}

function flow(n: number): FlowSpec {
  const protocol = PROTOCOLS[n % PROTOCOLS.length];
  const packets = 1 + ((n * 7919) % 5000);
  return {
    src: (ADDRESSES[n % ADDRESSES.length] + ((n * 13) % 250)) >>> 0,
    dst: (ADDRESSES[(n + 1) % ADDRESSES.length] + ((n * 29) % 250)) >>> 0,
    protocol,
    srcPort: protocol === 1 ? 0 : 1024 + ((n * 977) % 60000),
    dstPort: protocol === 1 ? 0x0800 : [80, 443, 53, 22][n % 4],
    packets,
    bytes: packets * (40 + ((n * 131) % 1400)),
    flags: protocol === 6 ? 0x1b : 0,
    startAgo: 1000 + ((n * 104729) % 600_000),
    endAgo: (n * 7) % 1000,
  };
}

function v5(nowMs: number, uptimeMs: number, first: number): Buffer {
  const w = new Writer(24 + V5_RECORDS * 48);
  // Exported a fraction of a millisecond before nowMs, as real headers are (nanoseconds not a whole millisecond),
  // a different fraction in each datagram, as from a real exporter (the JSON writer computes each new one's digits).
  const exportMs = nowMs - 1;
  const nanoseconds = (exportMs % 1000) * 1e6 + 123_457 + first * 7_919;
  w.u16(5).u16(V5_RECORDS).u32(uptimeMs).u32(Math.floor(exportMs / 1000)).u32(nanoseconds).u32(first).u8(0).u8(0).u16(0);
  for (let n = first; n < first + V5_RECORDS; n++) {
    const f = flow(n);
    w.u32(f.src).u32(f.dst).u32(0).u16(1).u16(2).u32(f.packets).u32(f.bytes);
    w.u32(uptimeMs - f.startAgo).u32(uptimeMs - f.endAgo).u16(f.srcPort).u16(f.dstPort).u8(0).u8(f.flags).u8(f.protocol).u8(0);
    w.u16(0).u16(0).u8(24).u8(24).u16(0);
  }
  return w.done();
}

/** Field (type, length) pairs of the IPv4 and IPv6 templates: addresses, sysUpTime first/last, counters, ports (IPv6: and VLAN). */
const V9_IPV4 = [8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1];
const V9_IPV6 = [27, 16, 28, 16, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1, 58, 2];

function v9(nowMs: number, uptimeMs: number, first: number, withTemplates: boolean, ipv6: boolean): Buffer {
  const w = new Writer(1500);
  w.u16(9).u16(0).u32(uptimeMs).u32(Math.floor(nowMs / 1000)).u32(first).u32(1);
  let count = 0;
  if (withTemplates) {
    const set = w.pos;
    w.u16(0).u16(0);
    for (const [id, fields] of [[1024, V9_IPV4], [2048, V9_IPV6]] as const) {
      w.u16(id).u16(fields.length / 2);
      for (const v of fields) w.u16(v);
    }
    w.endSet(set);
    // Options template 256 (FlowSet 1): scope System (1) of 4 bytes; samplingInterval (34), flowActiveTimeout (36).
    const options = w.pos;
    w.u16(1).u16(0).u16(256).u16(4).u16(8).u16(1).u16(4).u16(34).u16(4).u16(36).u16(2);
    w.endSet(options);
    const optionsData = w.pos;
    w.u16(256).u16(0).u32(0x7f000001).u32(1).u16(1800).u16(0);
    w.endSet(optionsData);
    count += 4;
  }
  const set = w.pos;
  w.u16(ipv6 ? 2048 : 1024).u16(0);
  const records = ipv6 ? V9_RECORDS / 2 : V9_RECORDS;
  for (let n = first; n < first + records; n++) {
    const f = flow(n);
    if (ipv6) w.ipv6(f.src).ipv6(f.dst);
    else w.u32(f.src).u32(f.dst);
    w.u32(uptimeMs - f.startAgo).u32(uptimeMs - f.endAgo).u32(f.bytes).u32(f.packets).u32(1).u32(2);
    w.u8(0).u8(1 + (n % 5)).u16(f.srcPort).u16(f.dstPort).u8(f.protocol).u8(f.flags).u8(ipv6 ? 6 : 4).u8(0);
    // IPv6 records carry a VLAN id, so the JSON writer's VLAN path is warmed too.
    if (ipv6) w.u16(100 + (n % 4));
  }
  w.endSet(set);
  w.buf.writeUInt16BE(count + records, 2);
  return w.done();
}

/** IPFIX IPv4 biflow template: ms times, delta counters and the RFC 5103 reverse octets / packets (PEN 29305). */
const IPFIX_IPV4 = [8, 4, 12, 4, 152, 8, 153, 8, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1];
const IPFIX_IPV6 = [27, 16, 28, 16, 152, 8, 153, 8, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1];
/** IPv4 with sysUpTime first/last (22/21), placed on the calendar by the options record's systemInitTime. */
const IPFIX_IPV4_UPTIME = [8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1];
const REVERSE_PEN = 29305;
const IPFIX_TEMPLATES = [
  [1024, IPFIX_IPV4],
  [2048, IPFIX_IPV6],
  [1025, IPFIX_IPV4_UPTIME],
] as const;

/** An IPFIX message with data of template `kind` (an index of IPFIX_TEMPLATES), preceded by every template if asked. */
function ipfix(nowMs: number, uptimeMs: number, first: number, withTemplates: boolean, kind: number): Buffer {
  const w = new Writer(1500);
  w.u16(10).u16(0).u32(Math.floor(nowMs / 1000)).u32(first).u32(1);
  if (withTemplates) {
    let set = w.pos;
    w.u16(2).u16(0);
    for (const [id, fields] of IPFIX_TEMPLATES) {
      w.u16(id).u16(fields.length / 2 + 2);
      for (const v of fields) w.u16(v);
      w.u16(0x8000 | 1).u16(4).u32(REVERSE_PEN).u16(0x8000 | 2).u16(4).u32(REVERSE_PEN);
    }
    w.endSet(set);
    // Options template 256: scope observationDomainId (149), then systemInitTimeMilliseconds (160).
    set = w.pos;
    w.u16(3).u16(0).u16(256).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8);
    w.endSet(set);
    set = w.pos;
    w.u16(256).u16(0).u32(1).u64(nowMs - uptimeMs);
    w.endSet(set);
  }
  const set = w.pos;
  const ipv6 = kind === 1;
  w.u16(IPFIX_TEMPLATES[kind][0]).u16(0);
  const records = ipv6 ? (IPFIX_RECORDS / 5) * 3 : IPFIX_RECORDS;
  for (let n = first; n < first + records; n++) {
    const f = flow(n);
    if (ipv6) w.ipv6(f.src).ipv6(f.dst);
    else w.u32(f.src).u32(f.dst);
    if (kind === 2) w.u32(uptimeMs - f.startAgo).u32(uptimeMs - f.endAgo);
    else w.u64(nowMs - f.startAgo).u64(nowMs - f.endAgo);
    w.u32(f.bytes).u32(f.packets).u32(1).u32(2);
    w.u8(0).u8(1 + (n % 5)).u16(f.srcPort).u16(f.dstPort).u8(f.protocol).u8(f.flags).u8(ipv6 ? 6 : 4).u8(0);
    w.u32(Math.floor(f.bytes / 3)).u32(Math.floor(f.packets / 2));
  }
  w.endSet(set);
  w.buf.writeUInt16BE(w.pos, 2);
  return w.done();
}

/** Datagrams in one round of warmupDatagrams(): 4 groups of one v5, two v9 and three IPFIX datagrams. */
export const WARM_UP_ROUND_LENGTH = 24;

/**
 * One round of warm-up datagrams from one synthetic exporter, in the order an exporter sends them (templates first):
 * v5, v9 and IPFIX, IPv4 and IPv6, with and without template sets.
 */
export function warmupDatagrams(nowMs: number): Buffer[] {
  const uptimeMs = 86_400_000;
  const out: Buffer[] = [];
  for (let k = 0; k < WARM_UP_ROUND_LENGTH / 6; k++) {
    const first = k * 31;
    out.push(v5(nowMs, uptimeMs, first));
    // The first v9 and IPFIX data of a round precede their templates, so they wait for them as out-of-order data do.
    out.push(v9(nowMs, uptimeMs, first + 7, false, true), v9(nowMs, uptimeMs, first, k === 0, false));
    out.push(ipfix(nowMs, uptimeMs, first + 7, false, 1), ipfix(nowMs, uptimeMs, first, k === 0, 0), ipfix(nowMs, uptimeMs, first + 11, false, 2));
  }
  return out;
}
