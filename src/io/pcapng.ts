// pcapng reader (draft-ietf-opsawg-pcapng): Section Header (either byte order, several sections per file),
// Interface Description (link type, if_tsresol, if_tsoffset per interface), Enhanced, Simple and obsolete Packet
// blocks. Other blocks are skipped by length without buffering them, so memory stays O(largest packet block); only
// those that are not standard blocks without packets are counted (`unknown-block`).
// O(1) work per block besides the callback. Corruption is counted by reason, never thrown.

import {
  BYTES_AFTER_CORRUPTION,
  countSkip,
  fillTo,
  joinChunks,
  RawPacket,
  ReadPause,
  readU16,
  readU32,
  type CaptureReader,
  type PacketCallback,
  type SkipCounts,
} from './pcap.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OPB = 0x00000002; // obsolete Packet Block
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Standard blocks that carry no packets, skipped without being counted: name resolution, interface statistics
 * (dumpcap ends every capture with one per interface), systemd journal export, decryption secrets. */
const NRB = 0x00000004;
const ISB = 0x00000005;
const JOURNAL_EXPORT = 0x00000009;
const DSB = 0x0000000a;
/** Largest block we buffer to parse; bigger blocks of a known type are counted as corrupt. */
const MAX_PARSED_BLOCK = 1 << 20;
const TWO_POW_32 = 4294967296;
/** Interfaces kept per section: a file of nothing but interface blocks must not grow memory with its size. */
const MAX_INTERFACES = 65_536;

export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && readU32(b, 0, false) === SHB;
}

