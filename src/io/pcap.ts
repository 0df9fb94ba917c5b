// Classic libpcap savefile reader (tcpdump.org "PCAP Capture File Format", draft-ietf-opsawg-pcap):
// 24-byte global header, then 16-byte record headers. Magic 0xa1b2c3d4 (µs) or 0xa1b23c4d (ns), either byte order.
// Incremental: push() takes chunks of any size, so a multi-GB file streams in O(largest record) memory.
// O(1) work per record besides the callback. Bad records are counted by reason, never thrown.

/** One captured packet. The reader reuses a single instance: copy what you keep. */
export class RawPacket {
  /** Bytes of the current chunk; the packet is data[offset, offset + capLen). */
  data: Uint8Array = new Uint8Array(0);
  offset = 0;
  capLen = 0;
  /** Length on the wire (may exceed capLen when the capture was truncated by a snap length). */
  origLen = 0;
  /** Microseconds since the Unix epoch (fractional for nanosecond captures). */
  tsUs = 0;
  /** LINKTYPE_* value (tcpdump.org link-layer header types). */
  linkType = 1;
  /** pcapng interface id; 0 for pcap. */
  interfaceId = 0;
}

export type PacketCallback = (packet: RawPacket) => void;

/**
 * Lets a consumer stop a reader after the packet it is handling (e.g. a writer whose queue is over its bound): the
 * reader keeps the rest of the chunk until resume(). One reader checks `requested` after every packet.
 */
export class ReadPause {
  requested = false;
}

/** Counts of things a reader skipped, by reason. */
export type SkipCounts = Record<string, number>;

export function countSkip(skipped: SkipCounts, reason: string, n = 1): void {
  skipped[reason] = (skipped[reason] ?? 0) + n;
}

/** Largest record we accept: 256 KiB is libpcap's MAXIMUM_SNAPLEN; a bit more for odd writers. */
export const MAX_RECORD = 262_144 + 65_536;

/** Common interface of the pcap and pcapng incremental readers. */
export interface CaptureReader {
  readonly format: 'pcap' | 'pcapng';
  /** Feeds the next bytes of the file; packets are delivered synchronously to the callback. */
  push(chunk: Uint8Array): void;
  /** Call once at end of input; counts a trailing partial record. */
  end(): void;
  readonly packets: number;
  readonly skipped: SkipCounts;
  /** True when a ReadPause stopped the reader with bytes of the last chunk unread: call resume() before push(). */
  readonly paused: boolean;
  /** Goes on with the unread bytes of the last chunk (clear the ReadPause first; it may stop again). */
  resume(): void;
  /**
   * After end(): the bytes from where the capture is damaged (framing lost, or a header, record or block cut short by
   * the end of input) to the end of input; -1 when it is whole. The input's length minus this is the damage offset.
   */
  readonly damagedTail: number;
}

/** Counts the bytes after lost framing (the file is not read further), so the count never depends on chunking. */
export const BYTES_AFTER_CORRUPTION = 'bytes-after-corruption';

/** Joins a kept remainder with the next chunk. The remainder is always shorter than one record. */
export function joinChunks(rest: Uint8Array | undefined, chunk: Uint8Array): Uint8Array {
  if (!rest || rest.length === 0) return chunk;
  const out = new Uint8Array(rest.length + chunk.length);
  out.set(rest, 0);
  out.set(chunk, rest.length);
  return out;
}

/**
 * Moves bytes from the front of `data` onto the pending `rest` until `rest` holds `size` bytes or `data` runs out:
 * a pending record or block is completed with just the bytes it lacks, not by copying the whole chunk behind it.
 */
export function fillTo(rest: Uint8Array, data: Uint8Array, size: number): { rest: Uint8Array; data: Uint8Array } {
  if (rest.length >= size) return { rest, data };
  const take = Math.min(size - rest.length, data.length);
  return { rest: joinChunks(rest, data.subarray(0, take)), data: data.subarray(take) };
}

