// A short run of bench/fuzz-netflow.ts (the full run does ≥ 1M inputs per decoder): mutated softflowd datagrams
// never make a decoder throw, and the template cache and pending FIFO stay within their bounds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzDecoder, type FuzzTarget } from '../../bench/fuzz-netflow.js';

for (const target of ['v5', 'v9', 'ipfix'] as FuzzTarget[]) {
  test(`fuzz ${target}: mutated real datagrams, 0 crashes, bounded state`, () => {
    const r = fuzzDecoder(target, { iterations: 60_000, seed: 7, timeLimitMs: 1500 });
    assert.equal(r.crashes, 0, r.firstCrash);
    assert.ok(r.iterations >= 5_000, `only ${r.iterations} inputs ran`);
    assert.ok(r.records > 0 && r.malformed > 0, 'the run exercised both decoding and rejection');
    assert.ok(r.maxTemplates <= 512 && r.maxPending <= 64);
  });
}
