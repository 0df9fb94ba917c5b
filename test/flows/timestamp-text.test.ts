// The timestamp text of flow rows ("2010-02-09 01:18:39.618072", UTC, microseconds) at awkward instants: second,
// minute, hour, day, month and year rollovers, leap days, before 1970, fractions .000001 and .999999. Expected text
// comes from the instant's own calendar fields (checked against Date.toISOString), not from the writer's arithmetic.
// The CSV writer caches the text up to the seconds, so each instant is also written after a neighbour of another
// second, of the same second, and after itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ByteWriter, cicTimestamp } from '../../src/flows/byte-writer.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { extractColumns, writeFlowRow } from '../../src/flows/flow-rows.js';

interface Instant {
  ms: number;
  text: string;
}

const pad = (v: number, width: number): string => String(v).padStart(width, '0');

/** The instant y-mo-d h:mi:s + micro µs (UTC) and its expected text; whole microseconds only where a double holds them. */
function at(y: number, mo: number, d: number, h: number, mi: number, s: number, micro: number): Instant {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // Date.UTC would read years 0-99 as 1900-1999
  date.setUTCHours(h, mi, s, 0);
  const second = date.getTime();
  const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(micro, 6)}`;
  const iso = date.toISOString();
  assert.equal(`${iso.slice(0, 10)} ${iso.slice(11, 19)}`, text.slice(0, 19), `calendar fields of ${text}`);
  return { ms: second + micro / 1000, text };
}

/** An instant `deltaMicros` after `i` (across any boundary), its text from Date and the microsecond digits. */
function after(i: Instant, deltaMicros: number): Instant {
  const micros = Math.round(i.ms * 1000) + deltaMicros;
  const second = Math.floor(micros / 1e6);
  const iso = new Date(second * 1000).toISOString();
  return { ms: micros / 1000, text: `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${pad(micros - second * 1e6, 6)}` };
}

/** Instants whose every microsecond a double of milliseconds holds (about 1684 to 2255). */
const EXACT: Instant[] = [
  at(2010, 2, 9, 1, 18, 39, 618072),
  at(2017, 7, 6, 12, 39, 6, 0),
  at(2017, 7, 6, 12, 39, 6, 1),
  at(2017, 7, 6, 12, 39, 6, 999999),
  at(2017, 7, 6, 12, 39, 59, 999999), // minute
  at(2017, 7, 6, 12, 59, 59, 999999), // hour
  at(2017, 7, 6, 23, 59, 59, 999999), // day
  at(2017, 7, 31, 23, 59, 59, 999999), // month
  at(2016, 12, 31, 23, 59, 59, 999999), // year
  at(2017, 1, 1, 0, 0, 0, 0),
  at(2017, 1, 1, 0, 0, 0, 1),
  at(2016, 2, 28, 23, 59, 59, 999999), // leap day
  at(2016, 2, 29, 0, 0, 0, 0),
  at(2016, 2, 29, 23, 59, 59, 999999),
  at(2000, 2, 29, 12, 0, 0, 500000), // leap (divisible by 400)
  at(2100, 2, 28, 23, 59, 59, 999999), // no leap day (divisible by 100)
  at(2100, 3, 1, 0, 0, 0, 1),
  at(1970, 1, 1, 0, 0, 0, 0),
  at(1970, 1, 1, 0, 0, 0, 1),
  at(1969, 12, 31, 23, 59, 59, 999999), // before 1970
  at(1969, 12, 31, 23, 59, 59, 0),
  at(1969, 12, 31, 0, 0, 0, 1),
  at(1900, 2, 28, 23, 59, 59, 999999), // 1900: no leap day
  at(1900, 3, 1, 0, 0, 0, 1),
  at(1904, 2, 29, 6, 30, 15, 123456),
  at(2038, 1, 19, 3, 14, 7, 999999), // 2^31 s
  at(2038, 1, 19, 3, 14, 8, 0),
];
/** Whole seconds, where a double cannot hold every microsecond. */
const WHOLE_SECONDS: Instant[] = [
  at(2255, 6, 5, 23, 47, 35, 0), // just past 2^53 µs
  at(0, 1, 1, 0, 0, 0, 0),
  at(0, 2, 29, 23, 59, 59, 0), // year 0 is a leap year
  at(1600, 2, 29, 0, 0, 0, 0),
  at(2400, 2, 29, 0, 0, 0, 0),
  at(9999, 12, 31, 23, 59, 59, 0),
];
// with one microsecond either side of each exact instant (rollovers both ways)
const INSTANTS = [...EXACT, ...EXACT.flatMap((i) => [after(i, -1), after(i, 1)]), ...WHOLE_SECONDS];

/** Every instant in an order that makes the writer's cached second hit and miss: itself twice, then a neighbour. */
function sequence(): Instant[] {
  const out: Instant[] = [];
  for (let k = 0; k < INSTANTS.length; k++) out.push(INSTANTS[k]!, INSTANTS[k]!, INSTANTS[(k * 7 + 3) % INSTANTS.length]!);
  return out;
}

function written(write: (w: ByteWriter, ms: number) => void): string[] {
  const w = new ByteWriter(new Writable({ write: (_c, _e, done: () => void) => done() }));
  const lines: string[] = [];
  for (const i of sequence()) {
    write(w, i.ms);
    lines.push(Buffer.from(w.take()).toString('latin1'));
  }
  return lines;
}

test('cicTimestamp: the calendar text of awkward instants', () => {
  for (const i of sequence()) assert.equal(cicTimestamp(i.ms), i.text, `ms ${i.ms}`);
});

test('ByteWriter.timestamp: the same text, whichever second it cached before', () => {
  const lines = written((w, ms) => w.timestamp(ms));
  sequence().forEach((i, k) => assert.equal(lines[k], i.text, `ms ${i.ms}`));
});

test('the start column of a NetFlow CSV row', () => {
  const columns = extractColumns('netflow');
  const start = columns.indexOf('start');
  const flow = (ms: number): FlowRecord => ({
    srcAddr: '10.0.0.1',
    dstAddr: '10.0.0.2',
    srcPort: 1000,
    dstPort: 53,
    protocol: 17,
    vlan: 0,
    source: 'netflow-v9',
    startMs: ms,
    endMs: ms + 1.5,
    packets: 2,
    bytes: 120,
    fwdPackets: 2,
    bwdPackets: 0,
    fwdBytes: 120,
    bwdBytes: 0,
    tcpFlags: 0,
    endReason: 'idle',
  });
  const lines = written((w, ms) => writeFlowRow(w, flow(ms), 'netflow', 'csv', columns));
  sequence().forEach((i, k) => assert.equal(lines[k]!.split(',')[start], i.text, `ms ${i.ms}`));
});
