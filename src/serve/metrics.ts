// Prometheus metrics of the detection engine (prom-client, one registry per engine so tests stay isolated).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriftStatus } from '../detect/drift.js';

/** The `feature` label of the score's PSI in flowsentry_drift_psi. */
export const DRIFT_SCORE_LABEL = '(score)';

/**
 * A label-less Prometheus histogram observed once per scored flow: a bucket scan and two additions (prom-client's
 * Histogram validates and hashes labels on every observation, a few per cent of a flood's CPU). Exposed through the
 * registry like any prom-client metric.
 */
export class FlowHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[], registry: Registry) {
    this.counts = new Float64Array(buckets.length);
    registry.registerMetric(this as never);
  }

  observe(value: number): void {
    const b = this.buckets;
    let k = 0;
    while (k < b.length && value > b[k]) k++;
    if (k < b.length) this.counts[k]++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per upper bound, +Inf last. */
  cumulative(): [number, number][] {
    let c = 0;
    return [...this.buckets.map((le, k) => [le, (c += this.counts[k])] as [number, number]), [Number.POSITIVE_INFINITY, this.count]];
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = this.cumulative().map(([le, value]) => ({
      labels: { le: Number.isFinite(le) ? le : '+Inf' },
      value,
      metricName: `${this.name}_bucket`,
    }));
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` }, { labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class EngineMetrics {
  readonly registry = new Registry();
  readonly flows = new Counter({ name: 'flowsentry_flows_scored_total', help: 'Flows scored', labelNames: ['stage'] as const, registers: [this.registry] });
  readonly alerts = new Counter({ name: 'flowsentry_alerts_total', help: 'Alerts raised (new aggregates)', labelNames: ['category'] as const, registers: [this.registry] });
  readonly latency = new FlowHistogram(
    'flowsentry_scoring_latency_seconds',
    'Time from flow end (or early-verdict packet) to verdict',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    this.registry,
  );
  readonly queueDepth = new Gauge({ name: 'flowsentry_queue_depth', help: 'Items waiting', labelNames: ['queue'] as const, registers: [this.registry] });
  readonly drops = new Counter({ name: 'flowsentry_dropped_total', help: 'Items dropped', labelNames: ['where'] as const, registers: [this.registry] });
  readonly decoderErrors = new Counter({ name: 'flowsentry_decoder_errors_total', help: 'Packets or datagrams skipped by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly captureDamaged = new Gauge({
    name: 'flowsentry_capture_damaged',
    help: 'The --pcap capture file is cut short or damaged (1); the flows of the packets before the damage were scored',
    labelNames: ['file'] as const,
    registers: [this.registry],
  });
  /** Where flowsentry_drift_psi reads the live drift at each scrape (the service sets its scorer's). */
  driftSource: (() => DriftStatus) | undefined;
  readonly drift = new Gauge({
    name: 'flowsentry_drift_psi',
    help: `Population stability index against the training reference, per feature and for the score (feature="${DRIFT_SCORE_LABEL}"); absent until enough flows`,
    labelNames: ['feature'] as const,
    registers: [this.registry],
    collect: () => this.collectDrift(),
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'flowsentry_' });
  }

  private collectDrift(): void {
    this.drift.reset();
    const status = this.driftSource?.();
    if (!status || status.level === 'insufficient-data') return;
    this.drift.set({ feature: DRIFT_SCORE_LABEL }, status.scorePsi);
    for (const f of status.features) this.drift.set({ feature: f.name }, f.psi);
  }
}
