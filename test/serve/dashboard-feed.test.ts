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

describe('dashboard live feed', () => {
  it('keeps at most the shown rows through a flood of new alerts, and counts what the store holds', async () => {
    const elements = new Map<string, FakeElement>();
    const element = (id: string): FakeElement => {
      let e = elements.get(id);
      if (!e) elements.set(id, (e = { innerHTML: '', textContent: '', className: '', style: {}, addEventListener: () => undefined }));
      return e;
    };
    // the store: alerts a0..a(stored-1)
    let stored = 0;
    const storedPage = (limit: number): unknown => ({
      total: stored,
      alerts: Array.from({ length: Math.min(limit, stored) }, (_, k) => ({ ...alert(stored - 1 - k, true).alert, feedback: null })),
    });
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
    const settle = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      while (timers.length > 0) timers.shift()!();
    };
    await settle();

    // a flood: 5000 new alerts and an update of each of the last 100, as the live feed sends them; the store keeps up
    for (let i = 0; i < 5000; i++) {
      stored++;
      onAlert!({ data: JSON.stringify(alert(i, true)) });
      if (i % 250 === 0) await settle();
    }
    for (let i = 4900; i < 5000; i++) onAlert!({ data: JSON.stringify(alert(i, false, 3)) });
    await settle();

    const kept = vm.runInContext('alerts.size', context) as number;
    assert.equal(kept, 200, 'the page keeps the 200 rows it shows, not every alert it was sent');
    const rows = [...element('feed').innerHTML.matchAll(/data-id="(a\d+)"/g)].map((m) => m[1]);
    assert.equal(rows.length, 200);
    assert.deepEqual(rows.slice(0, 100), Array.from({ length: 100 }, (_, k) => `a${4999 - k}`), 'the grown aggregates first, newest first');
    assert.equal(element('alert-count').textContent, '5000 alerts', 'the count is the alerts raised, as the store has them');

    // the periodic refresh reads the store's total (here it has more than the page was sent)
    stored = 5300;
    await vm.runInContext('refresh()', context);
    await settle();
    assert.equal(element('alert-count').textContent, '5300 alerts');
  });
});
