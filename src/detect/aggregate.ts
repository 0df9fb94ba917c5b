// Alert aggregation: repeated alerts for one source (same source address and label) within a window update one
// growing alert instead of raising a new one, so a flood gives one alert with a rising count, not a million.
// Open aggregates are kept per label, then per source address (no "src|label" string to build and hash per alert);
// the engine grows an aggregate once per scoring batch with the batch's totals (`grow`).

import type { Alert } from './alert.js';

export interface AggregationResult {
  readonly alert: Alert;
  /** True when this started a new aggregate; false when it grew an existing one. */
  readonly isNew: boolean;
}

export class AlertAggregator {
  private readonly open = new Map<string, Map<string, Alert>>();
  private count = 0;

  /** @param windowMs alerts from the same source and label closer than this join one aggregate */
  constructor(private readonly windowMs: number, private readonly maxOpen = 100_000) {}

  private current(src: string, label: string, timeMs: number): Alert | undefined {
    const a = this.open.get(label)?.get(src);
    return a && timeMs - a.lastSeenMs <= this.windowMs ? a : undefined;
  }

  /** Whether an alert from `src` with `label` at `timeMs` would start a new aggregate (rather than grow one). */
  startsNew(src: string, label: string, timeMs: number): boolean {
    return this.current(src, label, timeMs) === undefined;
  }

  /**
   * Grows the open aggregate of `src` and `label` by `count` alerts at `timeMs` (latest flow end, highest score, and
   * whether any was a final verdict); the same as adding them one by one. Undefined when none is open.
   */
  grow(src: string, label: string, timeMs: number, count: number, flowEndMs: number, score: number, final: boolean): Alert | undefined {
    const current = this.current(src, label, timeMs);
    if (!current) return undefined;
    const grown: Alert = {
      id: current.id,
      timeMs: current.timeMs,
      flowStartMs: current.flowStartMs,
      flowEndMs: Math.max(current.flowEndMs, flowEndMs),
      flow: current.flow,
      model: current.model,
      score: Math.max(current.score, score),
      threshold: current.threshold,
      label: current.label,
      category: current.category,
      stage: current.stage === 'final' || final ? 'final' : 'early',
      packets: current.packets,
      explanation: current.explanation,
      count: current.count + count,
      lastSeenMs: timeMs,
    };
    this.open.get(label)!.set(src, grown);
    return grown;
  }

  add(alert: Alert): AggregationResult {
    const grown = this.grow(alert.flow.srcAddr, alert.label, alert.timeMs, alert.count, alert.flowEndMs, alert.score, alert.stage === 'final');
    if (grown) return { alert: grown, isNew: false };
    let bySrc = this.open.get(alert.label);
    if (!bySrc) this.open.set(alert.label, (bySrc = new Map()));
    if (!bySrc.has(alert.flow.srcAddr)) {
      if (this.count >= this.maxOpen) this.expire(alert.timeMs, true);
      this.count++;
    }
    bySrc.set(alert.flow.srcAddr, alert);
    return { alert, isNew: true };
  }

  /** Forgets aggregates idle for longer than the window (or the oldest half when `force`, to bound memory). */
  expire(nowMs: number, force = false): void {
    for (const bySrc of this.open.values()) {
      for (const [src, a] of bySrc) {
        if (nowMs - a.lastSeenMs > this.windowMs) {
          bySrc.delete(src);
          this.count--;
        }
      }
    }
    if (force && this.count >= this.maxOpen) {
      let drop = this.count >> 1;
      for (const bySrc of this.open.values()) {
        for (const src of bySrc.keys()) {
          if (drop-- <= 0) return;
          bySrc.delete(src);
          this.count--;
        }
      }
    }
  }

  get size(): number {
    return this.count;
  }
}
