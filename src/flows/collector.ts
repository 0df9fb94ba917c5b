// Flow-export collector: a UDP socket that receives NetFlow v5 / v9 and IPFIX datagrams, decodes them with
// src/io/netflow (template state per exporter and observation domain) and hands out the flows of each datagram —
// as a columnar FlowBatch ('batch' event, no object per record: the fast path), as FlowRecord objects ('flows'
// event, built only when someone listens) or through an async iterator of FlowRecords. Keeps counters, including datagrams the kernel dropped
// before we read them (Linux: the drops column of /proc/net/udp{,6} for our socket). Like `nfcapd -B`, the socket
// asks for a large receive buffer so exporter bursts are absorbed.
//
//   const collector = await FlowCollector.listen({ host: '0.0.0.0', port: 2055 });
//   collector.on('batch', (b) => ...);     // FlowBatch, valid during the call only (reused for the next datagram)
//   collector.on('flows', (records) => ...);  // FlowRecord[]; or: for await (const flow of collector) ...
//   const stats = await collector.close();

import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { FlowRecord } from './flow-record.js';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore, type TemplateStoreOptions } from '../io/netflow/decode.js';
import { UserError } from '../errors.js';

export const DEFAULT_RECEIVE_BUFFER = 8 << 20;
/** Largest SO_RCVBUF request: setsockopt takes a C int (2^32 wrapped to 0, the default buffer; dgram threw EINVAL past it). */
export const MAX_RECEIVE_BUFFER = 2 ** 31 - 1;
/** Exporter addresses listed in the stats; beyond this (a spoofed flood) they are not remembered. */
const MAX_EXPORTERS_LISTED = 1024;

export interface CollectorOptions {
  host: string;
  /** 0 picks a free port; read it back from `address`. */
  port: number;
  /** Requested SO_RCVBUF in bytes (default 8 MiB). Linux caps it at net.core.rmem_max; `stats().receiveBuffer` tells. */
  receiveBuffer?: number;
  templates?: TemplateStoreOptions;
  /** Records the async iterator may hold for a slow consumer before it drops (and counts) new ones. Default 100 000. */
  maxQueued?: number;
  /** The command-line option that gave the address, named in the line of a failed listen ('--listen'). */
  listenOption?: string;
}

/**
 * Why a socket could not listen on `host`:`port`, as one line that names the address and says what to do, e.g.
 * "cannot listen on udp://0.0.0.0:2055: the port is in use (EADDRINUSE); stop the program that holds it or choose
 * another port in --listen". `givenIn` names where the user gave the address: an option (`--listen`), an environment
 * variable (`FLOWSENTRY_HTTP`) or a config file's key ("the config file's http"); other errors keep Node's message.
 * The collector's UDP sockets and the service's HTTP server (`scheme` 'http') both say it this way.
 */
export function listenFailure(host: string, port: number, err: unknown, givenIn?: string, scheme: 'udp' | 'http' = 'udp'): UserError {
  const { code, message } = err as NodeJS.ErrnoException;
  const where = givenIn ? ` in ${givenIn}` : '';
  const what: Record<string, string> = {
    EADDRINUSE: `the port is in use (EADDRINUSE); stop the program that holds it or choose another port${where}`,
    EADDRNOTAVAIL: `${host} is not an address of this machine (EADDRNOTAVAIL); give one of its addresses${where}, or 0.0.0.0 for all`,
    EACCES: `permission denied (EACCES; ports below 1024 need privileges); choose a port above 1023${where}`,
    ENOTFOUND: `no such host (ENOTFOUND); give an address or a host name that resolves${where}`,
    EAI_AGAIN: `the host name could not be resolved now (EAI_AGAIN); try again, or give an address${where}`,
  };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return new UserError(`cannot listen on ${scheme}://${shownHost}:${port}: ${(code !== undefined && what[code]) || message}`);
}

export interface CollectorStats {
  datagrams: number;
  bytes: number;
  records: number;
  /** Flow records with no time placeable on the calendar (e.g. IPFIX sysUpTime without systemInitTimeMilliseconds). */
  recordsWithoutAbsoluteTime: number;
  optionsRecords: number;
  /** Malformed datagrams dropped whole, total and by reason. */
  malformed: number;
  malformedByReason: Record<string, number>;
  /** Parts of good datagrams skipped, by reason. */
  skipped: Record<string, number>;
  templates: number;
  optionsTemplates: number;
  withdrawals: number;
  templatesCached: number;
  templatesEvicted: number;
  pendingBuffered: number;
  pendingDecoded: number;
  pendingDropped: number;
  /** Datagrams the kernel dropped (receive buffer full); undefined where the OS does not expose it. */
  kernelDrops: number | undefined;
  /** Records the async iterator dropped because its consumer fell behind. */
  queueDropped: number;
  /** Two-thread pipeline only (`collect`): datagrams dropped because the decoding thread was a full ring behind. */
  ringDropped?: number;
  /** Two-thread pipeline only: how datagrams were received (native recvmmsg batches or Node's dgram). */
  receiver?: 'recvmmsg' | 'dgram';
  /** Exporter addresses seen (the first 1024). */
  exporters: string[];
  receiveBuffer: { requested: number; granted: number };
  seconds: number;
}

/** Decodes datagrams into FlowRecords and counts everything; usable without a socket through `ingest`. */
export class FlowCollector extends EventEmitter<{ batch: [FlowBatch]; flows: [FlowRecord[]]; close: [] }> {
  readonly decodeStats = new DecodeStats();
  readonly store: TemplateStore;
  private readonly batch = new FlowBatch();
  private socket: dgram.Socket | undefined;
  private bytes = 0;
  private queueDropped = 0;
  private readonly exporters = new Set<string>();
  private readonly started = performance.now();
  private requestedBuffer = 0;
  private closed = false;
  private readonly maxQueued: number;
  private finalGranted = 0;
  private finalKernelDrops: number | undefined;

