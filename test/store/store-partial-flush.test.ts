// The alert store when a flush fails halfway (its first statements wrote, a later one failed): only what was not
// written waits for a retry, so the backlog bound drops rows that are really lost and rowsDropped counts exactly
// those: every accepted alert is either in the store or counted as dropped, never both.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const T0 = 1_700_000_040_000 - (1_700_000_040_000 % 60_000);

type Run = (sql: string, values?: unknown) => Promise<unknown>;

/** Lets the first `statements` statements of the store's connection through, then fails every one (a disk filling up). */
function failAfter(store: AlertStore, statements: number): { restore: () => void } {
  const connection = (store as unknown as { db: { run: Run } }).db;
  const run = connection.run.bind(connection);
  let left = statements;
  connection.run = async (sql, values) => {
    if (left-- > 0) return run(sql, values);
    throw Object.assign(new Error('write failed'), { code: 'ENOSPC' });
  };
  return { restore: () => delete (connection as { run?: Run }).run };
}

describe('alert store flush that fails halfway', () => {
  it('requeues only the unwritten rows; the written ones are stored and not counted as dropped', async () => {
    const lines: string[] = [];
    const store = await AlertStore.open(':memory:', 3_600_000, (line) => lines.push(line), 300);
    // 1,000 new alerts in one minute: two INSERT statements of 500 rows, then 2 traffic cells
    for (let i = 0; i < 1000; i++) store.putAlert(makeAlert({ id: `a${i}`, timeMs: T0 + i, lastSeenMs: T0 + i }), true, { f: i });
    const disk = failAfter(store, 1);
    await store.flush();
    assert.equal(store.writeFailures, 1);
    // a0-a499 written; a500-a999 wait, 200 over the bound: a500-a699 dropped
    assert.equal(store.rowsDropped, 200);
    disk.restore();
    const { total, alerts } = await store.queryAlerts({ limit: 2000 });
    assert.equal(total + store.rowsDropped, 1000, 'every alert stored or counted as dropped');
    const stored = new Set(alerts.map((a) => a.id));
    for (let i = 0; i < 1000; i++) assert.equal(stored.has(`a${i}`), i < 500 || i >= 700, `a${i}`);
    assert.equal(await store.addFeedback('a999', 'confirmed'), true);
    assert.deepEqual((await store.feedback()).map((f) => f.input?.f), [999], 'a requeued alert keeps its model input');
    assert.deepEqual((await store.traffic(T0)).map((p) => [p.flows, p.alerts]), [[0, 1000]], 'the traffic cells, written once');
    assert.match(lines.at(-1)!, /writing again after 1 failed flushes; 200 pending rows dropped so far$/);
    await store.close();
  });

  it('a grown aggregate written before the failure is not written or dropped again; one that was not is retried', async () => {
    const store = await AlertStore.open(':memory:', 3_600_000, () => undefined, 1000);
    for (let i = 0; i < 700; i++) store.putAlert(makeAlert({ id: `a${i}`, timeMs: T0, lastSeenMs: T0 }), true);
    await store.flush();
    // all 700 grow: two UPDATE statements (500 + 200); the second fails
    for (let i = 0; i < 700; i++) store.putAlert(makeAlert({ id: `a${i}`, timeMs: T0, lastSeenMs: T0 + 1000, count: 5 }), false);
    const disk = failAfter(store, 1);
    await store.flush();
    assert.equal(store.writeFailures, 1);
    const pending = (store as unknown as { pendingAlerts: Map<string, unknown> }).pendingAlerts;
    assert.deepEqual([...pending.keys()], Array.from({ length: 200 }, (_, k) => `a${500 + k}`));
    disk.restore();
    const { alerts } = await store.queryAlerts({ limit: 1000 });
    assert.equal(alerts.length, 700);
    assert.ok(alerts.every((a) => a.count === 5));
    assert.equal(store.rowsDropped, 0);
    await store.close();
  });
});
