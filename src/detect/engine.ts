// The detection engine: flows in (from the flow meter, the collector or stdin), verdicts out. Flows queue (bounded,
// drops counted) and are scored in batches — a batch closes at `batchSize` flows or `maxBatchDelayMs` after its first
// flow — so throughput is batch-fast while latency from flow end to alert stays in milliseconds. Alerts are aggregated
// per source and label, then fanned out to the sinks, the store, the live event feed and the response hook.
// `close()` drains the queue and flushes every sink and the store: an accepted flow is never lost on SIGTERM.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FlowRecord } from '../flows/flow-record.js';
import type { Alert, AlertStage, FeatureContribution } from './alert.js';
import { AlertAggregator } from './aggregate.js';
import type { AlertSink } from './sinks/sink.js';
import type { ResponseHook } from './response-hook.js';
import type { AlertStore } from '../store/alert-store.js';
import type { EngineMetrics } from '../serve/metrics.js';

export interface Verdict {
  readonly score: number;
  readonly threshold: number;
  readonly isAlert: boolean;
  readonly label: string;
  readonly category: string;
}

export interface ScoredBatch {
  readonly verdicts: readonly Verdict[];
  /** Explains the given rows of the batch (explaining costs more than scoring, so only new alerts ask). */
  explain(rows: readonly number[]): Promise<FeatureContribution[][]>;
  /** The model-input feature values of a row (kept with new alerts, so feedback can retrain the model). */
  input(row: number): Record<string, number>;
}

/** Scores flows with a saved model (src/detect/model-scorer.ts); the engine depends only on this. */
export interface FlowScorer {
  readonly model: { readonly name: string; readonly version: string; readonly file: string };
  scoreBatch(flows: readonly FlowRecord[]): Promise<ScoredBatch>;
}

export interface EngineOptions {
  readonly scorer: FlowScorer;
  readonly metrics: EngineMetrics;
  readonly sinks?: readonly AlertSink[];
  readonly store?: AlertStore;
  readonly hook?: ResponseHook;
  /** Alerts from one source with one label within this window grow one aggregate (default 60 s). */
  readonly aggregationWindowMs?: number;
  readonly batchSize?: number;
  readonly maxBatchDelayMs?: number;
  /** Flows waiting at most; beyond it new flows are dropped and counted (default 200,000). */
  readonly maxQueue?: number;
  /** Share of one core that explaining new alerts may use on average (default 0.25); see withinExplainBudget. */
  readonly explainShare?: number;
}

interface Pending {
  readonly flow: FlowRecord;
  readonly stage: AlertStage;
  /** performance.now() when the flow ended (or reached its early-verdict packet). */
  readonly enqueuedAt: number;
}

export interface EngineStats {
  flowsScored: number;
  earlyScored: number;
  alertsRaised: number;
  alertsAggregated: number;
  /** Aggregate states published to sinks, store and feed (an aggregate's updates within one batch count once). */
  alertUpdates: number;
  dropped: number;
  queued: number;
  scoringErrors: number;
}

