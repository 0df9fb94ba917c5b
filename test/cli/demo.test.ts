// `flowsentry demo` — the README's first Quick-start command — runs the whole loop on the bundled sample in under a
// minute: leaderboard, report, saved model, predictions from the saved file, flows from the sample capture; the
// bundled files it names are shown relative to the working folder only when inside it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { shownPath } from '../../src/cli/demo.js';

describe('flowsentry demo', () => {
  it('trains, reports, saves, predicts from the saved model, in under a minute', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fs-demo-')), 'flowsentry-demo');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [resolve('dist/src/cli/main.js'), 'demo', '--dir', dir], { encoding: 'utf8' });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(seconds < 60, `demo took ${seconds.toFixed(1)} s`);
    assert.match(r.stdout, /^\s+model\s+cv f1\s+test acc/m, 'prints the leaderboard');
    assert.match(r.stdout, /^\*\s+\w+/m, 'marks the best model');
    assert.match(r.stdout, new RegExp(`report: ${join(dir, 'report.html').replace(/[.+]/g, '\\$&')}`));
    assert.match(r.stdout, /predictions from the saved model: 1538 rows/);
    assert.match(r.stdout, /row 0: (attack|normal) \(score [\d.]+, true attack\) because \w+=/);
    assert.ok(existsSync(join(dir, 'model.fsm')));
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<html/i);
    const preds = readFileSync(join(dir, 'predictions.csv'), 'utf8').trim().split('\n');
    assert.equal(preds.length, 1539);
    const capture = /sample capture: (\d+) packets → (\d+) flows/.exec(r.stdout);
    assert.ok(capture, 'turns the sample capture into flows');
    assert.equal(Number(capture[1]), 2011, 'tshark counts 2011 packets in synscan.pcapng');
    assert.equal(readFileSync(join(dir, 'synscan-flows.csv'), 'utf8').trim().split('\n').length, Number(capture[2]) + 1);
    assert.match(r.stderr, /^extracting flows from the sample capture samples\/captures\/synscan\.pcapng$/m);
  });

  it('names the bundled files relative to the working folder inside it, absolute outside it (was ../../work/...)', () => {
    const capture = resolve('samples/captures/synscan.pcapng');
    assert.equal(shownPath(capture), join('samples', 'captures', 'synscan.pcapng'));
    // a folder beside the checkout, never above it (a checkout may itself lie under the temporary folder)
    assert.equal(shownPath(capture, join(tmpdir(), 'flowsentry-elsewhere')), capture);
    assert.equal(shownPath(capture, resolve('samples/captures/synscan.pcapng')), capture);
  });
});
