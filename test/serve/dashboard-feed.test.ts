// The dashboard's live feed under a long flood, without a browser: the page's script runs in a VM context with
// stand-ins for the DOM, fetch, EventSource and ECharts. Thousands of new alerts arrive over the live feed; the page
// must keep only what it shows, and its alert count must agree with the store's total.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { dashboardPage } from '../../src/serve/dashboard-page.js';

interface FakeElement {
  innerHTML: string;
  textContent: string;
  className: string;
  style: Record<string, string>;
  addEventListener(): void;
}

function pageScript(): string {
  const scripts = [...dashboardPage().matchAll(/<script>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1, 'one inline script');
  return scripts[0][1];
}

function alert(i: number, isNew: boolean, count = 1): { alert: Record<string, unknown>; isNew: boolean } {
  return {
    isNew,
    alert: {
      id: `a${i}`, timeMs: 1000 + i, lastSeenMs: 1000 + i + count, flowStartMs: 0, flowEndMs: 0, score: 0.9, threshold: 0.5, label: 'attack', category: 'DoS', stage: 'final',
      packets: 1, count, explanation: [], flow: { srcAddr: `198.18.${i >> 8}.${i & 255}`, dstAddr: '10.10.10.10', srcPort: 1024, dstPort: 80, protocol: 6, vlan: 0 },
    },
  };
}

/** The page's script in a VM context against a fake store holding `stored` alerts (a0..a(stored-1)). */
function openPage(): {
  element: (id: string) => FakeElement;
  context: vm.Context;
  send: (event: { alert: Record<string, unknown>; isNew: boolean }) => void;
  settle: () => Promise<void>;
  store: { stored: number; answered?: () => void };
} {
  const elements = new Map<string, FakeElement>();
  const element = (id: string): FakeElement => {
    let e = elements.get(id);
    if (!e) elements.set(id, (e = { innerHTML: '', textContent: '', className: '', style: {}, addEventListener: () => undefined }));
    return e;
  };
  const store: { stored: number; answered?: () => void } = { stored: 0 };
  const storedPage = (limit: number): unknown => {
    const page = {
      total: store.stored,
      alerts: Array.from({ length: Math.min(limit, store.stored) }, (_, k) => ({ ...alert(store.stored - 1 - k, true).alert, feedback: null })),
    };
    store.answered?.();
    return page;
  };
  const responses: Record<string, (url: URL) => unknown> = {
    '/api/alerts': (url) => storedPage(Number(url.searchParams.get('limit'))),
    '/api/traffic': () => ({ points: [] }),
    '/api/top-talkers': () => ({ talkers: [] }),
    '/api/drift': () => ({ level: 'stable', features: [] }),
    '/api/model': () => ({ name: 'rf' }),
  };
  const timers: (() => void)[] = [];
  let onAlert: ((e: { data: string }) => void) | undefined;
  const context = vm.createContext({
    URLSearchParams,
    location: { hash: '#token=t', pathname: '/' },
    history: { replaceState: () => undefined },
    sessionStorage: { setItem: () => undefined, getItem: () => 't' },
    document: { getElementById: element },
    echarts: { init: () => ({ setOption: () => undefined }) },
    fetch: async (path: string) => {
      const url = new URL(path, 'http://x');
      return { ok: true, json: async () => responses[url.pathname](url) };
    },
    EventSource: class {
      onopen: unknown;
      onerror: unknown;
      addEventListener(_name: string, listener: (e: { data: string }) => void): void {
        onAlert = listener;
      }
    },
    setTimeout: (f: () => void) => timers.push(f),
    setInterval: () => undefined,
  });
  vm.runInContext(pageScript(), context);
  // runs the timers due and the answers they asked for, until none is left
  const settle = async (): Promise<void> => {
    do {
      await new Promise((r) => setImmediate(r));
      while (timers.length > 0) timers.shift()!();
      await new Promise((r) => setImmediate(r));
    } while (timers.length > 0);
  };
  return { element, context, send: (event) => onAlert!({ data: JSON.stringify(event) }), settle, store };
}

describe('dashboard live feed', () => {
  it('keeps at most the shown rows through a flood of new alerts, and counts what the store holds', async () => {
    const { element, context, send, settle, store } = openPage();
    await settle();

    // a flood: 5000 new alerts and an update of each of the last 100, as the live feed sends them; the store keeps up
    for (let i = 0; i < 5000; i++) {
      store.stored++;
      send(alert(i, true));
      if (i % 250 === 0) await settle();
    }
    for (let i = 4900; i < 5000; i++) send(alert(i, false, 3));
    await settle();

    const kept = vm.runInContext('alerts.size', context) as number;
    assert.equal(kept, 200, 'the page keeps the 200 rows it shows, not every alert it was sent');
    const rows = [...element('feed').innerHTML.matchAll(/data-id="(a\d+)"/g)].map((m) => m[1]);
    assert.equal(rows.length, 200);
    assert.deepEqual(rows.slice(0, 100), Array.from({ length: 100 }, (_, k) => `a${4999 - k}`), 'the grown aggregates first, newest first');
    assert.equal(element('alert-count').textContent, '5000 alerts', 'the count is the alerts raised, as the store has them');

    // the periodic refresh reads the store's total (here it has more than the page was sent)
    store.stored = 5300;
    await vm.runInContext('refresh()', context);
    await settle();
    assert.equal(element('alert-count').textContent, '5300 alerts');
  });

  it("live events racing the store's count either way: the count ends exact", async () => {
    const { element, context, send, settle, store } = openPage();
    await settle();
    store.stored = 2;
    send(alert(0, true));
    send(alert(1, true));
    await settle();
    assert.equal(element('alert-count').textContent, '2 alerts');
    // raised after the store counted, its live event seen before the answer is applied (the e2e test's race: the
    // answer alone would have shown 2)
    store.answered = () => {
      store.answered = undefined;
      store.stored = 3;
      send(alert(2, true));
    };
    send(alert(1, false, 2));
    await vm.runInContext('refresh()', context);
    await settle();
    assert.equal(element('alert-count').textContent, '3 alerts');
    // in the store when it counted, its live event after the answer (the answer alone plus the event would show 5)
    store.stored = 4;
    await vm.runInContext('refresh()', context);
    await settle();
    send(alert(3, true));
    await settle();
    assert.equal(element('alert-count').textContent, '4 alerts');
  });
});
