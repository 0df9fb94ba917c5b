// The detection engine: flows in (from the flow meter, the collector or stdin), verdicts out. Flows queue (bounded,
// drops counted) and are scored in batches — a batch closes at `batchSize` flows or `maxBatchDelayMs` after its first
// flow — so throughput is batch-fast while latency from flow end to alert stays in milliseconds. Alerts are aggregated
// per source and label, then fanned out to the sinks, the store, the live event feed and the response hook; an
// alerting flow record already counted (a copy: the same flow, start time and stage) is counted as a duplicate only.
// The NetFlow source submits columnar chunks (src/detect/flow-chunk.ts, decoded and featurised on another thread)
// that are scored as they are, with FlowRecord objects made only for the flows that open an alert; alerting flows
// of one batch are grouped by source and label first, so an aggregate is looked up, grown and published once per batch.
// `close()` drains the queue and flushes every sink and the store: an accepted flow is never lost on SIGTERM.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FlowRecord } from '../flows/flow-record.js';
import type { Alert, AlertStage, FeatureContribution, FeedbackDecision } from './alert.js';
import { AlertAggregator, SeenRecords, type AggregateSlot } from './aggregate.js';
import type { AlertSink } from './sinks/sink.js';
import type { ResponseHook } from './response-hook.js';
import type { AlertStore } from '../store/alert-store.js';
import type { EngineMetrics } from '../serve/metrics.js';
import type { FlowChunk } from './flow-chunk.js';
import { shortestFloat32 } from '../util/float32.js';

export interface Verdict {
  readonly score: number;
  readonly threshold: number;
  readonly isAlert: boolean;
  readonly label: string;
  readonly category: string;
  /** Set when the model's feedback memory raised the flow to an alert. */
  readonly decidedByFeedback?: FeedbackDecision;
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
  /** Scores a columnar chunk from its precomputed NetFlow features (optional: else its rows become FlowRecords). */
  scoreChunk?(chunk: FlowChunk): Promise<ScoredBatch>;
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
  /** Wall clock of alert times and aggregation windows, in ms (default Date.now; tests set their own). */
  readonly clock?: () => number;
}

interface Pending {
  readonly flow: FlowRecord;
  readonly stage: AlertStage;
  /** performance.now() when the flow ended (or reached its early-verdict packet). */
  readonly enqueuedAt: number;
}

/** A queued chunk and what to do with it once it is no longer read (give its buffer back to the source). */
interface PendingChunk {
  readonly chunk: FlowChunk;
  readonly release: (chunk: FlowChunk) => void;
}

/** The alerting flows of one batch with one source and label: the first one, then the totals of the others. */
interface AlertGroup {
  readonly first: number;
  readonly src: string;
  readonly label: string;
  /** The open aggregate it grows; undefined: the first flow opens one. */
  readonly slot: AggregateSlot | undefined;
  /** The first flow and its alert id when it opens an aggregate. */
  readonly opener: { readonly flow: FlowRecord; readonly id: string } | undefined;
  more: number;
  moreEndMs: number;
  moreScore: number;
  moreFinal: boolean;
}

export interface EngineStats {
  flowsScored: number;
  earlyScored: number;
  alertsRaised: number;
  alertsAggregated: number;
  /** Aggregate states published to sinks, store and feed (an aggregate's updates within one batch count once). */
  alertUpdates: number;
  /**
   * Alerting flow records neither raised nor aggregated because the same record (addresses, ports, protocol, VLAN,
   * start time and stage) was already counted: a record sent twice (by one exporter or by two) or a later record of
   * the same long flow, whether its aggregate is still open or closed (see SeenRecords for how long one is kept).
   */
  duplicates: number;
  dropped: number;
  queued: number;
  scoringErrors: number;
  /** Aggregates open now: sources that alerted within about the last aggregation window. */
  openAggregates: number;
}

export function alertId(flow: FlowRecord, stage: AlertStage, modelFile: string): string {
  const key = `${flow.srcAddr}|${flow.dstAddr}|${flow.srcPort}|${flow.dstPort}|${flow.protocol}|${flow.vlan}|${flow.startMs}|${stage}|${modelFile}`;
  // 10 bytes as 20 hex characters (a slice of the 64-character hex digest would keep all of it alive)
  return createHash('sha256').update(key).digest().toString('hex', 0, 10);
}

