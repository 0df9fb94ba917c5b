// A candidate that was cross-validated but failed on all training rows (a detector with too few normal rows left to
// calibrate on) kept its CV score in the terminal leaderboard with empty test cells, and the reason was only in --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaderboardText } from '../../src/workflow/leaderboard.js';
import { sampleRunResult } from '../report/run-result-fixture.js';

test('the leaderboard says why a cross-validated candidate has no test metrics', () => {
  const r = sampleRunResult();
  const failed = r.candidates.find((c) => c.error);
  assert.ok(failed && failed.cv[r.metric], 'the fixture has a cross-validated candidate that failed');
  failed.error = `${failed.name}: needs normal training rows to fit and calibrate on; only 16 normal rows`;
  const lines = leaderboardText(r).split('\n');
  assert.deepEqual(
    lines.filter((l) => l.includes('failed on all training rows')),
    [`${failed.name}: cross-validated, then failed on all training rows (not saved): needs normal training rows to fit and calibrate on; only 16 normal rows`],
  );
  for (const c of r.candidates) if (c !== failed) assert.ok(!lines.some((l) => l.startsWith(`${c.name}: `)), `${c.name} trained: no line`);
});

test('a candidate that failed in cross-validation shows "failed" in its row and the whole reason under the table', () => {
  const r = sampleRunResult();
  const [refused] = r.candidates.filter((c) => !c.error);
  refused.cv = {};
  refused.test = null;
  refused.error = `${refused.name}: too few normal rows: the training rows hold 16, a detector needs 50 (5 held out to set its threshold, in the final fit and in each of the 2 CV folds); not trained`;
  const lines = leaderboardText(r).split('\n');
  const row = lines.find((l) => l.split(/\s+/).includes(refused.name) && !l.startsWith(`${refused.name}: `));
  assert.ok(row, lines.join('\n'));
  assert.deepEqual(row.trim().split(/\s+/).slice(1, 3), [refused.name, 'failed']);
  assert.ok(lines.includes(`${refused.name}: failed (not saved): ${refused.error.replace(`${refused.name}: `, '')}`), lines.join('\n'));
});
