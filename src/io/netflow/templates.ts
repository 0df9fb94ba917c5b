// Template state for NetFlow v9 (RFC 3954 §5.2-5.3) and IPFIX (RFC 7011 §3.4, §8): templates and options templates
// kept per exporter address and observation domain (v9: source id), refreshed by re-sending, withdrawn one by one or
// all at once; data sets that arrive before their template wait in a bounded FIFO. Every structure is bounded:
// O(1) per template lookup, O(pending) when a template arrives, memory ≤ maxTemplates + maxPendingBytes.

import { slotOf, VARIABLE_LENGTH } from './information-elements.js';

/** A parsed (options) template, ready for decoding data records. */
export interface Template {
  readonly id: number;
  /** An options template: its data records describe the exporter (e.g. systemInitTimeMilliseconds), not flows. */
  readonly options: boolean;
  /** Leading scope fields of an options template. */
  readonly scopeCount: number;
  readonly ids: Uint16Array;
  readonly enterprises: Uint32Array;
  /** Field lengths; VARIABLE_LENGTH (65535) for an IPFIX variable-length field. */
  readonly lengths: Uint16Array;
  /** Slot filled by each field (information-elements.ts), -1 to skip. */
  readonly slots: Int8Array;
  /** Fields that fill a slot, in template order. */
  readonly mapped: Uint16Array;
  /** Offset of each field in the record for fixed-length templates (else unused). */
  readonly offsets: Int32Array;
  /** Record length when every field is fixed, else -1. */
  readonly fixedLength: number;
  /** Smallest possible record length (a variable-length field takes at least its 1-byte length prefix). */
  readonly minLength: number;
}

/** Builds a template from its field specifiers; undefined when its records could never be decoded. */
export function makeTemplate(
  id: number,
  options: boolean,
  scopeCount: number,
  ids: Uint16Array,
  enterprises: Uint32Array,
  lengths: Uint16Array,
): Template | undefined {
  const slots = new Int8Array(ids.length);
  const offsets = new Int32Array(ids.length);
  const mapped: number[] = [];
  let fixed = 0;
  let min = 0;
  let variable = false;
  for (let i = 0; i < ids.length; i++) {
    const len = lengths[i];
    if (len === VARIABLE_LENGTH) {
      variable = true;
      min += 1;
      slots[i] = -1;
    } else {
      offsets[i] = fixed;
      fixed += len;
      min += len;
      slots[i] = slotOf(ids[i], enterprises[i], len);
      if (slots[i] >= 0) mapped.push(i);
    }
  }
  if (min === 0) return undefined;
  return {
    id,
    options,
    scopeCount,
    ids,
    enterprises,
    lengths,
    slots,
    mapped: Uint16Array.from(mapped),
    offsets,
    fixedLength: variable ? -1 : fixed,
    minLength: min,
  };
}

/** A data set held until its template arrives. */
interface PendingSet {
  readonly key: string;
  readonly bytes: Buffer;
  /** Message context needed to decode it later. */
  readonly exportMs: number;
  readonly sysUptimeMs: number;
  readonly arrivedMs: number;
}

export interface TemplateStoreOptions {
  /** Templates kept over all exporters; the least recently defined is evicted first. Default 4096. */
  maxTemplates?: number;
  /** Data sets waiting for a template. Defaults 256 sets, 1 MiB, 10 s. */
  maxPendingSets?: number;
  maxPendingBytes?: number;
  maxPendingAgeMs?: number;
}

/** Counters the store keeps; the collector reports them. */
export interface TemplateCounters {
  templatesEvicted: number;
  pendingBuffered: number;
  pendingDecoded: number;
  /** Pending sets dropped: too old, too many or too large. */
  pendingDropped: number;
}

/** Per-exporter template state. One instance serves every exporter of a collector. */
export class TemplateStore {
  readonly maxTemplates: number;
  readonly maxPendingSets: number;
  readonly maxPendingBytes: number;
  readonly maxPendingAgeMs: number;
  readonly counters: TemplateCounters = { templatesEvicted: 0, pendingBuffered: 0, pendingDecoded: 0, pendingDropped: 0 };
  private readonly templates = new Map<string, Template>();
  /** IPFIX systemInitTimeMilliseconds per exporter and domain, learned from options data. */
  private readonly sysInit = new Map<string, number>();
  private pending: PendingSet[] = [];
  private pendingBytes = 0;

