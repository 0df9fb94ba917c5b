// Prometheus metrics of the detection engine (prom-client, one registry per engine so tests stay isolated).

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriftStatus } from '../detect/drift.js';
import type { HookStats } from '../detect/response-hook.js';
import type { SinkStats } from '../detect/sinks/sink.js';

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

/**
 * Counters of the run summary that the store, the sinks, the response hook and the source keep themselves, read at
 * each scrape (the service points these at what it runs); without a source, a labelled counter has no value.
 */
export interface SummaryCounterSources {
  store?: () => { writeFailures: number; rowsDropped: number; expired: { alerts: number; trafficCells: number }; compactions: number };
  sinks?: () => readonly { name: string; stats: SinkStats }[];
  hook?: () => HookStats;
  /** Packets (meter, capture reader) or NetFlow datagrams and parts of them (collector) skipped, by reason. */
  decodeSkips?: () => Readonly<Record<string, number>>;
  /** The NetFlow socket's port and the datagrams the kernel dropped at it (undefined where the OS does not say). */
  kernelDrops?: () => { port: number; drops: number | undefined };
}

/** The run summary's hook counters by their `outcome` label. */
const HOOK_OUTCOMES: readonly [keyof HookStats, string][] = [
  ['ran', 'ran'],
  ['dryRun', 'dry_run'],
  ['rateLimited', 'rate_limited'],
  ['belowScore', 'below_score'],
  ['failed', 'failed'],
  ['timedOut', 'timed_out'],
];

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
  readonly duplicates = new Counter({
    name: 'flowsentry_duplicate_alerts_total',
    help: 'Alerting flow records neither raised nor aggregated because the same record (addresses, ports, protocol, VLAN, start time, stage) was already counted: a record sent twice or by two exporters, or a later record of the same flow',
    registers: [this.registry],
  });
  /** Read at each scrape (see SummaryCounterSources). */
  readonly sources: SummaryCounterSources = {};
  readonly decoderErrors: Counter<'reason'> = new Counter({
    name: 'flowsentry_decoder_errors_total',
    help: 'Packets, NetFlow/IPFIX datagrams or parts of datagrams skipped by reason (the summary input skip counts)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
    collect: (): void => this.collectLabelled(this.decoderErrors, 'reason', Object.entries(this.sources.decodeSkips?.() ?? {})),
  });
  readonly kernelDrops: Counter<'port'> = new Counter({
    name: 'flowsentry_kernel_drops_total',
    help: 'Datagrams the kernel dropped at the NetFlow socket (receive buffer full), by port',
    labelNames: ['port'] as const,
    registers: [this.registry],
    collect: (): void => {
      const socket = this.sources.kernelDrops?.();
      this.collectLabelled(this.kernelDrops, 'port', socket?.drops === undefined ? [] : [[String(socket.port), socket.drops]]);
    },
  });
  readonly storeWriteFailures: Counter = new Counter({
    name: 'flowsentry_store_write_failures_total',
    help: 'Store flushes that failed (e.g. a full disk); their rows wait for a retry',
    registers: [this.registry],
    collect: (): void => this.collectTotal(this.storeWriteFailures, this.sources.store?.().writeFailures),
  });
  readonly storeRowsDropped: Counter = new Counter({
    name: 'flowsentry_store_rows_dropped_total',
    help: 'Alerts lost (dropped before their first write; each counted once) and per-minute traffic cells dropped, oldest first, while store flushes failed (more than storeMaxPending waited)',
    registers: [this.registry],
    collect: (): void => this.collectTotal(this.storeRowsDropped, this.sources.store?.().rowsDropped),
  });
  readonly storeExpired: Counter<'table'> = new Counter({
    name: 'flowsentry_store_expired_total',
    help: 'Rows the store deleted for being older than its retention (storeRetentionHours), by table: alerts, traffic (per-minute cells)',
    labelNames: ['table'] as const,
    registers: [this.registry],
    collect: (): void => {
      const expired = this.sources.store?.().expired;
      this.collectLabelled(this.storeExpired, 'table', expired ? [['alerts', expired.alerts], ['traffic', expired.trafficCells]] : []);
    },
  });
  readonly storeCompactions: Counter = new Counter({
    name: 'flowsentry_store_compactions_total',
    help: 'Store tables rebuilt without their expired rows (once the deleted rows outnumber the live ones), which frees their space in the file',
    registers: [this.registry],
    collect: (): void => this.collectTotal(this.storeCompactions, this.sources.store?.().compactions),
  });
  readonly sinkFailures: Counter<'sink'> = new Counter({
    name: 'flowsentry_sink_failures_total',
    help: 'Alerts a sink could not deliver (a write or post that failed), by sink',
    labelNames: ['sink'] as const,
    registers: [this.registry],
    collect: (): void => this.collectLabelled(this.sinkFailures, 'sink', this.perSink('failed')),
  });
  readonly sinkDropped: Counter<'sink'> = new Counter({
    name: 'flowsentry_sink_dropped_total',
    help: 'Alerts a sink dropped because its queue was full, by sink',
    labelNames: ['sink'] as const,
    registers: [this.registry],
    collect: (): void => this.collectLabelled(this.sinkDropped, 'sink', this.perSink('dropped')),
  });
  readonly hookRuns: Counter<'outcome'> = new Counter({
    name: 'flowsentry_response_hook_total',
    help: 'Response hook calls by outcome (ran, dry_run, rate_limited, below_score, failed, timed_out)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: (): void => {
      const stats = this.sources.hook?.();
      this.collectLabelled(this.hookRuns, 'outcome', stats ? HOOK_OUTCOMES.map(([key, outcome]) => [outcome, stats[key]]) : []);
    },
  });
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
    collect: (): void => this.collectDrift(),
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'flowsentry_' });
  }

  /** Sets a label-less counter to a total kept elsewhere (0 without a source). */
  private collectTotal(counter: Counter, total: number | undefined): void {
    counter.reset();
    counter.inc(total ?? 0);
  }

  /** Sets a one-label counter to totals kept elsewhere, one value per label value. */
  private collectLabelled<L extends string>(counter: Counter<L>, label: L, totals: Iterable<[string, number]>): void {
    counter.reset();
    for (const [value, total] of totals) counter.inc({ [label]: value } as Record<L, string>, total);
  }

  /** A sink counter summed per sink name (two file sinks are one `file`). */
  private perSink(field: 'failed' | 'dropped'): [string, number][] {
    const totals = new Map<string, number>();
    for (const sink of this.sources.sinks?.() ?? []) totals.set(sink.name, (totals.get(sink.name) ?? 0) + sink.stats[field]);
    return [...totals];
  }

  private collectDrift(): void {
    this.drift.reset();
    const status = this.driftSource?.();
    if (!status || status.level === 'insufficient-data') return;
    this.drift.set({ feature: DRIFT_SCORE_LABEL }, status.scorePsi);
    for (const f of status.features) this.drift.set({ feature: f.name }, f.psi);
  }
}
