// Captures → flows → feature rows, streamed: the library side of `flowsentry extract`. Flows are written as they
// end, with back-pressure from the output, so memory stays bounded by the flow table whatever the capture size. This
// file drives the reading, metering and writing, on one thread or several; the rows themselves are flow-rows.ts.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { CIC_FEATURES } from '../datasets/cic-names.js';
import { UserError } from '../errors.js';
import { countLines, countStdout, OutputError, syncFileStream, writtenBefore } from '../util/output.js';
import { readCapture, type CaptureSummary } from '../io/capture.js';
import { countSkip, ReadPause, type SkipCounts } from '../io/pcap.js';
import type { FlowRecord } from './flow-record.js';
import { Worker } from 'node:worker_threads';
import { MeterBatch, FlowMeter, type MeterOptions, type MeterStats } from './meter.js';
import { RingAborted, SlotRing, workerResult, type WorkerReply } from './pipeline.js';
import { ByteWriter } from './byte-writer.js';
import { extractColumns, flowCsvHeader, warmUpCsvWriter, writeCicBatch, writeFlowRow, type FeatureSet } from './flow-rows.js';

export type { FeatureSet };
export type OutputFormat = 'csv' | 'jsonl';

export interface ExtractOptions extends MeterOptions {
  features?: FeatureSet;
  format?: OutputFormat;
  /**
   * Threads (default 1). CIC CSV to a file path: 2 or more = metering here and CSV writing in a worker. Otherwise,
   * for file inputs: one worker per hash partition of the flows, each reading the files.
   */
  workers?: number;
  /** Called as input is read: bytes read in the current capture and its index (single-thread path only). */
  onProgress?: (bytesRead: number, captureIndex: number) => void;
}

export interface ExtractSummary {
  captures: CaptureSummary[];
  packets: number;
  /** Packets (or records) skipped by reason: reader corruption and decoding failures together. */
  skipped: SkipCounts;
  flows: number;
  evictions: number;
  trailingPackets: number;
  seconds: number;
  packetsPerSecond: number;
}

/** Constants (a const enum: literals in the code, not module-variable loads in the hot paths). */
const enum K {
  /** Rows per MeterBatch between the meter and the CSV writer. */
  BATCH_ROWS = 1024,
  /** Slots of the ring between the meter and the CSV writer. */
  RING_SLOTS = 8,
}

/** What one meter (the only one, or one partition's) reports. */
export interface PartialExtract {
  captures: CaptureSummary[];
  stats: MeterStats;
}

/**
 * Meters captures into `out` as rows (no header); the body shared by the single-thread and worker paths. To a file
 * descriptor the rows are written synchronously, so memory stays bounded however many flows end in a burst; to a
 * Writable the reader stops after the packet whose rows filled the stream (ByteWriter's ReadPause) and waits for
 * 'drain'. A failed write is an OutputError naming `file` and the flows written before it.
 */
export async function extractInto(captures: readonly (string | Readable)[], out: Writable | number, options: ExtractOptions, file = 'stdout'): Promise<PartialExtract> {
  const features = options.features ?? 'cic';
  const format = options.format ?? 'csv';
  const columns = extractColumns(features);
  const pause = new ReadPause();
  const writer = new ByteWriter(out, pause, file);
  if (out === process.stdout) countStdout(() => ({ count: writer.rowsWritten, unit: 'flows' }));
  const onFlow = (flow: FlowRecord): void => {
    writeFlowRow(writer, flow, features, format, columns);
    writer.countRows(1);
    writer.push();
  };
  // CIC CSV rows are written from columnar batches of the meter (one batch, refilled after each write).
  const batch = features === 'cic' && format === 'csv' ? new MeterBatch(K.BATCH_ROWS, CIC_FEATURES.length) : undefined;
  if (batch) warmUpCsvWriter();
  const full = (b: MeterBatch): MeterBatch => {
    writeCicBatch(writer, b);
    writer.push();
    b.length = 0;
    return b;
  };
  const meter = new FlowMeter(onFlow, {
    ...options,
    cicFeatures: features === 'cic',
    reuseFeatureVector: true, // each row is written inside the callback
    ...(batch ? { batches: { first: batch, full } } : {}),
  });
  const summaries: CaptureSummary[] = [];
  const onPacket = meter.addPacket.bind(meter);
  for (let i = 0; i < captures.length; i++) {
    const afterChunk = (bytes: number): Promise<void> => {
      options.onProgress?.(bytes, i);
      return writer.drain();
    };
    summaries.push(await readCapture(captures[i]!, onPacket, afterChunk, pause));
  }
  while (!meter.flush(1024)) await writer.drain();
  await writer.finish();
  return { captures: summaries, stats: meter.stats };
}

