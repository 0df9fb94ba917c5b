// A flow record sent twice (an exporter resending a NetFlow v9 datagram) after its alert's aggregate closed: the copy
// of the record that raised an alert is a duplicate, not a second alert, and the summary, /metrics, the store, the
// live feed and the file sink agree on the alerts raised.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCollector } from '../../src/flows/collector.js';
import { NETFLOW_FEATURES, netflowFeatures } from '../../src/flows/features/netflow.js';
import { DetectionEngine, type FlowScorer, type ScoredBatch } from '../../src/detect/engine.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import type { Alert } from '../../src/detect/alert.js';
import { startService } from '../../src/detect/service.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { EngineMetrics } from '../../src/serve/metrics.js';
import { loadConfig } from '../../src/serve/config.js';
import { Bytes, set, templateRecord, v9Packet } from '../collector/build.js';
import { CLI, cli } from '../helpers/cli.js';
import { waitFor } from '../e2e/service-harness.js';

const FIELDS: [number, number][] = [[1, 4], [2, 4], [4, 1], [6, 1], [7, 2], [8, 4], [11, 2], [12, 4], [21, 4], [22, 4]];

/** One v9 record: bytes, packets, proto 6, TCP flags, ports, addresses, last and first switched (ms of uptime). */
function record(body: Bytes, src: number, sport: number, packets: number, flags: number, dport: number, first: number, last: number): void {
  body.u32(packets * 60).u32(packets).u8(6).u8(flags).u16(sport).u32(src).u16(dport).u32(0x0a0a0a0a).u32(last).u32(first);
}

/** A v9 datagram (template 256 first) with the given records. */
function datagram(records: (body: Bytes) => number): Buffer {
  const body = new Bytes();
  const n = records(body);
  return v9Packet(600_000, 1_700_000_000, 1, [set(0, templateRecord(256, FIELDS)), set(256, body.buffer())], n + 1);
}

const SRC_A = 0xc6120001; // 198.18.0.1
const SRC_B = 0xc6120002; // 198.18.0.2

/** Single-packet SYNs are attacks: A sends one, B two; 10.0.0.1 one web flow (normal). */
const DUPLICATED = datagram((b) => {
  record(b, SRC_A, 40001, 1, 0x02, 80, 500_000, 500_000);
  record(b, SRC_B, 40002, 1, 0x02, 80, 500_010, 500_010);
  record(b, SRC_B, 40003, 1, 0x02, 80, 500_020, 500_020);
  record(b, 0x0a000001, 50000, 40, 0x1b, 443, 480_000, 499_000);
  return 4;
});

