// The alert store's backlog while its flushes keep failing (a full disk): what waits for a retry is bounded by
// maxPendingRows per table (alert rows, traffic cells), the oldest go first, every dropped row is counted
// (rowsDropped) and the drop is logged once; when writes work again the newest rows are written.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertStore, DEFAULT_MAX_PENDING_ROWS } from '../../src/store/alert-store.js';
import { loadConfig } from '../../src/serve/config.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-store-backlog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_040_000 - (1_700_000_040_000 % 60_000);

// As test/cli/output-store.test.ts: a file size limit makes every flush of this child fail.
const CHILD = `
const { AlertStore } = await import(${JSON.stringify(new URL('../../src/store/alert-store.js', import.meta.url).href)});
const { makeAlert } = await import(${JSON.stringify(new URL('../detect/alert-fixtures.js', import.meta.url).href)});
const lines = [];
const store = await AlertStore.open(process.argv[1], 60_000, (line) => lines.push(line), 5000);
let n = 0;
for (let round = 0; round < 8; round++) {
  for (let i = 0; i < 3000; i++, n++) {
    store.putAlert(makeAlert({ id: 'a' + n, timeMs: ${T0} + n * 1000, label: 'x'.repeat(1000) }), true, { f: n });
    store.countFlows(${T0} + n * 1000, 1);
  }
  await store.flush();
}
console.log(JSON.stringify({ failures: store.writeFailures, dropped: store.rowsDropped, lines }));
`;

