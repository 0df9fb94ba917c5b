// Captures → flows → feature rows, streamed: the library side of `flowsentry extract`. Flows are written as they
// end, with back-pressure from the output, so memory stays bounded by the flow table whatever the capture size.

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { CIC_FEATURES, CIC_IDENTIFIERS } from '../datasets/cic-names.js';
import { UserError } from '../errors.js';
import { readCapture, type CaptureSummary } from '../io/capture.js';
import { countSkip, type SkipCounts } from '../io/pcap.js';
import type { FlowRecord } from './flow-record.js';
import { Worker } from 'node:worker_threads';
import { FlowMeter, type MeterOptions, type MeterStats } from './meter.js';
import { NETFLOW_FEATURES, netflowFeatures } from './features/netflow.js';

export type FeatureSet = 'cic' | 'netflow';
export type OutputFormat = 'csv' | 'jsonl';

export interface ExtractOptions extends MeterOptions {
  features?: FeatureSet;
  format?: OutputFormat;
  /** Worker threads for file inputs (default 1); each meters a hash partition of the flows. */
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

/** Column names of a feature set's rows. */
export function extractColumns(features: FeatureSet): string[] {
  return features === 'cic'
    ? [...CIC_IDENTIFIERS, ...CIC_FEATURES]
    : ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason', ...NETFLOW_FEATURES];
}

let cachedSecond = NaN;
let cachedPrefix = '';

/** CICFlowMeter-style timestamp, UTC, microseconds: 2017-07-06 12:39:06.818901. */
export function cicTimestamp(ms: number): string {
  let micros = Math.round(ms * 1000);
  const second = Math.floor(micros / 1e6);
  micros -= second * 1e6;
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    cachedSecond = second;
  }
  return cachedPrefix + String(micros).padStart(6, '0');
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function featureValues(flow: FlowRecord, features: FeatureSet): Float64Array {
  if (features === 'cic') {
    if (!flow.features) throw new Error('flow has no CIC features');
    return flow.features;
  }
  return netflowFeatures(flow);
}

/** One JSON line (without newline) for a flow: the FlowRecord fields, the start time and the named features. */
export function formatFlowJson(flow: FlowRecord, features: FeatureSet, columns: readonly string[]): string {
  const values = featureValues(flow, features);
  const { features: _vector, ...fields } = flow;
  const named: Record<string, number> = {};
  const names = columns.slice(columns.length - values.length);
  for (let i = 0; i < values.length; i++) named[names[i]!] = values[i]!;
  return JSON.stringify({ ...fields, start: cicTimestamp(flow.startMs), features: named });
}

const COMMA = 0x2c;
const DASH = 0x2d;
const NEWLINE = 0x0a;
const CHUNK = 1 << 20;
const SIGNIFICANT = 12;

/**
 * Output in large byte chunks, numbers encoded straight into the buffer (integers digit by digit, others through
 * the shortest round-trip text): no string per value. Waits for 'drain' when the destination is slow.
 */
export class ByteWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private readonly digits = new Uint8Array(24);
  constructor(private readonly out: Writable) {}