export class DetectionEngine {
  /** Emits 'alert' (alert, isNew) for the live feed. */
  readonly events = new EventEmitter();
  private queue: Pending[] = [];
  private chunks: PendingChunk[] = [];
  private chunkRows = 0;
  private readonly aggregator: AlertAggregator;
  private readonly seen = new SeenRecords();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly counters: EngineStats = { flowsScored: 0, earlyScored: 0, alertsRaised: 0, alertsAggregated: 0, alertUpdates: 0, duplicates: 0, dropped: 0, queued: 0, scoringErrors: 0, openAggregates: 0 };
  private readonly batchSize: number;
  private readonly maxDelay: number;
  private readonly maxQueue: number;
  private readonly clock: () => number;
  private explainCredit = 1000;
  private explainCreditAt = performance.now();
  private explainCostMs = 2;

  constructor(private readonly options: EngineOptions) {
    this.aggregator = new AlertAggregator(options.aggregationWindowMs ?? 60_000);
    this.batchSize = options.batchSize ?? 1024;
    this.maxDelay = options.maxBatchDelayMs ?? 5;
    this.maxQueue = options.maxQueue ?? 200_000;
    this.clock = options.clock ?? Date.now;
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

  /**
   * Queues a columnar chunk, scored as one batch; `release` is called once the engine no longer reads it. False when
   * the queue is full (its flows are counted as dropped and it is released at once).
   */
  submitChunk(chunk: FlowChunk, release: (chunk: FlowChunk) => void): boolean {
    if (this.closed || this.queue.length + this.chunkRows + chunk.length > this.maxQueue) {
      this.counters.dropped += chunk.length;
      this.options.metrics.drops.inc({ where: 'engine-queue' }, chunk.length);
      release(chunk);
      return false;
    }
    this.chunks.push({ chunk, release });
    this.chunkRows += chunk.length;
    this.kick();
    return true;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running ??= this.pump().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0 || this.chunks.length > 0) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 || this.chunks.length > 0) {
      const next = this.chunks.shift();
      if (next) {
        this.chunkRows -= next.chunk.length;
        this.options.metrics.queueDepth.set({ queue: 'engine' }, this.queue.length + this.chunkRows);
        try {
          await this.scoreBatch(next.chunk);
        } finally {
          next.release(next.chunk);
        }
        continue;
      }
      const batch = this.queue.length <= this.batchSize ? this.queue : this.queue.slice(0, this.batchSize);
      this.queue = this.queue.length <= this.batchSize ? [] : this.queue.slice(this.batchSize);
      this.options.metrics.queueDepth.set({ queue: 'engine' }, this.queue.length + this.chunkRows);
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

  private async scoreBatch(batch: Pending[] | FlowChunk): Promise<void> {
    const nowMs = this.clock();
    this.aggregator.expireDue(nowMs);
    const { scorer, metrics, store } = this.options;
    const rows = Array.isArray(batch) ? null : batch;
    const items = Array.isArray(batch) ? batch : null;
    const n = rows ? rows.length : items!.length;
    const flowOf = (i: number): FlowRecord => (rows ? rows.record(i) : items![i].flow);
    const stageOf = (i: number): AlertStage => (rows ? 'final' : items![i].stage);
    let scored: ScoredBatch;
    let explanations: FeatureContribution[][];
    const groups: AlertGroup[] = [];
    const fresh: number[] = [];
    let duplicates = 0;
    let explained: number[];
    try {
      if (items) scored = await scorer.scoreBatch(items.map((p) => p.flow));
      else scored = scorer.scoreChunk ? await scorer.scoreChunk(rows!) : await scorer.scoreBatch(rows!.toRecords());
      // group the alerting flows by label, then source
      const byLabel = new Map<string, Map<string, AlertGroup>>();
      for (let i = 0; i < n; i++) {
        const v = scored.verdicts[i];
        if (!v.isAlert) continue;
        // a copy of a record already counted (raised or aggregated) is neither
        if (!(rows ? this.seen.firstChunkRow(rows, i) : this.seen.firstFlow(items![i].flow, items![i].stage))) {
          duplicates++;
          continue;
        }
        const src = rows ? rows.srcAddr(i) : items![i].flow.srcAddr;
        let bySrc = byLabel.get(v.label);
        if (!bySrc) byLabel.set(v.label, (bySrc = new Map()));
        const g = bySrc.get(src);
        if (!g) {
          const slot = this.aggregator.find(src, v.label, nowMs);
          let opener: AlertGroup['opener'];
          if (!slot) {
            const flow = flowOf(i);
            opener = { flow, id: alertId(flow, stageOf(i), scorer.model.file) };
          }
          const group: AlertGroup = { first: i, src, label: v.label, slot, opener, more: 0, moreEndMs: -Infinity, moreScore: -Infinity, moreFinal: false };
          bySrc.set(src, group);
          groups.push(group);
          if (!slot) fresh.push(i);
        } else {
          g.more++;
          g.moreEndMs = Math.max(g.moreEndMs, rows ? rows.endMs[i] : items![i].flow.endMs);
          g.moreScore = Math.max(g.moreScore, v.score);
          g.moreFinal ||= stageOf(i) === 'final';
        }
      }
      explained = this.withinExplainBudget(fresh);
      const t0 = performance.now();
      explanations = explained.length > 0 ? await scored.explain(explained) : [];
      this.spentExplaining(explained.length, performance.now() - t0);
    } catch (err) {
      this.counters.scoringErrors += n;
      metrics.drops.inc({ where: 'scoring-error' }, n);
      this.events.emit('error', err);
      return;
    }
    const explanationOf = new Map(explained.map((row, k) => [row, explanations[k]]));
    this.counters.duplicates += duplicates;
    if (duplicates > 0) metrics.duplicates.inc(duplicates);
    const final = rows ? n : items!.reduce((k, p) => k + (p.stage === 'final' ? 1 : 0), 0);
    this.counters.earlyScored += n - final;
    if (rows) {
      const now = performance.timeOrigin + performance.now();
      for (let i = 0; i < n; i++) metrics.latency.observe((now - rows.arrivedAt[i]) / 1000);
    } else {
      const now = performance.now();
      for (const p of items!) metrics.latency.observe((now - p.enqueuedAt) / 1000);
    }
    // one update per aggregate: sinks, the store and the live feed get its state after the whole batch
    this.counters.alertUpdates += groups.length;
    for (const g of groups) {
      const i = g.first;
      const v = scored.verdicts[i];
      let alert: Alert;
      const isNew = g.slot === undefined;
      if (isNew) {
        alert = this.open(g.opener!, stageOf(i), v, explanationOf.get(i) ?? [], nowMs);
        if (g.more > 0) alert = this.aggregator.grow(g.src, g.label, nowMs, g.more, g.moreEndMs, g.moreScore, g.moreFinal)!;
        this.counters.alertsAggregated += g.more;
      } else {
        const endMs = Math.max(g.moreEndMs, rows ? rows.endMs[i] : items![i].flow.endMs);
        alert = this.aggregator.growSlot(g.slot!, nowMs, 1 + g.more, endMs, shortestFloat32(Math.max(v.score, g.moreScore)), g.moreFinal || stageOf(i) === 'final');
        this.counters.alertsAggregated += 1 + g.more;
      }
      store?.putAlert(alert, isNew, isNew ? scored.input(i) : undefined);
      for (const sink of this.options.sinks ?? []) sink.write(alert, isNew);
      this.events.emit('alert', alert, isNew);
    }
    this.counters.flowsScored += n;
    metrics.flows.inc({ stage: 'final' }, final);
    if (n > final) metrics.flows.inc({ stage: 'early' }, n - final);
    store?.countFlows(nowMs, final);
  }

  /** Opens a new aggregate with the flow's alert (the first alerting flow of its source and label in the window). */
  private open(opener: NonNullable<AlertGroup['opener']>, stage: AlertStage, v: Verdict, explanation: readonly FeatureContribution[], nowMs: number): Alert {
    const { scorer, metrics, hook } = this.options;
    const { flow, id } = opener;
    let alert: Alert = {
      id,
      timeMs: nowMs,
      flowStartMs: flow.startMs,
      flowEndMs: flow.endMs,
      flow: { srcAddr: flow.srcAddr, dstAddr: flow.dstAddr, srcPort: flow.srcPort, dstPort: flow.dstPort, protocol: flow.protocol, vlan: flow.vlan },
      model: scorer.model,
      // a classifier's float32 probability as its shortest decimal (0.81, not 0.8100000023841858), as predict writes it
      score: shortestFloat32(v.score),
      threshold: v.threshold,
      label: v.label,
      category: v.category,
      stage,
      packets: flow.packets,
      explanation,
      count: 1,
      lastSeenMs: nowMs,
    };
    // as growSlot does: the literal keeps one shape, the rare verdict a feedback memory decided is added apart
    if (v.decidedByFeedback) alert = { ...alert, decidedByFeedback: v.decidedByFeedback };
    this.aggregator.add(alert);
    this.counters.alertsRaised++;
    metrics.alerts.inc({ category: alert.category || 'unknown' });
    hook?.handle(alert);
    return alert;
  }

  /** Resolves when every queued flow has been scored. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.chunks.length > 0 || this.running) {
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
    return { ...this.counters, queued: this.queue.length + this.chunkRows, openAggregates: this.aggregator.size };
  }
}