describe('alert store backlog on a disk that takes no writes', () => {
  it('holds at most maxPendingRows alerts, drops and counts the rest, logs the drop once', () => {
    const path = join(dir, 'alerts.duckdb');
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 2000 && exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', CHILD, path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { failures, dropped, lines } = JSON.parse(r.stdout) as { failures: number; dropped: number; lines: string[] };
    assert.equal(failures, 8, 'every flush failed');
    // 24,000 alerts, 5,000 kept; traffic: 400 minutes × 2 cells (all flows, DoS), under the bound
    assert.equal(dropped, 24_000 - 5000);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /cannot write: .*File too large; alerts kept in memory and retried at each flush$/);
    assert.equal(lines[1], `store ${path}: more than 5000 alert rows or traffic cells wait for a write; the oldest are dropped (counted in the summary as storeRowsDropped)`);
  });

  it('drops the alerts first accepted and the earliest minutes of traffic; the rest is written once the disk takes writes again', async () => {
    const lines: string[] = [];
    const store = await AlertStore.open(':memory:', 3_600_000, (line) => lines.push(line), 10);
    const connection = (store as unknown as { db: { run: unknown } }).db;
    const full = async (): Promise<never> => {
      throw Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    };
    connection.run = full;
    // 15 alerts, one per minute: 15 alert rows and 30 traffic cells (all flows, DoS) pending
    for (let i = 0; i < 15; i++) store.putAlert(makeAlert({ id: `a${i}`, timeMs: T0 + i * 60_000, lastSeenMs: T0 + i * 60_000 }), true, { f: i });
    await store.flush();
    assert.equal(store.writeFailures, 1);
    assert.equal(store.rowsDropped, 5 + 20, 'a0-a4, and minutes 0-9 of traffic');
    // while the disk is full: a kept alert grows, a new one arrives
    store.putAlert(makeAlert({ id: 'a14', timeMs: T0 + 14 * 60_000, lastSeenMs: T0 + 16 * 60_000, count: 7 }), false);
    store.putAlert(makeAlert({ id: 'a15', timeMs: T0 + 15 * 60_000, lastSeenMs: T0 + 15 * 60_000 }), true, { f: 15 });
    await store.flush();
    assert.equal(store.rowsDropped, 25 + 1 + 2, 'then a5, and minute 10');
    delete connection.run; // the prototype's run again: the disk takes writes
    const { total, alerts } = await store.queryAlerts({ limit: 100 });
    assert.equal(total, 10);
    assert.deepEqual(alerts.map((a) => a.id).sort(), ['a10', 'a11', 'a12', 'a13', 'a14', 'a15', 'a6', 'a7', 'a8', 'a9']);
    assert.equal(alerts.find((a) => a.id === 'a14')?.count, 7, 'the grown aggregate, not the version the failed flush held');
    const traffic = await store.traffic(T0);
    assert.deepEqual(traffic.map((p) => [(p.minuteMs - T0) / 60_000, p.alerts, p.byCategory.DoS]), [11, 12, 13, 14, 15].map((m) => [m, 1, 1]));
    assert.equal(await store.addFeedback('a6', 'confirmed'), true);
    assert.equal(await store.addFeedback('a15', 'confirmed'), true);
    const inputs = (await store.feedback()).map((f) => f.input?.f).sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(inputs, [6, 15], 'kept alerts keep their model input');
    assert.deepEqual(lines, [
      'store :memory:: cannot write: ENOSPC (no space left on device); alerts kept in memory and retried at each flush',
      'store :memory:: more than 10 alert rows or traffic cells wait for a write; the oldest are dropped (counted in the summary as storeRowsDropped)',
      'store :memory:: writing again after 2 failed flushes; 28 pending rows dropped so far',
    ]);
    await store.close();
  });

  it('counts an alert lost once, however often its growing aggregate is dropped again; a dropped update of a stored alert is no loss', async () => {
    const store = await AlertStore.open(':memory:', 3_600_000, () => undefined, 2);
    const connection = (store as unknown as { db: { run: unknown } }).db;
    // s0 is stored before the disk fills
    store.putAlert(makeAlert({ id: 's0', timeMs: T0, lastSeenMs: T0 }), true);
    await store.flush();
    connection.run = async (): Promise<never> => {
      throw Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    };
    // all in one minute: 2 traffic cells (all flows, DoS), within the bound; only alert rows are dropped
    const put = (id: string, count: number, isNew: boolean): void => store.putAlert(makeAlert({ id, timeMs: T0, lastSeenMs: T0 + count, count }), isNew);
    put('a0', 1, true);
    put('a1', 1, true);
    put('a2', 1, true);
    await store.flush();
    assert.equal(store.rowsDropped, 1, 'a0 lost');
    put('a0', 2, false); // a0's aggregate grows: it waits again, behind a1 and a2
    await store.flush();
    assert.equal(store.rowsDropped, 2, 'then a1');
    put('s0', 5, false); // the stored alert grows
    await store.flush();
    put('a3', 1, true);
    await store.flush();
    put('a4', 1, true);
    await store.flush();
    // a2, the grown a0 and s0's update went beyond the bound too; only a2 is one more alert that is not in the store
    assert.equal(store.rowsDropped, 3, 'a0, a1, a2: each alert lost counted once');
    put('s0', 9, false); // s0 grows again, after its dropped update
    delete connection.run; // the disk takes writes again
    const { total, alerts } = await store.queryAlerts({ limit: 100 });
    assert.deepEqual(alerts.map((a) => a.id).sort(), ['a3', 'a4', 's0']);
    assert.equal(total + store.rowsDropped, 6, 'every alert accepted is stored or counted lost, never both, never twice');
    assert.equal(alerts.find((a) => a.id === 's0')?.count, 9, 'the latest state of the stored aggregate');
    await store.close();
  });

  it('refuses a bound that is not a positive integer', async () => {
    await assert.rejects(AlertStore.open(':memory:', 1000, () => undefined, 0), /maxPendingRows must be a positive integer, got 0/);
  });

  it('serve and detect take the bound from the config file key storeMaxPending, by default the store\'s', () => {
    assert.equal(loadConfig({ model: 'm.fsm' }, undefined, {}).storeMaxPending, DEFAULT_MAX_PENDING_ROWS);
    const file = join(dir, 'flowsentry.json');
    writeFileSync(file, JSON.stringify({ model: 'm.fsm', storeMaxPending: 500 }));
    assert.equal(loadConfig({}, file, {}).storeMaxPending, 500);
    writeFileSync(file, JSON.stringify({ model: 'm.fsm', storeMaxPending: 0 }));
    assert.throws(() => loadConfig({}, file, {}), /flowsentry\.json: invalid configuration: storeMaxPending: /);
  });
});
