// The run summary's counters that an operator alerts on are in serve's Prometheus /metrics too, live and equal to
// the summary: the store's failed flushes and dropped rows, sink failures and drops, response hook outcomes,
// decoder skips by reason (packets; NetFlow datagrams and parts), and kernel drops at the NetFlow socket.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineMetrics } from '../../src/serve/metrics.js';
import { startService } from '../../src/detect/service.js';
import { collectorSkips } from '../../src/detect/netflow-worker.js';
import { loadConfig } from '../../src/serve/config.js';
import { NETFLOW_FEATURES } from '../../src/flows/features/netflow.js';
import { Bytes, set, templateRecord, v9Packet } from '../collector/build.js';
import { ethernet, ipv4, pcapFile, tcp, type Frame } from '../flows/packet-builder.js';
import { cli } from '../helpers/cli.js';
import { waitFor } from '../e2e/service-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-metrics2-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The sample lines of one metric in an exposition (no HELP/TYPE). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('summary counters in /metrics', () => {
  it('are read from their sources at each scrape, with the names and labels of the existing metrics', async () => {
    const metrics = new EngineMetrics(false);
    const scrape = (): Promise<string> => metrics.registry.metrics();
    assert.deepEqual(samples(await scrape(), 'flowsentry_store_write_failures_total'), ['flowsentry_store_write_failures_total 0']);
    assert.deepEqual(samples(await scrape(), 'flowsentry_store_compactions_total'), ['flowsentry_store_compactions_total 0']);
    for (const name of ['flowsentry_store_expired_total', 'flowsentry_sink_failures_total', 'flowsentry_response_hook_total', 'flowsentry_decoder_errors_total', 'flowsentry_kernel_drops_total']) {
      assert.deepEqual(samples(await scrape(), name), [], `${name}: no source, no value`);
    }
    const store = { writeFailures: 3, rowsDropped: 120, expired: { alerts: 40, trafficCells: 9 }, compactions: 2 };
    const sink = (name: string, failed: number, dropped: number): { name: string; stats: { written: number; dropped: number; failed: number; queued: number } } => ({
      name,
      stats: { written: 10, dropped, failed, queued: 0 },
    });
    const hook = { ran: 4, dryRun: 0, rateLimited: 2, belowScore: 0, failed: 1, timedOut: 1 };
    const skips: Record<string, number> = { 'non-ip': 2, 'truncated-ip-header': 1 };
    let drops: number | undefined = 5;
    metrics.sources.store = () => store;
    metrics.sources.sinks = () => [sink('file', 3, 0), sink('file', 4, 0), sink('webhook', 1, 2)];
    metrics.sources.hook = () => hook;
    metrics.sources.decodeSkips = () => skips;
    metrics.sources.kernelDrops = () => ({ port: 2055, drops });
    let text = await scrape();
    assert.deepEqual(samples(text, 'flowsentry_store_write_failures_total'), ['flowsentry_store_write_failures_total 3']);
    assert.deepEqual(samples(text, 'flowsentry_store_rows_dropped_total'), ['flowsentry_store_rows_dropped_total 120']);
    assert.deepEqual(samples(text, 'flowsentry_store_expired_total'), ['flowsentry_store_expired_total{table="alerts"} 40', 'flowsentry_store_expired_total{table="traffic"} 9']);
    assert.deepEqual(samples(text, 'flowsentry_store_compactions_total'), ['flowsentry_store_compactions_total 2']);
    assert.deepEqual(samples(text, 'flowsentry_sink_failures_total'), ['flowsentry_sink_failures_total{sink="file"} 7', 'flowsentry_sink_failures_total{sink="webhook"} 1']);
    assert.deepEqual(samples(text, 'flowsentry_sink_dropped_total'), ['flowsentry_sink_dropped_total{sink="file"} 0', 'flowsentry_sink_dropped_total{sink="webhook"} 2']);
    assert.deepEqual(samples(text, 'flowsentry_response_hook_total'), [
      'flowsentry_response_hook_total{outcome="ran"} 4',
      'flowsentry_response_hook_total{outcome="dry_run"} 0',
      'flowsentry_response_hook_total{outcome="rate_limited"} 2',
      'flowsentry_response_hook_total{outcome="below_score"} 0',
      'flowsentry_response_hook_total{outcome="failed"} 1',
      'flowsentry_response_hook_total{outcome="timed_out"} 1',
    ]);
    assert.deepEqual(samples(text, 'flowsentry_decoder_errors_total'), ['flowsentry_decoder_errors_total{reason="non-ip"} 2', 'flowsentry_decoder_errors_total{reason="truncated-ip-header"} 1']);
    assert.deepEqual(samples(text, 'flowsentry_kernel_drops_total'), ['flowsentry_kernel_drops_total{port="2055"} 5']);
    assert.match(text, /# TYPE flowsentry_store_rows_dropped_total counter/);
    // live: the next scrape shows the counters as they are then
    store.writeFailures = 4;
    skips['bad-ip-version'] = 1;
    drops = undefined;
    text = await scrape();
    assert.deepEqual(samples(text, 'flowsentry_store_write_failures_total'), ['flowsentry_store_write_failures_total 4']);
    assert.equal(samples(text, 'flowsentry_decoder_errors_total').length, 3);
    assert.deepEqual(samples(text, 'flowsentry_kernel_drops_total'), [], 'the OS does not say: no value');
  });
});

