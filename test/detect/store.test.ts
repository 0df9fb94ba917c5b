import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from './alert-fixtures.js';

describe('alert store', () => {
  it('deletes alerts and traffic older than its retention, keeping alerts with feedback', async () => {
    const hour = 3_600_000;
    const store = await AlertStore.open(':memory:', 1e9, () => undefined, undefined, 2 * hour);
    const now = 1_700_000_000_000;
    const ages = [5, 3, 2.5, 1.9, 0.1]; // hours since each alert was last seen
    ages.forEach((age, i) => store.putAlert(makeAlert({ id: `a${i}`, timeMs: now - 6 * hour, lastSeenMs: now - age * hour }), true));
    for (let minute = 0; minute < 240; minute++) store.countFlows(now - 4 * hour + minute * 60_000, 10);
    await store.flush();
    assert.equal(await store.addFeedback('a0', 'confirmed'), true);
    await store.expireOld(now);
    const kept = (await store.queryAlerts()).alerts.map((a) => a.id).sort();
    assert.deepEqual(kept, ['a0', 'a3', 'a4'], 'older than 2 h go, unless an analyst gave feedback');
    const minutes = await store.traffic(0);
    assert.equal(minutes.length, 120, 'the 120 minutes that ended within the last 2 h');
    assert.ok(minutes.every((p) => p.minuteMs + 60_000 > now - 2 * hour && p.flows === 10));
    // 120 flow minutes, and the minute the alerts were raised 6 h ago (its all-flows and DoS cells)
    assert.deepEqual(store.expired, { alerts: 2, trafficCells: 122 });
    assert.equal((await store.feedback()).length, 1);
    await store.close();
  });

  it('upserts aggregates, filters, pages, records feedback and survives a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-store-')), 'alerts.duckdb');
    const store = await AlertStore.open(path);
    const t0 = 1_700_000_000_000;
    store.putAlert(makeAlert({ id: 'x1', timeMs: t0, lastSeenMs: t0, src: '10.0.0.1' }), true);
    store.putAlert(makeAlert({ id: 'x1', timeMs: t0, lastSeenMs: t0 + 1000, count: 5, src: '10.0.0.1' }), false);
    store.putAlert(makeAlert({ id: 'x2', timeMs: t0 + 2000, lastSeenMs: t0 + 2000, src: '10.0.0.9', category: 'Probe', score: 0.6 }), true, { 'Flow Duration': 12, 'Dst Port': 22 });
    await store.flush();
    store.putAlert(makeAlert({ id: 'x2', timeMs: t0 + 2000, lastSeenMs: t0 + 3000, src: '10.0.0.9', category: 'Probe', score: 0.6, count: 2 }), false);
    store.countFlows(t0, 100);
    const all = await store.queryAlerts();
    assert.equal(all.total, 2);
    assert.equal(all.alerts.find((a) => a.id === 'x1')?.count, 5, 'the grown aggregate replaced the first version');
    assert.deepEqual((await store.queryAlerts({ category: 'Probe' })).alerts.map((a) => a.id), ['x2']);
    assert.deepEqual((await store.queryAlerts({ minScore: 0.8 })).alerts.map((a) => a.id), ['x1']);
    assert.equal((await store.queryAlerts({ limit: 1, offset: 1 })).alerts.length, 1);
    assert.equal(await store.addFeedback('x2', 'false_positive', 'scanner we run'), true);
    assert.equal(await store.addFeedback('nope', 'confirmed'), false);
    const traffic = await store.traffic(t0 - 60_000);
    assert.equal(traffic[0].flows, 100);
    assert.equal(traffic[0].alerts, 2);
    assert.equal(traffic[0].byCategory.DoS, 1);
    assert.deepEqual((await store.topTalkers(0)).map((t) => t.src), ['10.0.0.1', '10.0.0.9']);
    await store.close();

    const reopened = await AlertStore.open(path);
    assert.equal((await reopened.getAlert('x2'))?.feedback, 'false_positive');
    assert.equal((await reopened.queryAlerts()).total, 2);
    const feedback = await reopened.feedback();
    assert.equal(feedback.length, 1);
    assert.deepEqual(feedback[0].input, { 'Flow Duration': 12, 'Dst Port': 22 }, 'the first flow input survives the aggregate growing');
    assert.equal(feedback[0].alert.count, 2);
    await reopened.close();
  });

  it('stores text with quotes, backslashes and any Unicode as given, and scores that are not finite', async () => {
    const store = await AlertStore.open(':memory:');
    const label = `it's "odd" \\ back\\slash; -- ünïcode ☃ \u0001`;
    const a = makeAlert({ id: "q'1", label, category: "O'Brien", score: Number.NaN, explanation: [{ feature: "f'1", value: Infinity, contribution: -0, normalRange: [0, 1] }] });
    store.putAlert(a, true, { "x'": 1.5 });
    await store.flush();
    store.putAlert({ ...a, count: 3, score: Number.POSITIVE_INFINITY, lastSeenMs: a.lastSeenMs + 5 }, false);
    const got = await store.getAlert("q'1");
    assert.equal(got?.label, label);
    assert.equal(got?.category, "O'Brien");
    assert.equal(got?.count, 3);
    assert.equal(got?.score, Number.POSITIVE_INFINITY);
    assert.deepEqual((await store.queryAlerts({ label })).alerts.map((x) => x.id), ["q'1"], 'the label column holds the same text');
    assert.equal(got?.explanation[0].feature, "f'1");
    await store.addFeedback("q'1", 'confirmed');
    assert.deepEqual((await store.feedback())[0].input, { "x'": 1.5 });
    await store.close();
  });
});
