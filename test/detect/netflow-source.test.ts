// The NetFlow source's two-thread path (collector thread → columnar chunks → engine) against the one-thread path it
// replaced: the same datagrams decoded by FlowCollector into FlowRecords and scored by ModelScorer.scoreBatch.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCollector } from '../../src/flows/collector.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { NETFLOW_FEATURES, netflowFeatures } from '../../src/flows/features/netflow.js';
import { FlowChunk } from '../../src/detect/flow-chunk.js';
import { ModelScorer } from '../../src/detect/model-scorer.js';
import { startService } from '../../src/detect/service.js';
import { runNetflowSource } from '../../src/detect/sources.js';
import { nativeReceiver } from '../../src/flows/collector-native.js';
import { loadConfig } from '../../src/serve/config.js';
import { Bytes, set, templateRecord, v9Packet } from '../collector/build.js';
import { CLI, cli } from '../helpers/cli.js';
import { latestById, waitFor } from '../e2e/service-harness.js';

const FIELDS: [number, number][] = [[1, 4], [2, 4], [4, 1], [6, 1], [7, 2], [8, 4], [11, 2], [12, 4], [21, 4], [22, 4]];
const PER_DATAGRAM = 30;

/** v9 data datagrams (template 256 first in each): SYN-flood-like flows from 25 sources, web-like flows from 40. */
function datagrams(count: number): Buffer[] {
  let state = 7;
  const rand = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const out: Buffer[] = [];
  for (let d = 0; d < count; d++) {
    const body = new Bytes();
    for (let r = 0; r < PER_DATAGRAM; r++) {
      const flood = rand() < 0.5;
      const packets = flood ? 1 : 5 + Math.floor(rand() * 60);
      const duration = flood ? 0 : Math.floor(rand() * 20_000);
      body.u32(flood ? 40 : packets * 700).u32(packets).u8(6).u8(flood ? 0x02 : 0x1b).u16(1024 + Math.floor(rand() * 60_000));
      body.u32(flood ? 0xc6120000 + Math.floor(rand() * 25) : 0x0a000000 + Math.floor(rand() * 40)).u16(flood ? 80 : 443).u32(0x0a0a0a0a);
      body.u32(500_000).u32(500_000 - duration);
    }
    out.push(v9Packet(600_000, 1_700_000_000, 1, [set(0, templateRecord(256, FIELDS)), set(256, body.buffer())], PER_DATAGRAM + 1));
  }
  return out;
}

/** The records the one-thread collector makes of the datagrams. */
function decoded(all: Buffer[]): FlowRecord[] {
  const collector = new FlowCollector();
  return all.flatMap((d) => collector.ingest(d, '127.0.0.1', 1_700_000_000_000).toRecords());
}