  constructor(options: Pick<CollectorOptions, 'templates' | 'maxQueued'> = {}) {
    super();
    this.store = new TemplateStore(options.templates);
    this.maxQueued = options.maxQueued ?? 100_000;
  }

  /** Binds a UDP socket and starts collecting. Rejects with a UserError when the address cannot be bound. */
  static async listen(options: CollectorOptions): Promise<FlowCollector> {
    const collector = new FlowCollector(options);
    await collector.bind(options);
    return collector;
  }

  private bind(options: CollectorOptions): Promise<void> {
    this.requestedBuffer = options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
    const socket = dgram.createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', recvBufferSize: this.requestedBuffer });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.ingest(msg, rinfo.address, Date.now()));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(listenFailure(options.host, options.port, err, options.listenOption));
      socket.once('error', onError);
      socket.bind(options.port, options.host, () => {
        socket.off('error', onError);
        // Errors after binding (rare: ENOMEM) must not crash the process; they are counted as 'socket-error'.
        socket.on('error', () => this.decodeStats.drop('socket-error'));
        resolve();
      });
    });
  }

  /** The bound address, once listening. */
  get address(): { address: string; port: number } | undefined {
    if (!this.socket) return undefined;
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Decodes one datagram from `exporter` and emits its flows ('batch', then 'flows' if anyone listens). Returns the
   * batch, which the next datagram reuses. Never throws on bad input.
   */
  ingest(datagram: Buffer, exporter: string, nowMs: number): FlowBatch {
    this.bytes += datagram.length;
    if (this.exporters.size < MAX_EXPORTERS_LISTED && !this.exporters.has(exporter)) this.exporters.add(exporter);
    const batch = this.batch;
    decodeDatagram(datagram, exporter, nowMs, this.store, batch, this.decodeStats);
    if (batch.length > 0) {
      this.emit('batch', batch);
      if (this.listenerCount('flows') > 0) this.emit('flows', batch.toRecords());
    }
    return batch;
  }

  stats(): CollectorStats {
    const d = this.decodeStats;
    const c = this.store.counters;
    return {
      datagrams: d.datagrams,
      bytes: this.bytes,
      records: d.records,
      recordsWithoutAbsoluteTime: d.recordsWithoutAbsoluteTime,
      optionsRecords: d.optionsRecords,
      malformed: d.malformedTotal,
      malformedByReason: { ...d.malformed },
      skipped: { ...d.skipped },
      templates: d.templates,
      optionsTemplates: d.optionsTemplates,
      withdrawals: d.withdrawals,
      templatesCached: this.store.size,
      templatesEvicted: c.templatesEvicted,
      pendingBuffered: c.pendingBuffered,
      pendingDecoded: c.pendingDecoded,
      pendingDropped: c.pendingDropped,
      kernelDrops: this.closed ? this.finalKernelDrops : this.kernelDrops(),
      queueDropped: this.queueDropped,
      exporters: [...this.exporters],
      receiveBuffer: { requested: this.requestedBuffer, granted: this.grantedBuffer() },
      seconds: (performance.now() - this.started) / 1000,
    };
  }

  /** Stops listening; pending data sets still without a template are counted as dropped. Returns final stats. */
  async close(): Promise<CollectorStats> {
    if (this.closed) return this.stats();
    const last = this.stats();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.store.expire(Number.POSITIVE_INFINITY);
    this.closed = true;
    this.finalGranted = last.receiveBuffer.granted;
    this.finalKernelDrops = last.kernelDrops;
    this.emit('close');
    return this.stats();
  }

  /** Flows as they arrive, until the collector closes. A consumer slower than the exporters loses (and counts) flows. */
  async *[Symbol.asyncIterator](): AsyncGenerator<FlowRecord> {
    const queue: FlowRecord[] = [];
    let head = 0;
    let wake: (() => void) | undefined;
    const onFlows = (batch: FlowRecord[]): void => {
      const room = this.maxQueued - (queue.length - head);
      if (room < batch.length) this.queueDropped += batch.length - Math.max(0, room);
      for (let i = 0; i < batch.length && i < room; i++) queue.push(batch[i]);
      wake?.();
    };
    const onClose = (): void => wake?.();
    this.on('flows', onFlows);
    this.on('close', onClose);
    try {
      while (true) {
        if (head < queue.length) {
          const flow = queue[head++];
          if (head > 4096 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
          yield flow;
        } else if (this.closed) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.off('flows', onFlows);
      this.off('close', onClose);
    }
  }

  private grantedBuffer(): number {
    try {
      return this.socket ? this.socket.getRecvBufferSize() : this.finalGranted;
    } catch {
      return 0;
    }
  }

  private kernelDrops(): number | undefined {
    const addr = this.address;
    return addr ? kernelDropsForPort(addr.port) : undefined;
  }
}

/**
 * Datagrams the kernel dropped for the UDP socket bound to `port` (Linux: the drops column of its line in
 * /proc/net/udp or /proc/net/udp6); undefined where the OS does not expose it.
 */
export function kernelDropsForPort(port: number): number | undefined {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let found: number | undefined;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13 || !cols[1].endsWith(portHex)) continue;
      const drops = Number(cols[cols.length - 1]);
      if (Number.isFinite(drops)) found = (found ?? 0) + drops;
    }
  }
  return found;
}
