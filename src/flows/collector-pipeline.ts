// Two-thread collector for `flowsentry collect`: one thread only receives datagrams and copies them into a
// single-producer / single-consumer ring in a SharedArrayBuffer; a worker thread decodes them (FlowCollector.ingest)
// and writes JSON lines or CSV: the FlowRecord fields, or with `features: 'netflow'` the rows `extract --features
// netflow` writes (src/flows/flow-rows.ts), to train a model for `detect/serve --netflow`. Receiving never waits for
// decoding or disk, so bursts are absorbed by the ring as well as by the socket buffer, and the work spreads over two
// cores. O(datagram bytes) per datagram on each side.
// The receiving thread is, on Linux when native/ is built, a native thread reading batches with recvmmsg(2)
// (native/udp_receiver.c writes the same entries); otherwise the main thread through Node's dgram.
//
// Ring entry (8-aligned): u32 entry bytes | u32 datagram bytes | f64 receive time ms | u8 flags | u8 exporter length |
// 6 bytes unused | datagram | exporter address (latin1). The datagram starts 8-aligned: V8 copies into shared memory
// word by word only when source and target are aligned alike, and byte by byte (5x slower: 0.65 vs 0.12 µs for 1.4 kB)
// otherwise. An entry never wraps: when it does not fit before the end, the producer writes WRAP there and starts
// again at 0. `used` counts bytes held, skipped tails included.
//
// Before the socket is bound, both threads warm up: the main thread pushes synthetic datagrams of every version
// (src/io/netflow/warmup.ts) through the same ring, flagged WARM_UP, and the worker decodes them with a scratch
// collector whose flows, templates and counters are thrown away. A burst at the exporter's line rate lasts a fraction
// of a second; without this it met interpreted code and background compilation on both threads.

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_RECEIVE_BUFFER, FlowCollector, kernelDropsForPort, listenFailure, type CollectorStats } from './collector.js';
import { nativeReceiver, type NativeReceiver, type NativeReceiverHandle } from './collector-native.js';
import { UserError } from '../errors.js';
import { OutputError, writeAllSync, writtenBefore } from '../util/output.js';
import { FLOW_CSV_HEADER, type FlowBatch } from '../io/netflow/batch.js';
import { ByteWriter } from './byte-writer.js';
import { extractColumns, flowCsvHeader, writeFlowRow } from './flow-rows.js';
import { jsonLinesBound, writeJsonLines } from '../io/netflow/json-bytes.js';
import { WARM_UP_ROUND_LENGTH, warmupDatagrams } from '../io/netflow/warmup.js';
import { CLOSED, CONTROL_WORDS, DEFAULT_RING_BYTES, HEADER, SEQ, START, USED, WAITING, WARMED, WRAP } from './collector-ring.js';

/** Entry flag: a synthetic warm-up datagram, decoded by a scratch collector and not counted. */
const WARM_UP = 1;
/** Rounds of warmupDatagrams() received before binding. */
const WARM_UP_ROUNDS = 150;
// Control words (collector-ring.ts): START, where both offsets start (each thread then keeps its own offset to
// itself, the producer's writeOffset, the consumer's r: only USED is shared, so a datagram costs no atomic store of
// an offset); SEQ, bumped to wake the consumer; CLOSED; WAITING, set by the consumer while it sleeps, so the producer
// signals only then; WARMED, set by the producer once every warm-up datagram is in the ring.
const WORKER_KIND = 'flowsentry-collector-pipeline';
/** Output bytes and records after which the warm-up flushes its output and reports (see consume()). */
const WARM_UP_OUT_BYTES = 64 << 10;
const WARM_UP_REPORT = 100;
/**
 * Ring bytes after which the warm-up gives space back while decoding: less than one warm-up round (~29 kB), which the
 * decoder catches up with (and gives back at the sleep) before 64 KiB.
 */
const WARM_UP_GIVE_BACK = 8 << 10;