  constructor(options: TemplateStoreOptions = {}) {
    this.maxTemplates = options.maxTemplates ?? 4096;
    this.maxPendingSets = options.maxPendingSets ?? 256;
    this.maxPendingBytes = options.maxPendingBytes ?? 1 << 20;
    this.maxPendingAgeMs = options.maxPendingAgeMs ?? 10_000;
  }

  /** Template key: protocol version (9 or 10), exporter address, observation domain (v9 source id), template id. */
  static key(version: number, exporter: string, domain: number, templateId: number): string {
    return `${version}|${exporter}|${domain}|${templateId}`;
  }

  get size(): number {
    return this.templates.size;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get(key: string): Template | undefined {
    return this.templates.get(key);
  }

  /** Defines or refreshes a template. */
  set(key: string, template: Template): void {
    this.templates.delete(key);
    this.templates.set(key, template);
    if (this.templates.size > this.maxTemplates) {
      const oldest = this.templates.keys().next().value as string;
      this.templates.delete(oldest);
      this.counters.templatesEvicted++;
    }
  }

  /** Withdraws one template; returns whether it existed. */
  withdraw(key: string): boolean {
    return this.templates.delete(key);
  }

  /** Withdraws every data template (options = false) or options template (true) of an exporter and domain. */
  withdrawAll(version: number, exporter: string, domain: number, options: boolean): number {
    const prefix = `${version}|${exporter}|${domain}|`;
    let n = 0;
    for (const [key, t] of this.templates) {
      if (key.startsWith(prefix) && t.options === options) {
        this.templates.delete(key);
        n++;
      }
    }
    return n;
  }

  setSysInit(exporter: string, domain: number, ms: number): void {
    const key = `${exporter}|${domain}`;
    this.sysInit.delete(key);
    this.sysInit.set(key, ms);
    if (this.sysInit.size > this.maxTemplates) this.sysInit.delete(this.sysInit.keys().next().value as string);
  }

  getSysInit(exporter: string, domain: number): number | undefined {
    return this.sysInit.get(`${exporter}|${domain}`);
  }

  /** Holds a copy of a data set whose template is unknown. Oldest sets make room when a bound is hit. */
  hold(key: string, bytes: Uint8Array, exportMs: number, sysUptimeMs: number, nowMs: number): void {
    if (bytes.length > this.maxPendingBytes || this.maxPendingSets === 0) {
      this.counters.pendingDropped++;
      return;
    }
    this.expire(nowMs);
    while (this.pending.length >= this.maxPendingSets || this.pendingBytes + bytes.length > this.maxPendingBytes) {
      const dropped = this.pending.shift() as PendingSet;
      this.pendingBytes -= dropped.bytes.length;
      this.counters.pendingDropped++;
    }
    this.pending.push({ key, bytes: Buffer.from(bytes), exportMs, sysUptimeMs, arrivedMs: nowMs });
    this.pendingBytes += bytes.length;
    this.counters.pendingBuffered++;
  }

  /** Drops pending sets older than maxPendingAgeMs. */
  expire(nowMs: number): void {
    let n = 0;
    while (n < this.pending.length && nowMs - this.pending[n].arrivedMs > this.maxPendingAgeMs) {
      this.pendingBytes -= this.pending[n].bytes.length;
      n++;
    }
    if (n > 0) {
      this.pending = this.pending.slice(n);
      this.counters.pendingDropped += n;
    }
  }

  /** Removes and returns the pending sets a newly known template can decode, oldest first. */
  release(keys: ReadonlySet<string>): { key: string; bytes: Buffer; exportMs: number; sysUptimeMs: number }[] {
    if (this.pending.length === 0 || keys.size === 0) return [];
    const ready: PendingSet[] = [];
    const rest: PendingSet[] = [];
    for (const p of this.pending) (keys.has(p.key) ? ready : rest).push(p);
    if (ready.length === 0) return [];
    this.pending = rest;
    for (const p of ready) this.pendingBytes -= p.bytes.length;
    this.counters.pendingDecoded += ready.length;
    return ready;
  }
}
