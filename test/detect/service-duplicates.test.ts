// A flow record sent again (an exporter resending a NetFlow v9 datagram, two exporters, a restart in between): one
// alerting record is one alert contribution however many copies arrive, whether it raised an alert or grew one and
// whether that aggregate is open or closed; the copies are counted as duplicates, and the summary, /health, /metrics,
// the store, the live feed and the file sink agree.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCollector } from '../../src/flows/collector.js';
import { NETFLOW_FEATURES, netflowFeatures } from '../../src/flows/features/netflow.js';
import { alertId, DetectionEngine, type FlowScorer, type ScoredBatch } from '../../src/detect/engine.js';
import { SeenRecords } from '../../src/detect/aggregate.js';
import { FlowChunk } from '../../src/detect/flow-chunk.js';
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

  it('a v9 datagram sent three times (aggregates open, then closed): every alerting record counts once, its copies are duplicates', async () => {
    const sink = join(dir, 'alerts.jsonl');
    const config = loadConfig({ model, netflow: 'udp://127.0.0.1:0', http: '127.0.0.1:0', sinks: [`file:${sink}`], store: join(dir, 'store.duckdb'), aggregationWindowS: 0.2 }, undefined, {});
    let port = 0;
    const service = await startService(config, { http: true, store: true, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    const feed: { id: string; isNew: boolean; count: number }[] = [];
    service.engine.events.on('alert', (a: Alert, isNew: boolean) => feed.push({ id: a.id, isNew, count: a.count }));
    await waitFor('the collector', () => port || undefined);
    const sock = dgram.createSocket('udp4');
    const send = (): Promise<void> => new Promise<void>((r) => sock.send(DUPLICATED, port, '127.0.0.1', () => r()));
    await send();
    await waitFor('the first copy scored', () => service.engine.stats().flowsScored >= 4 || undefined);
    await send(); // both aggregates most likely still open (window 0.2 s); closed or not, the outcome is the same
    await waitFor('the second copy scored', () => service.engine.stats().flowsScored >= 8 || undefined);
    await new Promise((r) => setTimeout(r, 400)); // both aggregates close
    await send();
    await waitFor('the third copy scored', () => service.engine.stats().flowsScored >= 12 || undefined);
    sock.close();
    const metrics = await (await fetch(`${service.url!}/metrics`)).text();
    const health = (await (await fetch(`${service.url!}/health`)).json()) as { duplicates: number };
    const summary = await service.stop();

    // First copy: A's SYN raises an alert, B's first SYN raises one and its second grows it (count 2). Each later copy
    // brings the same three alerting records again: 2 x 3 duplicates, no alert raised or grown by them.
    assert.equal(summary.engine.flowsScored, 12);
    assert.equal(summary.engine.duplicates, 6);
    assert.equal(health.duplicates, 6);
    assert.equal(summary.engine.alertsRaised, 2);
    assert.equal(summary.engine.alertsAggregated, 1);
    assert.match(metrics, /^flowsentry_duplicate_alerts_total 6$/m);
    assert.match(metrics, /^flowsentry_alerts_total\{category="[^"]*"\} 2$/m);
    const lines = readFileSync(sink, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.equal(lines.length, 2, 'each alert once (B grew within its first batch), nothing for the copies');
    const countOf = (alerts: readonly Alert[], src: string): number[] => alerts.filter((a) => a.flow.srcAddr === src).map((a) => a.count);
    assert.deepEqual(countOf(lines, '198.18.0.1'), [1]);
    assert.deepEqual(countOf(lines, '198.18.0.2'), [2]);
    assert.deepEqual(feed.map((e) => [e.id, e.isNew, e.count]).sort(), lines.map((a) => [a.id, true, a.count]).sort(), 'the live feed announced each once');
    const store = await AlertStore.open(config.store);
    const stored = await store.queryAlerts({ limit: 100 });
    await store.close();
    assert.equal(stored.total, 2);
    assert.deepEqual(countOf(stored.alerts, '198.18.0.1'), [1]);
    assert.deepEqual(countOf(stored.alerts, '198.18.0.2'), [2]);
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
    const send = (d: Buffer): Promise<void> => new Promise<void>((r) => sock.send(d, port, '127.0.0.1', () => r()));
    await send(DUPLICATED);
    await waitFor('the first alerts', () => lines() === 2 || undefined);
    await new Promise((r) => setTimeout(r, 400));
    await send(DUPLICATED);
    // a new source's SYN after the copy: its alert says the copy was scored (the collector keeps datagrams in order)
    await send(
      datagram((b) => {
        record(b, 0xc6120003, 40004, 1, 0x02, 80, 500_030, 500_030);
        return 1;
      }),
    );
    await waitFor("C's alert", () => lines() === 3 || undefined);
    sock.close();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /\nalerts: 3 raised, 1 aggregated into them, 3 duplicate records \(already counted\); dropped 0, scoring errors 0\n/);
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

describe('engine: a flow record counts once', () => {
  /** An engine on a clock of the test's choosing, with its live feed and a store; `step` scores flows at a time. */
  async function engineAt(store: AlertStore) {
    let now = 0;
    const engine = new DetectionEngine({ scorer: new AllAlertScorer(), metrics: new EngineMetrics(false), store, aggregationWindowMs: 1000, clock: () => now });
    const feed: [string, boolean, number][] = [];
    engine.events.on('alert', (a: Alert, isNew: boolean) => feed.push([a.flow.srcAddr, isNew, a.count]));
    const step = async (flows: FlowRecord[], atMs: number, stage: 'early' | 'final' = 'final'): Promise<void> => {
      now = atMs;
      for (const f of flows) engine.submit(f, stage);
      await engine.drain();
    };
    const counts = (): number[] => [engine.stats().alertsRaised, engine.stats().alertsAggregated, engine.stats().duplicates];
    return { engine, feed, step, counts };
  }

  it('a copy of a record that grew an aggregate grows it no more, open or closed; copies in one batch count once', async () => {
    const store = await AlertStore.open(':memory:', 1e9);
    const { engine, feed, step, counts } = await engineAt(store);
    await step([flowFrom('10.0.0.1', 5)], 0); // opens A (count 1)
    await step([flowFrom('10.0.0.1', 6), flowFrom('10.0.0.1', 6)], 500); // grows it once; the copy in the batch is a duplicate
    assert.deepEqual(counts(), [1, 1, 1]);
    await step([flowFrom('10.0.0.1', 6), flowFrom('10.0.0.1', 5)], 700); // open: both are copies, A stays at 2
    assert.deepEqual(counts(), [1, 1, 3]);
    await step([flowFrom('10.0.0.1', 6)], 5000); // closed: the grower's copy opens no new alert
    assert.deepEqual(counts(), [1, 1, 4]);
    await step([flowFrom('10.0.0.1', 6), flowFrom('10.0.0.1', 7)], 5000); // a copy first, then a new record: B
    assert.deepEqual(counts(), [2, 1, 5]);
    await step([flowFrom('10.0.0.1', 7)], 5000, 'early'); // an early verdict of a flow is a contribution of its own
    assert.deepEqual(counts(), [2, 2, 5]);
    // the feed: A new (1), A grown (2), B new (1), B grown (2); copies published nothing
    assert.deepEqual(feed, [['10.0.0.1', true, 1], ['10.0.0.1', false, 2], ['10.0.0.1', true, 1], ['10.0.0.1', false, 2]]);
    await store.flush();
    const stored = (await store.queryAlerts()).alerts.map((a) => [a.flowStartMs, a.count]).sort();
    assert.deepEqual(stored, [[5, 2], [7, 2]]);
    await engine.close();
  });

  it('after a restart, a copy of the record that opened a stored alert adds to its row: first seen and counts kept', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fs-dup-restart-')), 'alerts.duckdb');
    const first = await engineAt(await AlertStore.open(path, 1e9));
    await first.step([flowFrom('10.0.0.1', 5)], 1_000);
    await first.step([flowFrom('10.0.0.1', 6)], 1_500);
    await first.engine.close();
    // a new process remembers no record: the copy of the opener raises the same id again, then a new record grows it
    const store = await AlertStore.open(path, 1e9);
    const second = await engineAt(store);
    await second.step([flowFrom('10.0.0.1', 5)], 9_000);
    await second.step([flowFrom('10.0.0.1', 8)], 9_500);
    assert.deepEqual(second.counts(), [1, 1, 0]);
    assert.deepEqual(second.feed, [['10.0.0.1', true, 1], ['10.0.0.1', false, 2]]);
    // records 5, 6 and 8: the copy of 5 is the row's first flow again
    const expected = { count: 3, timeMs: 1_000, lastSeenMs: 9_500, flowStartMs: 5, flowEndMs: 9 };
    const unwritten = await store.getAlert(alertId(flowFrom('10.0.0.1', 5), 'final', 'all.fsm'));
    assert.deepEqual(unwritten && { count: unwritten.count, timeMs: unwritten.timeMs, lastSeenMs: unwritten.lastSeenMs, flowStartMs: unwritten.flowStartMs, flowEndMs: unwritten.flowEndMs }, expected, 'before the flush');
    await second.engine.close();
    const reopened = await AlertStore.open(path, 1e9);
    const { total, alerts } = await reopened.queryAlerts();
    assert.equal(total, 1);
    const [a] = alerts;
    assert.deepEqual({ count: a.count, timeMs: a.timeMs, lastSeenMs: a.lastSeenMs, flowStartMs: a.flowStartMs, flowEndMs: a.flowEndMs }, expected, 'after it');
    assert.deepEqual(await reopened.topTalkers(0), [{ src: '10.0.0.1', alerts: 1, flows: 3 }]);
    await reopened.close();
  });
});

describe('SeenRecords', () => {
  it('remembers the last generation to twice the generation of records, then forgets the oldest generation', () => {
    const seen = new SeenRecords(4);
    const flow = (k: number): FlowRecord => flowFrom('10.0.0.1', k);
    for (let k = 1; k <= 8; k++) assert.equal(seen.firstFlow(flow(k), 'final'), true, `record ${k} is new`);
    // generations {1..4} (older) and {5..8}: all eight are known, and the early verdict of 1 is another record
    for (let k = 1; k <= 8; k++) assert.equal(seen.firstFlow(flow(k), 'final'), false, `record ${k} again`);
    assert.equal(seen.firstFlow(flow(1), 'early'), true);
    // that ninth record started a generation; {1..4} is forgotten, {5..8} is the older one
    assert.equal(seen.firstFlow(flow(2), 'final'), true, 'record 2, forgotten, counts again');
    assert.equal(seen.firstFlow(flow(5), 'final'), false);
    assert.equal(seen.firstFlow({ ...flow(5), dstAddr: '192.0.2.10' }, 'final'), true, 'another destination is another record');
    assert.equal(seen.firstFlow({ ...flow(5), vlan: 7 }, 'final'), true, 'another VLAN too');
  });

  it('a rotation clears the older bank only: the newer generation stays whole', () => {
    const seen = new SeenRecords(1024);
    const flow = (k: number): FlowRecord => flowFrom(`10.1.${k >> 8}.${k & 255}`, 5);
    for (let k = 0; k < 3 * 1024; k++) assert.equal(seen.firstFlow(flow(k), 'final'), true);
    // generations: {1024..2047} older, {2048..3071} newer; 0..1023 were cleared with their bank
    for (let k = 1024; k < 3 * 1024; k++) assert.equal(seen.firstFlow(flow(k), 'final'), false, `record ${k} known`);
    assert.equal(seen.firstFlow(flow(0), 'final'), true, 'record 0 forgotten');
  });

  it('chunk rows: the same identity from the columns, IPv4 and IPv6', () => {
    const seen = new SeenRecords(16);
    const chunk = FlowChunk.allocate(8);
    const rows: [number, number][] = [[4, 5], [4, 5], [6, 5], [6, 5], [6, 5.5]];
    for (const [family, startMs] of rows) {
      const r = chunk.length++;
      chunk.family[r] = family;
      chunk.srcIPv4[r] = 0x0a000001;
      chunk.dstIPv4[r] = 0xc0000201;
      chunk.srcIPv6.set([0x20, 0x01, 0x0d, 0xb8], 16 * r);
      chunk.srcIPv6[16 * r + 15] = 1;
      chunk.srcPort[r] = 1234;
      chunk.dstPort[r] = 80;
      chunk.protocol[r] = 6;
      chunk.startMs[r] = startMs;
    }
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => seen.firstChunkRow(chunk, i)), [true, false, true, false, true]);
  });
});