export interface CollectorPipelineOptions {
  host: string;
  port: number;
  receiveBuffer?: number;
  /** File descriptor to write flows to (opened by the caller, who also closes it); omit to count only. */
  outFd?: number;
  /** How the output is named in the line of a failed write (default 'stdout'). */
  outName?: string;
  /** What to write: JSON lines (default) or CSV with a header row. */
  format?: 'jsonl' | 'csv';
  /** 'netflow': each record's row of `extract --features netflow` (NetFlow features); default: the FlowRecord fields. */
  features?: 'netflow';
  /** Ring size in bytes (default 32 MiB). */
  ringBytes?: number;
  /** Called with the records and datagrams decoded so far, whenever the decoder catches up and every 5 000 records. */
  onRecords?: (records: number, datagrams: number) => void;
  /** Called if the decoding thread fails (e.g. the output cannot be written); `stop()` then rejects with it. */
  onError?: (error: Error) => void;
  /**
   * How datagrams are received: 'recvmmsg' (the native batch receiver; an error if it is not built), 'dgram' (Node's
   * socket on the main thread) or 'auto' (default: recvmmsg when built, else dgram).
   */
  receiver?: ReceiverKind;
  /** The command-line option that gave the address, named in the line of a failed listen ('--listen'). */
  listenOption?: string;
}

export type ReceiverKind = 'auto' | 'recvmmsg' | 'dgram';

/** The native receiver bound and running. */
interface NativeSocket {
  api: NativeReceiver;
  handle: NativeReceiverHandle;
  address: string;
  port: number;
  granted: number;
}

interface WorkerInit {
  kind: typeof WORKER_KIND;
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  outFd: number;
  format: 'jsonl' | 'csv';
  features: 'netflow' | undefined;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'records'; records: number; datagrams: number }
  | { type: 'done'; stats: CollectorStats }
  | { type: 'error'; message: string; code?: string; recordsWritten?: number };

/** The decoding thread's output could not be written: errno `code`, after `recordsWritten` whole records. */
export class OutputWriteError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly recordsWritten: number,
  ) {
    super(message);
  }
}

/** A running two-thread collector. `stop()` drains the ring, flushes the output and returns the summary. */
export class CollectorPipeline {
  private readonly ctrl: Int32Array;
  private readonly data: Buffer;
  private readonly view: DataView;
  private ringDropped = 0;
  private bytes = 0;
  private readonly requested: number;
  private failure: Error | undefined;
  private outName = 'stdout';
  private exited = false;
  private wakeScheduled = false;
  /** Set when the worker is warm; its reports count real datagrams from then on. */
  private decoding = false;
  /** Flags of the entries pushed now: WARM_UP until warmUp() ends. */
  private entryFlags = 0;
  /** Producer offset (see START). */
  private writeOffset: number;
  /** Receiving through Node's dgram: the bound socket. */
  private socket: dgram.Socket | undefined;
  /** Receiving through the native receiver. */
  private native: NativeSocket | undefined;
  private constructor(
    private readonly worker: Worker,
    ctrlBuffer: SharedArrayBuffer,
    dataBuffer: SharedArrayBuffer,
    requested: number,
  ) {
    this.ctrl = new Int32Array(ctrlBuffer);
    this.writeOffset = this.ctrl[START];
    this.data = Buffer.from(dataBuffer);
    this.view = new DataView(dataBuffer);
    this.requested = requested;
  }

