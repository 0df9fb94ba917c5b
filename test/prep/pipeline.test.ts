// Transformers and the Pipeline against scikit-learn (test/fixtures/sklearn/prep.json) and hand-computed cases.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Column, Frame } from '../../src/frame/frame.js';
import { Pipeline } from '../../src/prep/pipeline.js';
import { fitStandardScaler } from '../../src/prep/standard-scaler.js';
import { fitMinMaxScaler } from '../../src/prep/minmax-scaler.js';
import { fitRobustScaler } from '../../src/prep/robust-scaler.js';
import { fitImputer } from '../../src/prep/imputer.js';
import { uniqueRows } from '../../src/prep/dedup-rows.js';
import { UserError } from '../../src/errors.js';
import { decodeState, encodeState } from '../../src/store/state-codec.js';
import { assertClose, loadFixture } from '../eval/fixtures.js';

interface PrepFixture {
  X: number[][];
  XTest: number[][];
  scalers: Record<'standard' | 'minmax' | 'robust', { center: number[]; scale: number[]; test: number[][] }>;
  missing: (number | null)[][];
  imputers: Record<'median' | 'mean', number[]>;
  onehot: { train: string[][]; test: string[][]; names: string[]; encoded: number[][] };
}
const fx = loadFixture<PrepFixture>('prep.json');

const num = (name: string, values: ArrayLike<number>): Column => ({ kind: 'numeric', name, values: Float32Array.from(values) });
function cat(name: string, values: readonly string[]): Column {
  const dictionary = [...new Set(values)];
  return { kind: 'categorical', name, dictionary, codes: Int32Array.from(values, (v) => dictionary.indexOf(v)) };
}
function frame(features: Column[], files: string[] = []): Frame {
  const nRows = features[0].kind === 'numeric' ? features[0].values.length : features[0].codes.length;
  return { nRows, features, identifiers: [], source: { format: 'csv', files, dropped: [], skipped: [] } };
}
const columnOf = (rows: number[][], j: number): number[] => rows.map((r) => r[j]);
const fixtureFrame = (rows: number[][]): Frame => frame(rows[0].map((_, j) => num(`f${j}`, columnOf(rows, j))));

describe('scalers equal scikit-learn', () => {
  const fits = { standard: fitStandardScaler, minmax: fitMinMaxScaler, robust: fitRobustScaler } as const;
  for (const name of ['standard', 'minmax', 'robust'] as const) {
    it(`${name}: center/scale to 1e-9, transform to float32 precision`, () => {
      const expected = fx.scalers[name];
      for (let j = 0; j < fx.X[0].length; j++) {
        const s = fits[name](Float64Array.from(columnOf(fx.X, j)));
        assertClose([s.center, s.scale], [expected.center[j], expected.scale[j]], 1e-9, `${name} column ${j}`);
      }
      const p = Pipeline.fit(fixtureFrame(fx.X), { scaler: name, dropConstant: false, dropDuplicateColumns: false });
      const m = p.transform(fixtureFrame(fx.XTest));
      assert.equal(m.cols, 5);
      for (let i = 0; i < m.rows; i++) {
        for (let j = 0; j < m.cols; j++) {
          const e = expected.test[i][j];
          const a = m.data[i * m.cols + j];
          assert.ok(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)) + 1e-4 * (j === 4 ? 1 : 0), `${name} [${i},${j}]: ${a} vs ${e}`);
        }
      }
    });
  }
});

describe('imputer', () => {
  it('median and mean of the observed values equal SimpleImputer', () => {
    for (const strategy of ['median', 'mean'] as const) {
      const stats = fx.missing[0].map((_, j) => fitImputer(Float64Array.from(fx.missing, (r) => r[j] ?? Number.NaN), strategy, 'missing').fill);
      assertClose(stats, fx.imputers[strategy], 1e-9, strategy);
    }
  });
  it('±Infinity clipped to the finite training range, or imputed as missing', () => {
    const train = frame([num('rate', [1, 5, Infinity, -Infinity, Number.NaN, 3])]);
    const clip = Pipeline.fit(train, { scaler: 'none' });
    assert.deepEqual(Array.from(clip.transform(train).data), [1, 5, 5, 1, 3, 3]);
    assert.deepEqual(clip.imputed, [{ name: 'rate', nan: 1, posInf: 1, negInf: 1 }]);
    const missing = Pipeline.fit(train, { scaler: 'none', infinity: 'missing', impute: 'mean' });
    assert.deepEqual(Array.from(missing.transform(train).data), [1, 5, 3, 3, 3, 3]);
    const zero = Pipeline.fit(train, { scaler: 'none', infinity: 'missing', impute: 'zero' });
    assert.deepEqual(Array.from(zero.transform(train).data), [1, 5, 0, 0, 0, 3]);
  });
});

describe('one-hot', () => {
  it('equals OneHotEncoder(handle_unknown="ignore"): sorted categories, unseen → all zeros', () => {
    const { train, test, names, encoded } = fx.onehot;
    const toFrame = (rows: string[][]): Frame => frame([cat('protocol_type', columnOf(rows as never, 0) as never), cat('service', columnOf(rows as never, 1) as never)]);
    const p = Pipeline.fit(toFrame(train));
    assert.deepEqual(p.columns, names.map((n) => n.replace(/^(protocol_type|service)_/, '$1=')));
    const m = p.transform(toFrame(test));
    assert.deepEqual(Array.from(m.data), encoded.flat());
  });
  it('keeps the most frequent categories when there are too many', () => {
    const p = Pipeline.fit(frame([cat('svc', ['a', 'b', 'b', 'c', 'c', 'c'])]), { maxCategories: 2 });
    assert.deepEqual(p.columns, ['svc=b', 'svc=c']);
    assert.deepEqual(Array.from(p.transform(frame([cat('svc', ['a', 'c'])])).data), [0, 0, 0, 1]);
  });
});