describe('duplicate flow records', () => {
  let dir = '';
  let model = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-dup-'));
    // a tree model on NetFlow features: single-packet SYN flows are attacks, longer flows normal
    const training = datagram((b) => {
      for (let k = 0; k < 60; k++) record(b, 0xc6130000 + k, 1024 + k, 1, 0x02, 80, 400_000 + k, 400_000 + k);
      for (let k = 0; k < 60; k++) record(b, 0x0a010000 + k, 2048 + k, 5 + k, 0x1b, 443, 300_000 + k, 310_000 + 100 * k);
      return 120;
    });
    const rows = [[...NETFLOW_FEATURES, 'label'].join(',')];
    for (const r of new FlowCollector().ingest(training, '127.0.0.1', 1_700_000_000_000).toRecords()) rows.push([...netflowFeatures(r), r.packets === 1 ? 'attack' : 'normal'].join(','));
    writeFileSync(join(dir, 'train.csv'), `${rows.join('\n')}\n`);
    model = join(dir, 'nf.fsm');
    const t = cli(['train', join(dir, 'train.csv'), '--label', 'label', '--models', 'dt', '--cv', '2', '--out', model, '--json']);
    assert.equal(t.code, 0, t.stderr);
  });

  it('a v9 datagram sent again after the aggregation window: its alert-raising records are duplicates, counted, not raised again', async () => {
    const sink = join(dir, 'alerts.jsonl');
    const config = loadConfig({ model, netflow: 'udp://127.0.0.1:0', http: '127.0.0.1:0', sinks: [`file:${sink}`], store: join(dir, 'store.duckdb'), aggregationWindowS: 0.2 }, undefined, {});
    let port = 0;
    const service = await startService(config, { http: true, store: true, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    const feed: { id: string; isNew: boolean }[] = [];
    service.engine.events.on('alert', (a: Alert, isNew: boolean) => feed.push({ id: a.id, isNew }));
    await waitFor('the collector', () => port || undefined);
    const sock = dgram.createSocket('udp4');
    const send = (): Promise<void> => new Promise<void>((r) => sock.send(DUPLICATED, port, '127.0.0.1', () => r()));
    await send();
    await waitFor('the first copy scored', () => service.engine.stats().flowsScored >= 4 || undefined);
    await new Promise((r) => setTimeout(r, 400)); // both aggregates close (window 0.2 s)
    await send();
    await waitFor('the second copy scored', () => service.engine.stats().flowsScored >= 8 || undefined);
    sock.close();
    const metrics = await (await fetch(`${service.url!}/metrics`)).text();
    const summary = await service.stop();

    // First copy: A's SYN raises an alert, B's first SYN raises one and its second grows it. Second copy: A's SYN and
    // B's first SYN are the records that raised those alerts (duplicates); B's second SYN never raised one, and B's
    // aggregate is closed, so it opens a new alert.
    assert.equal(summary.engine.flowsScored, 8);
    assert.equal(summary.engine.duplicates, 2);
    assert.equal(summary.engine.alertsRaised, 3);
    assert.equal(summary.engine.alertsAggregated, 1);
    assert.match(metrics, /^flowsentry_duplicate_alerts_total 2$/m);
    assert.match(metrics, /^flowsentry_alerts_total\{category="[^"]*"\} 3$/m);
    const lines = readFileSync(sink, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    const ids = new Set(lines.map((a) => a.id));
    assert.equal(ids.size, 3, 'the file sink has three distinct alerts');
    assert.equal(lines.length, 3, 'each alert once (B grew within its first batch)');
    assert.deepEqual(feed.filter((e) => e.isNew).map((e) => e.id).sort(), [...ids].sort(), 'the live feed announced each once as new');
    assert.equal(feed.length, 3);
    const store = await AlertStore.open(config.store);
    const stored = await store.queryAlerts({ limit: 100 });
    await store.close();
    assert.equal(stored.total, 3);
    assert.deepEqual(stored.alerts.map((a) => a.id).sort(), [...ids].sort());
    const countOf = (src: string): number[] => stored.alerts.filter((a) => a.flow.srcAddr === src).map((a) => a.count).sort();
    assert.deepEqual(countOf('198.18.0.1'), [1], "A's stored alert keeps its count (the copy did not overwrite it)");
    assert.deepEqual(countOf('198.18.0.2'), [1, 2]);
  });

  it("detect's summary line counts the duplicates", async () => {
    const sink = join(dir, 'detect.jsonl');
    const child = spawn(process.execPath, [CLI, 'detect', '--model', model, '--netflow', 'udp://127.0.0.1:0', '--aggregation-window', '0.2', '--sink', `file:${sink}`]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = Number(await waitFor('the collector', () => /udp port (\d+)/.exec(stderr)?.[1]));
    const lines = (): number => readFileSync(sink, 'utf8').split('\n').filter(Boolean).length;
    const sock = dgram.createSocket('udp4');
    const send = (): Promise<void> => new Promise<void>((r) => sock.send(DUPLICATED, port, '127.0.0.1', () => r()));
    await send();
    await waitFor('the first alerts', () => lines() === 2 || undefined);
    await new Promise((r) => setTimeout(r, 400));
    await send();
    await waitFor("B's new alert", () => lines() === 3 || undefined);
    sock.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /\nalerts: 3 raised, 1 aggregated into them, 2 duplicate records \(alert already raised\); dropped 0, scoring errors 0\n/);
  });
});

/** Flags every flow; each scoring batch is one flow at a time of the test's choosing. */
class AllAlertScorer implements FlowScorer {
  readonly model = { name: 'all', version: 'test', file: 'all.fsm' };
  async scoreBatch(flows: readonly FlowRecord[]): Promise<ScoredBatch> {
    return {
      verdicts: flows.map(() => ({ score: 0.9, threshold: 0.5, isAlert: true, label: 'attack', category: 'DoS' })),
      explain: async (rows) => rows.map(() => []),
      input: () => ({}),
    };
  }
}

function flowFrom(src: string, startMs: number): FlowRecord {
  return {
    source: 'netflow-v9', srcAddr: src, dstAddr: '192.0.2.1', srcPort: 1234, dstPort: 80, protocol: 6, vlan: 0, startMs, endMs: startMs + 1,
    packets: 1, bytes: 60, fwdPackets: 1, bwdPackets: 0, fwdBytes: 60, bwdBytes: 0, tcpFlags: 2, endReason: 'exported',
  };
}

describe('engine: alert ids already raised', () => {
  it('a copy within the open aggregate grows it; after it closed, the copy is a duplicate; the memory is the last 100,000 ids', async () => {
    let now = 0;
    const engine = new DetectionEngine({ scorer: new AllAlertScorer(), metrics: new EngineMetrics(false), aggregationWindowMs: 1000, clock: () => now });
    const step = async (flows: FlowRecord[], atMs: number): Promise<void> => {
      now = atMs;
      for (const f of flows) engine.submit(f);
      await engine.drain();
    };
    await step([flowFrom('10.0.0.1', 5)], 0);
    await step([flowFrom('10.0.0.1', 5)], 500); // aggregate open: grows it (count 2)
    assert.deepEqual([engine.stats().alertsRaised, engine.stats().alertsAggregated, engine.stats().duplicates], [1, 1, 0]);
    await step([flowFrom('10.0.0.1', 5)], 5000); // closed: the same record again is a duplicate
    assert.deepEqual([engine.stats().alertsRaised, engine.stats().alertsAggregated, engine.stats().duplicates], [1, 1, 1]);
    await step([flowFrom('10.0.0.1', 6)], 5000); // another record of the source: a new alert
    assert.deepEqual([engine.stats().alertsRaised, engine.stats().duplicates], [2, 1]);
    // 100,000 more alerts from other sources push the first two ids out: the record then raises an alert again
    for (let k = 0; k < 100; k++) await step(Array.from({ length: 1000 }, (_, j) => flowFrom(`10.${1 + k}.${j >> 8}.${j & 255}`, 7)), 10_000 + 2000 * k);
    assert.equal(engine.stats().alertsRaised, 100_002);
    await step([flowFrom('10.0.0.1', 5)], 1_000_000);
    assert.deepEqual([engine.stats().alertsRaised, engine.stats().duplicates], [100_003, 1]);
    await engine.close();
  });
});
