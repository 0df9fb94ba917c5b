// The "try eps≈" hint of a fit where every row is noise: a core row has min_samples rows within eps, itself included
// (scikit-learn's DBSCAN), so the k-distance to read eps from is that to the (min_samples − 1)-th nearest other row,
// what scikit-learn's NearestNeighbors(n_neighbors=min_samples).kneighbors(X) gives in its last column (its first
// neighbour of a row is the row itself). The hint used min_samples, one neighbour too far.
// Truth, by hand, for the rows 0, 1, 2, 4, 8, 16 and min_samples 3: the distances to the second nearest other row are
// 2, 1, 2, 3, 6, 12 (sklearn 1.2.1's k-distance column is the same); sorted 1, 2, 2, 3, 6, 12, the chord from 1 to 12
// passes i = 0..5 at 1, 3.2, 5.4, 7.6, 9.8, 12, farthest above the curve at i = 3 (gap 4.6): eps 3. With eps 3 the
// rows 0, 1, 2, 4 are one cluster and 8, 16 noise (sklearn: labels 0 0 0 0 -1 -1). The old hint read the third
// nearest other row (2, 3, 4, 4, 7, 14 sorted; knee 4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matrixFromRows } from '../../src/frame/matrix.js';
import { DbscanDetector, suggestEps } from '../../src/models/dbscan.js';

const X = matrixFromRows([[0], [1], [2], [4], [8], [16]]);

describe('dbscan eps hint', () => {
  it('suggestEps(X, min_samples − 1) reads the k-distance scikit-learn counts', async () => {
    const { eps, kDistances } = await suggestEps(X, 2);
    assert.deepEqual([...kDistances], [1, 2, 2, 3, 6, 12]);
    assert.equal(eps, 3);
  });

  it('an all-noise fit suggests that eps, and the suggestion clusters the rows', async () => {
    await assert.rejects(new DbscanDetector({ eps: 0.5, min_samples: 3 }).fit(X), (err: Error) => {
      assert.equal(err.message, 'dbscan: no core rows with eps=0.5 and min_samples=3 (every row is noise); try eps≈3.00 (k-distance knee; train takes it as --param dbscan.eps=3.00)');
      return true;
    });
    const model = await new DbscanDetector({ eps: 3, min_samples: 3 }).fit(X);
    assert.deepEqual([...model.labels], [0, 0, 0, 0, -1, -1]);
  });
});