export function readU32(b: Uint8Array, o: number, little: boolean): number {
  return little
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function readU16(b: Uint8Array, o: number, little: boolean): number {
  return little ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

/** True when the first bytes are a pcap magic number. */
export function isPcapMagic(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const be = readU32(b, 0, false);
  return be === 0xa1b2c3d4 || be === 0xd4c3b2a1 || be === 0xa1b23c4d || be === 0x4d3cb2a1;
}

export class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  packets = 0;
  readonly skipped: SkipCounts = {};
  private rest: Uint8Array | undefined;
  private headerDone = false;
  private little = true;
  private tsDivisor = 1; // 1 for µs, 1000 for ns
  private linkType = 1;
  private stopped = false;
  /** Unread bytes of the last chunk after a pause. */
  private held: Uint8Array | undefined;
  private readonly packet = new RawPacket();
  damagedTail = -1;

  constructor(
    private readonly onPacket: PacketCallback,
    private readonly pause = new ReadPause(),
  ) {}

  push(chunk: Uint8Array): void {
    if (this.held) throw new Error('PcapReader.push while paused: resume() first');
    if (this.stopped) {
      countSkip(this.skipped, BYTES_AFTER_CORRUPTION, chunk.length);
      return;
    }
    let data = chunk;
    if (!this.headerDone) {
      const buf = joinChunks(this.rest, data);
      this.rest = undefined;
      if (buf.length < 24) {
        this.rest = new Uint8Array(buf); // a copy: the caller may reuse its buffer
        return;
      }
      this.readGlobalHeader(buf);
      this.headerDone = true;
      data = buf.subarray(24);
    } else if (this.rest) {
      let rest = this.rest;
      this.rest = undefined;
      ({ rest, data } = fillTo(rest, data, 16));
      if (rest.length < 16) {
        this.rest = rest;
        return;
      }
      const total = 16 + readU32(rest, 8, this.little);
      if (total - 16 <= MAX_RECORD) {
        ({ rest, data } = fillTo(rest, data, total));
        if (rest.length < total) {
          this.rest = rest;
          return;
        }
      }
      // Exactly one record, or the corruption that stops the file.
      if (this.parse(rest) < 0) {
        countSkip(this.skipped, BYTES_AFTER_CORRUPTION, data.length);
        return;
      }
      if (this.held) {
        this.held = data;
        return;
      }
    }
    this.consume(data);
  }

  get paused(): boolean {
    return this.held !== undefined;
  }

  resume(): void {
    const data = this.held;
    this.held = undefined;
    if (data) this.consume(data);
  }

  /** Parses `data` and keeps what is left of a partial record (a copy, as above). */
  private consume(data: Uint8Array): void {
    const used = this.parse(data);
    if (used >= 0 && !this.held && used < data.length) this.rest = new Uint8Array(data.subarray(used));
  }

  /**
   * Delivers the whole records of `buf`; returns the bytes consumed, or -1 when framing was lost. A pause stops it
   * after a packet, with the rest of `buf` held.
   */
  private parse(buf: Uint8Array): number {
    const p = this.packet;
    const little = this.little;
    // Record headers through a DataView: one bounds-checked load per field where readU32 made four.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    while (buf.length - pos >= 16) {
      const capLen = view.getUint32(pos + 8, little);
      const origLen = view.getUint32(pos + 12, little);
      if (capLen > MAX_RECORD) {
        // Framing is lost: a record length this large is corruption, and nothing after it can be trusted.
        countSkip(this.skipped, 'corrupt-record-length');
        countSkip(this.skipped, BYTES_AFTER_CORRUPTION, buf.length - pos);
        this.stopped = true;
        this.rest = undefined;
        return -1;
      }
      if (buf.length - pos - 16 < capLen) break;
      const sec = view.getUint32(pos, little);
      const frac = view.getUint32(pos + 4, little);
      p.data = buf;
      p.offset = pos + 16;
      p.capLen = capLen;
      p.origLen = origLen < capLen ? capLen : origLen;
      p.tsUs = sec * 1e6 + frac / this.tsDivisor;
      p.linkType = this.linkType;
      this.packets++;
      this.onPacket(p);
      pos += 16 + capLen;
      if (this.pause.requested) {
        this.held = buf.subarray(pos);
        return pos;
      }
    }
    return pos;
  }

  end(): void {
    if (this.stopped) this.damagedTail = this.skipped[BYTES_AFTER_CORRUPTION] ?? 0;
    else if (!this.headerDone) {
      countSkip(this.skipped, 'truncated-file-header');
      this.damagedTail = this.rest?.length ?? 0;
    } else if (this.rest && this.rest.length > 0) {
      countSkip(this.skipped, 'truncated-record');
      this.damagedTail = this.rest.length;
    }
    this.rest = undefined;
  }

  private readGlobalHeader(b: Uint8Array): void {
    const magic = readU32(b, 0, false);
    this.little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    this.tsDivisor = magic === 0xa1b23c4d || magic === 0x4d3cb2a1 ? 1000 : 1;
    // The link type is the low 16 bits; the upper bits may carry FCS information (LINKTYPE with FCS flags).
    this.linkType = readU32(b, 20, this.little) & 0xffff;
  }
}