describe('NetFlow skips by reason', () => {
  it('malformed datagrams, skipped parts, and data sets whose template never came', () => {
    assert.deepEqual(collectorSkips({ 'unknown-version': 2 }, { 'truncated-data-record': 1 }, 0), { 'unknown-version': 2, 'truncated-data-record': 1 });
    assert.deepEqual(collectorSkips({}, {}, 3), { 'data-set-without-template': 3 });
  });
});

describe('serve: /metrics against the run summary', () => {
  const model = join(dir, 'nf.fsm');
  before(() => {
    // a NetFlow-feature tree: single-packet flows are attacks
    const packets = NETFLOW_FEATURES.indexOf('packets');
    const rows = [[...NETFLOW_FEATURES, 'label'].join(',')];
    for (let i = 0; i < 400; i++) {
      const values = NETFLOW_FEATURES.map((_, k) => (k === packets ? (i % 2 === 0 ? 1 : 5 + (i % 40)) : (i * 7919 + k * 104729) % 1000));
      rows.push([...values, i % 2 === 0 ? 'attack' : 'normal'].join(','));
    }
    writeFileSync(join(dir, 'train.csv'), `${rows.join('\n')}\n`);
    const t = cli(['train', join(dir, 'train.csv'), '--label', 'label', '--models', 'dt', '--cv', '2', '--out', model, '--json']);
    assert.equal(t.code, 0, t.stderr);
  });

  it('NetFlow source: store failures and drops, sink failures, hook outcomes, malformed datagrams, kernel drops', async () => {
    let port = 0;
    const config = loadConfig(
      { model, netflow: 'udp://127.0.0.1:0', http: '127.0.0.1:0', store: join(dir, 'nf.duckdb'), sinks: ['file:/dev/full'], onAlert: { command: 'true {src}' }, storeMaxPending: 5 },
      undefined,
      {},
    );
    const service = await startService(config, { http: true, store: true, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    // flushes only when the test asks (the 5 s timer could add a failure under load)
    clearInterval((service.store as unknown as { timer: NodeJS.Timeout }).timer);
    try {
      await waitFor('the collector', () => port || undefined);
      // 20 single-packet flows from 20 sources (20 alerts), then two datagrams of an unknown version
      const body = new Bytes();
      for (let r = 0; r < 20; r++) body.u32(40).u32(1).u8(6).u8(0x02).u16(40_000 + r).u32(0xc6120000 + r).u16(80).u32(0x0a0a0a0a).u32(500_000).u32(500_000);
      const fields: [number, number][] = [[1, 4], [2, 4], [4, 1], [6, 1], [7, 2], [8, 4], [11, 2], [12, 4], [21, 4], [22, 4]];
      const socket = dgram.createSocket('udp4');
      const send = (b: Buffer): Promise<void> => new Promise((res, rej) => socket.send(b, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      await send(v9Packet(600_000, 1_700_000_000, 1, [set(0, templateRecord(256, fields)), set(256, body.buffer())], 21));
      await send(Buffer.from([0, 42, 0, 0, 0, 0, 0, 0]));
      await send(Buffer.from([0, 42, 0, 0, 0, 0, 0, 0]));
      socket.close();
      await waitFor('the alerts', () => service.engine.stats().alertsRaised === 20 || undefined);
      // the disk fills up: the next flush fails and the pending rows go over the bound of 5
      const store = service.store!;
      const connection = (store as unknown as { db: { run: unknown } }).db;
      connection.run = async (): Promise<never> => {
        throw Object.assign(new Error('write failed'), { code: 'ENOSPC' });
      };
      await store.flush();
      const scrape = async (): Promise<string> => (await fetch(`${service.url}/metrics`)).text();
      const text = await waitFor('the skip report', async () => {
        const t = await scrape();
        return samples(t, 'flowsentry_decoder_errors_total').length > 0 ? t : undefined;
      });
      delete connection.run;
      assert.deepEqual(samples(text, 'flowsentry_store_write_failures_total'), ['flowsentry_store_write_failures_total 1']);
      assert.deepEqual(samples(text, 'flowsentry_store_rows_dropped_total'), [`flowsentry_store_rows_dropped_total ${store.rowsDropped}`]);
      assert.ok(store.rowsDropped >= 15, 'at least the 20 alert rows over the bound of 5');
      assert.deepEqual(samples(text, 'flowsentry_sink_failures_total'), ['flowsentry_sink_failures_total{sink="file"} 20']);
      assert.ok(samples(text, 'flowsentry_response_hook_total').includes('flowsentry_response_hook_total{outcome="dry_run"} 20'));
      assert.deepEqual(samples(text, 'flowsentry_kernel_drops_total').map((l) => l.replace(/\d+$/, 'N')), [`flowsentry_kernel_drops_total{port="${port}"} N`]);
      const summary = await service.stop();
      const collector = summary.input.collector as { malformedByReason: Record<string, number>; skipped: Record<string, number>; pendingDropped: number };
      assert.equal(collector.pendingDropped, 0);
      assert.deepEqual(samples(text, 'flowsentry_decoder_errors_total'), Object.entries({ ...collector.malformedByReason, ...collector.skipped }).map(([r, n]) => `flowsentry_decoder_errors_total{reason="${r}"} ${n}`));
      assert.deepEqual(collector.malformedByReason, { 'unknown-version': 2 });
      assert.equal(summary.storeWriteFailures, 1);
      assert.equal(summary.sinks.file!.failed, 20);
      assert.equal(summary.hook?.dryRun, 20);
    } finally {
      await service.stop();
    }
  });

  it('store retention: expired rows and compactions, in /metrics and the summary', async () => {
    let port = 0;
    const config = loadConfig({ model, netflow: 'udp://127.0.0.1:0', http: '127.0.0.1:0', store: join(dir, 'retention.duckdb'), storeRetentionHours: 1 }, undefined, {});
    const service = await startService(config, { http: true, store: true, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    try {
      await waitFor('the collector', () => port || undefined);
      // 12 single-packet flows from 12 sources: 12 alerts, in one traffic minute (cells: all flows, and the category)
      const body = new Bytes();
      for (let r = 0; r < 12; r++) body.u32(40).u32(1).u8(6).u8(0x02).u16(41_000 + r).u32(0xc6140000 + r).u16(80).u32(0x0a0a0a0a).u32(500_000).u32(500_000);
      const fields: [number, number][] = [[1, 4], [2, 4], [4, 1], [6, 1], [7, 2], [8, 4], [11, 2], [12, 4], [21, 4], [22, 4]];
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((res, rej) => socket.send(v9Packet(600_000, 1_700_000_000, 1, [set(0, templateRecord(256, fields)), set(256, body.buffer())], 13), port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      socket.close();
      await waitFor('the alerts', () => service.engine.stats().alertsRaised === 12 || undefined);
      const store = service.store!;
      await store.flush();
      const cells = (await store.traffic(0)).reduce((n, p) => n + 1 + Object.keys(p.byCategory).length, 0);
      assert.ok(cells >= 2);
      // two hours on: every alert and traffic minute is past the 1-hour retention; both tables then hold only deleted
      // rows (deleted > live = 0). The alerts table is compacted; the checkpoint after it drops the traffic table's
      // row group, all of whose rows are deleted, so that table has no deleted rows left and needs no compaction
      await store.expireOld(Date.now() + 2 * 3_600_000);
      const text = await (await fetch(`${service.url}/metrics`)).text();
      assert.deepEqual(samples(text, 'flowsentry_store_expired_total'), ['flowsentry_store_expired_total{table="alerts"} 12', `flowsentry_store_expired_total{table="traffic"} ${cells}`]);
      assert.deepEqual(samples(text, 'flowsentry_store_compactions_total'), ['flowsentry_store_compactions_total 1']);
      const summary = await service.stop();
      assert.deepEqual(summary.storeExpired, { alerts: 12, trafficCells: cells });
      assert.equal(summary.storeCompactions, 1);
    } finally {
      await service.stop();
    }
  });

  it('packet source: the meter and reader skips by reason, as in the summary', async () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 6; i++) frames.push({ t: 1_700_000_000 + i, bytes: ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 40_000, dport: 80, flags: 0x02 }))) });
    for (let i = 0; i < 3; i++) frames.push({ t: 1_700_000_010 + i, bytes: ethernet(new Array<number>(28).fill(1), 0x0806) });
    frames.push({ t: 1_700_000_020, bytes: ethernet([0x45, 0, 0, 40]) });
    const capture = join(dir, 'skips.pcap');
    writeFileSync(capture, pcapFile(frames));
    const config = loadConfig({ model, pcap: capture, http: '127.0.0.1:0', store: join(dir, 'pcap.duckdb') }, undefined, {});
    const service = await startService(config, { http: true, store: true, keepAlive: true, log: () => undefined });
    try {
      const expected = ['flowsentry_decoder_errors_total{reason="non-ip"} 3', 'flowsentry_decoder_errors_total{reason="truncated-ip-header"} 1'];
      await waitFor('the skips', async () => JSON.stringify(samples(await (await fetch(`${service.url}/metrics`)).text(), 'flowsentry_decoder_errors_total')) === JSON.stringify(expected) || undefined);
      const summary = await service.stop();
      assert.deepEqual((summary.input.meter as { skipped: Record<string, number> }).skipped, { 'non-ip': 3, 'truncated-ip-header': 1 });
    } finally {
      await service.stop();
    }
  });
});
