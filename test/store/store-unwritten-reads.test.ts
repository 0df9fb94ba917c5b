// Reads do not flush: the store lays the alerts not yet written (pending, or in the flush in progress) over its rows,
// and adds the pending traffic counts to the stored ones. The truth is the same read after a flush: every page,
// total, filter, verdict, traffic point and top talker must be the same.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertStore, type AlertQuery } from '../../src/store/alert-store.js';
import type { Alert } from '../../src/detect/alert.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const T0 = 1_700_000_000_000;

/** Rows in the alerts table itself (not what a read shows). */
async function storedRows(store: AlertStore): Promise<number> {
  const db = (store as unknown as { db: { runAndReadAll: (sql: string) => Promise<{ getRowObjectsJson: () => { n: number }[] }> } }).db;
  return Number((await db.runAndReadAll('SELECT count(*)::INTEGER AS n FROM alerts')).getRowObjectsJson()[0].n);
}

const QUERIES: AlertQuery[] = [];
for (const filter of [{}, { sinceMs: T0 + 150_000 }, { untilMs: T0 + 90_000 }, { src: '10.0.3.1' }, { label: 'scan' }, { category: 'DoS', stage: 'early' }, { minScore: 0.7 }, { dst: '10.9.9.9' }]) {
  for (const [limit, offset] of [[50, 0], [10, 0], [10, 5], [7, 40], [100, 150], [0, 0], [20, 400], [1000, 0]]) QUERIES.push({ ...filter, limit, offset });
}

describe('alert reads over unwritten alerts', () => {
  it('page, total and verdicts equal the same read after the flush, pending and in-flight alike; the read writes nothing', async () => {
    const store = await AlertStore.open(join(mkdtempSync(join(tmpdir(), 'fs-unwritten-')), 'alerts.duckdb'), 3_600_000, () => undefined);
    let state = 11;
    const rand = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const latest = new Map<string, Alert>();
    let flows = 0;
    let next = 0;
    const raise = (): Alert => {
      const n = next++;
      const t = T0 + Math.floor(rand() * 200) * 1000; // equal last-seen times are common: the id breaks the tie
      const a = makeAlert({
        id: `a${String(n).padStart(4, '0')}`, timeMs: t, lastSeenMs: t, flowEndMs: t, src: `10.0.${n % 7}.1`,
        score: n === 5 ? Number.NaN : Math.round(rand() * 100) / 100, label: rand() < 0.3 ? 'scan' : 'attack',
        category: rand() < 0.5 ? 'DoS' : 'Probe', stage: rand() < 0.4 ? 'early' : 'final',
      });
      latest.set(a.id, a);
      store.putAlert(a, true, { x: n });
      store.countFlows(t, 1 + (n % 4));
      flows += 1 + (n % 4);
      return a;
    };
    const grow = (id: string): void => {
      const a = latest.get(id)!;
      const g: Alert = { ...a, count: a.count + 1 + Math.floor(rand() * 5), lastSeenMs: a.lastSeenMs + Math.floor(rand() * 60) * 1000, score: Math.max(a.score, 0.95), stage: 'final' };
      latest.set(id, g);
      store.putAlert(g, false);
    };
    /** The same id raised again later (a copy of its first record after the engine forgot it): a new aggregate. */
    const reraise = (id: string): void => {
      const a = latest.get(id)!;
      const t = a.lastSeenMs + 1000 + Math.floor(rand() * 60) * 1000;
      const again: Alert = { ...a, timeMs: t, lastSeenMs: t, flowEndMs: t, count: 1 + Math.floor(rand() * 3), score: Math.round(rand() * 100) / 100, stage: 'early' };
      latest.set(id, again);
      store.putAlert(again, true);
    };
    const readAll = async (): Promise<unknown[]> =>
      Promise.all([
        ...QUERIES.map((q) => store.queryAlerts(q)),
        ...[0, 30, 120].map((minutes) => store.traffic(T0 + minutes * 60_000)),
        ...[[0, 10], [T0 + 100_000, 3], [T0 + 190_000, 1], [T0 + 10_000_000, 5]].map(([since, n]) => store.topTalkers(since, n)),
        ...['a0003', 'a0230', 'a0900', 'nope'].map((id) => store.getAlert(id)),
      ]);

    for (let i = 0; i < 200; i++) raise();
    await store.flush();
    assert.equal(await store.addFeedback('a0003', 'confirmed'), true);
    // pending: 60 new alerts, 80 stored ones grown, one new alert grown again, and the update of a row never stored
    for (let i = 0; i < 60; i++) raise();
    for (let i = 0; i < 80; i++) grow(`a${String(Math.floor(rand() * 200)).padStart(4, '0')}`);
    grow('a0230');
    store.putAlert(makeAlert({ id: 'a0900', lastSeenMs: T0 + 500_000 }), false);
    assert.equal(await store.addFeedback('a0230', 'false_positive'), true, 'an unwritten alert exists for feedback');
    assert.equal(await store.addFeedback('a0900', 'confirmed'), false, 'an update of a row that is not stored is no alert');
    const before = await readAll();
    assert.equal(await storedRows(store), 200, 'the reads wrote nothing');
    assert.equal((before[0] as { total: number }).total, 260);
    const sum = (xs: { flows: number }[]): number => xs.reduce((k, x) => k + x.flows, 0);
    assert.equal(sum(before[QUERIES.length] as { flows: number }[]), flows, 'every flow counted, pending ones too');
    assert.equal(sum(before[QUERIES.length + 3] as { flows: number }[]), [...latest.values()].reduce((k, a) => k + a.count, 0), 'every alerting flow of the 7 sources');
    await store.flush();
    assert.deepEqual(before, await readAll());

    // a flush in progress: the reads start while it writes, each statement's rows leave its map as they are written
    for (let i = 0; i < 1200; i++) raise();
    for (let i = 0; i < 300; i++) grow(`a${String(Math.floor(rand() * 1400)).padStart(4, '0')}`);
    // stored ids raised again, some growing after: the flush adds them to their rows while the reads run
    for (let i = 0; i < 60; i++) reraise(`a${String(Math.floor(rand() * 200)).padStart(4, '0')}`);
    for (let i = 0; i < 30; i++) grow(`a${String(Math.floor(rand() * 200)).padStart(4, '0')}`);
    const flushing = store.flush();
    const during = await readAll();
    await flushing;
    assert.deepEqual(during, await readAll());
    assert.equal((during[0] as { total: number }).total, 1460);
    await store.close();
  });
});
