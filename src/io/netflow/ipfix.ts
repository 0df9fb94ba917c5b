// IPFIX messages (RFC 7011): a 16-byte header, then sets — template sets (id 2), options template sets (id 3) and
// data sets (id ≥ 256). Templates are kept per exporter address and observation domain (§8), refreshed by
// re-sending, withdrawn by a record with field count 0 (template id = set id withdraws all, §8.1); enterprise
// elements (E bit) carry a 4-byte enterprise number and are skipped by length unless they are RFC 5103 reverse
// elements; variable-length fields follow §7. Data sets seen before their template wait in the store's bounded FIFO.
// O(bytes) per message; never throws.

import type { FlowBatch } from './batch.js';
import { decodeDataSet } from './data-set.js';
import type { MessageContext } from './record.js';
import type { DecodeStats } from './stats.js';
import { makeTemplate, TemplateStore } from './templates.js';

export const IPFIX_HEADER = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;
const FIRST_DATA_ID = 256;
const ENTERPRISE_BIT = 0x8000;

/**
 * Decodes one IPFIX message, appending flows to `batch` (also flows of earlier data sets that waited for a template
 * defined here). Returns false when the message is malformed and was dropped whole.
 */
export function decodeIpfix(
  buf: Buffer,
  exporter: string,
  nowMs: number,
  store: TemplateStore,
  batch: FlowBatch,
  stats: DecodeStats,
): boolean {
  stats.datagrams++;
  batch.reset('ipfix', exporter, 0);
  if (buf.length < IPFIX_HEADER) return stats.drop('ipfix-short-header');
  if (buf.readUInt16BE(0) !== 10) return stats.drop('ipfix-bad-version');
  const length = buf.readUInt16BE(2);
  if (length < IPFIX_HEADER || length > buf.length) return stats.drop('ipfix-bad-message-length');
  for (let off = IPFIX_HEADER; off < length; ) {
    if (length - off < 4) return stats.drop('ipfix-bad-set-length');
    const len = buf.readUInt16BE(off + 2);
    if (len < 4 || off + len > length) return stats.drop('ipfix-bad-set-length');
    off += len;
  }
  const domain = buf.readUInt32BE(12);
  batch.observationDomain = domain;
  const sysInit = store.getSysInit(exporter, domain);
  const ctx: MessageContext = {
    source: 'ipfix',
    exporter,
    domain,
    exportMs: buf.readUInt32BE(4) * 1000,
    sysUptimeMs: Number.NaN,
    sysInitMs: sysInit ?? Number.NaN,
  };
  store.expire(nowMs);
  let defined: Set<string> | undefined;
  for (let off = IPFIX_HEADER; off < length; ) {
    const id = buf.readUInt16BE(off);
    const end = off + buf.readUInt16BE(off + 2);
    const body = off + 4;
    if (id === TEMPLATE_SET || id === OPTIONS_TEMPLATE_SET) {
      defined = readTemplateSet(buf, body, end, id === OPTIONS_TEMPLATE_SET, ctx, store, stats, defined);
    } else if (id < FIRST_DATA_ID) stats.skip('ipfix-reserved-set');
    else {
      const key = TemplateStore.key(10, exporter, domain, id);
      const template = store.get(key);
      if (template) decodeDataSet(buf, body, end, template, currentContext(ctx, store), store, batch, stats);
      else store.hold(key, buf.subarray(body, end), ctx.exportMs, Number.NaN, nowMs);
    }
    off = end;
  }
  if (defined) {
    for (const p of store.release(defined)) {
      const template = store.get(p.key);
      if (template) {
        const pctx = { ...currentContext(ctx, store), exportMs: p.exportMs };
        decodeDataSet(p.bytes, 0, p.bytes.length, template, pctx, store, batch, stats);
      }
    }
  }
  return true;
}

/** The context with systemInitTimeMilliseconds refreshed, since options data earlier in the message may set it. */
function currentContext(ctx: MessageContext, store: TemplateStore): MessageContext {
  const init = store.getSysInit(ctx.exporter, ctx.domain);
  if (init === undefined || init === ctx.sysInitMs) return ctx;
  return { ...ctx, sysInitMs: init };
}

function readTemplateSet(
  buf: Buffer,
  off: number,
  end: number,
  options: boolean,
  ctx: MessageContext,
  store: TemplateStore,
  stats: DecodeStats,
  defined: Set<string> | undefined,
): Set<string> | undefined {
  const setId = options ? OPTIONS_TEMPLATE_SET : TEMPLATE_SET;
  while (end - off >= 4) {
    const id = buf.readUInt16BE(off);
    const count = buf.readUInt16BE(off + 2);
    off += 4;
    if (count === 0) {
      if (id === 0) break; // padding
      if (id === setId) stats.withdrawals += store.withdrawAll(10, ctx.exporter, ctx.domain, options);
      else if (id >= FIRST_DATA_ID && store.withdraw(TemplateStore.key(10, ctx.exporter, ctx.domain, id))) stats.withdrawals++;
      else stats.skip('ipfix-withdrawal-of-unknown-template');
      continue;
    }
    let scopeCount = 0;
    if (options) {
      if (end - off < 2) {
        stats.skip('ipfix-truncated-template');
        break;
      }
      scopeCount = buf.readUInt16BE(off);
      off += 2;
    }
    const ids = new Uint16Array(count);
    const enterprises = new Uint32Array(count);
    const lengths = new Uint16Array(count);
    let truncated = false;
    for (let i = 0; i < count; i++) {
      if (end - off < 4) {
        truncated = true;
        break;
      }
      const raw = buf.readUInt16BE(off);
      lengths[i] = buf.readUInt16BE(off + 2);
      off += 4;
      if (raw & ENTERPRISE_BIT) {
        if (end - off < 4) {
          truncated = true;
          break;
        }
        ids[i] = raw & ~ENTERPRISE_BIT;
        enterprises[i] = buf.readUInt32BE(off);
        off += 4;
      } else ids[i] = raw;
    }
    if (truncated) {
      stats.skip('ipfix-truncated-template');
      break;
    }
    const scopeOk = !options || (scopeCount >= 1 && scopeCount <= count);
    const template = id >= FIRST_DATA_ID && scopeOk ? makeTemplate(id, options, scopeCount, ids, enterprises, lengths) : undefined;
    if (!template) {
      stats.skip(options ? 'ipfix-bad-options-template' : 'ipfix-bad-template');
      continue;
    }
    const key = TemplateStore.key(10, ctx.exporter, ctx.domain, id);
    store.set(key, template);
    if (options) stats.optionsTemplates++;
    else stats.templates++;
    (defined ??= new Set()).add(key);
  }
  return defined;
}
