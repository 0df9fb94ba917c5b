// NetFlow v9 export packets (RFC 3954): a 20-byte header, then FlowSets — template FlowSets (id 0), options
// template FlowSets (id 1) and data FlowSets (id ≥ 256) decoded against templates kept per exporter and source id.
// Times are sysUpTime ms (FIRST_SWITCHED 22 / LAST_SWITCHED 21), anchored to the header's sysUpTime and unix_secs.
// O(bytes) per packet; never throws.

import type { FlowBatch } from './batch.js';
import { decodeDataSet } from './data-set.js';
import type { MessageContext } from './record.js';
import type { DecodeStats } from './stats.js';
import { makeTemplate, TemplateStore } from './templates.js';

export const V9_HEADER = 20;
const TEMPLATE_FLOWSET = 0;
const OPTIONS_FLOWSET = 1;
const FIRST_DATA_ID = 256;

/**
 * Decodes one v9 packet, appending flows to `batch` (also flows of earlier data FlowSets that waited for a template
 * defined here). Returns false when the packet is malformed and was dropped whole.
 */
export function decodeV9(
  buf: Buffer,
  exporter: string,
  nowMs: number,
  store: TemplateStore,
  batch: FlowBatch,
  stats: DecodeStats,
): boolean {
  stats.datagrams++;
  batch.reset('netflow-v9', exporter, 0);
  if (buf.length < V9_HEADER) return stats.drop('v9-short-header');
  if (buf.readUInt16BE(0) !== 9) return stats.drop('v9-bad-version');
  for (let off = V9_HEADER; buf.length - off >= 4; ) {
    const len = buf.readUInt16BE(off + 2);
    if (len < 4 || off + len > buf.length) return stats.drop('v9-bad-flowset-length');
    off += len;
  }
  const ctx: MessageContext = {
    source: 'netflow-v9',
    exporter,
    domain: buf.readUInt32BE(16),
    exportMs: buf.readUInt32BE(8) * 1000,
    sysUptimeMs: buf.readUInt32BE(4),
    sysInitMs: Number.NaN,
  };
  batch.observationDomain = ctx.domain;
  store.expire(nowMs);
  let defined: Set<string> | undefined;
  for (let off = V9_HEADER; buf.length - off >= 4; ) {
    const id = buf.readUInt16BE(off);
    const end = off + buf.readUInt16BE(off + 2);
    const body = off + 4;
    if (id === TEMPLATE_FLOWSET) defined = readTemplates(buf, body, end, ctx, store, stats, defined);
    else if (id === OPTIONS_FLOWSET) defined = readOptionsTemplates(buf, body, end, ctx, store, stats, defined);
    else if (id < FIRST_DATA_ID) stats.skip('v9-reserved-flowset');
    else {
      const key = TemplateStore.key(9, exporter, ctx.domain, id);
      const template = store.get(key);
      if (template) decodeDataSet(buf, body, end, template, ctx, store, batch, stats);
      else store.hold(key, buf.subarray(body, end), ctx.exportMs, ctx.sysUptimeMs, nowMs);
    }
    off = end;
  }
  if (defined) decodeReleased(defined, exporter, ctx.domain, store, batch, stats);
  return true;
}

function readTemplates(
  buf: Buffer,
  off: number,
  end: number,
  ctx: MessageContext,
  store: TemplateStore,
  stats: DecodeStats,
  defined: Set<string> | undefined,
): Set<string> | undefined {
  while (end - off >= 4) {
    const id = buf.readUInt16BE(off);
    const count = buf.readUInt16BE(off + 2);
    off += 4;
    if (count === 0) {
      if (id === 0) break; // zero padding
      stats.skip('v9-empty-template');
      continue;
    }
    if (end - off < count * 4) {
      stats.skip('v9-truncated-template');
      break;
    }
    const { ids, lengths } = readFieldSpecs(buf, off, count);
    off += count * 4;
    const template = id >= FIRST_DATA_ID ? makeTemplate(id, false, 0, ids, new Uint32Array(count), lengths) : undefined;
    if (!template) {
      stats.skip('v9-bad-template');
      continue;
    }
    defined = register(template, id, ctx, store, defined);
    stats.templates++;
  }
  return defined;
}

/** The `count` (field type, length) pairs of a template record starting at `off`. */
function readFieldSpecs(buf: Buffer, off: number, count: number): { ids: Uint16Array; lengths: Uint16Array } {
  const ids = new Uint16Array(count);
  const lengths = new Uint16Array(count);
  for (let i = 0; i < count; i++, off += 4) {
    ids[i] = buf.readUInt16BE(off);
    lengths[i] = buf.readUInt16BE(off + 2);
  }
  return { ids, lengths };
}

/** Stores a (options) template of this exporter and domain; returns the set of keys defined by this packet. */
function register(template: NonNullable<ReturnType<typeof makeTemplate>>, id: number, ctx: MessageContext, store: TemplateStore, defined: Set<string> | undefined): Set<string> {
  const key = TemplateStore.key(9, ctx.exporter, ctx.domain, id);
  store.set(key, template);
  return (defined ?? new Set<string>()).add(key);
}

function readOptionsTemplates(
  buf: Buffer,
  off: number,
  end: number,
  ctx: MessageContext,
  store: TemplateStore,
  stats: DecodeStats,
  defined: Set<string> | undefined,
): Set<string> | undefined {
  while (end - off >= 6) {
    const id = buf.readUInt16BE(off);
    const scopeBytes = buf.readUInt16BE(off + 2);
    const optionBytes = buf.readUInt16BE(off + 4);
    off += 6;
    if (id === 0 && scopeBytes === 0 && optionBytes === 0) break; // zero padding
    if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0 || end - off < scopeBytes + optionBytes) {
      stats.skip('v9-bad-options-template');
      break;
    }
    const count = (scopeBytes + optionBytes) / 4;
    const { ids, lengths } = readFieldSpecs(buf, off, count);
    off += count * 4;
    // Scope field types (system, interface, line card, cache, template) are not element numbers: never map them.
    const enterprises = new Uint32Array(count);
    enterprises.fill(0xffffffff, 0, scopeBytes / 4);
    const template = id >= FIRST_DATA_ID ? makeTemplate(id, true, scopeBytes / 4, ids, enterprises, lengths) : undefined;
    if (!template) {
      stats.skip('v9-bad-options-template');
      continue;
    }
    defined = register(template, id, ctx, store, defined);
    stats.optionsTemplates++;
  }
  return defined;
}

function decodeReleased(
  defined: Set<string>,
  exporter: string,
  domain: number,
  store: TemplateStore,
  batch: FlowBatch,
  stats: DecodeStats,
): void {
  for (const p of store.release(defined)) {
    const template = store.get(p.key);
    if (!template) continue;
    const ctx: MessageContext = {
      source: 'netflow-v9',
      exporter,
      domain,
      exportMs: p.exportMs,
      sysUptimeMs: p.sysUptimeMs,
      sysInitMs: Number.NaN,
    };
    decodeDataSet(p.bytes, 0, p.bytes.length, template, ctx, store, batch, stats);
  }
}
