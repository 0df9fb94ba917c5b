// The HTTP API against what a careless or hostile client sends: numbers that zod accepts as finite but that are whole
// and beyond 64-bit integers (since=1e20, min_score=-1e308) answer as any other filter instead of a 500 (DuckDB bound
// them as BIGINT), an internal error is logged rather than only answered, a HEAD of the live stream is not held open,
// and a live-stream client that stops reading while alerts keep coming is cut off at a bound instead of buffering
// without end in the service's memory.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer, LIVE_STREAM_MAX_BUFFERED } from '../../src/serve/api.js';
import { EngineMetrics } from '../../src/serve/metrics.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from '../detect/alert-fixtures.js';
import { waitFor } from '../e2e/service-harness.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const T0 = 1_700_000_000_000;

describe('HTTP API and hostile clients', () => {
  let app: FastifyInstance;
  let store: AlertStore;
  const events = new EventEmitter();
  const logged: string[] = [];

  before(async () => {
    store = await AlertStore.open(':memory:');
    store.putAlert(makeAlert({ id: 'a1', timeMs: T0, lastSeenMs: T0, score: 0.9 }), true);
    app = buildServer({
      store,
      metrics: new EngineMetrics(false),
      token: TOKEN,
      events,
      log: (line) => logged.push(line),
      model: () => ({ name: 'rf' }),
      drift: () => ({ level: 'stable', windowFlows: 0, scorePsi: 0, features: [] }),
      health: () => ({}),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  it('whole numbers beyond 64-bit integers filter as the numbers they are', async () => {
    const total = async (query: string): Promise<number> => {
      const r = await app.inject({ url: `/api/alerts?${query}`, headers: auth });
      assert.equal(r.statusCode, 200, `${query}: ${r.body}`);
      return (r.json() as { total: number }).total;
    };
    assert.equal(await total('since=-1e308'), 1);
    assert.equal(await total('since=1e20'), 0);
    assert.equal(await total('until=1e20'), 1);
    assert.equal(await total('until=-1e20'), 0);
    assert.equal(await total('min_score=-1e308'), 1);
    assert.equal(await total('min_score=1e300'), 0);
    for (const url of ['/api/traffic?since=-1e308', '/api/traffic?since=1e20', '/api/top-talkers?since=-1e308', '/api/top-talkers?since=1e300']) {
      const r = await app.inject({ url, headers: auth });
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
    }
    assert.deepEqual((await app.inject({ url: '/api/top-talkers?since=-1e308', headers: auth })).json(), { talkers: [{ src: '10.0.0.1', alerts: 1, flows: 1 }] });
    assert.deepEqual(logged, []);
  });

  it('an internal error is logged with the request, not only answered 500', async () => {
    const failing = store as unknown as { getAlert: (id: string) => Promise<unknown> };
    failing.getAlert = async () => {
      throw new Error('disk on fire');
    };
    try {
      const r = await app.inject({ url: '/api/alerts/a1', headers: auth });
      assert.equal(r.statusCode, 500);
      assert.deepEqual(r.json(), { error: 'internal error' });
      assert.deepEqual(logged, ['api: GET /api/alerts/a1: internal error: disk on fire']);
    } finally {
      delete (failing as { getAlert?: unknown }).getAlert;
      logged.length = 0;
    }
  });

  it('HEAD of the live stream is answered at once (404), not held open', async () => {
    const r = await app.inject({ method: 'HEAD', url: `/api/events?token=${TOKEN}` });
    assert.equal(r.statusCode, 404);
    assert.equal(events.listenerCount('alert'), 0);
  });

  it('a live-stream client that stops reading is cut off once the bound is buffered; one that reads is not', async () => {
    const { port } = app.server.address() as { port: number };
    const open = (): ReturnType<typeof connect> => {
      const socket = connect(port, '127.0.0.1');
      socket.write(`GET /api/events?token=${TOKEN} HTTP/1.1\r\nhost: x\r\n\r\n`);
      return socket;
    };
    const stalled = open();
    stalled.pause(); // never reads: the kernel buffers fill, then the server's
    const reader = open();
    let read = 0;
    reader.on('data', (d: Buffer) => (read += d.length));
    await waitFor('both streams', () => events.listenerCount('alert') === 2 || undefined, 5000, 10);
    const alert = makeAlert({ label: 'x'.repeat(16_000) });
    let sent = 0;
    // well past the bound plus what the kernel's socket buffers hold; the reader keeps up between rounds
    for (let round = 0; round < 400 && events.listenerCount('alert') === 2; round++) {
      for (let i = 0; i < 50; i++) events.emit('alert', alert, false);
      sent += 50;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor('the stalled stream cut', () => events.listenerCount('alert') === 1 || undefined, 5000, 10);
    assert.ok(sent * 16_000 > LIVE_STREAM_MAX_BUFFERED, `sent ${sent} alerts`);
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, /^api: a live event stream client fell \d+ bytes behind \(over \d+\); its stream was ended$/);
    await waitFor('the reader', () => read > sent * 16_000 || undefined, 5000, 10);
    reader.destroy();
    stalled.destroy();
    await waitFor('no streams', () => events.listenerCount('alert') === 0 || undefined, 5000, 10);
  });
});

describe('HTTP API while the store closes (shutdown)', () => {
  it('a request after the store closed is 503 with the reason, and not logged as an internal error', async () => {
    const store = await AlertStore.open(':memory:');
    const logged: string[] = [];
    const app = buildServer({
      store,
      metrics: new EngineMetrics(false),
      token: TOKEN,
      events: new EventEmitter(),
      log: (line) => logged.push(line),
      model: () => ({}),
      drift: () => ({ level: 'stable', windowFlows: 0, scorePsi: 0, features: [] }),
      health: () => ({}),
    });
    await store.close();
    for (const url of ['/api/alerts', '/api/alerts/a1', '/api/traffic', '/api/top-talkers']) {
      const r = await app.inject({ url, headers: auth });
      assert.equal(r.statusCode, 503, url);
      assert.deepEqual(r.json(), { error: 'store :memory: is closed' });
    }
    const feedback = await app.inject({ method: 'POST', url: '/api/alerts/a1/feedback', headers: auth, payload: { verdict: 'confirmed' } });
    assert.equal(feedback.statusCode, 503);
    assert.deepEqual(logged, []);
    await app.close();
  });
});
