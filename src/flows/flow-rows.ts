// Flow rows: the columns of each feature set and a flow's row in them, as CSV (written by a ByteWriter, from a
// FlowRecord or from a MeterBatch of the flow meter) or as one JSON line. `extract` (flows of captures) and
// `collect --features netflow` (flows of exporters) write their rows with writeFlowRow under flowCsvHeader.

import { Writable } from 'node:stream';
import { CIC_FEATURES, CIC_IDENTIFIERS } from '../datasets/cic-names.js';
import type { FlowRecord } from './flow-record.js';
import { type MeterBatch, Row, warmUpBatch } from './meter.js';
import { NETFLOW_FEATURES, netflowFeatures } from './features/netflow.js';
import { ByteWriter } from './byte-writer.js';

export type FeatureSet = 'cic' | 'netflow';

/** Column names of a feature set's rows. */
export function extractColumns(features: FeatureSet): string[] {
  return features === 'cic'
    ? [...CIC_IDENTIFIERS, ...CIC_FEATURES]
    : ['src_addr', 'dst_addr', 'start', 'vlan', 'end_reason', ...NETFLOW_FEATURES];
}

/** A CSV field, quoted when it holds a quote, comma or line feed. */
export function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The header line of a feature set's CSV rows. */
export function flowCsvHeader(features: FeatureSet): string {
  return `${extractColumns(features).map(csvField).join(',')}\n`;
}

/** The NetFlow features of the row being written: every row writer uses them before the next row. */
const netflowValues = new Float64Array(NETFLOW_FEATURES.length);

function featureValues(flow: FlowRecord, features: FeatureSet): Float64Array {
  if (features === 'cic') {
    if (!flow.features) throw new Error('flow has no CIC features');
    return flow.features;
  }
  return netflowFeatures(flow, netflowValues);
}

/** A flow's row: a CSV row (writeCsvFlow) or one JSON line (writeJsonFlow) with its newline. */
export function writeFlowRow(w: ByteWriter, flow: FlowRecord, features: FeatureSet, format: 'csv' | 'jsonl', columns: readonly string[]): void {
  if (format === 'csv') writeCsvFlow(w, flow, features);
  else writeJsonFlow(w, flow, features, columns);
}

/** The named features of a JSON line: each name's JSON text and the index of its value, in JSON.stringify's order. */
interface NamedFeatures {
  columns: readonly string[];
  count: number;
  keys: string[];
  index: Int32Array;
}
let named: NamedFeatures | undefined;

/** The named features of the last `count` columns (computed once per columns array and count). */
function namedFeatures(columns: readonly string[], count: number): NamedFeatures {
  if (named?.columns === columns && named.count === count) return named;
  // Built as an object of the names, so its key order (integer-like names first) and a repeated name's value (the
  // last, at the first name's place) are the ones JSON.stringify gives such an object.
  const probe: Record<string, number> = {};
  const names = columns.slice(columns.length - count);
  for (let i = 0; i < count; i++) probe[names[i]!] = i;
  const keys = Object.keys(probe);
  named = { columns, count, keys, index: Int32Array.from(keys, (k) => probe[k]!) };
  return named;
}

/** A number as JSON.stringify writes it: integers below 1e15 by the ByteWriter's digits, others as String(v), NaN and infinities as null. */
function jsonNumber(w: ByteWriter, v: number): void {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) w.number(v);
  else w.ascii(Number.isFinite(v) ? String(v) : 'null');
}

/**
 * One JSON line for a flow, written as bytes: the text of JSON.stringify({ ...the FlowRecord's fields but
 * `features`, start: its start time's text, features: { name: value } }) and a newline (what it was written with
 * until 2026-11-21, at ~6 µs a row).
 */