/**
 * Runs one meter per worker thread, each on its hash partition of the flows; rows arrive as transferred chunks. A
 * failed write to `stream` ends every worker and is an OutputError naming `file` with the rows written before it.
 */
async function extractInWorkers(paths: readonly string[], stream: Writable, file: string, options: ExtractOptions, count: number): Promise<PartialExtract[]> {
  const maxFlows = Math.ceil((options.maxFlows ?? 100_000) / count);
  const workers: Worker[] = [];
  let rowsWritten = 0;
  if (stream === process.stdout) countStdout(() => ({ count: rowsWritten, unit: 'flows' }));
  let failed: (err: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = (err) => reject(new OutputError(file, err, { count: rowsWritten, unit: 'flows' }));
  });
  failure.catch(() => undefined); // raced below
  stream.on('error', (err) => failed(err));
  try {
    const all = Promise.all(
      Array.from({ length: count }, (_, index) => {
        const worker = new Worker(new URL('./extract-worker.js', import.meta.url), {
          workerData: { role: 'partition', captures: paths, options: { ...options, onProgress: undefined, maxFlows, partition: { index, count } } },
        });
        workers.push(worker);
        return new Promise<PartialExtract>((resolve, reject) => {
          worker.on('message', (msg: Uint8Array | WorkerReply) => {
            if (ArrayBuffer.isView(msg)) {
              stream.write(msg, (err) => {
                rowsWritten += countLines(err ? msg.subarray(0, writtenBefore(err)) : msg);
                if (err) return failed(err);
                worker.postMessage('ack');
              });
            }
            else if (msg.type === 'done') resolve(msg.result);
            else if (msg.type === 'error') reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`extract worker exited with code ${code}`)));
        });
      }),
    );
    return await Promise.race([all, failure]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The MeterBatch over each slot of a ring made with slotBytes = MeterBatch.bytesFor(rows, featureCount). */
export function ringBatches(ring: SlotRing, rows: number, featureCount: number): MeterBatch[] {
  return Array.from({ length: ring.slots }, (_, i) => new MeterBatch(rows, featureCount, ring.buffer, ring.offset(i)));
}

/** Opens an output file for writing; an OutputError naming it when it cannot be. */
function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new OutputError(path, err, 'nothing was written');
  }
}

/** Writes the header line of `path`. */
function writeHeader(fd: number, path: string, header: string): void {
  const bytes = Buffer.from(header);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    throw new OutputError(path, err, { count: 0, unit: 'flows' });
  }
}

/**
 * Two-thread pipeline for CIC CSV to a file: this thread reads, decodes and meters into a BatchRing; a worker
 * thread formats the rows and writes them (formatting costs about as much as metering). Same rows, same order as
 * the one-thread path. This thread never blocks on the ring: at most 66 flows end per packet (meter.ts
 * EXPIRE_PER_PACKET + a timeout + an eviction), fewer than a batch holds, so the meter hands over at most one full
 * batch per packet; when the slot after the new one is still being written, the reader stops after that packet and
 * the slot is awaited (SlotRing.room). The writer's 'exit' then aborts the ring: a writer that dies at any moment
 * (out of memory, terminated) is an error here, never a hang.
 */
