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

/** The writer's text of a number, built with strings: integers below 1e15 as String(v); other finite values in
 * [1e-8, 1e15) rounded to 12 significant digits as Math.round(|v| * 10^(11 - e)) (powers as the `**` operator gives
 * them, e the decimal exponent), trailing zeros of the decimals dropped; anything else as String(v). */
function twelveDigitText(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const x = Math.abs(v);
  if (!(x >= 10 ** -8 && x < 10 ** 16)) return String(v);
  let e = 15;
  while (x < 10 ** e) e--;
  let scaled = Math.round(x * 10 ** (11 - e));
  if (scaled >= 10 ** 12) scaled = Math.round(x * 10 ** (11 - ++e));
  else if (scaled < 10 ** 11) scaled = Math.round(x * 10 ** (11 - --e));
  if (e < -7 || e > 14) return String(v);
  const digits = String(scaled);
  const sign = v < 0 ? '-' : '';
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits.replace(/(?<=.)0+$/, '')}`;
  const whole = digits.padEnd(e + 1, '0').slice(0, e + 1);
  const decimals = digits.slice(e + 1).replace(/0+$/, '');
  return `${sign}${whole}${decimals ? `.${decimals}` : ''}`;
}

test('numbers: the same text as a string-built formatter of the same rounding (point, zeros, 13-15 digit integer parts)', async () => {
  const rng = new Rng(9);
  const values = [0.025, 0.1, 1.5, 10.25, 16166.666666666666, 34.090909090909086, 1234567890123.5, 99999999999999.9, 123456789012.5,
    999999999999.5, 1e-8, 1.00000000000005e-8, 0.30000000000000004, -0.001, -1234.5, 5e-9, 1e16, 9.9999999999995, 0.09999999999999996];
  for (let i = 0; i < 30000; i++) {
    // a few or many significant digits (trailing zeros), decades 1e-8 to 1e14, some negative
    const digits = 1 + rng.int(13);
    const v = (Math.floor(rng.next() * 10 ** digits) / 10 ** (digits - 1)) * 10 ** (rng.int(23) - 8);
    values.push(rng.next() < 0.1 ? -v : v, v + 0.5);
  }
  const text = await encode(values);
  values.forEach((v, i) => assert.equal(text[i], twelveDigitText(v), String(v)));
});
