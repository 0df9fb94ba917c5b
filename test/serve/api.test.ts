import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/serve/api.js';
import { EngineMetrics } from '../../src/serve/metrics.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from '../detect/alert-fixtures.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('HTTP API', () => {
  let app: FastifyInstance;
  let store: AlertStore;
  const events = new EventEmitter();
  const metrics = new EngineMetrics(false);

  before(async () => {
    store = await AlertStore.open(':memory:');
    store.putAlert(makeAlert({ id: 'a1', src: '10.0.0.1', label: 'neptune', category: 'DoS' }), true);
    store.putAlert(makeAlert({ id: 'a2', src: '10.0.0.2', label: 'satan', category: 'Probe', score: 0.7 }), true);
    metrics.flows.inc({ stage: 'final' }, 3);
    app = buildServer({
      store,
      metrics,
      token: TOKEN,
      events,
      model: () => ({ name: 'rf', task: 'binary', roc: { fpr: [0, 1], tpr: [0, 1] } }),
      drift: () => ({ level: 'stable', windowFlows: 500, scorePsi: 0.01, features: [] }),
      health: () => ({ flowsScored: 3 }),
    });
    await app.ready();
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('keeps /health and /metrics open and everything under /api/ behind the token', async () => {
    assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
    const m = await app.inject({ url: '/metrics' });
    assert.match(m.body, /flowsentry_flows_scored_total\{stage="final"\} 3/);
    for (const url of ['/api/alerts', '/api/alerts/a1', '/api/model', '/api/drift', '/api/traffic', '/api/events']) {
      assert.equal((await app.inject({ url })).statusCode, 401, url);
      assert.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong' } })).statusCode, 401, url);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/alerts/a1/feedback', payload: { verdict: 'confirmed' } })).statusCode, 401);
  });

  it('lists, filters, pages and exports alerts', async () => {
    const all = (await app.inject({ url: '/api/alerts', headers: auth })).json();
    assert.equal(all.total, 2);
    const probe = (await app.inject({ url: '/api/alerts?category=Probe', headers: auth })).json();
    assert.deepEqual(probe.alerts.map((a: { id: string }) => a.id), ['a2']);
    assert.equal((await app.inject({ url: '/api/alerts?limit=1&offset=1', headers: auth })).json().alerts.length, 1);
    const csv = await app.inject({ url: '/api/alerts?format=csv', headers: auth });
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.ok(lines[0].startsWith('id,timeMs'));
    assert.equal((await app.inject({ url: '/api/alerts/a1', headers: auth })).json().label, 'neptune');
    assert.equal((await app.inject({ url: '/api/alerts/zzz', headers: auth })).statusCode, 404);
  });

  it('stores feedback and rejects malformed, unknown or oversized input with 4xx', async () => {
    const ok = await app.inject({ method: 'POST', url: '/api/alerts/a2/feedback', headers: auth, payload: { verdict: 'false_positive' } });
    assert.equal(ok.statusCode, 200);
    assert.equal((await app.inject({ url: '/api/alerts/a2', headers: auth })).json().feedback, 'false_positive');
    const bad = [
      { payload: { verdict: 'maybe' }, issues: ['verdict: expected false_positive or confirmed'] },
      { payload: { verdict: 'confirmed', extra: 1 }, issues: ["(root): unknown key 'extra'"] },
      { payload: { note: 'x' }, issues: ['verdict: missing; expected false_positive or confirmed'] },
      { payload: { verdict: 'confirmed', note: 7 }, issues: ['note: expected a text'] },
    ];
    for (const { payload, issues } of bad) {
      const r = await app.inject({ method: 'POST', url: '/api/alerts/a1/feedback', headers: auth, payload });
      assert.equal(r.statusCode, 400);
      assert.deepEqual(r.json(), { error: 'invalid request', issues });
    }
    const notJson = await app.inject({ method: 'POST', url: '/api/alerts/a1/feedback', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"verdict":' });
    assert.equal(notJson.statusCode, 400);
    const huge = await app.inject({ method: 'POST', url: '/api/alerts/a1/feedback', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ verdict: 'confirmed', note: 'x'.repeat(100_000) }) });
    assert.equal(huge.statusCode, 413);
    assert.equal((await app.inject({ method: 'POST', url: '/api/alerts/nope/feedback', headers: auth, payload: { verdict: 'confirmed' } })).statusCode, 404);
    const badQueries: [string, string[]][] = [
      ['limit=-4', ['limit: must be >= 1']],
      ['limit=20000', ['limit: must be <= 10000']],
      ['limit=ten', ['limit: expected a number']],
      ['limit=2.5', ['limit: expected an integer']],
      ['stage=late', ['stage: expected early or final']],
      ['bogus=1', ["(root): unknown key 'bogus'"]],
    ];
    for (const [query, issues] of badQueries) {
      const r = await app.inject({ url: `/api/alerts?${query}`, headers: auth });
      assert.equal(r.statusCode, 400, query);
      assert.deepEqual(r.json(), { error: 'invalid request', issues }, query);
    }
  });

  it('streams live alerts over SSE with the token in the query', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const url = new URL(`/api/events?token=${TOKEN}`, address);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(url, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes(': connected')) events.emit('alert', makeAlert({ id: 'live1' }), true);
          if (buf.includes('event: alert')) {
            req.destroy();
            resolve(buf);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(received, /"id":"live1"/);
  });

  it('serves the dashboard and its chart library locally', async () => {
    const page = await app.inject({ url: '/' });
    assert.match(page.body, /<script src="\/assets\/echarts.min.js">/);
    const lib = await app.inject({ url: '/assets/echarts.min.js' });
    assert.equal(lib.statusCode, 200);
    assert.ok(lib.body.length > 100_000);
  });
});
