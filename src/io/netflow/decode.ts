// Entry point of the flow-export decoders: picks NetFlow v5, NetFlow v9 or IPFIX from the version field every one of
// them starts with. Pure over its inputs (the template store is the only state); never throws.

import type { FlowBatch } from './batch.js';
import { decodeIpfix } from './ipfix.js';
import type { DecodeStats } from './stats.js';
import type { TemplateStore } from './templates.js';
import { decodeV5 } from './v5.js';
import { decodeV9 } from './v9.js';

/**
 * Decodes one datagram from `exporter` received at `nowMs` into `batch` (reset first: one batch per datagram). Returns false when the
 * datagram was malformed (counted in stats.malformed and dropped whole).
 */
export function decodeDatagram(
  buf: Buffer,
  exporter: string,
  nowMs: number,
  store: TemplateStore,
  batch: FlowBatch,
  stats: DecodeStats,
): boolean {
  const version = buf.length >= 2 ? buf.readUInt16BE(0) : -1;
  switch (version) {
    case 5:
      return decodeV5(buf, exporter, batch, stats);
    case 9:
      return decodeV9(buf, exporter, nowMs, store, batch, stats);
    case 10:
      return decodeIpfix(buf, exporter, nowMs, store, batch, stats);
    default:
      stats.datagrams++;
      batch.reset('netflow-v5', exporter, 0);
      return stats.drop('unknown-version');
  }
}

export { FlowBatch } from './batch.js';
export { DecodeStats } from './stats.js';
export { TemplateStore, type TemplateStoreOptions } from './templates.js';
