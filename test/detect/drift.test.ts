import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DriftMonitor, psi } from '../../src/detect/drift.js';
import type { DriftReference } from '../../src/store/model-file.js';
import { Rng } from '../../src/util/rng.js';

describe('drift', () => {
  it('PSI equals the hand-computed value', () => {
    // ref 50/50, live 80/20: (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5)
    const expected = 0.3 * Math.log(1.6) + -0.3 * Math.log(0.4);
    assert.ok(Math.abs(psi([50, 50], [80, 20]) - expected) < 1e-12);
    assert.equal(psi([10, 10], [3, 3]), 0);
  });

  it('stays stable on the training distribution and flags a shifted one', () => {
    const edges = Float64Array.from([-3, -1, -0.5, 0, 0.5, 1, 3]);
    const rng = new Rng(1);
    const counts = new Float64Array(6);
    const bin = (v: number): number => (v < -1 ? 0 : v < -0.5 ? 1 : v < 0 ? 2 : v < 0.5 ? 3 : v < 1 ? 4 : 5);
    for (let i = 0; i < 10_000; i++) counts[bin(rng.normal())]++;
    const reference: DriftReference = {
      levels: Float64Array.from([0, 1]),
      features: [{ name: 'x', edges, counts, missing: 0 }],
      score: { quantiles: new Float64Array(2), edges, counts },
    };
    const same = new DriftMonitor(reference, (n) => (n === 'x' ? 0 : -1), 2000);
    const shifted = new DriftMonitor(reference, (n) => (n === 'x' ? 0 : -1), 2000);
    for (let i = 0; i < 3000; i++) {
      const v = rng.normal();
      same.observe([v], v);
      shifted.observe([v + 1.5], v + 1.5);
    }
    assert.equal(same.status().level, 'stable');
    assert.equal(same.status().windowFlows, 2000);
    assert.equal(shifted.status().level, 'significant');
    assert.equal(shifted.status().features[0].name, 'x');
    assert.equal(new DriftMonitor(reference, () => 0).status().level, 'insufficient-data');
  });
});
