// Alert aggregation: repeated alerts for one source (same source address and label) within a window update one
// growing alert instead of raising a new one, so a flood gives one alert with a rising count, not a million.
// Open aggregates are kept per label, then per source address (no "src|label" string to build and hash per alert);
// the engine finds an aggregate once per scoring batch and grows it with the batch's totals (`find`, `growSlot`).
// Aggregates idle for longer than the window are forgotten as time goes on (`expireDue`, per batch), so the map holds
// only the sources of about the last window; `maxOpen` is the hard bound beyond that (a flood from more sources).
// RaisedAlertIds remembers the last alert ids raised, so the same flow record arriving again is not a second alert.

import type { Alert } from './alert.js';

export interface AggregationResult {
  readonly alert: Alert;
  /** True when this started a new aggregate; false when it grew an existing one. */
  readonly isNew: boolean;
}

/** Where an open aggregate's latest state is kept (growing it replaces `alert`). */
export interface AggregateSlot {
  alert: Alert;
}

/**
 * The ids of the last `capacity` alerts raised, oldest forgotten first (a fixed ring: ~6 MB at the default 100,000,
 * whatever the rate). An alert id names one flow record (addresses, ports, protocol, VLAN, start time), stage and
 * model, so an alerting flow whose id is here is the same flow again: a record an exporter sent twice (or two
 * exporters sent), or a later record of the same long flow, that arrived after its aggregate closed (while it is open,
 * the flow grows it, as any flow of its source does). Raising it again would count a second alert for one stored row
 * and overwrite the aggregate's stored counters with the copy's.
 */
export class RaisedAlertIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }
}

/** Longest time between two scans for idle aggregates (a shorter window scans once per window). */
const MAX_EXPIRY_INTERVAL_MS = 10_000;

export class AlertAggregator {
  private readonly open = new Map<string, Map<string, AggregateSlot>>();
  private count = 0;
  private lastExpiryMs = -Infinity;

  /** @param windowMs alerts from the same source and label closer than this join one aggregate */
  constructor(private readonly windowMs: number, private readonly maxOpen = 100_000) {}

  /** The aggregate an alert from `src` with `label` at `timeMs` would grow; undefined when it would start one. */
  find(src: string, label: string, timeMs: number): AggregateSlot | undefined {
    const slot = this.open.get(label)?.get(src);
    return slot && timeMs - slot.alert.lastSeenMs <= this.windowMs ? slot : undefined;
  }

  /** Whether an alert from `src` with `label` at `timeMs` would start a new aggregate (rather than grow one). */
  startsNew(src: string, label: string, timeMs: number): boolean {
    return this.find(src, label, timeMs) === undefined;
  }

  /** Grows the open aggregate of `src` and `label` (see growSlot); undefined when none is open. */
  grow(src: string, label: string, timeMs: number, count: number, flowEndMs: number, score: number, final: boolean): Alert | undefined {
    const slot = this.find(src, label, timeMs);
    return slot ? this.growSlot(slot, timeMs, count, flowEndMs, score, final) : undefined;
  }

  /**
   * Grows an aggregate found by `find` by `count` alerts at `timeMs` (latest flow end, highest score, and whether any
   * was a final verdict); the same as adding them one by one. Every other field is the opening alert's (a field added
   * to Alert is added here too). Returns its new state (a new object: published states are never changed afterwards).
   */
  growSlot(slot: AggregateSlot, timeMs: number, count: number, flowEndMs: number, score: number, final: boolean): Alert {
    const current = slot.alert;
    // the fields listed (a spread of `current` made live scoring ~30% dearer in a flood); the rare verdict a feedback
    // memory decided is carried over apart
    const listed: Alert = {
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
    const grown = current.decidedByFeedback ? { ...listed, decidedByFeedback: current.decidedByFeedback } : listed;
    slot.alert = grown;
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
    bySrc.set(alert.flow.srcAddr, { alert });
    return { alert, isNew: true };
  }

  /**
   * Forgets idle aggregates (see expire) when the last scan is at least min(window, 10 s) old: an aggregate is then
   * kept at most that long past its window, and the scan's cost is spread over that time.
   */
  expireDue(nowMs: number): void {
    if (nowMs - this.lastExpiryMs < Math.min(this.windowMs, MAX_EXPIRY_INTERVAL_MS)) return;
    this.lastExpiryMs = nowMs;
    this.expire(nowMs);
  }

  /** Forgets aggregates idle for longer than the window (or the oldest half when `force`, to bound memory). */
  expire(nowMs: number, force = false): void {
    for (const bySrc of this.open.values()) {
      for (const [src, slot] of bySrc) {
        if (nowMs - slot.alert.lastSeenMs > this.windowMs) {
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
