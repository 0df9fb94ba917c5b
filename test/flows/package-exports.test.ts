// docs/flows.md's library use, through the package's own entry: a FlowMeter with `batches: { first, full }` needs a
// MeterBatch to start with, which the entry did not export; the rows rebuild the flows of the one-object mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { CIC_FEATURES, FlowMeter, MeterBatch, readCapture, type FlowRecord } from '../../src/index.js';
import { ethernet, ipv4, pcapFile, udp } from './packet-builder.js';

test('FlowMeter batches with a MeterBatch from the package entry give the flows of the callback mode', async () => {
  const capture = pcapFile(
    Array.from({ length: 40 }, (_, i) => ({ t: 100 + i * 0.01, bytes: ethernet(ipv4({ src: `10.0.0.${1 + (i % 7)}`, dst: '10.0.1.1', protocol: 17 }, udp(2000 + (i % 7), 53, 10 + i))) })),
  );
  const records: FlowRecord[] = [];
  const byRecord = new FlowMeter((f) => records.push(f));
  await readCapture(Readable.from([capture]), (p) => byRecord.addPacket(p));
  byRecord.flush();

  const rows: FlowRecord[] = [];
  const keep = (batch: MeterBatch): MeterBatch => {
    for (let i = 0; i < batch.length; i++) rows.push(batch.record(i));
    batch.length = 0;
    return batch;
  };
  const byBatch = new FlowMeter(() => undefined, { batches: { first: new MeterBatch(3, CIC_FEATURES.length), full: keep } });
  await readCapture(Readable.from([capture]), (p) => byBatch.addPacket(p));
  byBatch.flush();

  assert.equal(records.length, 7);
  const plain = (r: FlowRecord): unknown => ({ ...r, features: Array.from(r.features ?? []) });
  assert.deepEqual(rows.map(plain), records.map(plain));
});
