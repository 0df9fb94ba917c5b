// The engine's own latency histogram against prom-client's Histogram: the same observations must give the same
// Prometheus exposition (text, and JSON but for prom-client's null exemplars), so scrapers and the bench read it as
// before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { DRIFT_SCORE_LABEL, EngineMetrics } from '../../src/serve/metrics.js';
import type { DriftStatus } from '../../src/detect/drift.js';

describe('engine metrics', () => {
  it('the latency histogram is exposed exactly like a prom-client Histogram with the same buckets', async () => {
    const ours = new EngineMetrics(false);
    const registry = new Registry();
    const reference = new Histogram({
      name: 'flowsentry_scoring_latency_seconds',
      help: 'Time from flow end (or early-verdict packet) to verdict',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    let x = 1;
    for (let i = 0; i < 5000; i++) {
      x = (x * 16807) % 2147483647;
      const v = i % 500 === 0 ? [0, 0.0005, 1, 1.5][i % 4] : (x / 2147483647) ** 3 * 2;
      ours.latency.observe(v);
      reference.observe(v);
    }
    const pick = (text: string): string => text.split('\n').filter((l) => l.includes('scoring_latency')).join('\n');
    assert.equal(pick(await ours.registry.metrics()), pick(await registry.metrics()));
    const json = (await ours.registry.getMetricsAsJSON()).find((m) => m.name === 'flowsentry_scoring_latency_seconds');
    const expected = (await registry.getMetricsAsJSON())[0];
    // prom-client adds `exemplar: null` to each value (exemplars are off); the rest must match
    const values = (expected.values as unknown as Record<string, unknown>[]).map(({ exemplar: _exemplar, ...rest }) => rest);
    assert.deepEqual(json, { ...expected, values });
    assert.equal(ours.latency.cumulative().at(-1)?.[1], 5000);
  });

  it('flowsentry_drift_psi shows the live drift status at each scrape (the score and every feature), none before enough flows', async () => {
    const metrics = new EngineMetrics(false);
    const lines = async (): Promise<string[]> => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('flowsentry_drift_psi{'));
    assert.deepEqual(await lines(), [], 'no source: no values');
    let status: DriftStatus = { level: 'insufficient-data', windowFlows: 50, scorePsi: 0.5, features: [{ name: 'Flow Duration', psi: 0.5 }] };
    metrics.driftSource = () => status;
    assert.deepEqual(await lines(), [], 'too few flows: no values');
    const settled: DriftStatus = { level: 'significant', windowFlows: 1994, scorePsi: 0.698, features: [{ name: 'Flow IAT Min', psi: 9.85 }, { name: 'Dst Port', psi: 0.02 }] };
    status = settled;
    assert.deepEqual(await lines(), [`flowsentry_drift_psi{feature="${DRIFT_SCORE_LABEL}"} 0.698`, 'flowsentry_drift_psi{feature="Flow IAT Min"} 9.85', 'flowsentry_drift_psi{feature="Dst Port"} 0.02']);
    status = { ...settled, scorePsi: 0.05, features: [{ name: 'Dst Port', psi: 0.01 }] };
    assert.deepEqual(await lines(), [`flowsentry_drift_psi{feature="${DRIFT_SCORE_LABEL}"} 0.05`, 'flowsentry_drift_psi{feature="Dst Port"} 0.01'], 'each scrape shows the current status only');
  });
});
