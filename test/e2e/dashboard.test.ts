// What a person does with the live service, in real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): train a model on the shared CIC-IDS2017 data, start `serve` as a child process reading pcap from
// its stdin, open the dashboard, then stream a real SYN-scan capture (and a session-hijacking capture) into it in
// pieces and watch the alerts arrive over SSE; open one and read its explanation; mark it a false positive and check
// through the API that the feedback is stored. The page must load without failed requests or console errors and draw
// its charts. Skips when chromium or the shared data are absent.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SESSION_HIJACKING, SYNSCAN, TRAINING_CSVS, sharedFiles, startServe, trainPortscanModel, waitFor, writeTo, type Served } from './service-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(tmpdir(), 'flowsentry-dashboard.png');
const captures = sharedFiles(SYNSCAN, SESSION_HIJACKING);
const skip = !existsSync(CHROMIUM) ? 'no /usr/bin/chromium' : !captures || !sharedFiles(...TRAINING_CSVS) ? 'shared datasets missing' : false;

// The page's globals, typed just enough for the functions evaluated in the browser.
interface PageElement {
  textContent: string | null;
  children: ArrayLike<PageElement>;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };

interface ApiAlert {
  id: string;
  count: number;
  label: string;
  flow: { srcAddr: string; dstAddr: string };
  explanation: { feature: string; value: number; contribution: number; normalRange: [number, number] }[];
  feedback: string | null;
}

describe('dashboard in headless Chromium', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-e2e-'));
  const model = join(dir, 'model.fsm');
  let served: Served | undefined;
  let browser: Browser | undefined;

  before(() => trainPortscanModel(model));

  after(async () => {
    await browser?.close();
    await served?.stop(5_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows live alerts over SSE, explains one, and stores "false positive" feedback', async () => {
    const [synscan, hijack] = captures as string[];
    served = await startServe(['--model', model, '--stdin', '--store', join(dir, 'alerts.duckdb')]);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });

    // Open the dashboard as printed by serve; the event stream must be connected before any traffic flows.
    const sse = page.waitForResponse((r) => r.url().includes('/api/events'));
    await page.goto(`${served.base}/#token=${served.token}`);
    assert.equal((await sse).status(), 200);
    assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
    await page.waitForFunction(() => document.querySelector('#model-name')?.textContent?.startsWith('rf'));
    assert.equal(await page.locator('#feed tr').count(), 0, 'no alerts before traffic');
    // the stream is open, so the status says so before any alert arrives (it stayed 'connecting' on a quiet network)
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'live', undefined, { timeout: 5000 });

    // The SYN-scan capture (2010): its ~2000 probes get no answer, so the flows stay open in the flow meter. Then a
    // session-hijacking capture (2016, a second pcapng section) while stdin stays open: the capture clock moves past
    // the idle timeout, the scan's flows end and the scanner's alert appears live, without a reload.
    await writeTo(served.child, readFileSync(synscan));
    await writeTo(served.child, readFileSync(hijack));
    const scanner = page.locator('#feed tr', { hasText: '172.16.0.8' });
    await scanner.waitFor({ timeout: 15_000 });
    assert.equal(served.child.exitCode, null);
    assert.equal(await page.locator('#live').textContent(), 'live');
    const beforeEof = await page.locator('#feed tr').count();

    // End of input: the flow meter flushes the hijacking capture's flows; their alerts arrive as new rows.
    served.child.stdin.end();
    const api = async (): Promise<{ total: number; alerts: ApiAlert[] }> => (await (await served!.get('/api/alerts?limit=100')).json()) as { total: number; alerts: ApiAlert[] };
    // The store is the independent truth of what was raised; the page must show the same alerts and counts.
    const stored = await waitFor('every flow scored', async () => {
      const h = (await (await served!.get('/health', null)).json()) as { flowsScored: number; queued: number };
      const a = await api();
      return h.flowsScored >= 2000 && h.queued === 0 && a.total > beforeEof ? a : undefined;
    });
    const scanAlert = stored.alerts.find((a) => a.flow.srcAddr === '172.16.0.8');
    assert.ok(scanAlert, 'the SYN scanner raised an alert');
    assert.ok(scanAlert.count > 1000, `a SYN scan of ~2000 ports aggregates into one alert (count ${scanAlert.count})`);
    await page.waitForFunction((n) => document.querySelectorAll('#feed tr').length === n, stored.total, { timeout: 10_000 });
    const shown = await page.evaluate(() => Array.from(document.querySelectorAll('#feed tr'), (tr) => [tr.getAttribute('data-id'), tr.children[7].textContent] as const));
    assert.deepEqual(new Map(shown), new Map(stored.alerts.map((a) => [a.id, String(a.count)])), 'the feed shows every stored alert with its count');
    // the header counts the store's alerts, asked for again after the last live alert (the events race its answers)
    await page.waitForFunction((n) => document.querySelector('#alert-count')?.textContent === `${n} alerts`, stored.total, { timeout: 10_000 });

    // Open the scanner's alert: its explanation table shows the stored top features.
    await scanner.click();
    const explanation = page.locator('#explanation');
    await explanation.waitFor();
    const rows = await explanation.locator('tr').allTextContents();
    const detail = (await (await served.get(`/api/alerts/${scanAlert.id}`)).json()) as ApiAlert;
    assert.ok(detail.explanation.length >= 3, 'an alert carries its top contributing features');
    assert.equal(rows.length, detail.explanation.length + 1, 'a header and one row per feature');
    detail.explanation.forEach((e, i) => {
      assert.ok(rows[i + 1].startsWith(e.feature), `row ${i + 1}: ${rows[i + 1]} names ${e.feature}`);
      assert.ok(rows[i + 1].includes(e.contribution.toFixed(4)));
    });
    assert.match(await page.locator('#detail').textContent() ?? '', new RegExp(scanAlert.id));

    // Mark it a false positive: the page confirms, and the API returns the stored verdict.
    await page.getByRole('button', { name: 'Mark false positive' }).click();
    await page.locator('#feedback-state', { hasText: 'feedback: false_positive' }).waitFor();
    const after = (await (await served.get(`/api/alerts/${scanAlert.id}`)).json()) as ApiAlert;
    assert.equal(after.feedback, 'false_positive');
    assert.equal(await scanner.locator('td').nth(8).textContent(), 'false_positive');
    const others = (await api()).alerts.filter((a) => a.id !== scanAlert.id);
    assert.ok(others.every((a) => a.feedback === null), 'only the clicked alert got feedback');

    // Charts: traffic (flows/s and alerts/s) and the top talkers table are drawn from the store.
    await page.waitForFunction(() => document.querySelectorAll('#traffic-chart svg path').length > 3, undefined, { timeout: 10_000 });
    // (polled every 5 s)
    await page.locator('#talkers tr', { hasText: '172.16.0.8' }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#drift').textContent() ?? '', /^drift: (stable|moderate|significant)/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(problems, []);
  });
});
