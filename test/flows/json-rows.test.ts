// JSON lines of flow rows (extract --format jsonl, collect --features netflow --out x.jsonl) are written as bytes;
// they must be the text JSON.stringify gives the object they describe: the FlowRecord's fields but `features`, the
// start time's text and the named features. Checked on records of both sources, with awkward numbers and strings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ByteWriter, cicTimestamp } from '../../src/flows/byte-writer.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { extractColumns, writeFlowRow, type FeatureSet } from '../../src/flows/flow-rows.js';
import { CIC_FEATURES } from '../../src/datasets/cic-names.js';
import { netflowFeatures } from '../../src/flows/features/netflow.js';
import { Rng } from '../../src/util/rng.js';

/** The line as JSON.stringify writes it (the reference). */
function stringified(flow: FlowRecord, features: FeatureSet): string {
  const columns = extractColumns(features);
  const values = features === 'cic' ? flow.features! : netflowFeatures(flow);
  const { features: _vector, ...fields } = flow;
  const named: Record<string, number> = {};
  const names = columns.slice(columns.length - values.length);
  for (let i = 0; i < values.length; i++) named[names[i]!] = values[i]!;
  return `${JSON.stringify({ ...fields, start: cicTimestamp(flow.startMs), features: named })}\n`;
}

function written(flows: readonly FlowRecord[], features: FeatureSet): string[] {
  const columns = extractColumns(features);
  const w = new ByteWriter(new Writable({ write: (_c, _e, done: () => void) => done() }));
  return flows.map((flow) => {
    writeFlowRow(w, flow, features, 'jsonl', columns);
    return Buffer.from(w.take()).toString('utf8');
  });
}

const collected: FlowRecord = {
  srcAddr: '172.16.16.170',
  dstAddr: '4.2.2.1',
  srcPort: 58061,
  dstPort: 53,
  protocol: 17,
  vlan: 0,
  source: 'netflow-v5',
  startMs: 1791619234592.662,
  endMs: 1791619234617.662,
  packets: 1,
  bytes: 56,
  fwdPackets: 1,
  bwdPackets: 0,
  fwdBytes: 56,
  bwdBytes: 0,
  tcpFlags: 0,
  endReason: 'exported',
  exporter: '192.0.2.1',
  observationDomain: 0,
};

/** Numbers where String(v) and integer digits part ways, and strings JSON must escape. */
const AWKWARD_NUMBERS = [0, -0, 1, -1, 7.5, 0.1 + 0.2, 1e-7, 123456.789, 2 ** 53, 2 ** 53 + 2, 1e15 - 1, 1e15, -1e15, 1e21, 1.5e300, 5e-324, -(2 ** 31), 2 ** 31, 2 ** 32 + 1];
const AWKWARD_STRINGS = ['', 'a"b', 'back\\slash', 'line\nfeed', '\u0000\u001f\u007f', 'é ü ∑', '😀', '\ud800 lone', 'tab\there'];

function records(): FlowRecord[] {
  const out: FlowRecord[] = [collected];
  const rng = new Rng(11);
  for (let i = 0; i < 400; i++) {
    const pick = <T>(list: readonly T[]): T => list[rng.int(list.length)]!;
    const num = (): number => (rng.next() < 0.5 ? pick(AWKWARD_NUMBERS) : Math.round(rng.next() * 10 ** rng.int(12)) / 10 ** rng.int(7));
    const startMs = rng.next() < 0.1 ? pick([-0.001, 0, 951782400000.0005, 253402300799999]) : 1.2e12 + rng.next() * 6e11;
    const flow: FlowRecord = {
      ...collected,
      srcPort: rng.int(65536),
      startMs,
      endMs: startMs + (rng.next() < 0.3 ? 0 : rng.next() * 1e6),
      packets: num(),
      bytes: num(),
      fwdPackets: num(),
      bwdPackets: rng.next() < 0.5 ? 0 : num(),
      fwdBytes: num(),
      bwdBytes: num(),
      tcpFlags: rng.int(256),
      exporter: rng.next() < 0.3 ? pick(AWKWARD_STRINGS) : '192.0.2.1',
      observationDomain: rng.next() < 0.2 ? (undefined as unknown as number) : num(),
    };
    out.push(flow);
  }
  // A flow meter's record: other optional fields, another key order, no exporter
  const { exporter: _e, observationDomain: _o, ...meterFields } = collected;
  out.push({ frameBytes: 98, ...meterFields, source: 'pcap', endReason: 'fin' });
  return out;
}

test('NetFlow JSON lines: the text JSON.stringify gives, for collected and metered records', () => {
  const flows = records();
  const lines = written(flows, 'netflow');
  flows.forEach((flow, i) => assert.equal(lines[i], stringified(flow, 'netflow'), `record ${i}`));
});

test('CIC JSON lines: the same, with NaN, infinities and fractions among the 83 features', () => {
  const rng = new Rng(12);
  const specials = [Number.NaN, Infinity, -Infinity, -0, 1e21, 0.1 + 0.2, 2 ** 53 + 2];
  const flows = records().map((flow) => ({
    ...flow,
    features: Float64Array.from(CIC_FEATURES, () => (rng.next() < 0.2 ? specials[rng.int(specials.length)]! : rng.next() < 0.5 ? rng.int(1000) : rng.next() * 1e6)),
  }));
  const lines = written(flows, 'cic');
  flows.forEach((flow, i) => assert.equal(lines[i], stringified(flow, 'cic'), `record ${i}`));
});
