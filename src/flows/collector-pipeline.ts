// Two-thread collector for `flowsentry collect`: the main thread only receives datagrams and copies them into a
// single-producer / single-consumer ring in a SharedArrayBuffer; a worker thread decodes them (FlowCollector.ingest)
// and writes JSON lines or CSV. Receiving never waits for decoding or disk, so bursts are absorbed by the ring as well as by
// the socket buffer, and the work spreads over two cores. O(datagram bytes) per datagram on each side.
//
// Ring entry: u32 entry bytes (4-aligned) | u32 datagram bytes | f64 receive time ms | u8 exporter length |
// exporter address (latin1) | datagram. An entry never wraps: when it does not fit before the end, the producer
// writes WRAP there (if 4 bytes remain) and starts again at 0. `used` counts bytes held, skipped tails included.

import dgram from 'node:dgram';
import { writeSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_RECEIVE_BUFFER, FlowCollector, kernelDropsForPort, type CollectorStats } from './collector.js';
import { UserError } from '../errors.js';
import { FLOW_CSV_HEADER } from '../io/netflow/batch.js';

const WRAP = 0xffffffff;
const HEADER = 17;
const W = 0; // producer offset
const R = 1; // consumer offset
const USED = 2;
const SEQ = 3;
const CLOSED = 4;
/** Set by the consumer while it sleeps, so the producer signals only then. */
const WAITING = 5;
const WORKER_KIND = 'flowsentry-collector-pipeline';

export interface CollectorPipelineOptions {
  host: string;
  port: number;
  receiveBuffer?: number;
  /** File descriptor to write flows to (opened by the caller, who also closes it); omit to count only. */
  outFd?: number;
  /** What to write: JSON lines (default) or CSV with a header row. */
  format?: 'jsonl' | 'csv';
  /** Ring size in bytes (default 32 MiB). */
  ringBytes?: number;
  /** Called with the records and datagrams decoded so far, whenever the decoder catches up and every 5 000 records. */
  onRecords?: (records: number, datagrams: number) => void;
  /** Called if the decoding thread fails (e.g. the output cannot be written); `stop()` then rejects with it. */
  onError?: (error: Error) => void;
}

interface WorkerInit {
  kind: typeof WORKER_KIND;
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  outFd: number;
  format: 'jsonl' | 'csv';
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'records'; records: number; datagrams: number }
  | { type: 'done'; stats: CollectorStats }
  | { type: 'error'; message: string };