describe('NetFlow source (collector thread, columnar chunks)', () => {
  let dir = '';
  let model = '';
  before(() => {
    // a small tree model on NetFlow features: single-packet SYN flows are attacks
    dir = mkdtempSync(join(tmpdir(), 'fs-nfsrc-'));
    const rows = [[...NETFLOW_FEATURES, 'label'].join(',')];
    for (const r of decoded(datagrams(40))) rows.push([...netflowFeatures(r), r.packets === 1 ? 'attack' : 'normal'].join(','));
    writeFileSync(join(dir, 'train.csv'), `${rows.join('\n')}\n`);
    model = join(dir, 'nf.fsm');
    const t = cli(['train', join(dir, 'train.csv'), '--label', 'label', '--models', 'dt', '--cv', '2', '--out', model, '--json']);
    assert.equal(t.code, 0, t.stderr);
  });

  it('a chunk holds the same records and features as the collector batch it was filled from', () => {
    const collector = new FlowCollector();
    const chunk = FlowChunk.allocate(100);
    const records: FlowRecord[] = [];
    for (const d of datagrams(3)) {
      const batch = collector.ingest(d, '192.0.2.7', 1_700_000_000_000);
      records.push(...batch.toRecords());
      chunk.append(batch, 1);
    }
    assert.equal(chunk.length, 3 * PER_DATAGRAM);
    assert.deepEqual(chunk.toRecords(), records);
    for (let i = 0; i < records.length; i++) {
      const f = netflowFeatures(records[i]);
      for (let k = 0; k < NETFLOW_FEATURES.length; k++) assert.equal(chunk.featureColumn(k)[i], Math.fround(f[k]), `row ${i} ${NETFLOW_FEATURES[k]}`);
    }
  });

  it('a shared load keeps every model array in SharedArrayBuffers, so the collector thread scores without a copy', async () => {
    const shared = await ModelScorer.load(model, { shared: true });
    const arrays: ArrayBufferView[] = [];
    const walk = (v: unknown): void => {
      if (ArrayBuffer.isView(v)) arrays.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(shared.doc);
    assert.ok(arrays.length > 0);
    assert.ok(arrays.every((a) => a.buffer instanceof SharedArrayBuffer));
    const records = decoded(datagrams(20));
    const [a, b] = [await shared.scoreBatch(records), await ModelScorer.fromDocument(structuredClone(shared.doc), model).scoreBatch(records)];
    assert.deepEqual(b.verdicts, a.verdicts);
    assert.deepEqual((await (await ModelScorer.load(model)).scoreBatch(records)).verdicts, a.verdicts);
  });

  it('scores every received flow like the one-thread path, aggregates per source, and stop() loses no accepted flow', async () => {
    const sent = datagrams(200);
    const records = decoded(sent);
    const truth = await (await ModelScorer.load(model)).scoreBatch(records);
    // an alerting record like an earlier one (addresses, ports, protocol, VLAN, start: the flood's records all start at
    // one time, so a few repeat a source and port) is a duplicate, in no aggregate's count
    const alertsBySrc = new Map<string, number>();
    const identities = new Set<string>();
    let duplicates = 0;
    records.forEach((r, i) => {
      if (!truth.verdicts[i].isAlert) return;
      const identity = `${r.srcAddr}|${r.dstAddr}|${r.srcPort}|${r.dstPort}|${r.protocol}|${r.vlan}|${r.startMs}`;
      if (identities.has(identity)) duplicates++;
      else alertsBySrc.set(r.srcAddr, (alertsBySrc.get(r.srcAddr) ?? 0) + 1);
      identities.add(identity);
    });
    assert.ok(alertsBySrc.size > 10 && alertsBySrc.size < records.length / 10, 'the model flags the flood sources');

    const sink = join(dir, 'alerts.jsonl');
    let port = 0;
    const config = loadConfig({ model, netflow: 'udp://127.0.0.1:0', sinks: [`file:${sink}`], store: join(dir, 'store.duckdb') }, undefined, {});
    const service = await startService(config, { http: false, store: true, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    await waitFor('the collector', () => port || undefined);
    const sock = dgram.createSocket('udp4');
    for (const d of sent) {
      await new Promise<void>((r) => sock.send(d, port, '127.0.0.1', () => r()));
      if (sent.indexOf(d) % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    sock.close();
    await waitFor('every flow scored', () => service.engine.stats().flowsScored >= records.length || undefined, 20_000);
    const summary = await service.stop();
    assert.equal(summary.engine.flowsScored, records.length);
    assert.equal((summary.input.collector as { records: number }).records, records.length);
    assert.equal((summary.input.collector as { receiver: string }).receiver, 'reason' in nativeReceiver() ? 'dgram' : 'recvmmsg');
    assert.equal(summary.engine.dropped, 0);
    assert.equal(summary.engine.duplicates, duplicates);
    assert.equal(summary.engine.alertsRaised, alertsBySrc.size, 'one aggregate per alerting source');
    assert.equal(summary.engine.alertsRaised + summary.engine.alertsAggregated, [...alertsBySrc.values()].reduce((a, b) => a + b, 0));
    const latest = [...latestById(readFileSync(sink, 'utf8')).values()];
    assert.equal(latest.length, alertsBySrc.size);
    for (const a of latest) assert.equal(a.count, alertsBySrc.get(a.flow.srcAddr), `count of ${a.flow.srcAddr}`);
    const first = latest.map((a) => a as unknown as { flow: FlowRecord; explanation: unknown[]; flowStartMs: number });
    assert.ok(first.every((a) => a.explanation.length > 0), 'new aggregates are explained');
    // an aggregate's flow is a real record of its source (from the chunk's columns)
    for (const a of first) assert.ok(records.some((r) => r.srcAddr === a.flow.srcAddr && r.srcPort === a.flow.srcPort && r.dstPort === a.flow.dstPort && r.startMs === a.flowStartMs));
    const stored = await (await import('../../src/store/alert-store.js')).AlertStore.open(config.store);
    const all = await stored.queryAlerts({ limit: 1000 });
    await stored.close();
    assert.equal(all.total, alertsBySrc.size);
    assert.equal(all.alerts.reduce((s, a) => s + a.count, 0), [...alertsBySrc.values()].reduce((a, b) => a + b, 0), 'the store has every alerting flow');
  });

  it('detect --netflow on a port in use: one line naming the address and what to do, exit 1 (both receivers)', async () => {
    const taken = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => taken.bind(0, '127.0.0.1', () => r(taken.address().port)));
    try {
      for (const receiver of ['dgram', ...('reason' in nativeReceiver() ? [] : ['recvmmsg'])]) {
        const r = cli(['detect', '--model', model, '--netflow', `udp://127.0.0.1:${port}`, '--receiver', receiver]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, `flowsentry: cannot listen on udp://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in --netflow\n`);
      }
      // the address from the environment or the config file: the line names that, not --netflow
      const inUse = (place: string): string => `flowsentry: cannot listen on udp://127.0.0.1:${port}: the port is in use (EADDRINUSE); stop the program that holds it or choose another port in ${place}\n`;
      const fromEnv = spawnSync(process.execPath, [CLI, 'detect', '--model', model], { encoding: 'utf8', env: { ...process.env, FLOWSENTRY_NETFLOW: `udp://127.0.0.1:${port}` } });
      assert.equal(fromEnv.status, 1, fromEnv.stderr);
      assert.equal(fromEnv.stderr, inUse('FLOWSENTRY_NETFLOW'));
      const config = join(dir, 'netflow.json');
      writeFileSync(config, JSON.stringify({ netflow: `udp://127.0.0.1:${port}` }));
      const fromFile = cli(['detect', '--model', model, '--config', config]);
      assert.equal(fromFile.code, 1, fromFile.stderr);
      assert.equal(fromFile.stderr, inUse("the config file's netflow"));
    } finally {
      taken.close();
    }
  });

  it('stop() right after sending: every decoded record is scored before it resolves', async () => {
    const sent = datagrams(100);
    const config = loadConfig({ model, netflow: 'udp://127.0.0.1:0', sinks: [] }, undefined, {});
    let port = 0;
    const service = await startService(config, { http: false, store: false, keepAlive: true, log: () => undefined, onNetflowPort: (p) => (port = p) });
    await waitFor('the collector', () => port || undefined);
    const sock = dgram.createSocket('udp4');
    for (const d of sent) await new Promise<void>((r) => sock.send(d, port, '127.0.0.1', () => r()));
    sock.close();
    // stop as soon as the first records are scored (under load none may be within a fixed 20 ms; most are in flight)
    await waitFor('a scored flow', () => service.engine.stats().flowsScored || undefined, 15_000, 1);
    const summary = await service.stop();
    const collected = (summary.input.collector as { records: number }).records;
    assert.ok(collected > 0);
    assert.equal(summary.engine.flowsScored + summary.engine.dropped, collected);
  });

  it('both receivers (native recvmmsg, dgram) hand the engine the same records with the same scores, and say which received', async () => {
    const native = nativeReceiver();
    const sent = datagrams(120);
    const truth = decoded(sent);
    const scorer = await ModelScorer.load(model, { shared: true });
    const kinds = ['reason' in native ? undefined : ('recvmmsg' as const), 'dgram' as const].filter((k) => k !== undefined);
    if ('reason' in native) assert.equal(kinds.length, 1, `recvmmsg not tested: ${native.reason}`);
    const runs: { records: FlowRecord[]; scores: number[]; receiver: string; stats: { receiver?: string; records: number; kernelDrops: number | undefined } }[] = [];
    for (const kind of kinds) {
      const abort = new AbortController();
      const records: FlowRecord[] = [];
      const scores: number[] = [];
      let port = 0;
      let receiver = '';
      const done = runNetflowSource(
        'udp://127.0.0.1:0',
        (chunk, release) => {
          assert.ok(chunk.predicted, 'scored on the collector thread');
          records.push(...chunk.toRecords());
          for (let i = 0; i < chunk.length; i++) scores.push(chunk.score[i]);
          release(chunk);
        },
        { signal: abort.signal, model: scorer, receiver: kind, onListening: (p, r) => ((port = p), (receiver = r)) },
      );
      await waitFor('the collector', () => port || undefined);
      const sock = dgram.createSocket('udp4');
      for (const [k, d] of sent.entries()) {
        await new Promise<void>((r) => sock.send(d, port, '127.0.0.1', () => r()));
        if (k % 20 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      sock.close();
      await waitFor('every record', () => records.length >= truth.length || undefined, 20_000);
      abort.abort();
      runs.push({ records, scores, receiver, stats: await done });
    }
    for (const [k, run] of runs.entries()) {
      assert.equal(run.receiver, kinds[k]);
      assert.equal(run.stats.receiver, kinds[k]);
      assert.equal(run.stats.kernelDrops, 0);
      assert.equal(run.stats.records, truth.length);
      // the arrival time is the receiver's clock; everything else is the datagrams'
      assert.deepEqual(run.records, truth, kinds[k]);
      assert.deepEqual(run.scores, runs[0].scores);
    }
  });
});
