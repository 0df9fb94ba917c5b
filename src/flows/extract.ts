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
import { FlowMeter, type MeterOptions } from './meter.js';
import { NETFLOW_FEATURES, netflowFeatures } from './features/netflow.js';

export type FeatureSet = 'cic' | 'netflow';
export type OutputFormat = 'csv' | 'jsonl';

export interface ExtractOptions extends MeterOptions {
  features?: FeatureSet;
  format?: OutputFormat;
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

/** CICFlowMeter-style timestamp, UTC, microseconds: 2017-07-06 12:39:06.818901. */
export function cicTimestamp(ms: number): string {
  const wholeMs = Math.floor(ms);
  const iso = new Date(wholeMs).toISOString();
  const micros = Math.round((ms - Math.floor(ms / 1000) * 1000) * 1000);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(Math.min(micros, 999_999)).padStart(6, '0')}`;
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

/** One output line (without newline) for a flow. */
export function formatFlow(flow: FlowRecord, features: FeatureSet, format: OutputFormat, columns: readonly string[]): string {
  const values = featureValues(flow, features);
  const start = cicTimestamp(flow.startMs);
  if (format === 'csv') {
    const head =
      features === 'cic'
        ? [`${flow.srcAddr}-${flow.dstAddr}-${flow.srcPort}-${flow.dstPort}-${flow.protocol}`, flow.srcAddr, String(flow.srcPort), flow.dstAddr, start]
        : [flow.srcAddr, flow.dstAddr, start, String(flow.vlan), flow.endReason];
    return `${head.map(csvField).join(',')},${Array.prototype.join.call(values, ',')}`;
  }
  const { features: _vector, ...fields } = flow;
  const named: Record<string, number> = {};
  const names = columns.slice(columns.length - values.length);
  for (let i = 0; i < values.length; i++) named[names[i]!] = values[i]!;
  return JSON.stringify({ ...fields, start, features: named });
}

/** Buffers lines and writes them in large chunks, waiting for 'drain' when the destination is slow. */
class LineWriter {
  private parts: string[] = [];
  private pending = 0;
  constructor(private readonly out: Writable) {}
  add(line: string): void {
    this.parts.push(line);
    this.pending += line.length + 1;
  }
  async drain(force = false): Promise<void> {
    if (this.parts.length === 0 || (!force && this.pending < 1 << 16)) return;
    const text = `${this.parts.join('\n')}\n`;
    this.parts = [];
    this.pending = 0;
    if (!this.out.write(text)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}

/**
 * Extracts flows from captures (paths, '-' for stdin, or Readables) and writes one row per flow to `out`
 * (a path or a Writable; '.jsonl' / '.json' paths get JSON lines unless `format` says otherwise).
 */
export async function extractFlows(
  captures: readonly (string | Readable)[],
  out: string | Writable,
  options: ExtractOptions = {},
): Promise<ExtractSummary> {
  const features = options.features ?? 'cic';
  const format = options.format ?? (typeof out === 'string' && /\.jsonl?$/i.test(out) ? 'jsonl' : 'csv');
  const columns = extractColumns(features);
  const stream = typeof out === 'string' ? createWriteStream(out) : out;
  const opened =
    typeof out === 'string'
      ? new Promise<void>((resolve, reject) => {
          stream.once('open', () => resolve());
          stream.once('error', (err: NodeJS.ErrnoException) => reject(new UserError(`cannot write: ${err.code ?? err.message}`, { file: out })));
        })
      : Promise.resolve();
  await opened;
  const writer = new LineWriter(stream);
  if (format === 'csv') writer.add(columns.map(csvField).join(','));
  const meter = new FlowMeter((flow) => writer.add(formatFlow(flow, features, format, columns)), {
    ...options,
    cicFeatures: features === 'cic',
  });
  const started = performance.now();
  const summaries: CaptureSummary[] = [];
  const onPacket = meter.addPacket.bind(meter);
  const afterChunk = (): Promise<void> => writer.drain();
  for (const capture of captures) summaries.push(await readCapture(capture, onPacket, afterChunk));
  meter.flush();
  await writer.drain(true);
  if (typeof out === 'string') await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const seconds = (performance.now() - started) / 1000;
  const stats = meter.stats;
  const skipped: SkipCounts = {};
  for (const s of summaries) for (const [reason, n] of Object.entries(s.skipped)) countSkip(skipped, reason, n);
  for (const [reason, n] of Object.entries(stats.skipped)) countSkip(skipped, reason, n);
  return {
    captures: summaries,
    packets: stats.packets,
    skipped,
    flows: stats.flows,
    evictions: stats.evictions,
    trailingPackets: stats.trailingPackets,
    seconds,
    packetsPerSecond: seconds > 0 ? stats.packets / seconds : 0,
  };
}
