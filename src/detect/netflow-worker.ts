// NetFlow/IPFIX source on its own thread: the worker owns the UDP socket and the decoders (FlowCollector), computes
// each record's NetFlow feature vector and, given a NetFlow-feature model, scores the rows, then hands the engine's
// thread columnar FlowChunks (src/detect/flow-chunk.ts) in SharedArrayBuffer slots: a message per chunk carries only
// the slot, and the engine frees a slot by a flag (Atomics), so neither side copies rows, builds an object per record
// or transfers buffers. Slots are bounded (`maxRows` in flight); when the engine is that far behind, new records are
// dropped and counted. A chunk is handed over when full (`chunkRows`) or `maxDelayMs` after its first record, so
// batching adds at most that much latency. stop() delivers the open chunk before the final stats, and messages keep
// their order, so every decoded record reaches the engine. (Same idea as the two-thread `collect` pipeline,
// src/flows/collector-pipeline.ts.) Datagrams are received as `collect` receives them: by the native recvmmsg
// receiver when it is built (a thread of its own filling a ring this thread drains, src/flows/collector-ring.ts),
// else by Node's dgram socket on this thread.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DEFAULT_RECEIVE_BUFFER, FlowCollector, kernelDropsForPort, listenFailure, type CollectorStats } from '../flows/collector.js';
import { nativeReceiver } from '../flows/collector-native.js';
import type { ReceiverKind } from '../flows/collector-pipeline.js';
import { NativeRingSource } from '../flows/collector-ring.js';
import { UserError } from '../errors.js';
import { FlowChunk } from './flow-chunk.js';
import { ModelScorer } from './model-scorer.js';
import type { ModelDocument } from '../store/model-file.js';

const WORKER_KIND = 'flowsentry-netflow-source';
const FREE = 0;
const FILLING = 1;
const HANDED = 2;

export interface NetflowWorkerOptions {
  host: string;
  port: number;
  receiveBuffer?: number;
  /** Rows per chunk (the engine's batch size). */
  chunkRows: number;
  /** Longest a decoded record waits in an open chunk. */
  maxDelayMs: number;
  /** Rows handed to the engine and not yet released, at most (the engine's queue bound). */
  maxRows: number;
  /**
   * The engine's model (loaded with `shared`, so this thread scores with the engine's arrays instead of a second
   * copy of the model): rows are scored on this thread when its features are the NetFlow set.
   */
  model?: { doc: ModelDocument; file: string };
  /** How datagrams are received, as `collect --receiver`: 'auto' (default: recvmmsg when built, else dgram). */
  receiver?: ReceiverKind;
  /** The native receiver's ring, in bytes (default DEFAULT_RING_BYTES). */
  ringBytes?: number;
  /** The option that gave the address, named in the line of a failed listen ('--netflow'). */
  listenOption?: string;
}

/**
 * The collector's skips as `/metrics` counts them by reason: malformed datagrams and skipped parts by their reasons,
 * and data sets whose template never came (CollectorStats.pendingDropped) as `data-set-without-template`.
 */
export function collectorSkips(malformed: Readonly<Record<string, number>>, skipped: Readonly<Record<string, number>>, pendingDropped: number): Record<string, number> {
  return { ...malformed, ...skipped, ...(pendingDropped > 0 ? { 'data-set-without-template': pendingDropped } : {}) };
}

type ToWorker = { type: 'stop' };
type FromWorker =
  | { type: 'listening'; port: number; receiver: 'recvmmsg' | 'dgram' }
  | { type: 'chunk'; slot: number; buffer: SharedArrayBuffer | undefined; capacity: number; length: number; exporters: string[]; predicted: boolean; hasScore: boolean; backlogDropped: number }
  | { type: 'counts'; skips: Record<string, number>; ringDropped: number }
  | { type: 'done'; stats: CollectorStats & { backlogDropped: number } }
  | { type: 'error'; message: string };

/** The engine thread's side: receives chunks, each with the function that frees its slot once it is no longer read. */
export class NetflowWorkerSource {
  private constructor(
    private readonly worker: Worker,
    readonly port: number,
    /** How the worker receives datagrams. */
    readonly receiver: 'recvmmsg' | 'dgram',
  ) {}