  static async start(options: CollectorPipelineOptions): Promise<CollectorPipeline> {
    const receiverKind = options.receiver ?? 'auto';
    const native = receiverKind === 'dgram' ? undefined : nativeReceiver();
    if (receiverKind === 'recvmmsg' && native && 'reason' in native) {
      throw new UserError(`the recvmmsg receiver is not available: ${native.reason}`);
    }
    const ctrl = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const data = new SharedArrayBuffer((options.ringBytes ?? DEFAULT_RING_BYTES) & ~7);
    // Touch every page now: the kernel maps them on first write, and in a burst those page faults were a quarter of
    // the receiving thread's time.
    new Uint8Array(data).fill(0);
    // Both offsets start 1 MiB before the end, so the warm-up also takes both threads through the wrap.
    new Int32Array(ctrl)[START] = Math.max(0, data.byteLength - (1 << 20)) & ~7;
    const init: WorkerInit = { kind: WORKER_KIND, ctrl, data, outFd: options.outFd ?? -1, format: options.format ?? 'jsonl', features: options.features };
    const worker = new Worker(new URL(import.meta.url), { workerData: init });
    const requested = options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
    const pipeline = new CollectorPipeline(worker, ctrl, data, requested);
    if (options.outName !== undefined) pipeline.outName = options.outName;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') pipeline.decoding = true;
      // Reports before 'ready' count warm-up datagrams.
      else if (m.type === 'records' && pipeline.decoding) options.onRecords?.(m.records, m.datagrams);
      else if (m.type === 'error') {
        pipeline.failure ??= m.code !== undefined ? new OutputWriteError(m.message, m.code, m.recordsWritten ?? 0) : new Error(m.message);
        options.onError?.(pipeline.failure);
      }
    });
    worker.on('error', (err) => {
      pipeline.failure ??= err;
      options.onError?.(err);
    });
    worker.on('exit', () => (pipeline.exited = true));
    // Bind only once the decoder runs and has decoded the warm-up datagrams, so nothing queues behind it.
    const ready = new Promise<void>((resolve, reject) => {
      const fail = (reason: string): void => reject(new UserError(`decoding thread failed: ${reason}`));
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') fail(m.message);
      });
      worker.once('error', (err) => fail(err.message));
      worker.once('exit', () => fail('exited before it was ready'));
    });
    // The worker may fail during the warm-up, before `ready` is awaited.
    ready.catch(() => undefined);
    await pipeline.warmUp();
    await ready;
    if (native && 'receiver' in native) {
      await pipeline.startNative(native.receiver, options);
      return pipeline;
    }
    const socket = dgram.createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', recvBufferSize: requested });
    pipeline.socket = socket;
    socket.on('message', pipeline.onDatagram);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        void worker.terminate();
        reject(listenFailure(options.host, options.port, err, options.listenOption));
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
    if (this.native) return { address: this.native.address, port: this.native.port };
    const a = this.socket!.address();
    return { address: a.address, port: a.port };
  }

  /** How datagrams are received. */
  get receiver(): 'recvmmsg' | 'dgram' {
    return this.native ? 'recvmmsg' : 'dgram';
  }

  /**
   * Binds the native receiver's socket (the host resolved as dgram resolves it: IPv4 unless it is an IPv6 address)
   * and hands it the ring from the warm-up's write offset on.
   */
  private async startNative(api: NativeReceiver, options: CollectorPipelineOptions): Promise<void> {
    const ipv6 = isIPv6(options.host);
    const fail = (err: unknown): never => {
      void this.worker.terminate();
      throw listenFailure(options.host, options.port, err, options.listenOption);
    };
    let address = options.host;
    if (isIP(address) === 0) address = (await lookup(address, { family: ipv6 ? 6 : 4 }).catch(fail)).address;
    let bound: { fd: number; port: number; granted: number };
    try {
      bound = api.bind(address, options.port, ipv6, this.requested);
    } catch (err) {
      return fail(err);
    }
    let handle: NativeReceiverHandle;
    try {
      handle = api.start(bound.fd, this.ctrl, this.data, this.writeOffset, this.wakeConsumer);
    } catch (err) {
      api.close(bound.fd);
      return fail(err);
    }
    this.native = { api, handle, address, port: bound.port, granted: bound.granted };
  }

  /** The socket's 'message' listener. */
  private readonly onDatagram = (datagram: Buffer, rinfo: dgram.RemoteInfo): void => this.push(datagram, rinfo.address);

  /**
   * Runs WARM_UP_ROUNDS rounds of synthetic datagrams through Node's receive path into the ring, flagged WARM_UP: sent
   * over loopback to a scratch socket whose listener is onDatagram, as the real socket's will be (called directly
   * if 127.0.0.1 cannot be bound). Waits for room whenever the ring is half full; forgets what it counted.
   */
  private async warmUp(): Promise<void> {
    this.entryFlags = WARM_UP;
    const datagrams = warmupDatagrams(Date.now());
    const roundBytes = datagrams.reduce((n, d) => n + d.length, 0);
    const receiver = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    const sender = dgram.createSocket('udp4');
    receiver.on('message', this.onDatagram);
    const port = await new Promise<number>((resolve) => {
      receiver.once('error', () => resolve(-1));
      receiver.bind(0, '127.0.0.1', () => resolve(receiver.address().port));
    });
    const used = (): number => Atomics.load(this.ctrl, USED);
    for (let round = 0; round < WARM_UP_ROUNDS && !this.exited && !this.failure; round++) {
      while (used() > 0 && used() + roundBytes > this.data.length / 2 && !this.exited && !this.failure) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (port < 0) {
        for (const datagram of datagrams) this.onDatagram(datagram, { address: '127.0.0.1', family: 'IPv4', port: 0, size: datagram.length });
        continue;
      }
      const target = this.bytes + roundBytes;
      for (const datagram of datagrams) sender.send(datagram, port, '127.0.0.1');
      // Until the round is received and decoded: the decoder then sleeps, so the next round also takes push() through
      // waking it.
      const deadline = performance.now() + 100;
      while ((this.bytes < target || used() > 0) && performance.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all([receiver, sender].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.entryFlags = 0;
    this.bytes = 0;
    this.ringDropped = 0;
    Atomics.store(this.ctrl, WARMED, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** Producer: copies one datagram into the ring, or counts it dropped when the decoder is that far behind. */
  private push(datagram: Buffer, exporter: string): void {
    this.bytes += datagram.length;
    const size = this.data.length;
    if (exporter.length > 255) exporter = exporter.slice(0, 255);
    const need = (HEADER + datagram.length + exporter.length + 7) & ~7;
    let w = this.writeOffset;
    const waste = size - w < need ? size - w : 0;
    if (Atomics.load(this.ctrl, USED) + waste + need > size) {
      this.ringDropped++;
      return;
    }
    if (waste > 0) {
      this.view.setUint32(w, WRAP);
      w = 0;
    }
    this.view.setUint32(w, need);
    this.view.setUint32(w + 4, datagram.length);
    this.view.setFloat64(w + 8, Date.now());
    this.data[w + 16] = this.entryFlags;
    this.data[w + 17] = exporter.length;
    this.data.set(datagram, w + HEADER);
    const at = w + HEADER + datagram.length;
    for (let k = 0; k < exporter.length; k++) this.data[at + k] = exporter.charCodeAt(k);
    w += need;
    this.writeOffset = w === size ? 0 : w;
    Atomics.add(this.ctrl, USED, waste + need);
    if (Atomics.load(this.ctrl, WAITING) === 1) {
      // A consumer between its last look at `used` and its wait on SEQ then returns at once (see consume()).
      Atomics.add(this.ctrl, SEQ, 1);
      if (!this.wakeScheduled) {
        this.wakeScheduled = true;
        setImmediate(this.wakeConsumer);
      }
    }
  }

  /**
   * Wakes a sleeping consumer once per turn of the event loop (after up to 32 datagrams read in one go), not per
   * datagram: a notify per datagram woke the worker onto the receiving core for each one, and that ping-pong (a
   * futex wake and a context switch per datagram) doubled the receive thread's cost in bursts.
   */
  private readonly wakeConsumer = (): void => {
    this.wakeScheduled = false;
    Atomics.notify(this.ctrl, SEQ);
  };

  /** Stops receiving, lets the worker decode what is queued, flushes the output and returns the summary. */
  async stop(): Promise<CollectorStats> {
    const kernelDrops = kernelDropsForPort(this.address.port);
    let granted: number;
    if (this.native) {
      granted = this.native.granted;
      const received = this.native.api.stop(this.native.handle);
      this.bytes += received.bytes;
      this.ringDropped += received.ringDropped;
    } else {
      const socket = this.socket!;
      try {
        granted = socket.getRecvBufferSize();
      } catch {
        granted = 0;
      }
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
    if (this.failure instanceof OutputWriteError) {
      throw new OutputError(this.outName, this.failure, { count: this.failure.recordsWritten, unit: 'flow records' });
    }
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
    return { ...stats, bytes: this.bytes, kernelDrops, ringDropped: this.ringDropped, receiver: this.receiver, receiveBuffer: { requested: this.requested, granted } };
  }
}

/**
 * TurboFan's inlining budget per optimised function, in bytecode bytes (V8's default 920). writeJsonLines calls ~30
 * small writers per record; with the default the budget ran out after a few and the rest stayed calls: 159 vs 115 ns
 * per v5 record (micro-bench), 190-208 vs 159-162 ns with decoding (ingest + writeJsonLines over ring entries).
 */
const INLINING_BUDGET = 10_000;

/** Consumer (worker thread): decodes entries in order and writes JSON lines or CSV rows. */
function consume(init: WorkerInit): void {
  // V8 flags are per process: this one only changes what later compilations inline, so it is set here, before the
  // warm-up compiles the decoder and writer, and only in a process that runs this pipeline (`collect`, its bench).
  setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${INLINING_BUDGET}`);
  const ctrl = new Int32Array(init.ctrl);
  const data = Buffer.from(init.data);
  const size = data.length;
  const collector = new FlowCollector();
  const fd = init.outFd;
  const csv = init.format === 'csv';
  // Each datagram's lines go straight into a reusable 1 MiB buffer: JSON lines as bytes (writeJsonLines: no strings),
  // CSV rows as text written latin1 (appending every datagram to one big string and encoding that took twice the
  // CPU). The text is ASCII (addresses, numbers, fixed words, the exporter's IP address).
  let out = new Uint8Array(1 << 20);
  let outText = Buffer.from(out.buffer);
  let used = 0;
  // NetFlow feature rows are written by extract's row writer into its own chunk, then moved into `out`.
  const netflowRows = init.features === 'netflow' ? new ByteWriter(fd) : undefined;
  const netflowColumns = extractColumns('netflow');
  // Records whose lines are in `out` and not yet written, and those written: a failed write says how many reached it.
  let bufferedRecords = 0;
  let recordsWritten = 0;
  let records = 0;
  let reported = 0;
  let datagrams = 0;
  let reportedDatagrams = 0;
  const report = (): void => {
    reported = records;
    reportedDatagrams = datagrams;
    parentPort?.postMessage({ type: 'records', records, datagrams } satisfies WorkerMessage);
  };
  let warm = false;
  // Until warm, what was formatted is the warm-up's: dropped, not written.
  const flush = (): void => {
    if (warm) {
      try {
        writeAllSync(fd, out.subarray(0, used));
      } catch (err) {
        // the complete lines of the part that was written count too
        let lines = 0;
        const reached = writtenBefore(err);
        for (let i = 0; i < reached; i++) if (out[i] === 10) lines++;
        throw Object.assign(err as Error, { recordsWritten: recordsWritten + Math.min(lines, bufferedRecords) });
      }
      recordsWritten += bufferedRecords;
    }
    bufferedRecords = 0;
    used = 0;
  };
  // The warm-up's output is written out (dropped) every WARM_UP_OUT_BYTES, so that path is compiled before a burst
  // fills the real buffer; likewise it reports every WARM_UP_REPORT records. (Paths first met in a burst deoptimised
  // the decoder there and had it recompiled while the ring filled.)
  let outLimit = WARM_UP_OUT_BYTES;
  let reportEvery = WARM_UP_REPORT;
  const room = (bytes: number): void => {
    if (used + bytes > outLimit) flush();
    if (bytes > out.length) {
      out = new Uint8Array(bytes);
      outText = Buffer.from(out.buffer);
      if (warm) outLimit = out.length;
    }
  };
  const write = (text: string): void => {
    room(text.length);
    used += outText.write(text, used, 'latin1');
  };
  const onBatch = (batch: FlowBatch): void => {
    records += batch.length;
    if (fd < 0) return;
    // Counted during the warm-up too (flush() zeroes it): an addition first met in a burst deoptimised ingest there.
    bufferedRecords += batch.length;
    if (netflowRows) {
      for (let i = 0; i < batch.length; i++) writeFlowRow(netflowRows, batch.record(i), 'netflow', init.format, netflowColumns);
      const rows = netflowRows.take();
      room(rows.length);
      out.set(rows, used);
      used += rows.length;
    } else if (csv) write(batch.toCsvLines());
    else {
      room(jsonLinesBound(batch));
      used = writeJsonLines(batch, out, used);
    }
  };
  collector.on('batch', onBatch);
  // Warm-up datagrams go through the same code as real ones (decoding, formatting, counting, reporting) with scratch
  // collectors, a new one every round so new exporters and templates are met too; their text, counts and reports
  // are dropped once warm.
  let scratch = new FlowCollector();
  let warmUpDatagrams = 0;
  const scratchCollector = (): FlowCollector => {
    if (warmUpDatagrams++ % WARM_UP_ROUND_LENGTH === 0) scratch = new FlowCollector().on('batch', onBatch);
    return scratch;
  };
  let r = Atomics.load(ctrl, START);
  // The shared `used` is read once per run of entries (`available`) and lowered once per GIVE_BACK bytes consumed
  // (or before sleeping), not per entry: both threads touching its cache line per datagram cost the receiving
  // thread a cache miss on each of its own updates.
  let available = 0;
  let consumed = 0;
  // Every WARM_UP_GIVE_BACK during the warm-up, so that path too is compiled before a burst (at 64 KiB it never was:
  // --trace-deopt showed consume deoptimised at the first give-back of a burst).
  let giveBackAt = WARM_UP_GIVE_BACK;
  const giveBack = (): void => {
    Atomics.sub(ctrl, USED, consumed);
    consumed = 0;
  };
  while (true) {
    if (available === 0) {
      if (consumed > 0) giveBack();
      available = Atomics.load(ctrl, USED);
    }
    if (available === 0) {
      if (!warm && Atomics.load(ctrl, WARMED) === 1) {
        flush();
        warm = true;
        outLimit = out.length;
        reportEvery = 5_000;
        giveBackAt = Math.min(1 << 20, size >> 3);
        records = reported = datagrams = reportedDatagrams = 0;
        if (fd >= 0 && csv) {
          write(netflowRows ? flowCsvHeader('netflow') : FLOW_CSV_HEADER);
          flush(); // an output that cannot be written fails start(), not the first flows
        }
        parentPort?.postMessage({ type: 'ready' } satisfies WorkerMessage);
      }
      if (Atomics.load(ctrl, CLOSED) === 1) break;
      flush();
      if (datagrams !== reportedDatagrams) report();
      // Sleep unless an entry came in meanwhile: a producer that saw WAITING bumps SEQ (so this wait returns at
      // once) and notifies; one that did not is seen here through `used`.
      const seq = Atomics.load(ctrl, SEQ);
      Atomics.store(ctrl, WAITING, 1);
      if (Atomics.load(ctrl, USED) === 0 && Atomics.load(ctrl, CLOSED) === 0) Atomics.wait(ctrl, SEQ, seq, 200);
      Atomics.store(ctrl, WAITING, 0);
      continue;
    }
    if (data.readUInt32BE(r) === WRAP) {
      available -= size - r;
      consumed += size - r;
      r = 0;
      continue;
    }
    const need = data.readUInt32BE(r);
    const length = data.readUInt32BE(r + 4);
    const nowMs = data.readDoubleBE(r + 8);
    const flags = data[r + 16];
    const addrLength = data[r + 17];
    const start = r + HEADER;
    const exporter = data.toString('latin1', start + length, start + length + addrLength);
    // One call site for both, so the warm-up leaves type feedback where real datagrams go.
    (flags === WARM_UP ? scratchCollector() : collector).ingest(data.subarray(start, start + length), exporter, nowMs);
    datagrams++;
    r += need;
    if (r === size) r = 0;
    available -= need;
    consumed += need;
    if (consumed >= giveBackAt) giveBack();
    if (records - reported >= reportEvery) report();
  }
  flush();
  void collector.close().then((stats) => parentPort?.postMessage({ type: 'done', stats } satisfies WorkerMessage));
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.kind === WORKER_KIND) {
  try {
    consume(workerData as WorkerInit);
  } catch (err) {
    const { code, recordsWritten } = err as { code?: unknown; recordsWritten?: number };
    const failedWrite = recordsWritten !== undefined && typeof code === 'string';
    parentPort?.postMessage({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      ...(failedWrite ? { code, recordsWritten } : {}),
    } satisfies WorkerMessage);
  }
}
