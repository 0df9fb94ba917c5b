// An alert id raised again (a copy of the record that opened it, after a restart or past the engine's memory of
// records): the stored row keeps its first record and counts, and adds the new aggregate's flows less the copied one;
// only the row's latest aggregate updates it; a compaction and a file from before the columns existed keep this.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AlertStore } from '../../src/store/alert-store.js';
import type { Alert } from '../../src/detect/alert.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** The fields a re-raise may change, of the store's answer for `id`. */
async function counters(store: AlertStore, id: string) {
  const a = await store.getAlert(id);
  return a && { count: a.count, timeMs: a.timeMs, lastSeenMs: a.lastSeenMs, score: a.score, stage: a.stage, flowEndMs: a.flowEndMs, feature: a.explanation[0]?.feature };
}

/** What a read shows before the flush, checked against the same read after it. */
async function flushed(store: AlertStore, id: string) {
  const before = await counters(store, id);
  await store.flush();
  assert.deepEqual(await counters(store, id), before, 'the unwritten state reads as its write leaves the row');
  return before;
}

describe('alert ids raised again', () => {
  it('add to the stored row across restarts and a compaction; a state of an earlier aggregate changes nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-reraised-')), 'alerts.duckdb');
    const first = (o: Partial<Alert>): Alert => makeAlert({ id: 'x', timeMs: T0, flowEndMs: T0, lastSeenMs: T0, score: 0.9, stage: 'early', ...o });
    let store = await AlertStore.open(path, 1e9, () => undefined, undefined, HOUR);
    store.putAlert(first({}), true);
    store.putAlert(first({ count: 4, lastSeenMs: T0 + 1000, score: 0.95, stage: 'final', flowEndMs: T0 + 900 }), false);
    assert.deepEqual(await flushed(store, 'x'), { count: 4, timeMs: T0, lastSeenMs: T0 + 1000, score: 0.95, stage: 'final', flowEndMs: T0 + 900, feature: 'Flow Duration' });

    // raised again at T1: its first flow is the row's first flow; the row's first record and highest score stay
    const T1 = T0 + 100_000;
    const again = (o: Partial<Alert>): Alert =>
      makeAlert({ id: 'x', timeMs: T1, flowEndMs: T1, lastSeenMs: T1, score: 0.5, stage: 'early', explanation: [{ feature: 'Dst Port', value: 80, contribution: 0.1, normalRange: [0, 1] }], ...o });
    store.putAlert(again({}), true);
    assert.deepEqual(await flushed(store, 'x'), { count: 4, timeMs: T0, lastSeenMs: T1, score: 0.95, stage: 'final', flowEndMs: T1, feature: 'Flow Duration' });
    store.putAlert(again({ count: 3, lastSeenMs: T1 + 500, flowEndMs: T1 + 400 }), false);
    assert.equal((await flushed(store, 'x'))?.count, 6, '3 flows before, 3 of the new aggregate');
    // a late state of the first aggregate (its row is the second's now) changes nothing
    store.putAlert(first({ count: 10, lastSeenMs: T1 + 9000 }), false);
    assert.deepEqual(await flushed(store, 'x'), { count: 6, timeMs: T0, lastSeenMs: T1 + 500, score: 0.95, stage: 'final', flowEndMs: T1 + 400, feature: 'Flow Duration' });
    await store.close();

    // a restart, then a third aggregate (2 flows); five old alerts expire and the table is compacted; it grows to 4
    store = await AlertStore.open(path, 1e9, () => undefined, undefined, HOUR);
    const T2 = T0 + 2 * HOUR;
    for (let k = 0; k < 5; k++) store.putAlert(makeAlert({ id: `old${k}`, timeMs: T0 - 2 * HOUR, lastSeenMs: T0 - 2 * HOUR }), true);
    store.putAlert(again({ timeMs: T2, lastSeenMs: T2, count: 2 }), true);
    assert.equal((await flushed(store, 'x'))?.count, 7, '5 flows before, 2 of the third aggregate');
    await store.expireOld(T2);
    // both tables compacted: alerts (5 deleted, 1 live), traffic (the cells of minutes T0 - 2 h, T0, T1; T2's live)
    assert.deepEqual([store.expired.alerts, store.expired.trafficCells, store.compactions], [5, 6, 2]);
    store.putAlert(again({ timeMs: T2, lastSeenMs: T2 + 10, count: 4 }), false);
    assert.deepEqual(await flushed(store, 'x'), { count: 9, timeMs: T0, lastSeenMs: T2 + 10, score: 0.95, stage: 'final', flowEndMs: T1 + 400, feature: 'Flow Duration' });
    assert.deepEqual(await store.topTalkers(0), [{ src: '10.0.0.1', alerts: 1, flows: 9 }]);
    await store.close();
  });

  it("an aggregate's insert written again (the same raise time) is a newer state of it, not another aggregate", async () => {
    const store = await AlertStore.open(':memory:', 1e9);
    store.putAlert(makeAlert({ id: 'r', count: 2 }), true);
    await store.flush();
    store.putAlert(makeAlert({ id: 'r', count: 3, lastSeenMs: T0 + 5 }), true);
    assert.deepEqual(await flushed(store, 'r'), { count: 3, timeMs: T0, lastSeenMs: T0 + 5, score: 0.9, stage: 'final', flowEndMs: T0, feature: 'Flow Duration' });
    await store.close();
  });

  it('a store file from before session 13 gets the columns: its rows grow and are raised again as any', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-reraised-old-')), 'alerts.duckdb');
    const instance = await DuckDBInstance.create(path);
    const db = await instance.connect();
    await db.run(`CREATE TABLE alerts (
     id VARCHAR PRIMARY KEY, time_ms DOUBLE, last_seen_ms DOUBLE, src VARCHAR, dst VARCHAR, sport INTEGER,
     dport INTEGER, proto INTEGER, label VARCHAR, category VARCHAR, score DOUBLE, stage VARCHAR, count INTEGER,
     flow_end_ms DOUBLE, body VARCHAR, input VARCHAR)`);
    const old = makeAlert({ id: 'm', count: 5 });
    await db.run(`INSERT INTO alerts VALUES ('m', ${T0}, ${T0}, '10.0.0.1', '10.0.0.2', 40000, 80, 6, 'attack', 'DoS', 0.9, 'final', 5, ${T0}, $1, NULL)`, [JSON.stringify(old)]);
    db.closeSync();
    instance.closeSync();
    const store = await AlertStore.open(path, 1e9);
    store.putAlert({ ...old, count: 7, lastSeenMs: T0 + 10 }, false);
    assert.equal((await flushed(store, 'm'))?.count, 7, 'its aggregate grows as before');
    store.putAlert({ ...old, timeMs: T0 + 60_000, lastSeenMs: T0 + 60_000, count: 1 }, true);
    assert.deepEqual(await flushed(store, 'm'), { count: 7, timeMs: T0, lastSeenMs: T0 + 60_000, score: 0.9, stage: 'final', flowEndMs: T0, feature: 'Flow Duration' });
    await store.close();
  });
});