  /**
   * Starts the worker and binds its socket; rejects with a UserError when the address cannot be bound.
   * `onDropped(n)`: n more records were dropped because the engine held every slot. `onSkips`: the collector's
   * malformed datagrams and skipped parts by reason so far, each second while they change. `onRingDropped(n)`: n more
   * datagrams were dropped by the native receiver because its ring was full (this thread's decoder that far behind),
   * reported each second while they change and once more at stop, so the reports add up to the final ringDropped.
   */
  static async start(
    options: NetflowWorkerOptions,
    onChunk: (chunk: FlowChunk, release: (chunk: FlowChunk) => void) => void,
    onDropped: (records: number) => void,
    onSkips: (skips: Record<string, number>) => void = () => undefined,
    onRingDropped: (datagrams: number) => void = () => undefined,
  ): Promise<NetflowWorkerSource> {
    const slots = Math.ceil(options.maxRows / options.chunkRows) + 2;
    const state = new Int32Array(new SharedArrayBuffer(4 * slots));
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind: WORKER_KIND, options, state } });
    const release = (chunk: FlowChunk): void => {
      if (chunk.slot >= 0) Atomics.store(state, chunk.slot, FREE);
    };
    let dropped = 0;
    let ringDropped = 0;
    // a slot's buffer is sent with its first chunk only
    const buffers: SharedArrayBuffer[] = [];
    const listening = await new Promise<{ port: number; receiver: 'recvmmsg' | 'dgram' }>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'listening') resolve(m);
        else if (m.type === 'error') reject(new UserError(m.message));
        else if (m.type === 'counts') {
          onSkips(m.skips);
          if (m.ringDropped > ringDropped) onRingDropped(m.ringDropped - ringDropped);
          ringDropped = m.ringDropped;
        }
        else if (m.type === 'chunk') {
          if (m.buffer && m.slot >= 0) buffers[m.slot] = m.buffer;
          const chunk = new FlowChunk(m.buffer ?? buffers[m.slot], m.capacity, m.length, m.exporters);
          chunk.predicted = m.predicted;
          chunk.hasScore = m.hasScore;
          chunk.slot = m.slot;
          if (m.backlogDropped > dropped) onDropped(m.backlogDropped - dropped);
          dropped = m.backlogDropped;
          onChunk(chunk, release);
        }
      });
      worker.once('error', reject);
      worker.once('exit', () => reject(new UserError('the NetFlow source thread exited')));
    });
    return new NetflowWorkerSource(worker, listening.port, listening.receiver);
  }

  /** Closes the socket, delivers the open chunk and returns the collector's final stats. */
  async stop(): Promise<CollectorStats & { backlogDropped: number }> {
    const done = new Promise<CollectorStats & { backlogDropped: number }>((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'done') resolve(m.stats);
        else if (m.type === 'error') reject(new UserError(m.message));
      });
      this.worker.once('error', reject);
    });
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    const stats = await done;
    await this.worker.terminate();
    return stats;
  }
}

