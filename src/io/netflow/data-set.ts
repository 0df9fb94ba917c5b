// Decodes the data records of one NetFlow v9 data FlowSet (RFC 3954 §5.4) or IPFIX data set (RFC 7011 §3.4.3)
// against its template: fixed-length fields read at their offsets, IPFIX variable-length fields (RFC 7011 §7:
// 1-byte length, or 255 then a 2-byte length) skipped, unknown and enterprise elements skipped by length, trailing
// padding shorter than a record ignored. O(fields × records) per set, no allocation: flows go to a columnar batch.

import type { FlowBatch } from './batch.js';
import { Slot, VARIABLE_LENGTH } from './information-elements.js';
import { ABSENT, Appended, appendRecord, ntpToMs, readUnsigned, type MessageContext } from './record.js';
import type { DecodeStats } from './stats.js';
import type { Template, TemplateStore } from './templates.js';

const values = new Float64Array(Slot.Count);

/** Decodes buf[start, end) as records of `template`, appending flows to `batch`. Never throws. */
export function decodeDataSet(
  buf: Buffer,
  start: number,
  end: number,
  template: Template,
  ctx: MessageContext,
  store: TemplateStore,
  batch: FlowBatch,
  stats: DecodeStats,
): void {
  const { lengths, slots } = template;
  const isOptions = template.options;
  // Each record overwrites the same slots, so the others stay ABSENT for the whole set.
  values.fill(ABSENT);
  let off = start;
  while (end - off >= template.minLength) {
    let next: number;
    if (template.fixedLength >= 0) {
      const { mapped, offsets } = template;
      for (let k = 0; k < mapped.length; k++) {
        const f = mapped[k];
        readSlot(buf, off + offsets[f], lengths[f], slots[f]);
      }
      next = off + template.fixedLength;
    } else {
      next = decodeVariable(buf, off, end, template);
      if (next < 0) {
        stats.skip('truncated-data-record');
        return;
      }
    }
    off = next;
    if (isOptions) {
      stats.optionsRecords++;
      if (values[Slot.SysInitMs] !== ABSENT) store.setSysInit(ctx.exporter, ctx.domain, values[Slot.SysInitMs]);
      continue;
    }
    const appended = appendRecord(values, buf, ctx, batch);
    if (appended === Appended.NO_ADDRESSES) stats.skip('record-without-addresses');
    else {
      stats.records++;
      if (appended === Appended.NO_ABSOLUTE_TIME) stats.recordsWithoutAbsoluteTime++;
    }
  }
}

/** Walks one record with variable-length fields (RFC 7011 §7); returns the next offset, or -1 if it overruns `end`. */
function decodeVariable(buf: Buffer, off: number, end: number, template: Template): number {
  const { lengths, slots } = template;
  let p = off;
  for (let i = 0; i < lengths.length; i++) {
    let len = lengths[i];
    if (len === VARIABLE_LENGTH) {
      if (p >= end) return -1;
      len = buf[p++];
      if (len === 255) {
        if (p + 2 > end) return -1;
        len = buf.readUInt16BE(p);
        p += 2;
      }
    }
    if (p + len > end) return -1;
    const slot = slots[i];
    if (slot >= 0) readSlot(buf, p, len, slot);
    p += len;
  }
  return p;
}

/**
 * Stores the field at buf[off, off + len) in values[slot]. Writes instead of returning: a number returned from a call
 * V8 did not inline is boxed when it is not a small integer (addresses, times), and those boxes were most of what a
 * v9 / IPFIX datagram allocated. The common 1-, 2- and 4-byte fields are read inline.
 */
function readSlot(buf: Buffer, off: number, len: number, slot: number): void {
  if (len === 4 && slot !== Slot.SrcIPv6 && slot !== Slot.DstIPv6) {
    values[slot] = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
    return;
  }
  switch (slot) {
    case Slot.SrcIPv6:
    case Slot.DstIPv6:
      values[slot] = off;
      return;
    case Slot.StartNtp:
    case Slot.EndNtp:
      values[slot] = ntpToMs(buf, off);
      return;
    default:
      values[slot] = readUnsigned(buf, off, len);
  }
}