/** A running two-thread collector. `stop()` drains the ring, flushes the output and returns the summary. */
export class CollectorPipeline {
  private readonly ctrl: Int32Array;
  private readonly data: Buffer;
  private readonly view: DataView;
  private ringDropped = 0;
  private bytes = 0;
  private readonly requested: number;
  private failure: Error | undefined;
  private exited = false;
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly worker: Worker,
    ctrl: SharedArrayBuffer,
    data: SharedArrayBuffer,
    requested: number,
  ) {
    this.ctrl = new Int32Array(ctrl);
    this.data = Buffer.from(data);
    this.view = new DataView(data);
    this.requested = requested;
  }

  static async start(options: CollectorPipelineOptions): Promise<CollectorPipeline> {
    const ctrl = new SharedArrayBuffer(8 * 4);
    const data = new SharedArrayBuffer(options.ringBytes ?? 32 << 20);
    const init: WorkerInit = { kind: WORKER_KIND, ctrl, data, outFd: options.outFd ?? -1, format: options.format ?? 'jsonl' };
    const worker = new Worker(new URL(import.meta.url), { workerData: init });
    const requested = options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
    const socket = dgram.createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', recvBufferSize: requested });
    const pipeline = new CollectorPipeline(socket, worker, ctrl, data, requested);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'records') options.onRecords?.(m.records, m.datagrams);
      else if (m.type === 'error') {
        pipeline.failure ??= new Error(m.message);
        options.onError?.(pipeline.failure);
      }
    });
    worker.on('error', (err) => {
      pipeline.failure ??= err;
      options.onError?.(err);
    });
    worker.on('exit', () => (pipeline.exited = true));
    // Bind only once the decoder runs, so nothing queues behind a worker that is still loading.
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: WorkerMessage): void => {
        if (m.type !== 'ready') return;
        worker.off('message', onReady);
        resolve();
      };
      worker.on('message', onReady);
      worker.once('error', reject);
    });
    socket.on('message', (msg, rinfo) => pipeline.push(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        void worker.terminate();
        reject(new UserError(`cannot listen on udp://${options.host}:${options.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.bind(options.port, options.host, () => {
        socket.off('error', onError);
        // Errors after binding (rare: ENOMEM) must not end collection.
        socket.on('error', () => undefined);
        resolve();
      });
    });
    return pipeline;
  }

  get address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** Producer: copies one datagram into the ring, or counts it dropped when the decoder is that far behind. */
  private push(datagram: Buffer, exporter: string): void {
    this.bytes += datagram.length;
    const size = this.data.length;
    if (exporter.length > 255) exporter = exporter.slice(0, 255);
    const need = (HEADER + exporter.length + datagram.length + 3) & ~3;
    let w = this.ctrl[W];
    const waste = size - w < need ? size - w : 0;
    if (Atomics.load(this.ctrl, USED) + waste + need > size) {
      this.ringDropped++;
      return;
    }
    if (waste > 0) {
      if (waste >= 4) this.view.setUint32(w, WRAP);
      w = 0;
    }
    this.view.setUint32(w, need);
    this.view.setUint32(w + 4, datagram.length);
    this.view.setFloat64(w + 8, Date.now());
    this.data[w + 16] = exporter.length;
    for (let k = 0; k < exporter.length; k++) this.data[w + HEADER + k] = exporter.charCodeAt(k);
    this.data.set(datagram, w + HEADER + exporter.length);
    w += need;
    Atomics.store(this.ctrl, W, w === size ? 0 : w);
    Atomics.add(this.ctrl, USED, waste + need);
    Atomics.add(this.ctrl, SEQ, 1);
    if (Atomics.load(this.ctrl, WAITING) === 1) Atomics.notify(this.ctrl, SEQ);
  }

  /** Stops receiving, lets the worker decode what is queued, flushes the output and returns the summary. */
  async stop(): Promise<CollectorStats> {
    const kernelDrops = kernelDropsForPort(this.address.port);
    let granted: number;
    try {
      granted = this.socket.getRecvBufferSize();
    } catch {
      granted = 0;
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    if (this.exited || this.failure) {
      throw new UserError(`decoding thread failed: ${this.failure?.message ?? 'exited'}`);
    }
    const done = new Promise<CollectorStats>((resolve, reject) => {
      this.worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'done') resolve(m.stats);
        else if (m.type === 'error') reject(new UserError(`decoding thread failed: ${m.message}`));
      });
      this.worker.on('error', reject);
      this.worker.on('exit', () => reject(new UserError('decoding thread exited before finishing')));
    });
    Atomics.store(this.ctrl, CLOSED, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    const stats = await done;
    await this.worker.terminate();
    return { ...stats, bytes: this.bytes, kernelDrops, ringDropped: this.ringDropped, receiveBuffer: { requested: this.requested, granted } };
  }
}

/** Consumer (worker thread): decodes entries in order and writes JSON lines or CSV rows. */
function consume(init: WorkerInit): void {
  const ctrl = new Int32Array(init.ctrl);
  const data = Buffer.from(init.data);
  const size = data.length;
  const collector = new FlowCollector();
  const fd = init.outFd;
  const csv = init.format === 'csv';
  // Each datagram's text goes straight into a reusable 1 MiB buffer: appending every datagram to one big string and
  // encoding that took twice the CPU (a rope of thousands of pieces to flatten, and its garbage). The text is ASCII
  // (addresses, numbers, fixed words, the exporter's IP address), so latin1 writes it byte for byte.
  let out = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let records = 0;
  let reported = 0;
  let datagrams = 0;
  let reportedDatagrams = 0;
  const report = (): void => {
    reported = records;
    reportedDatagrams = datagrams;
    parentPort?.postMessage({ type: 'records', records, datagrams } satisfies WorkerMessage);
  };
  const flush = (): void => {
    for (let off = 0; off < used; ) off += writeSync(fd, out, off, used - off);
    used = 0;
  };
  const write = (text: string): void => {
    if (used + text.length > out.length) flush();
    if (text.length > out.length) out = Buffer.allocUnsafe(text.length);
    used += out.write(text, used, 'latin1');
  };
  if (fd >= 0 && csv) write(FLOW_CSV_HEADER);
  collector.on('batch', (batch) => {
    records += batch.length;
    if (fd >= 0) write(csv ? batch.toCsvLines() : batch.toJsonLines());
  });
  let r = 0;
  parentPort?.postMessage({ type: 'ready' } satisfies WorkerMessage);
  while (true) {
    if (Atomics.load(ctrl, USED) === 0) {
      if (Atomics.load(ctrl, CLOSED) === 1) break;
      flush();
      if (datagrams !== reportedDatagrams) report();
      const seq = Atomics.load(ctrl, SEQ);
      Atomics.store(ctrl, WAITING, 1);
      if (Atomics.load(ctrl, USED) === 0 && Atomics.load(ctrl, CLOSED) === 0) Atomics.wait(ctrl, SEQ, seq, 200);
      Atomics.store(ctrl, WAITING, 0);
      continue;
    }
    if (size - r < 4 || data.readUInt32BE(r) === WRAP) {
      Atomics.sub(ctrl, USED, size - r);
      r = 0;
      continue;
    }
    const need = data.readUInt32BE(r);
    const length = data.readUInt32BE(r + 4);
    const nowMs = data.readDoubleBE(r + 8);
    const addrLength = data[r + 16];
    const exporter = data.toString('latin1', r + HEADER, r + HEADER + addrLength);
    const start = r + HEADER + addrLength;
    collector.ingest(data.subarray(start, start + length), exporter, nowMs);
    datagrams++;
    r += need;
    if (r === size) r = 0;
    Atomics.store(ctrl, R, r);
    Atomics.sub(ctrl, USED, need);
    if (records - reported >= 5_000) report();
  }
  flush();
  void collector.close().then((stats) => parentPort?.postMessage({ type: 'done', stats } satisfies WorkerMessage));
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.kind === WORKER_KIND) {
  try {
    consume(workerData as WorkerInit);
  } catch (err) {
    parentPort?.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerMessage);
  }
}
