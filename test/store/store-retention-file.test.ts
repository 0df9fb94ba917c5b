// The alert store's file under a retention: DuckDB does not reuse the space of rows deleted from a table with a
// primary key, so the store compacts a table once its deleted rows outnumber the live ones. Hours of simulated alerts
// keep the file within a bound set by the live rows alone, and no live alert or feedback is lost on the way; a
// compaction that cannot write is one log line and the store goes on.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { AlertStore } from '../../src/store/alert-store.js';
import type { Alert } from '../../src/detect/alert.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const MINUTE = 60_000;
const T0 = 1_700_000_040_000 - (1_700_000_040_000 % MINUTE);

/**
 * The store's file. Its write-ahead log is not counted: DuckDB checkpoints it into the file once it passes its
 * checkpoint threshold (16 MB), whatever the retention.
 */
function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * Makes the statements `failing` picks fail with ENOSPC on the connections the store opens from now on (its
 * compactions run on their own connection). Deleting `connect` from the returned instance undoes it.
 */
function failOnCompactionConnections(store: AlertStore, failing: (sql: string) => boolean): { connect?: unknown } {
  const instance = (store as unknown as { instance: { connect: () => Promise<DuckDBConnection> } }).instance;
  const connect = instance.connect.bind(instance);
  instance.connect = async () => {
    const connection = await connect();
    const run = connection.run.bind(connection);
    connection.run = (async (sql: string) => {
      if (failing(sql)) throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
      return run(sql);
    }) as DuckDBConnection['run'];
    return connection;
  };
  return instance;
}

function alertAt(n: number, timeMs: number): Alert {
  return makeAlert({ id: `alert-${n}`, timeMs, lastSeenMs: timeMs, flowEndMs: timeMs, src: `10.${(n >> 8) & 255}.${n & 255}.1` });
}