export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  packets = 0;
  readonly skipped: SkipCounts = {};
  private rest: Uint8Array | undefined;
  private little = true;
  private inSection = false;
  /** Bytes of an unparsed block still to skip, and that block's length. */
  private skipBytes = 0;
  private skipBlockLength = 0;
  damagedTail = -1;
  private stopped = false;
  private linkTypes: number[] = [];
  /** Multiplier from the interface's timestamp units to microseconds. */
  private tsScale: number[] = [];
  private tsOffsetUs: number[] = [];
  private lastTsUs = 0;
  /** Unread bytes of the last chunk after a pause. */
  private held: Uint8Array | undefined;
  private readonly packet = new RawPacket();

  constructor(
    private readonly onPacket: PacketCallback,
    private readonly pause = new ReadPause(),
  ) {}

  /** `data` without the bytes still to be skipped (the rest of an oversized block); undefined when all were. */
  private skipPending(data: Uint8Array): Uint8Array | undefined {
    if (this.skipBytes === 0) return data;
    if (data.length <= this.skipBytes) {
      this.skipBytes -= data.length;
      return undefined;
    }
    const out = data.subarray(this.skipBytes);
    this.skipBytes = 0;
    return out;
  }

  push(chunk: Uint8Array): void {
    if (this.held) throw new Error('PcapngReader.push while paused: resume() first');
    if (this.stopped) {
      countSkip(this.skipped, BYTES_AFTER_CORRUPTION, chunk.length);
      return;
    }
    let data = this.skipPending(chunk);
    if (!data) return;
    if (this.rest) {
      let rest = this.rest;
      this.rest = undefined;
      ({ rest, data } = fillTo(rest, data, 12));
      if (rest.length < 12) {
        this.rest = rest;
        return;
      }
      const total = this.pendingLength(rest);
      ({ rest, data } = fillTo(rest, data, total));
      if (rest.length < total) {
        this.rest = rest;
        return;
      }
      const used = this.parse(rest);
      if (used < 0) {
        countSkip(this.skipped, BYTES_AFTER_CORRUPTION, data.length);
        return;
      }
      if (used < rest.length) data = joinChunks(rest.subarray(used), data); // rare: a block that could not be sized
      if (this.held) {
        this.held = data;
        return;
      }
      data = this.skipPending(data);
      if (!data) return;
    }
    this.consume(data);
  }

  get paused(): boolean {
    return this.held !== undefined;
  }

  resume(): void {
    const held = this.held;
    this.held = undefined;
    const data = held && this.skipPending(held);
    if (data) this.consume(data);
  }

  /** Parses `data` and keeps what is left of a partial block (a copy: the caller may reuse its buffer). */
  private consume(data: Uint8Array): void {
    const used = this.parse(data);
    if (used >= 0 && !this.held && used < data.length) this.rest = new Uint8Array(data.subarray(used));
  }

  /** Length of the block starting `rest` when it is one we parse and its length is sane; 0 otherwise. */
  private pendingLength(rest: Uint8Array): number {
    let little = this.little;
    if (readU32(rest, 0, true) === SHB) {
      if (readU32(rest, 8, true) === BYTE_ORDER_MAGIC) little = true;
      else if (readU32(rest, 8, false) === BYTE_ORDER_MAGIC) little = false;
      else return 0;
    }
    const type = readU32(rest, 0, little);
    const len = readU32(rest, 4, little);
    const parsed = type === SHB || type === IDB || type === EPB || type === SPB || type === OPB;
    return parsed && len >= 12 && len % 4 === 0 && len <= MAX_PARSED_BLOCK ? len : 0;
  }

  /**
   * Handles the whole blocks of `buf`; returns the bytes consumed, or -1 when framing was lost. A pause stops it
   * after a block, with the rest of `buf` held.
   */
  private parse(buf: Uint8Array): number {
    let pos = 0;
    while (buf.length - pos >= 12) {
      const type = readU32(buf, pos, this.little);
      if (type === SHB || readU32(buf, pos, !this.little) === SHB) {
        // The section header decides the byte order of everything up to the next one.
        const bom = readU32(buf, pos + 8, true);
        if (bom === BYTE_ORDER_MAGIC) this.little = true;
        else if (readU32(buf, pos + 8, false) === BYTE_ORDER_MAGIC) this.little = false;
        else {
          this.fail('bad-section-header', buf.length - pos);
          return -1;
        }
      } else if (!this.inSection) {
        this.fail('missing-section-header', buf.length - pos);
        return -1;
      }
      const blockType = readU32(buf, pos, this.little);
      const blockLen = readU32(buf, pos + 4, this.little);
      if (blockLen < 12 || blockLen % 4 !== 0) {
        this.fail('corrupt-block-length', buf.length - pos);
        return -1;
      }
      const parsed = blockType === SHB || blockType === IDB || blockType === EPB || blockType === SPB || blockType === OPB;
      if (!parsed) {
        if (blockType !== ISB && blockType !== NRB && blockType !== DSB && blockType !== JOURNAL_EXPORT) countSkip(this.skipped, 'unknown-block');
        const available = buf.length - pos;
        if (available < blockLen) {
          this.skipBytes = blockLen - available;
          this.skipBlockLength = blockLen;
          pos = buf.length;
          break;
        }
        pos += blockLen;
        continue;
      }
      if (blockLen > MAX_PARSED_BLOCK) {
        this.fail('corrupt-block-length', buf.length - pos);
        return -1;
      }
      if (buf.length - pos < blockLen) break;
      if (readU32(buf, pos + blockLen - 4, this.little) !== blockLen) countSkip(this.skipped, 'block-length-mismatch');
      this.parseBlock(buf, pos, blockType, blockLen);
      pos += blockLen;
      if (this.pause.requested) {
        this.held = buf.subarray(pos);
        return pos;
      }
    }
    return pos;
  }

  end(): void {
    if (this.stopped) this.damagedTail = this.skipped[BYTES_AFTER_CORRUPTION] ?? 0;
    else if (this.rest && this.rest.length > 0) {
      countSkip(this.skipped, 'truncated-block');
      this.damagedTail = this.rest.length;
    } else if (this.skipBytes > 0) {
      countSkip(this.skipped, 'truncated-block');
      this.damagedTail = this.skipBlockLength - this.skipBytes;
    }
    this.rest = undefined;
  }

  private fail(reason: string, bytesLeft: number): void {
    countSkip(this.skipped, reason);
    countSkip(this.skipped, BYTES_AFTER_CORRUPTION, bytesLeft);
    this.stopped = true;
    this.rest = undefined;
  }

  private parseBlock(b: Uint8Array, pos: number, type: number, len: number): void {
    const little = this.little;
    const bodyEnd = pos + len - 4;
    switch (type) {
      case SHB:
        this.inSection = true;
        this.linkTypes = [];
        this.tsScale = [];
        this.tsOffsetUs = [];
        return;
      case IDB: {
        if (len < 20) {
          countSkip(this.skipped, 'corrupt-interface-block');
          this.addInterface(1, 1, 0);
          return;
        }
        const linkType = readU16(b, pos + 8, little);
        let scale = 1; // default resolution is 10^-6 s
        let offsetUs = 0;
        // Options: code (2), length (2), value padded to 4 bytes.
        let o = pos + 16;
        while (o + 4 <= bodyEnd) {
          const code = readU16(b, o, little);
          const optLen = readU16(b, o + 2, little);
          if (code === 0 || o + 4 + optLen > bodyEnd) break;
          if (code === 9 && optLen >= 1) {
            const r = b[o + 4]!;
            const unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
            scale = 1e6 / unitsPerSec;
            if (!Number.isFinite(scale) || scale === 0) {
              countSkip(this.skipped, 'bad-timestamp-resolution');
              scale = 1;
            }
          } else if (code === 14 && optLen >= 8) {
            // if_tsoffset: a signed 64-bit number of seconds
            const hi = readU32(b, o + 4 + (little ? 4 : 0), little) | 0;
            const lo = readU32(b, o + 4 + (little ? 0 : 4), little);
            offsetUs = (hi * TWO_POW_32 + lo) * 1e6;
          }
          o += 4 + ((optLen + 3) & ~3);
        }
        this.addInterface(linkType, scale, offsetUs);
        return;
      }
      case EPB:
      case OPB: {
        if (len < 32) {
          countSkip(this.skipped, 'corrupt-packet-block');
          return;
        }
        const iface = type === EPB ? readU32(b, pos + 8, little) : readU16(b, pos + 8, little);
        const capLen = readU32(b, pos + 20, little);
        const origLen = readU32(b, pos + 24, little);
        if (capLen > len - 32) {
          countSkip(this.skipped, 'corrupt-packet-length');
          return;
        }
        if (iface >= this.linkTypes.length) {
          countSkip(this.skipped, 'unknown-interface');
          return;
        }
        const scale = this.tsScale[iface]!;
        const tsUs = readU32(b, pos + 12, little) * TWO_POW_32 * scale + readU32(b, pos + 16, little) * scale + this.tsOffsetUs[iface]!;
        this.emit(b, pos + 28, capLen, origLen, tsUs, iface);
        return;
      }
      case SPB: {
        if (len < 16) {
          countSkip(this.skipped, 'corrupt-packet-block');
          return;
        }
        if (this.linkTypes.length === 0) {
          countSkip(this.skipped, 'unknown-interface');
          return;
        }
        const origLen = readU32(b, pos + 8, little);
        const capLen = Math.min(origLen, len - 16);
        // Simple Packet Blocks carry no timestamp: reuse the last one seen.
        this.emit(b, pos + 12, capLen, origLen, this.lastTsUs, 0);
        return;
      }
    }
  }

  private addInterface(linkType: number, scale: number, offsetUs: number): void {
    if (this.linkTypes.length >= MAX_INTERFACES) {
      countSkip(this.skipped, 'too-many-interfaces'); // its packets are then counted as unknown-interface
      return;
    }
    this.linkTypes.push(linkType);
    this.tsScale.push(scale);
    this.tsOffsetUs.push(offsetUs);
  }

  private emit(b: Uint8Array, offset: number, capLen: number, origLen: number, tsUs: number, iface: number): void {
    const p = this.packet;
    p.data = b;
    p.offset = offset;
    p.capLen = capLen;
    p.origLen = origLen < capLen ? capLen : origLen;
    p.tsUs = tsUs;
    p.linkType = this.linkTypes[iface]!;
    p.interfaceId = iface;
    this.lastTsUs = tsUs;
    this.packets++;
    this.onPacket(p);
  }
}
