// Alert aggregation: repeated alerts for one source (same source address and label) within a window update one
// growing alert instead of raising a new one, so a flood gives one alert with a rising count, not a million.

import type { Alert } from './alert.js';

export interface AggregationResult {
  readonly alert: Alert;
  /** True when this started a new aggregate; false when it grew an existing one. */
  readonly isNew: boolean;
}

export class AlertAggregator {
  private readonly open = new Map<string, Alert>();

  /** @param windowMs alerts from the same source and label closer than this join one aggregate */
  constructor(private readonly windowMs: number, private readonly maxOpen = 100_000) {}

  /** Whether an alert from `src` with `label` at `timeMs` would start a new aggregate (rather than grow one). */
  startsNew(src: string, label: string, timeMs: number): boolean {
    const current = this.open.get(`${src}|${label}`);
    return !current || timeMs - current.lastSeenMs > this.windowMs;
  }

  add(alert: Alert): AggregationResult {
    const key = `${alert.flow.srcAddr}|${alert.label}`;
    const current = this.open.get(key);
    if (current && alert.timeMs - current.lastSeenMs <= this.windowMs) {
      const grown: Alert = {
        ...current,
        count: current.count + alert.count,
        lastSeenMs: alert.timeMs,
        flowEndMs: Math.max(current.flowEndMs, alert.flowEndMs),
        score: Math.max(current.score, alert.score),
        stage: current.stage === 'final' || alert.stage === 'final' ? 'final' : 'early',
      };
      this.open.set(key, grown);
      return { alert: grown, isNew: false };
    }
    if (!current && this.open.size >= this.maxOpen) this.expire(alert.timeMs, true);
    this.open.set(key, alert);
    return { alert, isNew: true };
  }

  /** Forgets aggregates idle for longer than the window (or the oldest half when `force`, to bound memory). */
  expire(nowMs: number, force = false): void {
    for (const [key, a] of this.open) if (nowMs - a.lastSeenMs > this.windowMs) this.open.delete(key);
    if (force && this.open.size >= this.maxOpen) {
      let drop = this.open.size >> 1;
      for (const key of this.open.keys()) {
        if (drop-- <= 0) break;
        this.open.delete(key);
      }
    }
  }

  get size(): number {
    return this.open.size;
  }
}