describe('alert store file under a retention', () => {
  it('stays within 3x the live rows over six retentions, keeping every live alert and every feedback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-retention-'));
    const path = join(dir, 'alerts.duckdb');
    const retentionMinutes = 10;
    const perMinute = 1000;
    const minutes = 6 * retentionMinutes;
    const store = await AlertStore.open(path, 3_600_000, () => undefined, undefined, retentionMinutes * MINUTE);
    const latest = new Map<string, Alert>();
    const withFeedback: string[] = [];
    let n = 0;
    let maxBytes = 0;
    for (let minute = 0; minute < minutes; minute++) {
      const start = T0 + minute * MINUTE;
      for (let k = 0; k < perMinute; k++) {
        const alert = alertAt(n++, start + k * 50);
        store.putAlert(alert, true, { f: k });
        latest.set(alert.id, alert);
      }
      await store.flush();
      // the first 300 of the minute grow: an update of their counters (the upsert that needs the primary key)
      for (let k = 0; k < 300; k++) {
        const first = latest.get(`alert-${n - perMinute + k}`)!;
        const grown = { ...first, count: 4, lastSeenMs: first.lastSeenMs + 55_000 };
        store.putAlert(grown, false);
        latest.set(grown.id, grown);
      }
      store.countFlows(start, 5000);
      await store.flush();
      if (minute % 7 === 0) {
        const id = `alert-${n - 1}`;
        assert.equal(await store.addFeedback(id, minute % 2 === 0 ? 'confirmed' : 'false_positive', `minute ${minute}`), true);
        withFeedback.push(id);
      }
      await store.expireOld(start + MINUTE);
      maxBytes = Math.max(maxBytes, fileBytes(path));
    }
    const cutoff = T0 + minutes * MINUTE - retentionMinutes * MINUTE;
    const live = [...latest.values()].filter((a) => a.lastSeenMs >= cutoff || withFeedback.includes(a.id));
    assert.ok(store.compactions >= 4, `compacted ${store.compactions} times`);
    assert.equal(store.expired.alerts, n - live.length);

    // the live rows alone, written to a fresh store, are the bound's unit (without compaction the file reaches ~5.4x)
    const freshPath = join(dir, 'live.duckdb');
    const fresh = await AlertStore.open(freshPath, 3_600_000, () => undefined);
    for (const a of live) fresh.putAlert(a, true, { f: 0 });
    for (let minute = minutes - retentionMinutes; minute < minutes; minute++) fresh.countFlows(T0 + minute * MINUTE, 5000);
    await fresh.close();
    const liveBytes = fileBytes(freshPath);
    assert.ok(maxBytes <= 3 * liveBytes, `store peaked at ${maxBytes} bytes, the live rows take ${liveBytes}`);

    const check = async (s: AlertStore): Promise<void> => {
      const { total, alerts } = await s.queryAlerts({ limit: n });
      assert.equal(total, live.length);
      const stored = new Map(alerts.map((a) => [a.id, a]));
      for (const a of live) {
        const got = stored.get(a.id);
        assert.ok(got, `${a.id} is live and stored`);
        assert.deepEqual([got.count, got.lastSeenMs, got.timeMs], [a.count, a.lastSeenMs, a.timeMs], a.id);
      }
      const feedback = await s.feedback();
      assert.deepEqual(feedback.map((f) => f.alert.id), withFeedback, 'every feedback, in the order given');
      assert.ok(feedback.every((f) => f.input !== null), 'with the model input retraining reads');
      const traffic = await s.traffic(0);
      assert.deepEqual(traffic.map((p) => p.flows), Array<number>(retentionMinutes).fill(5000), 'the traffic minutes within the retention');
    };
    await check(store);
    await store.close();
    const reopened = await AlertStore.open(path, 3_600_000, () => undefined, undefined, retentionMinutes * MINUTE);
    await check(reopened);
    await reopened.close();
  });

  it("reclaims after a restart the rows a previous run deleted: they count towards the next compaction", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-retention-')), 'alerts.duckdb');
    const retention = 60 * MINUTE;
    // 100 alerts raised at T0 (one traffic minute, never past the retention here): 45 last seen 3 h before T0,
    // 10 at T0 - 50 min, 45 at T0
    const seen = (n: number): number => (n < 45 ? T0 - 180 * MINUTE : n < 55 ? T0 - 50 * MINUTE : T0);
    const first = await AlertStore.open(path, 3_600_000, () => undefined, undefined, retention);
    for (let n = 0; n < 100; n++) first.putAlert({ ...alertAt(n, T0), lastSeenMs: seen(n) }, true);
    await first.flush();
    await first.expireOld(T0); // 45 deleted, 55 live: not compacted
    assert.deepEqual([first.expired.alerts, first.compactions], [45, 0]);
    await first.close();

    const second = await AlertStore.open(path, 3_600_000, () => undefined, undefined, retention);
    await second.expireOld(T0 + 20 * MINUTE); // 10 more deleted: 55 deleted (45 of them by the first run), 45 live
    assert.deepEqual([second.expired.alerts, second.compactions], [10, 1]);
    const { total, alerts } = await second.queryAlerts({ limit: 1000 });
    assert.equal(total, 45);
    assert.deepEqual(new Set(alerts.map((a) => a.id)), new Set(Array.from({ length: 45 }, (_, k) => `alert-${55 + k}`)));
    await second.expireOld(T0 + 21 * MINUTE); // nothing deleted, nothing dead left: no compaction
    assert.equal(second.compactions, 1);
    await second.close();

    // a compacted table holds no deleted rows, across a restart too: one more deletion below the live count is kept
    const third = await AlertStore.open(path, 3_600_000, () => undefined, undefined, retention);
    third.putAlert({ ...alertAt(100, T0), lastSeenMs: T0 - 180 * MINUTE }, true);
    await third.flush();
    await third.expireOld(T0 + 22 * MINUTE);
    assert.deepEqual([third.expired.alerts, third.compactions], [1, 0]);
    await third.close();
  });

  it('a compaction that cannot write is one log line; the table is left whole and the store keeps working', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-retention-')), 'alerts.duckdb');
    const lines: string[] = [];
    const store = await AlertStore.open(path, 3_600_000, (line) => lines.push(line), undefined, MINUTE);
    // the copy's INSERT fails, as on a full disk
    const instance = failOnCompactionConnections(store, (sql) => sql.startsWith('INSERT'));
    for (let i = 0; i < 300; i++) store.putAlert(alertAt(i, T0 + i), true);
    await store.flush();
    for (let i = 300; i < 400; i++) store.putAlert(alertAt(i, T0 + 2 * MINUTE + i), true);
    await store.expireOld(T0 + 3 * MINUTE); // 300 deleted, 100 live: compacts, and fails
    assert.equal(store.expired.alerts, 300);
    for (let i = 400; i < 500; i++) store.putAlert(alertAt(i, T0 + 3 * MINUTE + i), true);
    await store.expireOld(T0 + 3 * MINUTE + 1); // fails again, said once
    assert.equal(store.compactions, 0);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /cannot compact .*ENOSPC \(no space left on device\); the file grows until a later try succeeds/);
    const { total, alerts } = await store.queryAlerts({ limit: 1000 });
    assert.equal(total, 200, 'the table as it was, and the writes since');
    assert.deepEqual(new Set(alerts.map((a) => a.id)), new Set(Array.from({ length: 200 }, (_, k) => `alert-${300 + k}`)));
    assert.equal(await store.addFeedback('alert-450', 'confirmed'), true);

    delete instance.connect;
    await store.expireOld(T0 + 3 * MINUTE + 2);
    assert.equal(store.compactions, 1);
    assert.equal(lines.length, 1, 'a success after failures adds no line');
    assert.equal((await store.queryAlerts({ limit: 1000 })).total, 200);
    assert.deepEqual((await store.feedback()).map((f) => f.alert.id), ['alert-450']);
    await store.close();
  });

  it('a compaction whose checkpoint fails says so: the table is compacted, its old space waits for a later checkpoint', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-retention-')), 'alerts.duckdb');
    const lines: string[] = [];
    const store = await AlertStore.open(path, 3_600_000, (line) => lines.push(line), undefined, MINUTE);
    const instance = failOnCompactionConnections(store, (sql) => sql === 'FORCE CHECKPOINT');
    for (let i = 0; i < 300; i++) store.putAlert(alertAt(i, T0 + i), true);
    for (let i = 300; i < 400; i++) store.putAlert(alertAt(i, T0 + 2 * MINUTE + i), true);
    await store.flush();
    await store.expireOld(T0 + 3 * MINUTE); // 300 deleted, 100 live: the alerts table is compacted, its checkpoint fails
    assert.equal(store.compactions, 1);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.equal(
      lines[0],
      `store ${path}: compacted the alerts table but cannot checkpoint: ENOSPC (no space left on device); the old table's space is freed by a later checkpoint (when the write-ahead log passes 16 MB, or at close)`,
    );
    assert.equal((await store.queryAlerts({ limit: 1000 })).total, 100);
    delete instance.connect;
    await store.close();
    const reopened = await AlertStore.open(path, 3_600_000, () => undefined, undefined, MINUTE);
    assert.equal((await reopened.queryAlerts({ limit: 1000 })).total, 100);
    await reopened.close();
  });
});
