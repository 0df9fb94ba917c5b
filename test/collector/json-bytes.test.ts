// The collector's JSON-lines byte writer (src/io/netflow/json-bytes.ts) against independent truth: every number as
// String() spells it, and every line as JSON.stringify of the FlowRecord, on the softflowd fixtures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore } from '../../src/io/netflow/decode.js';
import { jsonLinesBound, putNumber, writeJsonLines } from '../../src/io/netflow/json-bytes.js';
import { readDatagrams } from './build.js';

const FIXTURES = 'test/fixtures/netflow';

/** xorshift32: the same numbers every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

test('numbers are written as String() writes them', () => {
  const next = random(0x2545f491);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  const values = [0, -0, 1, 0.5, 1.5, 2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 31, 2 ** 32 - 1, 1e21, 1e-7, NaN, Infinity, -Infinity, -1.5];
  values.push(1.0000000000000002, 4503599627370495.5, 0.1 + 0.2 + 1, Number.MAX_VALUE, Number.MIN_VALUE, 1795246364743.1235);
  for (let i = 0; i < 100_000; i++) {
    const secs = 1.6e9 + Math.floor(next() * 3e8);
    // v5 times: unix_secs·1000 + unix_nsecs/1e6 − elapsed uptime; IPFIX NTP times: seconds·1000 + fraction/2^32·1000
    values.push(secs * 1000 + Math.floor(next() * 1e9) / 1e6 - Math.floor(next() * 4e9));
    values.push(secs * 1000 + (Math.floor(next() * 2 ** 32) / 2 ** 32) * 1000);
    words[0] = next() * 2 ** 32;
    words[1] = next() * 2 ** 32;
    values.push(bits[0]);
    values.push(next() * 10 ** Math.floor(next() * 17), Math.floor(next() * 2 ** 53), 1 + next(), Math.floor(next() * 1e6) / 1000);
  }
  for (const x of values) {
    const end = putNumber(view, 0, x);
    assert.equal(Buffer.from(out.buffer, 0, end).toString('latin1'), String(x), `bits of ${x}`);
  }
});

test('every softflowd fixture gives the JSON.stringify lines of its records, from IPv4 and IPv6 exporters', () => {
  const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.bin'));
  assert.ok(files.length >= 10);
  for (const name of files) {
    for (const exporter of ['192.0.2.1', '2001:db8::1', 'fe80::1%lo']) {
      const store = new TemplateStore();
      const stats = new DecodeStats();
      const batch = new FlowBatch();
      let want = '';
      let out = new Uint8Array(0);
      let got = '';
      for (const datagram of readDatagrams(`${FIXTURES}/${name}`)) {
        decodeDatagram(datagram, exporter, 1_795_246_365_250.5, store, batch, stats);
        want += batch.toRecords().map((r) => `${JSON.stringify(r)}\n`).join('');
        if (out.length < jsonLinesBound(batch)) out = new Uint8Array(jsonLinesBound(batch));
        got += Buffer.from(out.buffer, 0, writeJsonLines(batch, out, 0)).toString('latin1');
      }
      assert.ok(want.length > 0, name);
      assert.equal(got, want, `${name} from ${exporter}`);
    }
  }
});

test('an exporter text outside ASCII is written as the Latin-1 bytes of the text lines', () => {
  const batch = new FlowBatch();
  batch.reset('ipfix', 'exporter-é\u2028', 7);
  const i = batch.append();
  batch.family[i] = 4;
  batch.startMs[i] = 1.5;
  batch.endReason[i] = 1;
  const out = new Uint8Array(jsonLinesBound(batch));
  const end = writeJsonLines(batch, out, 0);
  assert.deepEqual(Buffer.from(out.buffer, 0, end), Buffer.from(batch.toJsonLines(), 'latin1'));
});
