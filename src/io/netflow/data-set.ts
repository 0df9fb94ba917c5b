// Decodes the data records of one NetFlow v9 data FlowSet (RFC 3954 §5.4) or IPFIX data set (RFC 7011 §3.4.3)
// against its template: fixed-length fields read at their offsets, IPFIX variable-length fields (RFC 7011 §7:
// 1-byte length, or 255 then a 2-byte length) skipped, unknown and enterprise elements skipped by length, trailing
// padding shorter than a record ignored. O(fields × records) per set, no allocation besides the FlowRecords.

import type { FlowRecord } from '../../flows/flow-record.js';
import { Slot, VARIABLE_LENGTH } from './information-elements.js';
import { ABSENT, buildRecord, ntpToMs, readUnsigned, type MessageContext } from './record.js';
import type { DecodeStats } from './stats.js';
import type { Template, TemplateStore } from './templates.js';

const values = new Float64Array(Slot.Count);

/** Decodes buf[start, end) as records of `template`, appending flows to `out`. Never throws. */
export function decodeDataSet(
  buf: Buffer,
  start: number,
  end: number,
  template: Template,
  ctx: MessageContext,
  store: TemplateStore,
  out: FlowRecord[],
  stats: DecodeStats,
): void {
  const { lengths, slots } = template;
  const n = lengths.length;
  const isOptions = template.options;
  let off = start;
  while (end - off >= template.minLength) {
    values.fill(ABSENT);
    let p = off;
    let truncated = false;
    for (let i = 0; i < n; i++) {
      let len = lengths[i];
      if (len === VARIABLE_LENGTH) {
        if (p >= end) {
          truncated = true;
          break;
        }
        len = buf[p++];
        if (len === 255) {
          if (p + 2 > end) {
            truncated = true;
            break;
          }
          len = buf.readUInt16BE(p);
          p += 2;
        }
      }
      if (p + len > end) {
        truncated = true;
        break;
      }
      const slot = slots[i];
      if (slot >= 0) values[slot] = readSlot(buf, p, len, slot);
      p += len;
    }
    if (truncated) {
      stats.skip('truncated-data-record');
      return;
    }
    off = p;
    if (isOptions) {
      stats.optionsRecords++;
      if (values[Slot.SysInitMs] !== ABSENT) store.setSysInit(ctx.exporter, ctx.domain, values[Slot.SysInitMs]);
      continue;
    }
    const record = buildRecord(values, buf, ctx);
    if (record === undefined) stats.skip('record-without-addresses');
    else {
      out.push(record);
      stats.records++;
    }
  }
}

function readSlot(buf: Buffer, off: number, len: number, slot: number): number {
  switch (slot) {
    case Slot.SrcIPv6:
    case Slot.DstIPv6:
      return off;
    case Slot.StartNtp:
    case Slot.EndNtp:
      return ntpToMs(buf, off);
    default:
      return readUnsigned(buf, off, len);
  }
}
