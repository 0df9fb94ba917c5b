// Prometheus metrics of the detection engine (prom-client, one registry per engine so tests stay isolated).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class EngineMetrics {
  readonly registry = new Registry();
  readonly flows = new Counter({ name: 'flowsentry_flows_scored_total', help: 'Flows scored', labelNames: ['stage'] as const, registers: [this.registry] });
  readonly alerts = new Counter({ name: 'flowsentry_alerts_total', help: 'Alerts raised (new aggregates)', labelNames: ['category'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'flowsentry_scoring_latency_seconds',
    help: 'Time from flow end (or early-verdict packet) to verdict',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'flowsentry_queue_depth', help: 'Items waiting', labelNames: ['queue'] as const, registers: [this.registry] });
  readonly drops = new Counter({ name: 'flowsentry_dropped_total', help: 'Items dropped', labelNames: ['where'] as const, registers: [this.registry] });
  readonly decoderErrors = new Counter({ name: 'flowsentry_decoder_errors_total', help: 'Packets or datagrams skipped by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly drift = new Gauge({ name: 'flowsentry_drift_psi', help: 'Population stability index against the training reference', labelNames: ['feature'] as const, registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'flowsentry_' });
  }
}