export function writeJsonFlow(w: ByteWriter, flow: FlowRecord, features: FeatureSet, columns: readonly string[]): void {
  const values = featureValues(flow, features);
  const fields = flow as unknown as Record<string, unknown>;
  let first = true;
  w.byte(K.OPEN);
  for (const key of Object.keys(flow)) {
    const value = fields[key];
    if (key === 'features' || value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (!first) w.byte(K.COMMA);
    first = false;
    w.jsonString(key);
    w.byte(K.COLON);
    if (typeof value === 'number') jsonNumber(w, value);
    else if (typeof value === 'string') w.jsonString(value);
    else w.text(JSON.stringify(value));
  }
  if (!first) w.byte(K.COMMA);
  w.jsonString('start');
  w.byte(K.COLON);
  w.byte(K.QUOTE);
  w.timestamp(flow.startMs);
  w.byte(K.QUOTE);
  w.byte(K.COMMA);
  w.jsonString('features');
  w.byte(K.COLON);
  w.byte(K.OPEN);
  const { keys, index } = namedFeatures(columns, values.length);
  for (let j = 0; j < keys.length; j++) {
    if (j > 0) w.byte(K.COMMA);
    w.jsonString(keys[j]!);
    w.byte(K.COLON);
    jsonNumber(w, values[index[j]!]!);
  }
  w.byte(K.CLOSE);
  w.byte(K.CLOSE);
  w.byte(K.NEWLINE);
}

/** Bytes of a CSV row or JSON line (a const enum: literals in the code). */
const enum K {
  COMMA = 0x2c,
  DASH = 0x2d,
  NEWLINE = 0x0a,
  OPEN = 0x7b,
  CLOSE = 0x7d,
  COLON = 0x3a,
  QUOTE = 0x22,
}

/** The CSV row of a FlowRecord (CIC or NetFlow set). */
export function writeCsvFlow(w: ByteWriter, flow: FlowRecord, features: FeatureSet): void {
  const values = featureValues(flow, features);
  // Written piece by piece (no string per row). Addresses, numbers and end reasons never need CSV quoting.
  if (features === 'cic') {
    w.ascii(flow.srcAddr);
    w.byte(K.DASH);
    w.ascii(flow.dstAddr);
    w.byte(K.DASH);
    w.number(flow.srcPort);
    w.byte(K.DASH);
    w.number(flow.dstPort);
    w.byte(K.DASH);
    w.number(flow.protocol);
    w.byte(K.COMMA);
    w.ascii(flow.srcAddr);
    w.byte(K.COMMA);
    w.number(flow.srcPort);
    w.byte(K.COMMA);
    w.ascii(flow.dstAddr);
    w.byte(K.COMMA);
    w.timestamp(flow.startMs);
  } else {
    w.ascii(flow.srcAddr);
    w.byte(K.COMMA);
    w.ascii(flow.dstAddr);
    w.byte(K.COMMA);
    w.timestamp(flow.startMs);
    w.byte(K.COMMA);
    w.number(flow.vlan);
    w.byte(K.COMMA);
    w.ascii(flow.endReason);
  }
  w.values(values, 0, values.length);
  w.byte(K.NEWLINE);
}

/** CIC CSV rows of a MeterBatch of the flow meter: no FlowRecord, no address or number text. */
export function writeCicBatch(w: ByteWriter, batch: MeterBatch): void {
  const words = batch.words;
  const features = batch.features;
  const width = batch.featureCount;
  for (let i = 0; i < batch.length; i++) {
    const k = i * Row.BATCH_WORDS;
    const version = words[k]!;
    w.address(version, words, k + 1);
    w.byte(K.DASH);
    w.address(version, words, k + 5);
    w.byte(K.DASH);
    w.number(words[k + 9]!);
    w.byte(K.DASH);
    w.number(words[k + 10]!);
    w.byte(K.DASH);
    w.number(words[k + 11]!);
    w.byte(K.COMMA);
    w.address(version, words, k + 1);
    w.byte(K.COMMA);
    w.number(words[k + 9]!);
    w.byte(K.COMMA);
    w.address(version, words, k + 5);
    w.byte(K.COMMA);
    w.timestampAt(batch.doubles, i * Row.BATCH_DOUBLES);
    w.values(features, i * width, (i + 1) * width);
    w.byte(K.NEWLINE);
  }
  w.countRows(batch.length);
}

let csvWarmedUp = false;

/**
 * Writes the CIC CSV rows of the meter's warm-up capture (warmUpBatch) once per process into a writer that discards
 * them, so the row writer is compiled with its paths seen (IPv6 addresses, negative, fractional and large values)
 * before the first real batch; on the real bench capture its first compilations were thrown away 8 times.
 */
export function warmUpCsvWriter(): void {
  if (csvWarmedUp) return;
  csvWarmedUp = true;
  const writer = new ByteWriter(new Writable({ write: (_chunk, _encoding, done: () => void) => done() }));
  writeCicBatch(writer, warmUpBatch());
  writer.push(true);
}