describe('pipeline', () => {
  const train = frame([
    num('Total Fwd Packet', [1, 2, 3, 4]),
    num('zeros', [0, 0, 0, 0]),
    num('copy', [1, 2, 3, 4]),
    num('Flow Bytes/s', [0, 10, 100, 1000]),
    cat('proto', ['tcp', 'udp', 'tcp', 'icmp']),
  ]);

  it('drops constant and duplicated columns and says why', () => {
    const p = Pipeline.fit(train);
    assert.deepEqual(p.dropped, [
      { name: 'zeros', reason: 'constant', detail: 'always 0' },
      { name: 'copy', reason: 'duplicate', detail: 'same values as Total Fwd Packet' },
    ]);
    assert.deepEqual(p.columns, ['Total Fwd Packet', 'Flow Bytes/s', 'proto=icmp', 'proto=tcp', 'proto=udp']);
  });

  it('fits on the training rows only', () => {
    const p = Pipeline.fit(train, { scaler: 'minmax' }, [0, 1]);
    // minmax fitted on rows 0-1 (1..2): rows 2-3 map above 1; 'copy' is still a duplicate, 'proto' one-hot of tcp/udp
    const m = p.transform(train, [3, 2]);
    assert.deepEqual(Array.from(m.data.subarray(0, 2)), [3, 100]);
    assert.deepEqual(p.columns.slice(2), ['proto=tcp', 'proto=udp']);
    assert.deepEqual(Array.from(m.data.subarray(2, 4)), [0, 0], 'icmp was not in the training rows');
  });

  it('no usable column in the rows it fits on: the error counts them and says they may be part of the data', () => {
    // the normal rows a detector fits on were all one row repeated; the line said 'in the training rows'
    const data = frame([num('a', [1, 1, 1, 5]), num('b', [2, 2, 2, 7])]);
    assert.throws(() => Pipeline.fit(data, {}, [0, 1, 2]), {
      message: 'no usable feature columns: every column is constant or a duplicate in the 3 rows the preprocessing was fitted on (part of the training data: a cross-validation fold, or the normal rows detectors fit on)',
    });
    assert.throws(() => Pipeline.fit(frame([num('a', [1, 1])])), { message: 'no usable feature columns: every column is constant or a duplicate in the 2 rows the preprocessing was fitted on' });
  });

  it('log1p on non-negative columns', () => {
    const p = Pipeline.fit(train, { scaler: 'none', log1p: true });
    const m = p.transform(train);
    assert.equal(m.data[1 * m.cols + 1], Math.fround(Math.log1p(10)));
    const named = Pipeline.fit(train, { scaler: 'none', log1p: ['Flow Byts/s'] });
    assert.equal(named.transform(train).data[0], 1, 'only the named column (matched through CIC aliases) is logged');
  });

  it('matches CIC naming variants and names missing columns', () => {
    const p = Pipeline.fit(train);
    const original = frame([cat('proto', ['udp']), num('Flow Byts/s', [10]), num(' Total Fwd Packets', [2])]);
    assert.deepEqual(p.transform(original).data, p.transform(train, [1]).data);
    const lacking = frame([num('Flow Bytes/s', [1])], ['new.csv']);
    assert.throws(() => p.transform(lacking), (e: unknown) => e instanceof UserError && /new\.csv.*lacks 2 columns.*Total Fwd Packet, proto/.test(e.message));
  });

  it('reads a number-only text column as numbers and rejects real text', () => {
    const p = Pipeline.fit(frame([num('x', [1, 2, 3])]), { scaler: 'none' });
    assert.deepEqual(Array.from(p.transform(frame([cat('x', ['7', '8'])])).data), [7, 8]);
    assert.throws(() => p.transform(frame([cat('x', ['7', 'oops'])])), /oops/);
  });

  it('round-trips through the state codec with identical output', () => {
    const p = Pipeline.fit(train, { scaler: 'robust', log1p: true, scaleOneHot: true });
    const q = Pipeline.fromState(decodeState(encodeState(p.getState())));
    assert.deepEqual(q.transform(train).data, p.transform(train).data);
    assert.deepEqual(q.columns, p.columns);
    assert.deepEqual(q.dropped, p.dropped);
  });

  it('writes into a given buffer', () => {
    const p = Pipeline.fit(train);
    const out = new Float32Array(new SharedArrayBuffer(4 * 4 * p.columns.length));
    const m = p.transform(train, undefined, out);
    assert.equal(m.data, out);
    assert.deepEqual(out, p.transform(train).data);
  });
});

describe('row de-duplication', () => {
  it('keeps first occurrences; NaN equals NaN; labels make rows distinct', () => {
    const f = frame([num('a', [1, 1, Number.NaN, Number.NaN, 0, -0]), cat('b', ['x', 'x', 'y', 'y', 'z', 'z'])]);
    assert.deepEqual(Array.from(uniqueRows(f)), [0, 2, 4]);
    assert.deepEqual(Array.from(uniqueRows(f, Int32Array.from([0, 1, 0, 0, 0, 0]))), [0, 1, 2, 4]);
  });
});
