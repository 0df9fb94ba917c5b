// FlowCollector (library form: events and async iterator over a real UDP socket) and CollectorPipeline (the
// two-thread form `collect` runs: ring in a SharedArrayBuffer, worker decoding and writing JSON lines), fed the
// committed softflowd datagrams; totals must equal softflowd's report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCollector } from '../../src/flows/collector.js';
import { CollectorPipeline } from '../../src/flows/collector-pipeline.js';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { FLOW_CSV_HEADER } from '../../src/io/netflow/batch.js';
import { decodeDatagram, DecodeStats, FlowBatch, TemplateStore } from '../../src/io/netflow/decode.js';
import { WARM_UP_ROUND_LENGTH, warmupDatagrams } from '../../src/io/netflow/warmup.js';
import { readDatagrams } from './build.js';

const truth = JSON.parse(readFileSync('test/fixtures/netflow/softflowd-truth.json', 'utf8')) as Record<string, { records: number; packets: number; bytes: number }>;

async function sendAll(port: number, datagrams: Buffer[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
  socket.close();
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

test('FlowCollector: batch and flows events and the async iterator carry every record', async () => {
  const want = truth['softflowd-ipfix-biflow'];
  const collector = await FlowCollector.listen({ host: '127.0.0.1', port: 0 });
  let batchRecords = 0;
  collector.on('batch', (b) => (batchRecords += b.length));
  const fromEvents: FlowRecord[] = [];
  collector.on('flows', (records) => fromEvents.push(...records));
  const fromIterator: FlowRecord[] = [];
  const iterating = (async () => {
    for await (const f of collector) fromIterator.push(f);
  })();
  await sendAll(collector.address?.port as number, readDatagrams('test/fixtures/netflow/softflowd-ipfix-biflow.bin'));
  await until(() => fromIterator.length >= want.records);
  const stats = await collector.close();
  await iterating;
  assert.equal(batchRecords, want.records);
  assert.equal(fromEvents.length, want.records);
  assert.deepEqual(fromIterator, fromEvents);
  assert.equal(fromEvents.reduce((a, f) => a + f.bytes, 0), want.bytes);
  assert.equal(stats.records, want.records);
  assert.deepEqual(stats.exporters, ['127.0.0.1']);
  assert.equal(stats.queueDropped, 0);
  assert.ok(stats.receiveBuffer.granted > 0);
});

test('FlowCollector: datagrams the kernel drops are reported (Linux /proc/net/udp)', { skip: process.platform !== 'linux' ? 'Linux only' : false }, async () => {
  // A minimal receive buffer and a blocked event loop: most of a burst from another process must be dropped.
  const collector = await FlowCollector.listen({ host: '127.0.0.1', port: 0, receiveBuffer: 2048 });
  const port = collector.address?.port as number;
  const datagrams = readDatagrams('test/fixtures/netflow/softflowd-v5.bin');
  const burst = 400;
  const sender = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('dgram').createSocket('udp4');const b=Buffer.from('${datagrams[0].toString('hex')}','hex');let n=0;` +
        `const go=()=>{if(n++<${burst})s.send(b,${port},'127.0.0.1',go);else s.close()};console.log('ready');setTimeout(go,100)`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise<void>((resolve) => sender.on('exit', () => resolve()));
  await new Promise<void>((resolve) => sender.stdout.once('data', () => resolve()));
  const blockUntil = Date.now() + 1000;
  while (Date.now() < blockUntil) {
    // busy: the socket is not read while the sender sends its burst
  }
  await exited;
  await until(() => collector.decodeStats.datagrams + (collector.stats().kernelDrops ?? 0) >= burst, 3000);
  const stats = await collector.close();
  assert.ok((stats.kernelDrops ?? 0) > 0, 'expected kernel drops');
  assert.equal(stats.datagrams + (stats.kernelDrops ?? 0), burst);
});

test('warm-up datagrams: every record decodes as built (v5, v9 and IPFIX, templates after some of their data)', () => {
  const nowMs = Date.UTC(2026, 10, 21, 5, 0, 0);
  const datagrams = warmupDatagrams(nowMs);
  assert.equal(datagrams.length, WARM_UP_ROUND_LENGTH);
  const store = new TemplateStore();
  const stats = new DecodeStats();
  const batch = new FlowBatch();
  const perVersion = new Map<number, number>();
  let withVlan = 0;
  for (const d of datagrams) {
    assert.equal(decodeDatagram(d, '192.0.2.1', nowMs, store, batch, stats), true);
    const version = d.readUInt16BE(0);
    perVersion.set(version, (perVersion.get(version) ?? 0) + batch.length);
    for (let i = 0; i < batch.length; i++) {
      const r = batch.record(i);
      assert.ok(r.startMs <= r.endMs && r.endMs <= nowMs && nowMs - r.startMs <= 601_000, `${r.source} times ${r.startMs} ${r.endMs}`);
      assert.ok(r.packets >= 1 && r.bytes >= 40 * r.packets);
      if (r.vlan > 0) withVlan++;
    }
  }
  // Per group: v5 30; v9 30 IPv4 + 15 IPv6; IPFIX 20 IPv4 (ms times) + 12 IPv6 + 20 IPv4 (sysUpTime times).
  assert.deepEqual(Object.fromEntries(perVersion), { 5: 4 * 30, 9: 4 * 45, 10: 4 * 52 });
  assert.equal(withVlan, 4 * 15, 'v9 IPv6 records carry a VLAN id');
  assert.deepEqual(stats.malformed, {});
  assert.deepEqual(stats.skipped, {});
  assert.equal(store.counters.pendingDecoded, 2);
});

test('CollectorPipeline: the start-up warm-up leaves no trace in the stats or the output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-pipeline-'));
  const file = join(dir, 'flows.csv');
  const fd = openSync(file, 'w');
  const reports: number[][] = [];
  const pipeline = await CollectorPipeline.start({ host: '127.0.0.1', port: 0, outFd: fd, format: 'csv', onRecords: (r, d) => reports.push([r, d]) });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stats = await pipeline.stop();
  closeSync(fd);
  assert.deepEqual(reports, []);
  assert.equal(stats.datagrams, 0);
  assert.equal(stats.bytes, 0);
  assert.equal(stats.records, 0);
  assert.equal(stats.templates + stats.optionsTemplates + stats.templatesCached + stats.pendingBuffered, 0);
  assert.deepEqual(stats.exporters, []);
  assert.equal(stats.ringDropped, 0);
  assert.equal(readFileSync(file, 'utf8'), FLOW_CSV_HEADER);
  rmSync(dir, { recursive: true, force: true });
});

test('CollectorPipeline: a decoding thread that fails while warming up makes start() reject, not hang', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowsentry-pipeline-'));
  const file = join(dir, 'flows.csv');
  closeSync(openSync(file, 'w'));
  const fd = openSync(file, 'r'); // read-only: the worker's first write (the CSV header) fails with EBADF
  await assert.rejects(CollectorPipeline.start({ host: '127.0.0.1', port: 0, outFd: fd, format: 'csv' }), /decoding thread failed: EBADF/);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});
