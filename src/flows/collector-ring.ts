// The receive ring of the collector: a single-producer / single-consumer ring of datagram entries in a
// SharedArrayBuffer, written by the native recvmmsg receiver (native/udp_receiver.c) or by Node's dgram listener,
// read by the decoder. Entry layout and control words are described in collector-pipeline.ts, which runs it with the
// decoder on a worker thread; NativeRingSource here is the form for a decoder on an event loop (detect / serve
// --netflow): the receiver thread wakes this thread, which drains every entry. O(datagram bytes) per datagram.

import { isIP, isIPv6 } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { NativeReceiver, NativeReceiverHandle } from './collector-native.js';

/** Written where an entry would not fit before the end of the ring: the next entry is at 0. */
export const WRAP = 0xffffffff;
/** Entry header bytes (u32 entry bytes, u32 datagram bytes, f64 receive time, u8 flags, u8 exporter length, 6 unused). */
export const HEADER = 24;
/**
 * Control words (Int32 indices): start offset, bytes held, wake sequence, closed, consumer waiting, warm-up done, and
 * the native receiver's ring drops so far (the low 32 bits, stored after each batch that dropped any).
 */
export const START = 1;
export const USED = 2;
export const SEQ = 3;
export const CLOSED = 4;
export const WAITING = 5;
export const WARMED = 6;
export const RING_DROPPED = 7;
export const CONTROL_WORDS = 8;
export const DEFAULT_RING_BYTES = 32 << 20;
/** Entries NativeRingSource hands over per turn of the event loop: one receiver batch (recvmmsg's 64). */
const DRAIN_ENTRIES = 64;

/** Called for each datagram received, in order. */
export type DatagramHandler = (datagram: Buffer, exporter: string, nowMs: number) => void;

export interface NativeRingOptions {
  host: string;
  port: number;
  receiveBuffer: number;
  ringBytes?: number;
}

/**
 * The native receiver bound to host:port, writing a ring that this thread drains on each wake (one call onto this
 * thread per receiver batch at most, not one per datagram as dgram makes). The handler runs on this thread's event loop.
 */
export class NativeRingSource {
  private readonly ctrl: Int32Array;
  private readonly data: Buffer;
  private readOffset = 0;
  private handle: NativeReceiverHandle | undefined;
  private received = { bytes: 0, datagrams: 0, ringDropped: 0 };
  /** The receiver's ring drops as last read from RING_DROPPED, widened past 2^32 (see ringDropped). */
  private liveRingDropped = 0;
  /** A drain is scheduled at setImmediate. */
  private continuing = false;

  private constructor(
    private readonly api: NativeReceiver,
    ringBytes: number,
    private readonly onDatagram: DatagramHandler,
    readonly address: string,
    readonly port: number,
    readonly granted: number,
  ) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    this.data = Buffer.from(new SharedArrayBuffer(ringBytes & ~7));
    // Asks the receiver to wake this thread after every batch it writes (wakes are coalesced in the receiver).
    Atomics.store(this.ctrl, WAITING, 1);
  }

  /**
   * Binds the socket (the host resolved as dgram resolves it: IPv4 unless it is an IPv6 address) and starts the
   * receiver. Throws like dgram's bind ("bind EADDRINUSE 127.0.0.1:2055").
   */
  static async start(api: NativeReceiver, options: NativeRingOptions, onDatagram: DatagramHandler): Promise<NativeRingSource> {
    const ipv6 = isIPv6(options.host);
    let address = options.host;
    if (isIP(address) === 0) address = (await lookup(address, { family: ipv6 ? 6 : 4 })).address;
    const bound = api.bind(address, options.port, ipv6, options.receiveBuffer);
    const source = new NativeRingSource(api, options.ringBytes ?? DEFAULT_RING_BYTES, onDatagram, address, bound.port, bound.granted);
    try {
      source.handle = api.start(bound.fd, source.ctrl, source.data, 0, source.drain);
    } catch (err) {
      api.close(bound.fd);
      throw err;
    }
    return source;
  }

  /**
   * Hands the entries in the ring to the handler, at most DRAIN_ENTRIES per turn of the event loop (then it goes on
   * at setImmediate), so timers and messages on this thread interleave with a burst as they do between dgram
   * callbacks.
   */
  private readonly drain = (): void => {
    this.continuing = false;
    const { ctrl, data } = this;
    let r = this.readOffset;
    let consumed = 0;
    let entries = 0;
    let available = Atomics.load(ctrl, USED);
    while (consumed < available && entries < DRAIN_ENTRIES) {
      if (data.readUInt32BE(r) === WRAP) {
        consumed += data.length - r;
        r = 0;
        continue;
      }
      const need = data.readUInt32BE(r);
      const length = data.readUInt32BE(r + 4);
      const start = r + HEADER;
      const exporter = data.toString('latin1', start + length, start + length + data[r + 17]);
      this.onDatagram(data.subarray(start, start + length), exporter, data.readDoubleBE(r + 8));
      r += need;
      if (r === data.length) r = 0;
      consumed += need;
      entries++;
    }
    this.readOffset = r;
    // Entries written after this are seen here (or woken for: the receiver wakes after every batch it writes).
    available = Atomics.sub(ctrl, USED, consumed) - consumed;
    if (available > 0 && this.handle && !this.continuing) {
      this.continuing = true;
      setImmediate(this.drain);
    }
  };

  /**
   * Datagrams the receiver dropped because the ring was full, so far: live while it runs (read from its control word,
   * whose 32 bits wrap after 2^32 drops; a read at least that often, e.g. each second, keeps the count exact), its
   * exact count once stopped.
   */
  get ringDropped(): number {
    if (!this.handle) return this.received.ringDropped;
    const low = Atomics.load(this.ctrl, RING_DROPPED) >>> 0;
    this.liveRingDropped += (low - (this.liveRingDropped % 2 ** 32) + 2 ** 32) % 2 ** 32;
    return this.liveRingDropped;
  }

  /** Stops the receiver thread, closes the socket, hands over what is still in the ring; returns the counts. */
  stop(): { bytes: number; datagrams: number; ringDropped: number } {
    if (this.handle) {
      const { bytes, datagrams, ringDropped } = this.api.stop(this.handle);
      this.handle = undefined;
      this.received = { bytes, datagrams, ringDropped };
      while (Atomics.load(this.ctrl, USED) > 0) this.drain();
    }
    return this.received;
  }
}
