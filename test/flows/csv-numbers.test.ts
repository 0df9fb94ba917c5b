// The CSV writer's number and timestamp encoding: integers exact, other values within 12 significant digits of
// the double, non-finite values as text (checked against parseFloat); timestamps equal the Date-based text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ByteWriter, cicTimestamp } from '../../src/flows/byte-writer.js';
import { Rng } from '../../src/util/rng.js';

async function encode(values: number[]): Promise<string[]> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const w = new ByteWriter(sink);
  for (const v of values) {
    w.number(v);
    w.byte(0x0a);
  }
  await w.drain(true);
  return Buffer.concat(chunks).toString('latin1').split('\n').slice(0, -1);
}

test('numbers: integers exact, fractions within 12 significant digits, non-finite as text', async () => {
  const rng = new Rng(3);
  const values = [0, -1, 7, 65535, 1e15 - 1, 2 ** 53, 0.5, -0.25, 81.66666666666667, 99.630985809302, 999.9999999999999, 1000.0000000001,
    0.001234, 1.5e-7, 9.999999999999e-8, 123456789012.5, 1e300 / 3, Infinity, -Infinity, NaN,
    // Next to powers of ten, where rounding to 12 digits carries into the exponent, and the ends of the digit path.
    9.9999999999995, 99.99999999999996, 0.09999999999999996, 1.00000000000005e-8, 9.9999999999e-9, 1e-8,
    999999999999.5, 9.999999999999998e15, 1.0000000000000002e16, 0.30000000000000004];
  for (let i = 0; i < 20000; i++) values.push((rng.next() - 0.5) * 10 ** (rng.int(24) - 8));
  const text = await encode(values);
  values.forEach((v, i) => {
    const t = text[i]!;
    if (Number.isNaN(v)) return assert.equal(t, 'NaN');
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return assert.equal(t, String(v));
    assert.match(t, /^-?(\d+(\.\d+)?|\d(\.\d+)?e[+-]\d+|Infinity)$/, t);
    const back = Number(t);
    assert.ok(back === v || Math.abs(back - v) <= 5e-12 * Math.abs(v), `${v} written as ${t}`);
  });
});

test('timestamps: written digit by digit, equal to the Date-based text', async () => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const w = new ByteWriter(sink);
  const rng = new Rng(5);
  const times = [0, 1499341146818.901, 951782400000, 4102444799999.999];
  for (let i = 0; i < 5000; i++) times.push(rng.next() * 4e12);
  for (const t of times) {
    w.timestamp(t);
    w.byte(0x0a);
  }
  await w.drain(true);
  const lines = Buffer.concat(chunks).toString('latin1').split('\n');
  times.forEach((t, i) => assert.equal(lines[i], cicTimestamp(t), String(t)));
});