  text(s: string): void {
    if (this.pos + s.length * 3 > this.buf.length) this.spill(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** An ASCII-only string (addresses, names). */
  ascii(s: string): void {
    if (this.pos + s.length > this.buf.length) this.spill(s.length);
    const b = this.buf;
    for (let i = 0; i < s.length; i++) b[this.pos++] = s.charCodeAt(i);
  }

  /** cicTimestamp(ms) written without building strings. */
  timestamp(ms: number): void {
    if (this.pos + 32 > this.buf.length) this.spill(32);
    let micros = Math.round(ms * 1000);
    const second = Math.floor(micros / 1e6);
    micros -= second * 1e6;
    const day = Math.floor(second / 86400);
    let rem = second - day * 86400;
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    const z = day + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    this.padded(y, 4);
    this.buf[this.pos++] = DASH;
    this.padded(m, 2);
    this.buf[this.pos++] = DASH;
    this.padded(d, 2);
    this.buf[this.pos++] = 0x20;
    const h = Math.floor(rem / 3600);
    rem -= h * 3600;
    const min = Math.floor(rem / 60);
    this.padded(h, 2);
    this.buf[this.pos++] = 0x3a;
    this.padded(min, 2);
    this.buf[this.pos++] = 0x3a;
    this.padded(rem - min * 60, 2);
    this.buf[this.pos++] = 0x2e;
    this.padded(micros, 6);
  }

  /** A non-negative integer, left-padded with zeros to `width` digits. */
  private padded(v: number, width: number): void {
    let x = v;
    for (let i = width - 1; i >= 0; i--) {
      const q = Math.floor(x / 10);
      this.buf[this.pos + i] = 0x30 + (x - q * 10);
      x = q;
    }
    this.pos += width;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.spill(1);
    this.buf[this.pos++] = b;
  }

  number(v: number): void {
    if (this.pos + 32 > this.buf.length) this.spill(32);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) {
      let x = v;
      if (x < 0) {
        this.buf[this.pos++] = 0x2d;
        x = -x;
      }
      let n = 0;
      do {
        const q = Math.floor(x / 10);
        this.digits[n++] = 0x30 + (x - q * 10);
        x = q;
      } while (x > 0);
      while (n > 0) this.buf[this.pos++] = this.digits[--n]!;
    } else this.fraction(v);
  }

  /**
   * A non-integer with 12 significant digits (relative error ≤ 5e-13, far below the float32 the models use),
   * written digit by digit: several times faster than String(v), which dominated the CSV cost.
   */
  private fraction(v: number): void {
    let x = v;
    if (!Number.isFinite(x)) {
      this.pos += this.buf.write(String(x), this.pos, 'latin1');
      return;
    }
    if (x < 0) {
      this.buf[this.pos++] = 0x2d;
      x = -x;
    }
    let e = Math.floor(Math.log10(x));
    let scaled = Math.round(x * 10 ** (SIGNIFICANT - 1 - e));
    // log10 can land one off next to a power of ten: fix the exponent so `scaled` has exactly SIGNIFICANT digits.
    if (scaled >= 10 ** SIGNIFICANT) {
      e++;
      scaled = Math.round(x * 10 ** (SIGNIFICANT - 1 - e));
    } else if (scaled < 10 ** (SIGNIFICANT - 1)) {
      e--;
      scaled = Math.round(x * 10 ** (SIGNIFICANT - 1 - e));
    }
    if (e < -7 || e > 14) {
      this.pos += this.buf.write(String(x), this.pos, 'latin1');
      return;
    }
    const d = this.digits;
    for (let i = SIGNIFICANT - 1; i >= 0; i--) {
      const q = Math.floor(scaled / 10);
      d[i] = 0x30 + (scaled - q * 10);
      scaled = q;
    }
    let last = SIGNIFICANT - 1;
    while (last > 0 && d[last] === 0x30 && last > e) last--;
    const b = this.buf;
    if (e < 0) {
      b[this.pos++] = 0x30;
      b[this.pos++] = 0x2e;
      for (let z = -1; z > e; z--) b[this.pos++] = 0x30;
      for (let i = 0; i <= last; i++) b[this.pos++] = d[i]!;
      return;
    }
    for (let i = 0; i <= Math.max(last, e); i++) {
      if (i === e + 1) b[this.pos++] = 0x2e;
      b[this.pos++] = i < SIGNIFICANT ? d[i]! : 0x30;
    }
  }

  /** Writes a full chunk out when it is nearly full (or always with `force`), honouring back-pressure. */
  async drain(force = false): Promise<void> {
    if (this.pos === 0 || (!force && this.pos < CHUNK - (CHUNK >> 3))) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }

  /** Grows the current chunk when a line outruns it between drains. */
  private spill(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

function writeCsvFlow(w: ByteWriter, flow: FlowRecord, features: FeatureSet): void {
  const values = featureValues(flow, features);
  // Written piece by piece (no string per row). Addresses, numbers and end reasons never need CSV quoting.
  if (features === 'cic') {
    w.ascii(flow.srcAddr);
    w.byte(DASH);
    w.ascii(flow.dstAddr);
    w.byte(DASH);
    w.number(flow.srcPort);
    w.byte(DASH);
    w.number(flow.dstPort);
    w.byte(DASH);
    w.number(flow.protocol);
    w.byte(COMMA);
    w.ascii(flow.srcAddr);
    w.byte(COMMA);
    w.number(flow.srcPort);
    w.byte(COMMA);
    w.ascii(flow.dstAddr);
    w.byte(COMMA);
    w.timestamp(flow.startMs);
  } else {
    w.ascii(flow.srcAddr);
    w.byte(COMMA);
    w.ascii(flow.dstAddr);
    w.byte(COMMA);
    w.timestamp(flow.startMs);
    w.byte(COMMA);
    w.number(flow.vlan);
    w.byte(COMMA);
    w.ascii(flow.endReason);
  }
  for (let i = 0; i < values.length; i++) {
    w.byte(COMMA);
    w.number(values[i]!);
  }
  w.byte(NEWLINE);
}

/** What one meter (the only one, or one partition's) reports. */
export interface PartialExtract {
  captures: CaptureSummary[];
  stats: MeterStats;
}

/** Meters captures into `stream` as rows (no header); the body shared by the single-thread and worker paths. */
export async function extractInto(captures: readonly (string | Readable)[], stream: Writable, options: ExtractOptions): Promise<PartialExtract> {
  const features = options.features ?? 'cic';
  const format = options.format ?? 'csv';
  const columns = extractColumns(features);
  const writer = new ByteWriter(stream);
  const onFlow =
    format === 'csv' ? (flow: FlowRecord) => writeCsvFlow(writer, flow, features) : (flow: FlowRecord) => writer.text(`${formatFlowJson(flow, features, columns)}\n`);
  const meter = new FlowMeter(onFlow, {
    ...options,
    cicFeatures: features === 'cic',
    reuseFeatureVector: true, // each row is written inside the callback
  });
  const summaries: CaptureSummary[] = [];
  const onPacket = meter.addPacket.bind(meter);
  for (let i = 0; i < captures.length; i++) {
    const afterChunk = (bytes: number): Promise<void> => {
      options.onProgress?.(bytes, i);
      return writer.drain();
    };
    summaries.push(await readCapture(captures[i]!, onPacket, afterChunk));
  }
  while (!meter.flush(1024)) await writer.drain();
  await writer.drain(true);
  return { captures: summaries, stats: meter.stats };
}

/** Runs one meter per worker thread, each on its hash partition of the flows; rows arrive as transferred chunks. */
async function extractInWorkers(paths: readonly string[], stream: Writable, options: ExtractOptions, count: number): Promise<PartialExtract[]> {
  const maxFlows = Math.ceil((options.maxFlows ?? 100_000) / count);
  const workers: Worker[] = [];
  try {
    return await Promise.all(
      Array.from({ length: count }, (_, index) => {
        const worker = new Worker(new URL('./extract-worker.js', import.meta.url), {
          workerData: { captures: paths, options: { ...options, onProgress: undefined, maxFlows, partition: { index, count } } },
        });
        workers.push(worker);
        return new Promise<PartialExtract>((resolve, reject) => {
          worker.on('message', (msg: Uint8Array | WorkerReply) => {
            if (ArrayBuffer.isView(msg)) stream.write(msg, () => worker.postMessage('ack'));
            else if (msg.type === 'done') resolve(msg.result);
            else reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
          });
          worker.on('error', reject);
          worker.on('exit', (code) => reject(new Error(`extract worker exited with code ${code}`)));
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export type WorkerReply = { type: 'done'; result: PartialExtract } | { type: 'error'; message: string; userError: boolean };

/**
 * Extracts flows from captures (paths, '-' for stdin, or Readables) and writes one row per flow to `out`
 * (a path or a Writable; '.jsonl' / '.json' paths get JSON lines unless `format` says otherwise). With `workers` > 1
 * and only file paths, the flows are split by hash between worker threads, each reading the files.
 */
export async function extractFlows(
  captures: readonly (string | Readable)[],
  out: string | Writable,
  options: ExtractOptions = {},
): Promise<ExtractSummary> {
  const features = options.features ?? 'cic';
  const format = options.format ?? (typeof out === 'string' && /\.jsonl?$/i.test(out) ? 'jsonl' : 'csv');
  const stream = typeof out === 'string' ? createWriteStream(out) : out;
  if (typeof out === 'string') {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err: NodeJS.ErrnoException) => reject(new UserError(`cannot write: ${err.code ?? err.message}`, { file: out })));
    });
  }
  if (format === 'csv') stream.write(`${extractColumns(features).map(csvField).join(',')}\n`);
  const started = performance.now();
  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  const paths = captures.filter((c): c is string => typeof c === 'string' && c !== '-');
  const parts =
    workers > 1 && paths.length === captures.length
      ? await extractInWorkers(paths, stream, { ...options, features, format }, workers)
      : [await extractInto(captures, stream, { ...options, features, format })];
  if (typeof out === 'string') await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
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