async function extractPipelined(captures: readonly (string | Readable)[], out: string, options: ExtractOptions): Promise<PartialExtract> {
  const fd = openOutput(out);
  const width = CIC_FEATURES.length;
  const ring = SlotRing.create(K.RING_SLOTS, MeterBatch.bytesFor(K.BATCH_ROWS, width));
  const batches = ringBatches(ring, K.BATCH_ROWS, width);
  let worker: Worker | undefined;
  // Rows the writer thread's output has taken, kept where this thread can read them after the writer has died.
  const rowsWritten = new Float64Array(new SharedArrayBuffer(8));
  try {
    writeHeader(fd, out, flowCsvHeader('cic'));
    worker = new Worker(new URL('./extract-worker.js', import.meta.url), {
      workerData: { role: 'writer', ring: ring.buffer, rows: K.BATCH_ROWS, width, fd, file: out, rowsWritten: rowsWritten.buffer },
    });
    // The writer's own failures (OutputError) say what was written; its death (out of memory, terminated: an internal
    // error) says it here.
    const written = workerResult(worker, 'written', 'CSV writer').catch((err: unknown) => {
      if (err instanceof UserError) throw err;
      throw new Error(`${(err as Error).message}; ${out} is incomplete: ${rowsWritten[0]} flows written before it`, { cause: err });
    });
    written.catch(() => undefined); // awaited later; the meter may fail first
    worker.once('exit', () => ring.abort());
    const pause = new ReadPause();
    const full = (b: MeterBatch): MeterBatch => {
      const next = batches[ring.publish(b.length)]!;
      if (!ring.hasRoom(1)) pause.requested = true;
      next.length = 0;
      return next;
    };
    const meter = new FlowMeter(() => undefined, { ...options, cicFeatures: true, batches: { first: batches[0]!, full } });
    const summaries: CaptureSummary[] = [];
    const onPacket = meter.addPacket.bind(meter);
    try {
      for (let i = 0; i < captures.length; i++) {
        const afterChunk = (bytes: number): Promise<void> => {
          options.onProgress?.(bytes, i);
          return ring.room(1);
        };
        summaries.push(await readCapture(captures[i]!, onPacket, afterChunk, pause));
      }
      // A flush call of at most BATCH_ROWS flows hands over at most two batches (a full one and the last part).
      do {
        await ring.room(2);
      } while (!meter.flush(K.BATCH_ROWS));
    } catch (err) {
      if (err instanceof RingAborted) await written;
      ring.abort();
      throw err;
    }
    ring.close();
    await written;
    return { captures: summaries, stats: meter.stats };
  } finally {
    await worker?.terminate();
    closeSync(fd);
  }
}

/**
 * Extracts flows from captures (paths, '-' for stdin, or Readables) and writes one row per flow to `out`
 * (a path or a Writable; '.jsonl' / '.json' paths get JSON lines unless `format` says otherwise). With `workers` > 1:
 * CIC CSV to a file path runs as a two-thread pipeline (metering here, CSV formatting and writing in a worker);
 * otherwise, with only file paths as input, the flows are split by hash between worker threads, each reading the
 * files.
 */
export async function extractFlows(
  captures: readonly (string | Readable)[],
  out: string | Writable,
  options: ExtractOptions = {},
): Promise<ExtractSummary> {
  const features = options.features ?? 'cic';
  const format = options.format ?? (typeof out === 'string' && /\.jsonl?$/i.test(out) ? 'jsonl' : 'csv');
  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  const started = performance.now();
  let parts: PartialExtract[];
  if (workers > 1 && typeof out === 'string' && features === 'cic' && format === 'csv') parts = [await extractPipelined(captures, out, options)];
  else if (workers === 1 && typeof out === 'string') {
    const fd = openOutput(out);
    try {
      if (format === 'csv') writeHeader(fd, out, flowCsvHeader(features));
      parts = [await extractInto(captures, fd, { ...options, features, format }, out)];
    } finally {
      closeSync(fd);
    }
  } else {
    // To a file: written synchronously from this thread, so a failure says how many bytes of its chunk went out.
    const stream = typeof out === 'string' ? syncFileStream(openOutput(out), true) : out;
    const file = typeof out === 'string' ? out : 'stdout';
    try {
      if (format === 'csv') stream.write(flowCsvHeader(features));
      const paths = captures.filter((c): c is string => typeof c === 'string' && c !== '-');
      parts =
        workers > 1 && paths.length === captures.length
          ? await extractInWorkers(paths, stream, file, { ...options, features, format }, workers)
          : [await extractInto(captures, stream, { ...options, features, format }, file)];
      if (typeof out === 'string') await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } finally {
      if (typeof out === 'string' && !stream.writableFinished) stream.destroy();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // Every partition reads and decodes every packet: reader and decoder counts come from the first one.
  const first = parts[0]!;
  const skipped: SkipCounts = {};
  for (const s of first.captures) for (const [reason, n] of Object.entries(s.skipped)) countSkip(skipped, reason, n);
  for (const [reason, n] of Object.entries(first.stats.skipped)) countSkip(skipped, reason, n);
  const sum = (pick: (s: MeterStats) => number): number => parts.reduce((t, p) => t + pick(p.stats), 0);
  return {
    captures: first.captures,
    packets: first.stats.packets,
    skipped,
    flows: sum((s) => s.flows),
    evictions: sum((s) => s.evictions),
    trailingPackets: sum((s) => s.trailingPackets),
    seconds,
    packetsPerSecond: seconds > 0 ? first.stats.packets / seconds : 0,
  };
}
