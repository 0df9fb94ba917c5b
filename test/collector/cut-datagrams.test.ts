// Every real softflowd datagram (v5, v9, IPFIX, IPFIX biflow fixtures) cut at every length, fed to the collector
// (issue 6): nothing throws, every datagram is counted, and a cut NetFlow v5 or IPFIX datagram (whose header states
// its record count or length) is dropped whole as malformed — none of its records or templates is used.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowCollector } from '../../src/flows/collector.js';
import { readDatagrams } from './build.js';

const FIXTURES = 'test/fixtures/netflow';

for (const name of ['softflowd-v5.bin', 'softflowd-v9.bin', 'softflowd-ipfix.bin', 'softflowd-ipfix-biflow.bin']) {
  test(`${name}: each datagram cut at every length is counted, never thrown`, () => {
    const whole = readDatagrams(`${FIXTURES}/${name}`).slice(0, 40);
    const statesHeaderLength = !name.includes('v9');
    // Cuts first, on a collector that has seen no whole datagram: a cut IPFIX datagram must not define templates.
    const c = new FlowCollector();
    let fed = 0;
    for (const d of whole) {
      for (let cut = 0; cut < d.length; cut++) {
        const before = c.stats().malformed;
        assert.doesNotThrow(() => c.ingest(d.subarray(0, cut), '192.0.2.1', 0));
        fed++;
        if (statesHeaderLength) assert.equal(c.stats().malformed, before + 1, `cut at ${cut} of ${d.length}`);
      }
    }
    let s = c.stats();
    assert.equal(s.datagrams, fed);
    if (statesHeaderLength) {
      assert.equal(s.records, 0);
      assert.equal(s.templates, 0);
    }
    // Then the whole datagrams decode as on a fresh collector.
    const fresh = new FlowCollector();
    const records = (col: FlowCollector): number => whole.reduce((n, d) => n + col.ingest(d, '192.0.2.1', 0).length, 0);
    const before = s.records;
    const afterCuts = records(c);
    assert.equal(afterCuts, records(fresh));
    s = c.stats();
    assert.equal(s.records - before, afterCuts);
  });
}