export function alertId(flow: FlowRecord, stage: AlertStage, modelFile: string): string {
  const key = `${flow.srcAddr}|${flow.dstAddr}|${flow.srcPort}|${flow.dstPort}|${flow.protocol}|${flow.vlan}|${flow.startMs}|${stage}|${modelFile}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 20);
}

export class DetectionEngine {
  /** Emits 'alert' (alert, isNew) for the live feed. */
  readonly events = new EventEmitter();
  private queue: Pending[] = [];
  private readonly aggregator: AlertAggregator;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly counters: EngineStats = { flowsScored: 0, earlyScored: 0, alertsRaised: 0, alertsAggregated: 0, alertUpdates: 0, dropped: 0, queued: 0, scoringErrors: 0 };
  private readonly batchSize: number;
  private readonly maxDelay: number;
  private readonly maxQueue: number;
  private explainCredit = 1000;
  private explainCreditAt = performance.now();
  private explainCostMs = 2;

  constructor(private readonly options: EngineOptions) {
    this.aggregator = new AlertAggregator(options.aggregationWindowMs ?? 60_000);
    this.batchSize = options.batchSize ?? 1024;
    this.maxDelay = options.maxBatchDelayMs ?? 5;
    this.maxQueue = options.maxQueue ?? 200_000;
    this.events.setMaxListeners(1000);
  }

  /** Queues a flow for scoring; false when the queue is full (the flow is counted as dropped). */
  submit(flow: FlowRecord, stage: AlertStage = 'final'): boolean {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.counters.dropped++;
      this.options.metrics.drops.inc({ where: 'engine-queue' });
      return false;
    }
    this.queue.push({ flow, stage, enqueuedAt: performance.now() });
    if (this.queue.length >= this.batchSize) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.maxDelay);
    return true;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running ??= this.pump().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.batchSize ? this.queue : this.queue.slice(0, this.batchSize);
      this.queue = this.queue.length <= this.batchSize ? [] : this.queue.slice(this.batchSize);
      this.options.metrics.queueDepth.set({ queue: 'engine' }, this.queue.length);
      await this.scoreBatch(batch);
    }
  }

  /**
   * Explaining an alert costs far more than scoring a flow (exact TreeSHAP of a 100-tree forest: ~2-15 ms), so a flood
   * from many (spoofed) sources would stall the engine on explanations: explanation time is a token bucket of
   * `explainShare` of one core (burst: one second's worth plus 1 s). New alerts beyond it are raised unexplained and
   * counted (flowsentry_dropped_total{where="explanation-budget"}).
   */
  private withinExplainBudget(fresh: number[]): number[] {
    if (fresh.length === 0) return fresh;
    const now = performance.now();
    const share = this.options.explainShare ?? 0.25;
    this.explainCredit = Math.min(1000 * (1 + share), this.explainCredit + (now - this.explainCreditAt) * share);
    this.explainCreditAt = now;
    const n = Math.max(0, Math.min(fresh.length, Math.floor(this.explainCredit / this.explainCostMs)));
    if (n < fresh.length) this.options.metrics.drops.inc({ where: 'explanation-budget' }, fresh.length - n);
    return n === fresh.length ? fresh : fresh.slice(0, n);
  }

  private spentExplaining(rows: number, ms: number): void {
    this.explainCredit -= ms;
    if (rows > 0) this.explainCostMs = 0.7 * this.explainCostMs + 0.3 * Math.max(0.01, ms / rows);
  }

  private async scoreBatch(batch: Pending[]): Promise<void> {
    const nowMs = Date.now();
    let scored: ScoredBatch;
    let explanations: FeatureContribution[][];
    const fresh: number[] = [];
    let explained: number[];
    try {
      scored = await this.options.scorer.scoreBatch(batch.map((p) => p.flow));
      const opened = new Set<string>();
      for (let i = 0; i < batch.length; i++) {
        const v = scored.verdicts[i];
        if (!v.isAlert) continue;
        const key = `${batch[i].flow.srcAddr}|${v.label}`;
        if (!opened.has(key) && this.aggregator.startsNew(batch[i].flow.srcAddr, v.label, nowMs)) {
          opened.add(key);
          fresh.push(i);
        }
      }
      explained = this.withinExplainBudget(fresh);
      const t0 = performance.now();
      explanations = explained.length > 0 ? await scored.explain(explained) : [];
      this.spentExplaining(explained.length, performance.now() - t0);
    } catch (err) {
      this.counters.scoringErrors += batch.length;
      this.options.metrics.drops.inc({ where: 'scoring-error' }, batch.length);
      this.events.emit('error', err);
      return;
    }
    const explanationOf = new Map(explained.map((row, k) => [row, explanations[k]]));
    const isFresh = new Set(fresh);
    const inputOf = (row: number): Record<string, number> | undefined => (isFresh.has(row) ? scored.input(row) : undefined);
    const now = performance.now();
    const { metrics, store } = this.options;
    let final = 0;
    // Updates of one aggregate within a batch are coalesced: sinks, the store and the live feed get its latest state once.
    const updates = new Map<string, { alert: Alert; isNew: boolean; input: Record<string, number> | undefined }>();
    for (let i = 0; i < batch.length; i++) {
      const { flow, stage, enqueuedAt } = batch[i];
      const v = scored.verdicts[i];
      if (stage === 'early') this.counters.earlyScored++;
      else final++;
      metrics.latency.observe((now - enqueuedAt) / 1000);
      if (!v.isAlert) continue;
      const { alert, isNew } = this.raise(flow, stage, v, explanationOf.get(i) ?? [], nowMs, isFresh.has(i));
      const earlier = updates.get(alert.id);
      updates.set(alert.id, { alert, isNew: isNew || earlier?.isNew === true, input: inputOf(i) ?? earlier?.input });
    }
    this.counters.alertUpdates += updates.size;
    for (const { alert, isNew, input } of updates.values()) {
      store?.putAlert(alert, isNew, input);
      for (const sink of this.options.sinks ?? []) sink.write(alert, isNew);
      this.events.emit('alert', alert, isNew);
    }
    this.counters.flowsScored += batch.length;
    metrics.flows.inc({ stage: 'final' }, final);
    if (batch.length > final) metrics.flows.inc({ stage: 'early' }, batch.length - final);
    store?.countFlows(nowMs, final);
  }

  /** `opens`: this flow starts a new aggregate (found in scoreBatch), so it needs its own id. */
  private raise(flow: FlowRecord, stage: AlertStage, v: Verdict, explanation: readonly FeatureContribution[], nowMs: number, opens: boolean): { alert: Alert; isNew: boolean } {
    const { scorer, metrics, hook } = this.options;
    const alert: Alert = {
      // a grown aggregate keeps its first flow's id: hash only for new ones (sha256 per flow was ~8% of a flood's CPU)
      id: opens ? alertId(flow, stage, scorer.model.file) : '',
      timeMs: nowMs,
      flowStartMs: flow.startMs,
      flowEndMs: flow.endMs,
      flow: { srcAddr: flow.srcAddr, dstAddr: flow.dstAddr, srcPort: flow.srcPort, dstPort: flow.dstPort, protocol: flow.protocol, vlan: flow.vlan },
      model: scorer.model,
      score: v.score,
      threshold: v.threshold,
      label: v.label,
      category: v.category,
      stage,
      packets: flow.packets,
      explanation,
      count: 1,
      lastSeenMs: nowMs,
    };
    const { alert: aggregate, isNew } = this.aggregator.add(alert);
    // (an aggregate evicted to bound memory within this batch reopens without having been found fresh)
    if (isNew && aggregate.id === '') (aggregate as { id: string }).id = alertId(flow, stage, scorer.model.file);
    if (isNew) {
      this.counters.alertsRaised++;
      metrics.alerts.inc({ category: alert.category || 'unknown' });
      hook?.handle(aggregate);
    } else this.counters.alertsAggregated++;
    return { alert: aggregate, isNew };
  }

  /** Resolves when every queued flow has been scored. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (!this.running) this.kick();
      await this.running;
    }
  }

  /** Stops accepting flows, drains, then flushes and closes the hook, the sinks and the store. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.options.hook?.close();
    for (const sink of this.options.sinks ?? []) await sink.close();
    await this.options.store?.close();
  }

  stats(): EngineStats {
    return { ...this.counters, queued: this.queue.length };
  }
}
