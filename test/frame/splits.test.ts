import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { frameTimes, parseTimestamp, stratifiedFoldAssignment, stratifiedKFold, stratifiedSplit, timeOrderedSplit } from '../../src/frame/splits.js';
import type { Frame } from '../../src/frame/frame.js';
import { UserError } from '../../src/errors.js';
import { loadFixture } from '../eval/fixtures.js';

const fixture = loadFixture<{ stratifiedKFold: { y: number[]; k: number; testFold: number[] }[] }>('metrics.json');

function counts(codes: ArrayLike<number>, rows: ArrayLike<number>, k: number): number[] {
  const out = new Array<number>(k).fill(0);
  for (let i = 0; i < rows.length; i++) out[codes[rows[i]]]++;
  return out;
}

describe('stratified train/test split', () => {
  const codes = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : i % 97 === 0 ? 2 : 0));
  it('keeps class proportions, covers every row once, is seeded', () => {
    const s = stratifiedSplit(codes, 0.3, 42);
    assert.equal(s.test.length, 300);
    assert.equal(s.train.length, 700);
    const all = [...s.train, ...s.test].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i));
    const total = counts(codes, Int32Array.from({ length: 1000 }, (_, i) => i), 3);
    const test = counts(codes, s.test, 3);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(test[k] - 0.3 * total[k]) <= 1, `class ${k}: ${test[k]} of ${total[k]}`);
    assert.deepEqual(stratifiedSplit(codes, 0.3, 42), s);
    assert.notDeepEqual(stratifiedSplit(codes, 0.3, 43).test, s.test);
  });
  it('puts a class of two rows on both sides and a singleton in train', () => {
    const c = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    const s = stratifiedSplit(c, 0.2, 1);
    assert.deepEqual(counts(c, s.test, 3).slice(1), [1, 0]);
    assert.deepEqual(counts(c, s.train, 3).slice(1), [1, 1]);
  });
  it('rejects a bad fraction', () => {
    assert.throws(() => stratifiedSplit(codes, 1.5), UserError);
  });
});

describe('stratified k-fold', () => {
  it('equals sklearn StratifiedKFold(shuffle=False) fold for fold', () => {
    for (const f of fixture.stratifiedKFold) {
      assert.deepEqual(Array.from(stratifiedFoldAssignment(f.y, f.k, false)), f.testFold);
    }
  });
  it('shuffled: same per-class fold sizes as sklearn, seeded, folds partition the rows', () => {
    for (const f of fixture.stratifiedKFold) {
      const nClasses = Math.max(...f.y) + 1;
      const expected = (assign: ArrayLike<number>): string[] =>
        Array.from({ length: f.k }, (_, fold) => counts(f.y, f.y.map((_, i) => i).filter((i) => assign[i] === fold), nClasses).join(','));
      const shuffled = stratifiedFoldAssignment(f.y, f.k, true, 9);
      assert.deepEqual(expected(shuffled).sort(), expected(f.testFold).sort());
      assert.deepEqual(stratifiedFoldAssignment(f.y, f.k, true, 9), shuffled);
      const splits = stratifiedKFold(f.y, f.k, true, 9);
      const seen = new Array<number>(f.y.length).fill(0);
      for (const s of splits) {
        for (const i of s.test) seen[i]++;
        assert.equal(s.train.length + s.test.length, f.y.length);
      }
      assert.ok(seen.every((v) => v === 1));
    }
  });
  it('refuses more folds than the largest class has rows', () => {
    assert.throws(() => stratifiedFoldAssignment([0, 0, 1], 3), UserError);
  });
});

describe('time-ordered split', () => {
  it('trains on the earliest rows', () => {
    const s = timeOrderedSplit([5, 1, 4, 2, 3, 2], 0.5);
    assert.deepEqual(Array.from(s.train), [1, 3, 5]);
    assert.deepEqual(Array.from(s.test), [4, 2, 0]);
  });
  it('parses CIC and ISO timestamps from a frame identifier column', () => {
    assert.equal(parseTimestamp('2017-07-07 13:39:36.25'), Date.UTC(2017, 6, 7, 13, 39, 36) / 1000 + 0.25);
    assert.equal(parseTimestamp('7/7/2017 1:39 PM'), Date.UTC(2017, 6, 7, 13, 39) / 1000);
    assert.equal(parseTimestamp('3/7/2017 12:05:01 AM'), Date.UTC(2017, 6, 3, 0, 5, 1) / 1000);
    const frame: Frame = {
      nRows: 3,
      features: [],
      identifiers: [{ kind: 'categorical', name: 'Timestamp', codes: Int32Array.from([1, 0, 1]), dictionary: ['2017-07-07 10:00:00', '2017-07-06 10:00:00'] }],
      source: { format: 'csv', files: [], dropped: [], skipped: [] },
    };
    const times = frameTimes(frame);
    assert.deepEqual(Array.from(timeOrderedSplit(times, 0.67).train), [0, 2]);
    const bad: Frame = { ...frame, identifiers: [{ kind: 'categorical', name: 'Timestamp', codes: Int32Array.from([0]), dictionary: ['yesterday'] }] };
    assert.throws(() => frameTimes(bad), /yesterday/);
    assert.throws(() => frameTimes({ ...frame, identifiers: [] }), UserError);
  });
  it('orders by the seconds of a time column, fractions included (Float32 would tie them)', () => {
    const base = 1499344746;
    const seconds = Float64Array.from([base + 0.5, base + 0.000001, base + 3, base, base + 0.25, base + 0.000001]);
    const frame: Frame = { nRows: 6, features: [], identifiers: [{ kind: 'time', name: 'Timestamp', seconds }], source: { format: 'csv', files: [], dropped: [], skipped: [] } };
    assert.ok(new Set(Array.from(seconds, Math.fround)).size < 3);
    const split = timeOrderedSplit(frameTimes(frame), 0.5);
    assert.deepEqual(Array.from(split.train), [3, 1, 5]);
    assert.deepEqual(Array.from(split.test), [4, 0, 2]);
  });
});