/** Worker thread: socket → decoder → features (→ model) → chunks. */
async function run(options: NetflowWorkerOptions, state: Int32Array): Promise<void> {
  const port = parentPort!;
  const scorer = options.model ? ModelScorer.fromDocument(options.model.doc, options.model.file) : undefined;
  const scoring = scorer?.featureSet === 'netflow' ? scorer : undefined;
  const capacity = Math.ceil(options.chunkRows / 8) * 8;
  const slots: FlowChunk[] = [];
  const announced: boolean[] = [];
  let cursor = 0;
  let backlogDropped = 0;
  let open: { chunk: FlowChunk; slot: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let posting = Promise.resolve();

  /** A free slot (made when fewer than the bound exist), or undefined when the engine holds them all. */
  const take = (rows: number): { chunk: FlowChunk; slot: number } | undefined => {
    if (rows > capacity) return { chunk: FlowChunk.allocate(rows), slot: -1 };
    for (let k = 0; k < slots.length; k++) {
      const slot = (cursor + k) % slots.length;
      if (Atomics.load(state, slot) === FREE) {
        cursor = slot + 1;
        Atomics.store(state, slot, FILLING);
        const chunk = new FlowChunk(slots[slot].buffer, capacity);
        return { chunk, slot };
      }
    }
    if (slots.length === state.length) return undefined;
    slots.push(FlowChunk.allocate(capacity));
    Atomics.store(state, slots.length - 1, FILLING);
    return { chunk: slots[slots.length - 1], slot: slots.length - 1 };
  };
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!open) return;
    const { chunk, slot } = open;
    open = undefined;
    posting = posting.then(async () => {
      try {
        if (scoring) await scoring.predictChunk(chunk);
      } catch {
        chunk.predicted = false; // the engine scores it itself and reports the error
      }
      const announce = slot < 0 || !announced[slot];
      if (slot >= 0) {
        Atomics.store(state, slot, HANDED);
        announced[slot] = true;
      }
      port.postMessage({
        type: 'chunk',
        slot,
        buffer: announce ? (chunk.buffer as SharedArrayBuffer) : undefined,
        capacity: chunk.capacity,
        length: chunk.length,
        exporters: chunk.exporters,
        predicted: chunk.predicted,
        hasScore: chunk.hasScore,
        backlogDropped,
      } satisfies FromWorker);
    });
  };
  const receiverKind = options.receiver ?? 'auto';
  const native = receiverKind === 'dgram' ? undefined : nativeReceiver();
  if (receiverKind === 'recvmmsg' && native && 'reason' in native) throw new Error(`the recvmmsg receiver is not available: ${native.reason}`);
  const requested = options.receiveBuffer ?? DEFAULT_RECEIVE_BUFFER;
  let collector: FlowCollector;
  let ring: NativeRingSource | undefined;
  if (native && 'receiver' in native) {
    const ringCollector = new FlowCollector();
    collector = ringCollector;
    const ingest = (datagram: Buffer, exporter: string, nowMs: number): void => void ringCollector.ingest(datagram, exporter, nowMs);
    try {
      ring = await NativeRingSource.start(native.receiver, { host: options.host, port: options.port, receiveBuffer: requested, ringBytes: options.ringBytes }, ingest);
    } catch (err) {
      throw listenFailure(options.host, options.port, err, options.listenOption);
    }
  } else collector = await FlowCollector.listen({ host: options.host, port: options.port, receiveBuffer: requested, listenOption: options.listenOption });
  /** The collector's stats, with the receiver's socket counters when the native receiver received. */
  const close = async (): Promise<CollectorStats> => {
    if (!ring) return { ...(await collector.close()), receiver: 'dgram' };
    const kernelDrops = kernelDropsForPort(ring.port);
    const received = ring.stop();
    const stats = await collector.close();
    return { ...stats, kernelDrops, ringDropped: received.ringDropped, receiver: 'recvmmsg', receiveBuffer: { requested, granted: ring.granted } };
  };
  collector.on('batch', (batch) => {
    const arrivedAt = performance.timeOrigin + performance.now();
    if (open && open.chunk.free < batch.length) flush();
    if (!open) {
      open = take(batch.length);
      if (!open) {
        backlogDropped += batch.length;
        return;
      }
      timer = setTimeout(flush, options.maxDelayMs);
    }
    open.chunk.append(batch, arrivedAt);
    if (open.chunk.free === 0) flush();
  });
  // the skip counts and ring drops for the engine thread's metrics, each second while they change (a receiver whose
  // ring is full decodes nothing new, so its drops are a change of their own)
  let reportedDatagrams = 0;
  let reportedRingDropped = 0;
  const report = (): void => {
    const decoded = collector.decodeStats;
    const ringDropped = ring?.ringDropped ?? 0;
    if (decoded.datagrams === reportedDatagrams && ringDropped === reportedRingDropped) return;
    reportedDatagrams = decoded.datagrams;
    reportedRingDropped = ringDropped;
    port.postMessage({ type: 'counts', skips: collectorSkips(decoded.malformed, decoded.skipped, collector.store.counters.pendingDropped), ringDropped } satisfies FromWorker);
  };
  const countsReport = setInterval(report, 1000);
  countsReport.unref();
  port.on('message', (m: ToWorker) => {
    if (m.type !== 'stop') return;
    clearInterval(countsReport);
    void close().then(async (stats) => {
      report(); // the receiver's exact final count
      flush();
      await posting;
      port.postMessage({ type: 'done', stats: { ...stats, backlogDropped } } satisfies FromWorker);
    });
  });
  port.postMessage({ type: 'listening', port: ring ? ring.port : (collector.address?.port ?? 0), receiver: ring ? 'recvmmsg' : 'dgram' } satisfies FromWorker);
}

if (!isMainThread && (workerData as { kind?: string } | undefined)?.kind === WORKER_KIND) {
  const { options, state } = workerData as { options: NetflowWorkerOptions; state: Int32Array };
  run(options, state).catch((err: unknown) => {
    parentPort?.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
  });
}
